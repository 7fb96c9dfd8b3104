"""The cache outside the clone: executed notebooks, converted models, and results of slow steps.

Every clone on a machine shares it, so a fresh clone (a CI run, a second
checkout) does not execute or convert again what an identical input already
produced.  Entries are keyed by their inputs and written atomically.

    $LLM_ROADMAP_CACHE, else $XDG_CACHE_HOME/llm-roadmap, else ~/.cache/llm-roadmap
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path


def cache_root() -> Path:
    if os.environ.get("LLM_ROADMAP_CACHE"):
        return Path(os.environ["LLM_ROADMAP_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "llm-roadmap"


def kept_json(path: Path, compute, worth_keeping=lambda value: True):
    """The JSON value kept at `path` (a name under cache_root() made from the inputs), or compute()'s,
    kept there when worth_keeping(value).  Written whole (two processes at once never read half a file);
    nothing is kept when compute() raises."""
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    value = compute()
    if worth_keeping(value):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        partial.replace(path)
    return value


@contextlib.contextmanager
def file_lock(path: Path, log=print, what: str = "another build"):
    """Hold an exclusive lock on `path` (created if missing); wait, saying so, while someone else holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for {what} to finish (lock {path}) ...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
