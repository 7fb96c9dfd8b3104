"""Colab's preinstalled packages, and the two checks built on them (tests/notebooks/test_colab.py).

colab/pip-freeze.gpu.txt is a pinned copy of the package list Colab publishes.  From it:

- `dry_run(specs)`: what `%pip install specs` would do in Colab, resolved by pip with
  Colab's Python and every preinstalled package held at its Colab version (constraints).
  A notebook that asks for a different transformers, or for a package whose dependencies
  would move pyarrow, fails to resolve: Colab would have upgraded it in the running session.
- `colab_venv()`: a virtual environment with Colab's versions of the packages the notebooks
  import, for running the notebooks' offline paths.  Two honest differences from Colab:
  torch is this project's CPU build (Colab's is a CUDA build that does not install here),
  and the interpreter is the project's Python (the CPU torch wheel here is for 3.11 only).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.utils import canonicalize_name as canonical

from tests.conftest import ROOT
from tools.user_cache import cache_root

FREEZE = Path(__file__).parent / "colab" / "pip-freeze.gpu.txt"
COLAB_PYTHON = "3.12"  # the Python of the runtime FREEZE was taken from
# What the notebooks import (and Jupyter needs), installed at Colab's versions in colab_venv().
NOTEBOOK_PACKAGES = ["transformers", "datasets", "huggingface_hub", "tokenizers", "safetensors", "accelerate",
                     "peft", "numpy", "pandas", "pyarrow", "scikit-learn", "matplotlib", "matplotlib-inline",
                     "jieba", "psutil", "sentencepiece", "ipykernel"]


def colab_versions() -> dict[str, str]:
    """{canonical name: version} of Colab's packages; local labels (+cu128) dropped, URL installs skipped."""
    versions = {}
    for line in FREEZE.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.partition("==")
        if line.startswith("#") or not sep:
            continue
        versions[canonical(name)] = version.split("+")[0]
    return versions


def project_pins() -> dict[str, str]:
    text = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    return {canonical(n): v for n, v in re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s#;]+)", text, re.M)}


def colab_python() -> str:
    """An interpreter of Colab's Python version: on PATH, or under pyenv."""
    found = shutil.which(f"python{COLAB_PYTHON}")
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [found] if found else []
    candidates += sorted(str(p) for p in pyenv.glob(f"{COLAB_PYTHON}*/bin/python{COLAB_PYTHON}"))
    if shutil.which("uv"):  # the GitHub workflow installs it with `uv python install`
        found = subprocess.run(["uv", "python", "find", COLAB_PYTHON], capture_output=True, text=True)
        candidates += [found.stdout.strip()] if found.returncode == 0 else []
    for candidate in candidates:
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0:  # a pyenv shim for a version that is not installed fails here
            return candidate
    raise RuntimeError(f"the Colab check needs Python {COLAB_PYTHON} (Colab's version): install it, "
                       f"e.g. with pyenv or `uv python install {COLAB_PYTHON}`, or put python{COLAB_PYTHON} on PATH")


def dry_run(specs: list[str]) -> list[tuple[str, str]]:
    """(name, version) of every package `pip install specs` would install into Colab.

    Raises AssertionError with pip's explanation when it cannot be done without changing a
    preinstalled package."""
    with tempfile.TemporaryDirectory() as tmp:
        constraints = Path(tmp) / "colab-constraints.txt"
        constraints.write_text("".join(f"{n}=={v}\n" for n, v in colab_versions().items()))
        report = Path(tmp) / "report.json"
        done = subprocess.run(
            [colab_python(), "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
             "--disable-pip-version-check", "--report", str(report), "-c", str(constraints), *specs],
            capture_output=True, text=True, timeout=600)
        if done.returncode:
            lines = [line for line in done.stderr.splitlines() if not line.startswith("WARNING: Location")]
            raise AssertionError("in Colab, `%pip install " + " ".join(specs) + "` would change Colab's own "
                                 "packages (or cannot be installed):\n" + "\n".join(lines[-15:]))
        return [(i["metadata"]["name"], i["metadata"]["version"]) for i in json.loads(report.read_text())["install"]]


def venv_requirements(extra: list[str]) -> list[str]:
    """Pins for colab_venv(): Colab's version where Colab has the package, else the project's pin."""
    colab, pins = colab_versions(), project_pins()
    wanted = [canonical(n) for n in NOTEBOOK_PACKAGES + extra]
    missing = [n for n in wanted if n not in colab and n not in pins]
    if missing:
        raise RuntimeError(f"no version for {missing}: pin them in requirements.txt")
    return [f"torch=={pins['torch']}"] + [f"{n}=={colab.get(n, pins.get(n))}" for n in dict.fromkeys(wanted)]


def colab_venv(extra: list[str]) -> Path:
    """The interpreter of a cached virtual environment with venv_requirements(extra) installed."""
    requirements = venv_requirements(extra)
    key = hashlib.sha256("\n".join([sys.version, *requirements]).encode()).hexdigest()[:12]
    venv = cache_root() / "colab-venv" / key
    python = venv / "bin" / "python"
    if (venv / "installed").is_file():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           *requirements], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError("could not build the Colab-versions environment:\n" + done.stderr[-3000:])
    (venv / "installed").write_text("\n".join(requirements) + "\n")
    return python
