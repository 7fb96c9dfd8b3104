"""Notebook sources: valid, committed clean, and ready for Colab."""

import re

import nbformat
import pytest

from tests.conftest import ROOT
from tools.notebook_runner import NotebookError, check_clean

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PINS = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s#]+)", (ROOT / "requirements.txt").read_text(), re.M))
PIP_INSTALL = re.compile(r"^\s*[%!]pip install (.+)$", re.M)


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


PINS = {normalise(k): v for k, v in PINS.items()}


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_valid_and_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    check_clean(nb, path.name)
    assert nb.metadata.kernelspec.name == "python3"


def test_check_clean_rejects_outputs():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1", execution_count=1)])
    with pytest.raises(NotebookError, match="committed outputs"):
        check_clean(nb, "x.ipynb")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_opening_cell_states_goal_prerequisites_time_and_downloads(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    for word in ("前置知识", "预计用时", "下载"):
        assert word in first.source, f"{path.name}: opening cell lacks {word}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_prepares_colab_only(path):
    nb = nbformat.read(path, as_version=4)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    source = first_code.source
    assert '"google.colab" in sys.modules' in source, "Colab set-up must be guarded"
    for line in PIP_INSTALL.findall(source):
        for spec in line.split():
            if spec.startswith("-"):
                continue
            name, _, version = spec.partition("==")
            assert normalise(name) != "torch", "never install torch in Colab"
            assert version, f"{path.name}: {spec} is not pinned"
            assert PINS.get(normalise(name)) == version, f"{path.name}: {spec} differs from requirements.txt"
    other_cells = [c.source for c in nb.cells if c.cell_type == "code" and c is not first_code]
    assert not any(PIP_INSTALL.search(s) for s in other_cells), "installs belong in the first code cell"
