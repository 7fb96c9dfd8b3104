"""Offline models: turn the weights that pip packages ship into standard
Hugging Face `transformers` directories, once, cached under .cache/models/.

Each submodule handles one model and exposes

    ensure(models_dir: Path, log=print) -> Path

which returns the model directory, converting only when it is missing or
incomplete.  tools/notebook_runner.py calls `ensure_all()` before it executes
any notebook and tells the kernels where the models are (LLM_ROADMAP_MODELS).

    python -m tools.offline_models        # convert everything now
"""

from __future__ import annotations

import contextlib
import importlib
import json
import pkgutil
import shutil
import tempfile
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parents[2] / ".cache" / "models"


MARKER = "CONVERTED_FROM"  # JSON written last into every finished model directory


@contextlib.contextmanager
def staging_dir(target: Path):
    """Yield an empty directory beside `target`; when the block finishes without
    error, it replaces `target`.  An interrupted conversion therefore never
    leaves a half-written model where `ensure()` would accept it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}-", dir=target.parent) as tmp:
        out = Path(tmp) / target.name
        out.mkdir()
        yield out
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)


def read_marker(target: Path, required_files) -> dict | None:
    """The CONVERTED_FROM record of `target`, or None when a file is missing or it is unreadable."""
    if not all((target / name).is_file() for name in (*required_files, MARKER)):
        return None
    try:
        return json.loads((target / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def converters():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        yield importlib.import_module(f"{__name__}.{info.name}")


def ensure_all(models_dir: Path = MODELS_DIR, log=print) -> dict[str, Path]:
    return {module.__name__.rsplit(".", 1)[1]: module.ensure(models_dir, log=log)
            for module in converters()}


if __name__ == "__main__":
    for name, path in ensure_all().items():
        print(f"{name}: {path}")
