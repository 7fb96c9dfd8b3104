"""Notebook sources: valid, committed clean, described by their metadata, ready for Colab.

Adding a notebook is adding the .ipynb and one nav line (CONTRIBUTING.md); each
test here names what was forgotten."""

import re

import nbformat
import pytest
from packaging.utils import canonicalize_name

from tests.conftest import ROOT
from tools import notebook_meta, notebook_runner
from tools.notebook_meta import NotebookError, check_clean

NOTEBOOKS = notebook_meta.sources()
SHARED = ROOT / "notebooks" / "shared"
PIP_INSTALL = re.compile(r"^\s*[%!]pip install (.+)$", re.M)
NAV_ENTRY = re.compile(r"^\s*-\s*(.+?):\s*notebooks/(\S+)\.md\s*$", re.M)




def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_valid_clean_and_described_by_metadata(path):
    notebook_meta.load(path)  # raises NotebookError naming the file and what is missing


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_control_characters_in_cells(path):
    """A stray "\\a" in a script that writes a cell becomes BEL (KaTeX then fails on "\\alpha", prose shows a box)."""
    nb = nbformat.read(path, as_version=4)
    found = [(i, m.group()) for i, c in enumerate(nb.cells) for m in CONTROL.finditer(c.source)]
    assert not found, f"{path.name}: control characters in cells (index, char): {found[:5]}"


def test_check_clean_rejects_outputs():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1", execution_count=1)])
    with pytest.raises(NotebookError, match="committed outputs"):
        check_clean(nb, "x.ipynb")


