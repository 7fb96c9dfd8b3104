"""Bad input stops the build with a clear message, and the build stays correct under faults.

Each test takes a copy of the project (the `project` fixture in tests/site/conftest.py;
the executed-notebook cache is shared, outside the clone, so nothing heavy re-runs),
breaks one thing, and runs the real build:
`python -m tools.prebuild`, then `mkdocs build --strict`.
"""

import json
import subprocess
import sys
import threading

import nbformat
import pytest

from tools.build_site import BuildError, mkdocs_build

def prebuild(project, *args, env=None):
    import os

    return subprocess.run([sys.executable, "-m", "tools.prebuild", *args], cwd=project, text=True,
                          capture_output=True, env={**os.environ, **(env or {})})


def build(project, env=None, execute=True) -> str:
    """prebuild + strict build of the hosted variant; the log, or BuildError with it.  With
    execute=False the notebooks keep their last executed copies (for tests about pages only)."""
    proc = prebuild(project, *([] if execute else ["--no-execute"]), env=env)
    if proc.returncode != 0:
        raise BuildError(proc.stdout + proc.stderr)
    return proc.stdout + mkdocs_build("mkdocs.yml", project / "site", root=project, env=env)


def build_fails(project, env=None):
    with pytest.raises(BuildError) as failure:
        build(project, env=env)
    return str(failure.value)


def add_notebook(project, *sources, nav=True, name="99-broken"):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 坏掉的 notebook")]
                                  + [nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["llm_roadmap"] = {"title": "坏掉的", "stages": ["02-foundations"], "summary": "s", "budget_seconds": 30}
    nbformat.write(nb, project / "notebooks" / f"{name}.ipynb")
    if nav:
        config = project / "mkdocs.yml"
        text = config.read_text(encoding="utf-8")
        anchor = "      - 04 LoRA 参数高效微调: notebooks/04-lora-finetuning.md\n"
        assert anchor in text
        config.write_text(text.replace(anchor, anchor + f"      - {name[:2]} 坏掉的: notebooks/{name}.md\n"), encoding="utf-8")


def test_the_unbroken_copy_builds_without_executing(project):
    log = build(project)
    assert "executing" not in log


def test_failing_notebook_cell_names_notebook_cell_and_traceback(project):
    add_notebook(project, "x = 1", "ratio = x / 0")
    message = build_fails(project)
    assert "99-broken.ipynb: cell 3 failed" in message
    assert "ZeroDivisionError" in message and "ratio = x / 0" in message and "\x1b[" not in message


def test_notebook_with_committed_outputs(project):
    path = next((project / "notebooks").glob("01-*.ipynb"))
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}]
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert "has committed outputs" in build_fails(project)


def test_notebook_without_metadata(project):
    path = next((project / "notebooks").glob("02-*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    del nb.metadata["llm_roadmap"]
    nbformat.write(nb, path)
    assert "02-mini-transformer.ipynb: metadata.llm_roadmap is missing" in build_fails(project)


def test_notebook_missing_from_the_nav(project):
    add_notebook(project, "x = 1", nav=False, name="99-forgotten")
    message = build_fails(project)
    assert "notebooks/99-forgotten.md" in message and "nav" in message


def test_broken_internal_link(project):
    with open(project / "docs" / "index.md", "a", encoding="utf-8") as f:
        f.write("\n\n见[不存在的页面](no-such-page.md)。\n")
    assert "no-such-page.md" in build_fails(project)


def test_broken_anchor(project):
    with open(project / "docs" / "index.md", "a", encoding="utf-8") as f:
        f.write("\n\n见[术语表](glossary.md#no-such-heading)。\n")
    assert "no-such-heading" in build_fails(project)


def test_missing_image(project):
    with open(project / "docs" / "index.md", "a", encoding="utf-8") as f:
        f.write("\n\n![示意图](assets/images/no-such-image.png)\n")
    assert "no-such-image.png" in build_fails(project)


def test_missing_snippet(project):
    with open(project / "docs" / "index.md", "a", encoding="utf-8") as f:
        f.write('\n\n--8<-- "no-such-snippet.md"\n')
    assert "no-such-snippet.md" in build_fails(project)


def test_glossary_error_names_the_yaml_file_and_term(project):
    path = project / "includes" / "glossary" / "general.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("  en: Graphics Processing Unit\n", "", 1), encoding="utf-8")
    message = build_fails(project)
    assert "includes/glossary/general.yml: entry 1 (GPU): missing or empty field(s) en" in message
    assert "index.md" not in message


def test_missing_jieba(project, tmp_path):
    blocker = tmp_path / "no-jieba"
    blocker.mkdir()
    (blocker / "jieba.py").write_text('raise ImportError("jieba is blocked for this test")\n')
    message = build_fails(project, env={"PYTHONPATH": str(blocker)})
    assert "jieba is not installed" in message


def test_two_builds_at_once_in_one_checkout(project):
    """They take turns (a lock in .cache/), and both succeed."""
    results = {}

    def one(name):
        proc = subprocess.run([sys.executable, "-m", "tools.build_site", str(project / name)], cwd=project,
                              capture_output=True, text=True)
        results[name] = proc

    threads = [threading.Thread(target=one, args=(name,)) for name in ("site-a", "site-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name, proc in results.items():
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert (project / name / "index.html").is_file() and (project / name / "downloads").is_dir()
    assert any("waiting for another build" in p.stdout for p in results.values())
