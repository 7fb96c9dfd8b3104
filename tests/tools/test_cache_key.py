"""The notebook cache key changes exactly when an output can change (issue 10, point 4).

Each case edits one input of a copy of the real notebooks and compares every
notebook's key before and after: what must re-execute, and what must not."""

import shutil
import subprocess
import sys

import nbformat
import pytest

from tests.conftest import ROOT
from tools import notebook_meta, notebook_runner
from tools.notebook_runner import cache_key, kernel_distributions


@pytest.fixture()
def copy(tmp_path, monkeypatch):
    """notebooks/, the pages (notebook 08's knowledge base) and the converters copied; keys are
    computed over the copies."""
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=shutil.ignore_patterns("notebooks", "assets"))
    shutil.copytree(ROOT / "tools" / "offline_models", tmp_path / "offline_models",
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(notebook_runner, "CONVERTERS_DIR", tmp_path / "offline_models")
    return tmp_path


def keys(folder, version=notebook_runner._installed_version):
    return {nb.stem: cache_key(nb, version) for nb in notebook_meta.load_all(folder / "notebooks")}


def edit_cell(path, kind, change):
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == kind)
    cell.source = change(cell.source)
    nbformat.write(nb, path)


def changed(before, after):
    return sorted(k for k in before if before[k] != after[k])


def test_prose_edit_re_executes_nothing(copy):
    before = keys(copy)
    edit_cell(copy / "notebooks" / "04-lora-finetuning.ipynb", "markdown", lambda s: s + "\n\n多一句话。")
    path = copy / "notebooks" / "04-lora-finetuning.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.metadata["llm_roadmap"]["summary"] += "（改写）"  # the index text is prose too
    nbformat.write(nb, path)
    assert changed(before, keys(copy)) == []


def test_code_edit_re_executes_that_notebook_only(copy):
    before = keys(copy)
    edit_cell(copy / "notebooks" / "02-mini-transformer.ipynb", "code", lambda s: s + "\n# 注释也是代码")
    assert changed(before, keys(copy)) == ["02-mini-transformer"]


def test_data_file_edit_re_executes_the_notebook_that_declares_it(copy):
    before = keys(copy)
    data = copy / "notebooks" / "data" / "customer_service_qa.jsonl"
    data.write_text(data.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert changed(before, keys(copy)) == ["04-lora-finetuning"]


def test_a_page_edit_re_executes_the_notebook_that_reads_it(copy):
    """Notebooks 08 and 09 search the site's own pages: a changed page changes their results."""
    before = keys(copy)
    page = copy / "docs" / "faq.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n多一句话。\n", encoding="utf-8")
    assert changed(before, keys(copy)) == ["08-rag-retrieval-augmented-generation", "09-agent-tool-calling"]


def test_converter_edit_re_executes_the_notebooks_using_that_model(copy):
    before = keys(copy)
    with open(copy / "offline_models" / "gemma.py", "a", encoding="utf-8") as f:
        f.write("\n# changed\n")
    assert changed(before, keys(copy)) == ["04-lora-finetuning", "07-tokens-decoding-kv-cache"]


def bumped(dist):
    def version(name):
        real = notebook_runner._installed_version(name)
        return real + ".post1" if name == dist and real else real
    return version


@pytest.mark.parametrize("tool", ["pytest", "mkdocs", "mkdocs-material", "playwright", "beautifulsoup4", "nbclient"])
def test_test_and_site_tool_versions_re_execute_nothing(copy, tool):
    assert changed(keys(copy), keys(copy, bumped(tool))) == []


def test_versions_of_what_the_kernel_imports_re_execute_exactly_its_users(copy):
    before = keys(copy)
    assert changed(before, keys(copy, bumped("peft"))) == ["04-lora-finetuning"]
    assert changed(before, keys(copy, bumped("snownlp"))) == ["03-bert-chinese-sentiment", "10-evaluation",
                                                              "11-model-serving"]
    assert changed(before, keys(copy, bumped("numpy"))) == sorted(before)   # everyone depends on it
    assert changed(before, keys(copy, bumped("safetensors"))) == ["03-bert-chinese-sentiment", "04-lora-finetuning",
                                                                  "05-llm-api-prompting", "07-tokens-decoding-kv-cache",
                                                                  "08-rag-retrieval-augmented-generation",
                                                                  "09-agent-tool-calling", "10-evaluation",
                                                                  "11-model-serving", "12-tiny-chinese-gpt"]
    assert changed(before, keys(copy, bumped("openai"))) == ["05-llm-api-prompting", "08-rag-retrieval-augmented-generation",
                                                             "09-agent-tool-calling"]
    assert changed(before, keys(copy, bumped("mcp"))) == ["09-agent-tool-calling"]
    assert changed(before, keys(copy, bumped("opencc"))) == ["12-tiny-chinese-gpt"]
    assert changed(before, keys(copy, bumped("sacrebleu"))) == ["10-evaluation"]
    assert changed(before, keys(copy, bumped("sse-starlette"))) == ["09-agent-tool-calling", "11-model-serving"]  # mcp needs it
    assert changed(before, keys(copy, bumped("ipykernel"))) == sorted(before)  # the kernel itself


def test_kernel_environment_is_part_of_the_key(copy, monkeypatch):
    before = keys(copy)
    monkeypatch.setitem(notebook_runner.KERNEL_ENV, "LLM_ROADMAP_SOURCE", "hub")
    assert changed(before, keys(copy)) == sorted(before)


def test_requirements_file_is_not_an_input():
    # Pins reach the key only as installed versions of the kernel's packages.
    notebooks = notebook_meta.load_all()
    for nb in notebooks:
        assert set(notebook_runner.key_inputs(nb)) == {"runner", "code", "kernel", "packages", "data", "models"}
        assert not {"pytest", "mkdocs", "playwright", "mkdocs-material"} & set(kernel_distributions(nb)), nb.stem


def test_cache_key_command_prints_one_key():
    out = subprocess.run([sys.executable, "-m", "tools.notebook_runner", "--cache-key"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert len(out) == 16 and int(out, 16) >= 0
    assert out == notebook_runner.combined_key(notebook_meta.load_all())
