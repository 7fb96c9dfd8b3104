"""The notebook platforms learners use (Colab, Kaggle): their preinstalled packages, and the checks
built on them (tests/notebooks/test_platforms.py).

Each platform's package list is a pinned copy of the one it publishes (colab/, kaggle/).  From it:

- `dry_run(platform, specs)`: what `%pip install specs` would do there, resolved by pip with the
  platform's Python and every preinstalled package held at its version (constraints).  A notebook
  that asks for a different transformers, or for a package whose dependencies would move pyarrow,
  fails to resolve: the platform would have upgraded it in the running session.
- `platform_venv(platform)`: a virtual environment with the platform's versions of the packages the
  notebooks import, for running them.  Two honest differences from the platform: torch is this
  project's CPU build (Colab's is a CUDA build that does not install here), and the interpreter is
  the project's Python (the CPU torch wheel here is for 3.11 only).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name as canonical

from tests.conftest import ROOT
from tools import lock_requirements, write_bytecode
from tools.user_cache import cache_root, file_lock, kept_json


@dataclass(frozen=True)
class Platform:
    name: str
    freeze: Path      # its published package list, pinned here with its source in a header
    source: str       # where that list comes from (the header must name it)
    python: str       # the Python of the runtime the list was taken from


COLAB = Platform("Colab", Path(__file__).parent / "colab" / "pip-freeze.gpu.txt", "googlecolab/backend-info", "3.12")
KAGGLE = Platform("Kaggle", Path(__file__).parent / "kaggle" / "pip-freeze.cpu.txt", "Kaggle/docker-python", "3.12")
PLATFORMS = [COLAB, KAGGLE]
# What the notebooks import (and Jupyter needs), installed at the platform's versions in platform_venv().
NOTEBOOK_PACKAGES = ["transformers", "datasets", "huggingface_hub", "tokenizers", "safetensors", "accelerate",
                     "peft", "numpy", "pandas", "pyarrow", "scikit-learn", "matplotlib", "matplotlib-inline",
                     "jieba", "psutil", "sentencepiece", "ipykernel", "openai", "fastapi", "uvicorn", "pydantic",
                     "mcp", "jsonschema", "rouge-score", "httpx", "sse-starlette"]


def versions(platform: Platform) -> dict[str, str]:
    """{canonical name: version} of the platform's packages; local labels (+cu128) dropped, URL installs skipped."""
    found = {}
    for line in platform.freeze.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.partition("==")
        if line.startswith("#") or not sep:
            continue
        found[canonical(name)] = version.split("+")[0]
    return found


def project_pins() -> dict[str, str]:
    return lock_requirements.pinned()


@functools.cache
def platform_python(platform: Platform) -> str:
    """An interpreter of the platform's Python version: on PATH, or under pyenv."""
    version = platform.python
    found = shutil.which(f"python{version}")
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [found] if found else []
    candidates += sorted(str(p) for p in pyenv.glob(f"{version}*/bin/python{version}"))
    if shutil.which("uv"):  # the GitHub workflow installs it with `uv python install`
        found = subprocess.run(["uv", "python", "find", version], capture_output=True, text=True)
        candidates += [found.stdout.strip()] if found.returncode == 0 else []
    for candidate in candidates:
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0:  # a pyenv shim for a version that is not installed fails here
            return candidate
    raise RuntimeError(f"the {platform.name} check needs Python {version} ({platform.name}'s version): install it, "
                       f"e.g. with pyenv or `uv python install {version}`, or put python{version} on PATH")


@functools.cache
def pip_version(python: str) -> str:
    return subprocess.run([python, "-m", "pip", "--version"], capture_output=True, text=True).stdout.split(" from ")[0]


def dry_run(platform: Platform, specs: list[str]) -> list[tuple[str, str]]:
    """(name, version) of every package `pip install specs` would install on the platform.

    Raises AssertionError with pip's explanation when it cannot be done without changing a
    preinstalled package."""
    python = platform_python(platform)
    key = hashlib.sha256("\n".join([pip_version(python), platform.python, platform.freeze.read_text(encoding="utf-8"), *specs])
                         .encode()).hexdigest()[:16]
    kept = cache_root() / "pip-dry-runs" / f"{platform.name.lower()}-{key}.json"
    return [tuple(pair) for pair in kept_json(kept, lambda: _resolve(python, platform, specs))]


