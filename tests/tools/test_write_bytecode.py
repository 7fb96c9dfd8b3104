"""tools/write_bytecode.py: an environment installed without compiled modules keeps what it compiles."""

import os
import shutil
import subprocess
import sys

from tools import write_bytecode


def test_the_environment_writes_bytecode_although_the_variable_says_not_to(tmp_path):
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    python = tmp_path / "venv" / "bin" / "python"
    (tmp_path / "lesson.py").write_text("ANSWER = 42\n")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    run = ["-c", "import sys, lesson; print(sys.dont_write_bytecode)"]

    before = subprocess.run([python, *run], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert before.stdout.strip() == "True" and not (tmp_path / "__pycache__").exists()

    pth = write_bytecode.enable(python)
    assert pth.parent.name == "site-packages" and str(tmp_path) in str(pth)
    after = subprocess.run([python, *run], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert after.stdout.strip() == "False"
    assert [p.name.split(".")[0] for p in (tmp_path / "__pycache__").iterdir()] == ["lesson"]


def test_an_installed_modules_invalid_escape_is_compiled_in_silence_as_pip_would(tmp_path):
    """jieba has invalid escape sequences: compiled on import (not by pip), Python would report them under
    the notebook cell that imports it (a SyntaxWarning from 3.12).  Our own modules are still reported."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    python = tmp_path / "venv" / "bin" / "python"
    pth = write_bytecode.enable(python)
    for folder, name in [(pth.parent, "thirdparty"), (tmp_path, "ours")]:
        (folder / f"{name}.py").write_text('PATTERN = "[a-z]+\\.txt"\n')

    def warned(module):
        return subprocess.run([python, "-W", "always", "-c", f"import {module}"], cwd=tmp_path,
                              capture_output=True, text=True, check=True).stderr

    assert warned("thirdparty") == "" and "invalid escape sequence" in warned("ours")
    pth.unlink()
    shutil.rmtree(pth.parent / "__pycache__")  # compiled by the run above: compile it again
    assert "invalid escape sequence" in warned("thirdparty")  # what the line in the .pth file hides


def test_the_project_environment_has_it():
    """make's install step wrote it (Makefile): without it every test process compiles torch again."""
    import sysconfig

    pth = os.path.join(sysconfig.get_path("purelib"), write_bytecode.NAME)
    assert os.path.isfile(pth), f"{pth} is missing: run `make test` (or `python -m tools.write_bytecode`)"
    assert not sys.dont_write_bytecode
