"""Bad input stops the build with a clear message.

Each test copies the project (with the executed-notebook cache, so nothing
heavy re-runs), breaks one thing, and runs the real strict build.
"""

import json
import shutil

import nbformat
import pytest

from tests.conftest import ROOT
from tools.build_site import BuildError, mkdocs_build

COPIED = ["docs", "notebooks", "includes", "overrides", "tools", "mkdocs.yml",
          "mkdocs-offline.yml", "requirements.txt"]


@pytest.fixture()
def project(site, tmp_path):  # `site` first, so the notebook cache is warm
    copy = tmp_path / "project"
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, copy / name)
    shutil.copytree(ROOT / ".cache" / "executed", copy / ".cache" / "executed")
    if (ROOT / ".cache" / "models").exists():
        (copy / ".cache" / "models").symlink_to(ROOT / ".cache" / "models")
    return copy


def build_fails(project, env=None):
    with pytest.raises(BuildError) as failure:
        mkdocs_build("mkdocs.yml", project / "site", root=project, env=env)
    return str(failure.value)


def test_the_unbroken_copy_builds(project):
    mkdocs_build("mkdocs.yml", project / "site", root=project)


def test_failing_notebook_cell_names_notebook_cell_and_traceback(project):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 坏掉的 notebook"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("ratio = x / 0"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, project / "notebooks" / "99-broken.ipynb")
    message = build_fails(project)
    assert "99-broken.ipynb: cell 3 failed" in message
    assert "ZeroDivisionError" in message and "ratio = x / 0" in message


def test_notebook_with_committed_outputs(project):
    path = next((project / "notebooks").glob("01-*.ipynb"))
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}]
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert "has committed outputs" in build_fails(project)


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


def test_missing_jieba(project, tmp_path):
    blocker = tmp_path / "no-jieba"
    blocker.mkdir()
    (blocker / "jieba.py").write_text('raise ImportError("jieba is blocked for this test")\n')
    message = build_fails(project, env={"PYTHONPATH": str(blocker)})
    assert "jieba is not installed" in message
