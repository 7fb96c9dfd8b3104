"""Offline models: turn the weights that pip packages ship into standard
Hugging Face `transformers` directories, once, cached under .cache/models/.

Each submodule handles one model and exposes

    ensure(models_dir: Path, log=print) -> Path

which returns the model directory, converting only when it is missing or
incomplete, and verifying it (sizes and sha256 recorded at conversion in
CHECKSUMS.json) before anyone uses it.  tools/notebook_runner.py calls
`ensure_all()` for the models a notebook names in its metadata and tells the
kernels where they are (LLM_ROADMAP_MODELS).  Models live in the user cache
(tools/user_cache.py), shared by every clone on the machine.

    python -m tools.offline_models        # convert everything now
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import hashlib
import importlib
import json
import multiprocessing
import os
import pkgutil
import shutil
import tempfile
import time
from pathlib import Path

from tools.user_cache import cache_root, file_lock

MODELS_DIR = cache_root() / "models"
MARKER = "CONVERTED_FROM"     # JSON written by each converter into every finished model directory
CHECKSUMS = "CHECKSUMS.json"  # size and sha256 of every file, written when the conversion finishes


class ModelError(RuntimeError):
    """A converted model is damaged; the message names the file and the folder to delete."""


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def write_checksums(folder: Path) -> None:
    sums = {p.relative_to(folder).as_posix(): {"size": p.stat().st_size, "sha256": sha256_file(p)}
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != CHECKSUMS}
    (folder / CHECKSUMS).write_text(json.dumps(sums, indent=1) + "\n", encoding="utf-8")


# folder -> the files' (name, size, mtime, inode) when their hashes last matched, in this process
_HASHED: dict[Path, tuple] = {}
SETTLED_SECONDS = 2  # a file written this recently may change again within its timestamp's resolution


def _signature(folder: Path, names) -> tuple:
    stats = [(name, (folder / name).stat()) for name in names]
    return tuple((name, st.st_size, st.st_mtime_ns, st.st_ino) for name, st in stats)


def verify(folder: Path) -> Path:
    """Check every file against CHECKSUMS.json (sizes first, then hashes); return `folder`.

    Hashing all offline models reads 9 GB (about 20 s); the tests ask for the same model in every
    online run.  Within one process, a folder whose files have the same size, modification time and
    inode as when their hashes last matched is not hashed again (as git trusts an index entry: only
    files older than SETTLED_SECONDS, so a rewrite within a timestamp's resolution is still hashed)."""
    hint = f"Delete the folder {folder} and build again: the model is converted anew."
    try:
        sums = json.loads((folder / CHECKSUMS).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder / CHECKSUMS} is missing or unreadable. {hint}") from exc
    for name, expected in sums.items():
        path = folder / name
        size = path.stat().st_size if path.is_file() else None
        if size != expected["size"]:
            raise ModelError(f"{path} is damaged: {size} bytes, expected {expected['size']}. {hint}")
    signature = _signature(folder, sums)
    if _HASHED.get(folder) == signature:
        return folder
    for name, expected in sums.items():
        if sha256_file(folder / name) != expected["sha256"]:
            raise ModelError(f"{folder / name} is damaged: its sha256 differs from the one recorded "
                             f"at conversion. {hint}")
    settled = time.time_ns() - SETTLED_SECONDS * 10**9
    if all(mtime < settled for _, _, mtime, _ in signature):
        _HASHED[folder] = signature
    return folder


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
        write_checksums(out)
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)