def _resolve(python: str, platform: Platform, specs: list[str]) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text("".join(f"{n}=={v}\n" for n, v in versions(platform).items()))
        report = Path(tmp) / "report.json"
        done = subprocess.run(
            [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
             "--disable-pip-version-check", "--report", str(report), "-c", str(constraints), *specs],
            capture_output=True, text=True, timeout=600)
        if done.returncode:
            lines = [line for line in done.stderr.splitlines() if not line.startswith("WARNING: Location")]
            raise AssertionError(f"in {platform.name}, `%pip install " + " ".join(specs) + f"` would change "
                                 f"{platform.name}'s own packages (or cannot be installed):\n" + "\n".join(lines[-15:]))
        return [(i["metadata"]["name"], i["metadata"]["version"]) for i in json.loads(report.read_text())["install"]]


def venv_requirements(platform: Platform, extra: list[str]) -> list[str]:
    """Pins for platform_venv(): the platform's version where it has the package, else the project's pin."""
    colab, pins = versions(platform), project_pins()
    wanted = [canonical(n) for n in NOTEBOOK_PACKAGES + extra]
    missing = [n for n in wanted if n not in colab and n not in pins]
    if missing:
        raise RuntimeError(f"no version for {missing}: pin them in requirements.txt")
    return [f"torch=={pins['torch']}"] + [f"{n}=={colab.get(n, pins.get(n))}" for n in dict.fromkeys(wanted)]


def installed_versions(names) -> dict[str, str]:
    """{canonical name: version} installed here (the project's side of a comparison), for `names`."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in names:
        try:
            found[canonical(name)] = version(name)
        except PackageNotFoundError:
            pass
    return found


def outside(middle: dict[str, str], low: dict[str, str], high: dict[str, str]) -> list[str]:
    """The packages whose version in `middle` is neither one of their versions in `low` and `high` (two sets
    of versions the notebooks run with) nor between them; a package that only one of them has must match it."""
    from packaging.version import Version

    out = []
    for name, version in middle.items():
        ends = sorted(Version(v[name]) for v in (low, high) if name in v)
        if not ends or not ends[0] <= Version(version) <= ends[-1]:
            out.append(f"{name} {version} (tested: {', '.join(sorted({low.get(name, '-'), high.get(name, '-')}))})")
    return out


def platforms_to_run(extra: list[str]) -> list[Platform]:
    """The platforms whose environment the notebooks run in.  The notebooks run with this project's versions
    (the site build) and with Colab's; Kaggle's run is needed only when one of its versions of the notebooks'
    packages lies outside those two ends.  Today each of Kaggle's lies between them (same transformers,
    tokenizers and peft as Colab; newer datasets, numpy, pandas … than Colab, older than the project), so
    its 12 runs and its environment (about 600 worker-seconds, 5 minutes of a cold run on two cores) are
    left out.  What that misses: combinations of versions neither end has."""
    names = [canonical(n) for n in NOTEBOOK_PACKAGES + extra]
    project = {**installed_versions(names), **{n: v for n, v in project_pins().items() if n in names}}

    def used(platform):  # what platform_venv() installs: the platform's version, else the project's pin
        there = versions(platform)
        return {n: there.get(n, project.get(n)) for n in names if n in there or n in project}

    tested = [COLAB]
    for platform in PLATFORMS[1:]:
        if outside(used(platform), used(COLAB), project):
            tested.append(platform)
    return tested


def platform_venv(platform: Platform, extra: list[str]) -> Path:
    """The interpreter of a cached virtual environment with venv_requirements(platform, extra) installed."""
    requirements = venv_requirements(platform, extra)
    key = hashlib.sha256("\n".join([sys.version, *requirements]).encode()).hexdigest()[:12]
    venv = cache_root() / "colab-venv" / f"{platform.name.lower()}-{key}"
    python = venv / "bin" / "python"
    # One builder at a time: `make test` runs two test processes, and both may need it.
    with file_lock(venv.parent / f".{platform.name.lower()}.lock", what=f"the {platform.name} environment's build"):
        if (venv / "installed").is_file():
            return python
        for old in venv.parent.glob("*"):  # this platform's older environments (about 2 GB each) go
            if old.is_dir() and (old.name.startswith(f"{platform.name.lower()}-") or "-" not in old.name):
                shutil.rmtree(old, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               "--no-compile", *requirements], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"could not build the {platform.name}-versions environment:\n" + done.stderr[-3000:])
        write_bytecode.enable(python)  # compiled on first import instead (tools/write_bytecode.py)
        (venv / "installed").write_text("\n".join(requirements) + "\n")
    return python
