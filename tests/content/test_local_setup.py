"""The local set-up that docs/notebooks/index.md gives a learner works as written."""

import re
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT, mkdocs_config
from tests.content.pages import text

REQUIREMENTS = ROOT / "requirements-notebooks.txt"


def local_tab() -> str:
    page = text("notebooks/index.md")
    start = page.index('=== "在自己的电脑上"')
    end = page.find("\n## ", start)
    return page[start:end if end > 0 else None]


def test_notebook_requirements_are_the_site_pins_plus_jupyterlab():
    lines = [line.split("#")[0].strip() for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    assert "-r requirements.txt" in lines
    others = [line for line in lines if not line.startswith("-r ")]
    assert others and all(re.fullmatch(r"[A-Za-z0-9_.-]+==[\w.]+", line) for line in others), others
    assert any(line.startswith("jupyterlab==") for line in others)


def test_the_commands_on_the_page_name_this_repository_and_the_ci_torch_index():
    tab = local_tab()
    assert f"git clone {mkdocs_config()['repo_url']}.git" in tab
    assert "pip install -r requirements-notebooks.txt" in tab and "jupyter lab notebooks/" in tab
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    assert f"--extra-index-url {workflow['env']['PIP_EXTRA_INDEX_URL']}" in tab


@pytest.mark.slow
def test_notebook_requirements_resolve():
    """pip finds every pinned version (asks the package registry; installs nothing)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "-r", str(REQUIREMENTS)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