def _write(tmp_path, nb, name="05-new-notebook.ipynb"):
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def test_missing_or_incomplete_metadata_is_named(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 新")])
    with pytest.raises(NotebookError, match=r"05-new-notebook.ipynb: metadata.llm_roadmap is missing"):
        notebook_meta.load(_write(tmp_path, nb))
    nb.metadata["llm_roadmap"] = {"title": "新", "stages": ["09-nowhere"], "summary": "s", "budget_seconds": "60"}
    with pytest.raises(NotebookError, match="budget_seconds must be a int"):
        notebook_meta.load(_write(tmp_path, nb))
    nb.metadata["llm_roadmap"]["budget_seconds"] = 60
    with pytest.raises(NotebookError, match="stage '09-nowhere' is not a page"):
        notebook_meta.load(_write(tmp_path, nb))
    nb.metadata["llm_roadmap"].update(stages=["02-foundations"], data=["data/missing.csv"])
    with pytest.raises(NotebookError, match="data file 'data/missing.csv' does not exist"):
        notebook_meta.load(_write(tmp_path, nb))


def test_invalid_json_is_reported_with_line_and_column(tmp_path):
    path = tmp_path / "05-broken.ipynb"
    path.write_text('{\n  "cells": [\n    {"cell_type": "code",,}\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(NotebookError, match=r"05-broken.ipynb: invalid JSON at line 3, column 26"):
        notebook_meta.load(path)


def test_every_notebook_has_one_nav_line_with_its_title():
    nav = dict((stem, title) for title, stem in NAV_ENTRY.findall((ROOT / "mkdocs.yml").read_text(encoding="utf-8")))
    for path in NOTEBOOKS:
        title = notebook_meta.load(path).nav_title  # 02 从零实现迷你 Transformer: the pages cite 「notebook 02」
        assert path.stem in nav, (f"{path.name} is not in the nav: add the line "
                                  f"`- {title}: notebooks/{path.stem}.md` under 动手实践 in mkdocs.yml")
        assert nav[path.stem] == title, f"mkdocs.yml names {path.stem} {nav[path.stem]!r}, not {title!r} (number, title)"
    missing = set(nav) - {p.stem for p in NOTEBOOKS}
    assert not missing, f"the nav lists notebooks that do not exist: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stage_pages_link_their_notebooks(path):
    notebook = notebook_meta.load(path)
    for stage in notebook.stages:
        page = (ROOT / "docs" / "stages" / f"{stage}.md").read_text(encoding="utf-8")
        assert f"../notebooks/{path.stem}.md" in page, (
            f"{path.name} belongs to stage {stage} (its metadata) but docs/stages/{stage}.md does not link it")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_data_files_and_models_it_uses_are_declared(path):
    notebook = notebook_meta.load(path)
    code = "\n".join(notebook_runner.code_sources(notebook.nb))
    for name in re.findall(r"""["'](data/[^"']+)["']""", code):
        assert name in notebook.data, f"{path.name} reads {name}: list it in metadata.llm_roadmap.data"
    for name in re.findall(r"tools\.offline_models import (?:[A-Z_]+, )*(\w+)", code):
        assert name in notebook.models, f"{path.name} uses the {name} converter: list it in metadata.llm_roadmap.models"
    if "LLM_ROADMAP_MODELS" in code:
        assert notebook.models, f"{path.name} loads an offline model: name its converter in metadata.llm_roadmap.models"


def test_every_data_file_belongs_to_a_notebook():
    declared = {(p.parent / d).resolve() for p in NOTEBOOKS for d in notebook_meta.load(p).data}
    files = {p.resolve() for p in (ROOT / "notebooks" / "data").rglob("*") if p.is_file()}
    assert files <= declared, f"data files no notebook declares: {sorted(files - declared)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_shared_cells_are_identical_to_their_canonical_file(path):
    nb = nbformat.read(path, as_version=4)
    tagged = {}
    for cell in nb.cells:
        for tag in cell.metadata.get("tags", []):
            if tag.startswith("shared:"):
                tagged[tag.split(":", 1)[1]] = cell.source
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code" and "shared:" not in str(c.metadata))
    if "check_budget(" in code:
        assert "compute_budget" in tagged, f"{path.name} estimates its cost: add the cell from notebooks/shared/compute_budget.py"
    if "use_chinese_font(" in code:
        assert "chinese_font" in tagged, f"{path.name} draws Chinese labels: add the cell from notebooks/shared/chinese_font.py"
    if "SOURCE ==" in code or "check_budget(" in code:
        assert "model_source" in tagged, f"{path.name} switches model sources: add the cell from notebooks/shared/model_source.py"
    for name, source in tagged.items():
        canonical = SHARED / f"{name}.py"
        assert canonical.is_file(), f"{path.name}: tag shared:{name} has no file notebooks/shared/{name}.py"
        assert source.strip() == canonical.read_text(encoding="utf-8").strip(), (
            f"{path.name}: the shared:{name} cell differs from notebooks/shared/{name}.py; copy the file into the cell")


def test_every_shared_file_is_used():
    used = "".join(p.read_text(encoding="utf-8") for p in NOTEBOOKS)
    for path in SHARED.glob("*.py"):
        assert f"shared:{path.stem}" in used, f"no notebook carries notebooks/shared/{path.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_opening_cell_states_goal_prerequisites_time_and_downloads(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    for word in ("前置知识", "预计用时", "下载"):
        assert word in first.source, f"{path.name}: opening cell lacks {word}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_prepares_colab_only(path):
    """What may be installed, and at which versions, is checked against Colab's and Kaggle's lists in test_platforms.py."""
    nb = nbformat.read(path, as_version=4)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    source = first_code.source
    assert '"google.colab" in sys.modules' in source, "Colab set-up must be guarded"
    for line in PIP_INSTALL.findall(source):
        for spec in line.split():
            assert canonicalize_name(spec.partition("==")[0]) != "torch", "never install torch in Colab"
    other_cells = [c.source for c in nb.cells if c.cell_type == "code" and c is not first_code]
    assert not any(PIP_INSTALL.search(s) for s in other_cells), "installs belong in the first code cell"


def test_a_missing_chinese_font_prints_what_to_do_and_does_not_stop_the_notebook(monkeypatch, capsys):
    from matplotlib import font_manager

    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    exec((SHARED / "chinese_font.py").read_text(encoding="utf-8"), {})  # as the notebook cell runs it
    out = capsys.readouterr().out
    assert "没有找到中文字体" in out and "apt install fonts-noto-cjk" in out and "中文字体： 无" in out


REPO_LITERAL = re.compile(r'^REPO, BRANCH = "([^"]+)", "([^"]+)"', re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_repository_named_in_a_notebook_is_the_sites(path):
    """A notebook that fetches files from the repository names it like mkdocs.yml (one place: a fork
    changes mkdocs.yml and this test names each notebook line to change with it)."""
    from tools.prebuild import repository

    url, branch = repository()
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    for found in REPO_LITERAL.findall(source):
        assert found == (url.removeprefix("https://github.com/"), branch), (
            f"{path.name}: REPO, BRANCH = {found} but mkdocs.yml says {url} on branch {branch}")
    assert "raw.githubusercontent.com/" not in source or REPO_LITERAL.search(source), (
        f"{path.name} downloads from GitHub without the REPO, BRANCH line")


HUB_NOTEBOOKS = [p for p in NOTEBOOKS if "shared:model_source" in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("path", HUB_NOTEBOOKS, ids=lambda p: p.stem)
def test_hub_path_asks_colab_for_a_gpu(path):
    """Colab opens these with a T4 runtime.  The ones that train say it is needed (on a CPU they stop at
    their estimate); one that only generates text runs on a CPU too, and says what the GPU is for."""
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("accelerator") == "GPU" and nb.metadata.get("colab", {}).get("gpuType") == "T4", (
        f"{path.name}: its Hub path needs a GPU; set metadata accelerator=GPU, colab.gpuType=T4")
    trains = "shared:compute_budget" in path.read_text(encoding="utf-8")
    said = "需要 GPU" if trains else "建议在「代码执行程序 → 更改运行时类型」里选 T4 GPU"
    assert said in nb.cells[0].source, f"{path.name}: say at the top what Colab's GPU runtime is for ({said!r})"


def shared_cell(name):
    namespace = {}
    exec((SHARED / f"{name}.py").read_text(encoding="utf-8"), namespace)  # as the notebook cell runs it
    return namespace


@pytest.mark.parametrize("setting, where, expected", [
    ("auto", {}, "offline"), ("auto", {"modules": {"google.colab"}}, "hub"),
    ("auto", {"environ": {"KAGGLE_KERNEL_RUN_TYPE": "Interactive"}}, "hub"),
    (" ModelScope ", {"modules": {"google.colab"}}, "modelscope"), ("offline", {"modules": {"google.colab"}}, "offline"),
])
def test_one_setting_picks_the_source_and_says_why(setting, where, expected, monkeypatch):
    monkeypatch.setenv("LLM_ROADMAP_SOURCE", "offline")
    choose = shared_cell("model_source")["choose_source"]
    source, why = choose(setting, environ=where.get("environ", {}), modules=dict.fromkeys(where.get("modules", ())))
    assert source == expected and why


def test_a_misspelt_source_is_an_error_that_lists_the_choices(monkeypatch):
    monkeypatch.setenv("LLM_ROADMAP_SOURCE", "offline")
    with pytest.raises(ValueError, match="auto、offline、hub、modelscope"):
        shared_cell("model_source")["choose_source"]("huggingface")


def test_a_mirror_set_after_huggingface_hub_was_imported_stops_with_what_to_do(monkeypatch):
    """huggingface_hub reads HF_ENDPOINT once, at import (tests/notebooks/test_hub_standin.py shows it)."""
    import huggingface_hub.constants  # noqa: F401  (the test process has imported it already)

    monkeypatch.setenv("LLM_ROADMAP_SOURCE", "offline")
    monkeypatch.setenv("HF_ENDPOINT", "https://mirror.example")
    with pytest.raises(RuntimeError, match="重启内核"):
        shared_cell("model_source")


def test_without_the_repository_the_offline_source_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LLM_ROADMAP_SOURCE", "offline")
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    cell = shared_cell("model_source")
    assert cell["repository_root"]() is None
    with pytest.raises(RuntimeError) as stopped:
        cell["need_repository"]("离线来源")
    from tools.prebuild import repository

    assert f"git clone {repository()[0]}.git" in str(stopped.value) and '"hub"' in str(stopped.value)


def test_notebook_04_refuses_qwen_full_finetuning_on_colabs_cpu_and_fits_it_on_a_t4():
    """The numbers notebook 04 states: 16 bytes per parameter for full fine-tuning with AdamW,
    Colab's CPU runtime has 12.7 GB of RAM (at most half of it for the training state: the offline
    path's measured peak is about twice its state), a T4 has 15 GB usable (torch reports 14.7 GiB)."""
    from tools.notebook_platforms import COLAB_CPU_RAM, ONLINE_MODELS, T4_MEMORY, parameters

    n = parameters(*ONLINE_MODELS["04-lora-finetuning"][1:])  # Qwen2.5-0.5B-Instruct's published configuration
    assert 490e6 < n < 500e6
    check_budget = shared_cell("compute_budget")["check_budget"]
    flops = 6 * n * 2 * 24 * 8 * 70  # two runs of 24 steps (one epoch) × 8 rows of about 70 tokens
    with pytest.raises(RuntimeError, match="T4 GPU"):
        check_budget(flops, 16 * n, "cpu", speed=1e11, available=COLAB_CPU_RAM)
    assert check_budget(flops, 16 * n, "cuda", speed=8e12, available=T4_MEMORY) < 60
    nb = nbformat.read(ROOT / "notebooks" / "04-lora-finetuning.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert f"约 {n / 1e8:.1f} 亿参数" in text and f"{16 * n / 2**30:.1f} GB" in text
