"""Generated files are clearly generated: gitignored, and marked in their first lines."""

import subprocess

import pytest

from tests.conftest import ROOT
from tools import prebuild


def git_ignored(path):
    return subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT).returncode == 0


@pytest.mark.parametrize("rel", ["generated/snippets/glossary-table.md", "generated/jieba_userdict.txt",
                                 "docs/notebooks/01-neural-network-from-scratch.md",
                                 "docs/notebooks/01-neural-network-from-scratch/figure-1.png",
                                 "docs/notebooks/01-neural-network-from-scratch.ipynb"])
def test_generated_paths_are_gitignored(rel):
    assert git_ignored(ROOT / rel), rel


def test_hand_written_notebooks_index_is_tracked():
    assert not git_ignored(ROOT / "docs" / "notebooks" / "index.md")


def test_prebuild_only_writes_where_it_says(tmp_path, monkeypatch):
    """write() is atomic and skips unchanged content (mkdocs would reload for nothing)."""
    target = tmp_path / "a" / "b.md"
    assert prebuild.write(target, "x") is True
    mtime = target.stat().st_mtime_ns
    assert prebuild.write(target, "x") is False and target.stat().st_mtime_ns == mtime
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


def test_repository_address_comes_from_mkdocs_yml_and_the_deploy_checks_it(capsys):
    url, branch = prebuild.repository()
    assert url.startswith("https://github.com/") and branch == "main"
    assert prebuild.main(["--check-repository", url.removeprefix("https://github.com/")]) == 0
    assert prebuild.main(["--check-repository", "someone/fork"]) == 1
    assert "runs in someone/fork, but mkdocs.yml names" in capsys.readouterr().err
    assert prebuild.colab_url("https://github.com/someone/fork", "main", "01-x.ipynb") == \
        "https://colab.research.google.com/github/someone/fork/blob/main/notebooks/01-x.ipynb"
    assert prebuild.kaggle_url("https://github.com/someone/fork", "main", "01-x.ipynb") == \
        "https://kaggle.com/kernels/welcome?src=https://github.com/someone/fork/blob/main/notebooks/01-x.ipynb"