def read_marker(target: Path, required_files) -> dict | None:
    """The CONVERTED_FROM record of `target`, or None when a file is missing or it is unreadable."""
    if not all((target / name).is_file() for name in (*required_files, MARKER, CHECKSUMS)):
        return None
    try:
        return json.loads((target / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def quiet_transformers():
    """No progress bars or per-tensor log lines in the runner's output while a GGUF is read."""
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


@contextlib.contextmanager
def one_gguf_reader():
    """transformers reads a GGUF three times (configuration, tokenizer, weights), each time through a
    new gguf.GGUFReader that parses all the metadata again: about 25 s apiece for Qwen's 151,665-token
    vocabulary, most of a conversion.  Within this block, readers of the same file are shared."""
    import gguf

    original = gguf.GGUFReader  # load_gguf_checkpoint imports it from the package on every call
    gguf.GGUFReader = functools.cache(original)
    try:
        yield
    finally:
        gguf.GGUFReader = original


def save_dequantized(gguf: Path, out: Path, marker: dict, dtype: str = "float32") -> None:
    """Read a GGUF causal LM with transformers (every tensor dequantised to float32), save it in
    `dtype` with its tokenizer as an ordinary checkpoint in `out`, write the marker, delete the GGUF.

    transformers attaches a GGUF "quantizer" to the model it reads; the tensors are plain
    float32 by then, and with the quantizer still attached it refuses to save the model, or
    records a quantization config that makes the saved copy unloadable without the GGUF."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with quiet_transformers(), one_gguf_reader():
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.to(getattr(torch, dtype)).save_pretrained(out)
        tokenizer.save_pretrained(out)
    (out / MARKER).write_text(json.dumps({**marker, "dtype": dtype}, indent=2) + "\n", encoding="utf-8")
    gguf.unlink()


def packaged_parts(packages: list[str]) -> list[Path]:
    """The parts of a split GGUF file, in order, from the pinned pip packages that ship them (each
    package's `get_part_path()` gives its part)."""
    paths = []
    for name in packages:
        try:
            module = importlib.import_module(name.replace("-", "_"))
        except ImportError as exc:
            raise RuntimeError(f"The package {name} is missing: install the pinned requirements "
                               "(pip install -r requirements.txt).") from exc
        paths.append(Path(module.get_part_path()))
    return paths


def assemble_parts(packages: list[str], target: Path, size: int, sha256: str) -> Path:
    """Concatenate the packaged parts into `target` and check its size and sha256 (the packages carry
    no licence metadata or checksums of their own: the recorded ones are the check)."""
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        for path in packaged_parts(packages):
            data = path.read_bytes()
            digest.update(data)
            out.write(data)
    found = target.stat().st_size
    if found != size or digest.hexdigest() != sha256:
        target.unlink()
        prefix = os.path.commonprefix(packages)
        raise RuntimeError(f"The assembled GGUF is not the recorded one ({found} bytes, sha256 "
                           f"{digest.hexdigest()}): reinstall the pinned {prefix}* packages.")
    return target


def ensure_model(models_dir: Path, name: str, is_complete, convert, duration: str, log=print) -> Path:
    """models_dir / name, converted by `convert(target)` when `is_complete(target)` is false
    (`duration` tells the reader how long that takes), and verified before anyone uses it."""
    target = Path(models_dir) / name
    if not is_complete(target):
        log(f"{name}: converting the packaged GGUF into {target} ({duration}, once) ...")
        started = time.monotonic()
        convert(target)
        log(f"{name}: converted in {time.monotonic() - started:.0f} s")
    return verify(target)  # raises, naming the folder to delete, when a file is damaged


def converters():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):  # __main__
            continue
        yield importlib.import_module(f"{__name__}.{info.name}")


# The slow conversions, longest first (here 1.5B: 65–73 s; Gemma, Qwen 0.5B: 37–46 s; e5: 4 s).
LONGEST_FIRST = ("qwen15", "gemma", "qwen", "e5")


def short_name(module) -> str:
    """A converter module's name without its package: "qwen15" for tools.offline_models.qwen15."""
    return module.__name__.rsplit(".", 1)[-1]


def _convert_in_child(module_name: str, models_dir: Path) -> None:
    importlib.import_module(module_name).ensure(models_dir)  # logs with print, to the build's output


def convert_in_parallel(modules, models_dir: Path, log=print, processes: int | None = None) -> None:
    """Convert the models of `modules` that are not converted yet, `processes` at once (default: as
    many as this process may use cores).

    A conversion runs on one core (numpy dequantisation, safetensors writing; about 96 % of one core
    measured; the four take 91 s two at a time here, 160 s one after another), and two at once used at
    most 10 GB of memory together.  Each runs in its own process (spawned: a forked PyTorch can
    hang), which prints its progress itself."""
    todo = [m for m in modules if hasattr(m, "is_complete") and not m.is_complete(Path(models_dir) / m.NAME)]
    todo.sort(key=lambda m: LONGEST_FIRST.index(short_name(m)) if short_name(m) in LONGEST_FIRST else 99)
    workers = min(len(todo), processes or len(os.sched_getaffinity(0)))
    if workers < 2:
        return  # one to convert (or one core): ensure() converts it in this process
    log(f"converting {len(todo)} offline models, {workers} at a time: {', '.join(short_name(m) for m in todo)}")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for future in [pool.submit(_convert_in_child, m.__name__, Path(models_dir)) for m in todo]:
            future.result()  # re-raises a conversion's error here


def ensure_all(models_dir: Path = MODELS_DIR, names=None, log=print) -> dict[str, Path]:
    """Convert (once) and verify the named models, or all of them; one build at a time per machine
    converts, using every core (convert_in_parallel)."""
    modules = [m for m in converters() if names is None or short_name(m) in names]
    with file_lock(Path(models_dir) / ".lock", log=log, what="another model conversion"):
        convert_in_parallel(modules, models_dir, log=log)
        return {short_name(module): module.ensure(models_dir, log=log) for module in modules}
