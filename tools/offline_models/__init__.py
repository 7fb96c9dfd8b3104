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

import importlib
import pkgutil
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parents[2] / ".cache" / "models"


def converters():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        yield importlib.import_module(f"{__name__}.{info.name}")


def ensure_all(models_dir: Path = MODELS_DIR, log=print) -> dict[str, Path]:
    return {module.__name__.rsplit(".", 1)[1]: module.ensure(models_dir, log=log)
            for module in converters()}


if __name__ == "__main__":
    for name, path in ensure_all().items():
        print(f"{name}: {path}")
