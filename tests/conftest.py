"""Shared fixtures and the two test tiers.

`make test` runs everything.  `make test-fast` runs `pytest -m "not slow"`:
content, sources, glossary and tool units, with no site build and no notebook
execution.  A test is slow when it uses the built site (the `site`, `browser`,
`project` or `model_dir` fixtures) or is marked `@pytest.mark.slow` (it executes notebooks
or converts models).  The site is built once per test session, both variants,
strictly, with every notebook executed (cached by its inputs).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools import build_site
from tools.user_cache import file_lock

ROOT = Path(__file__).resolve().parent.parent
SLOW_FIXTURES = {"site", "browser", "project", "model_dir"}  # model_dir: converts a model


MIN_FREE_DISK = 3 * 2**30  # the largest test writes ~1.2 GB (a model from the Hub stand-in) next to a build


def pytest_report_header(config):
    return f"free disk in {tempfile.gettempdir()}: {shutil.disk_usage(tempfile.gettempdir()).free / 2**30:.1f} GiB"


def pytest_configure(config):
    """Under `pytest -n N` (make test), each worker and everything it starts (notebook kernels, llama.cpp,
    Chromium) runs on its own share of the cores.  Left alone, two workers each running PyTorch or llama.cpp
    with one thread per core put four spinning threads on two cores: a notebook that takes 3 minutes alone
    took over 12 with another one beside it."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER"), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    cores = sorted(os.sched_getaffinity(0))
    if worker and 1 < count <= len(cores):
        os.sched_setaffinity(0, cores[int(worker.removeprefix("gw")) % count::count])


def pytest_sessionstart(session):
    """Stop at once, with the reason, rather than fail dozens of tests with ENOSPC half-way through."""
    free = shutil.disk_usage(tempfile.gettempdir()).free
    if free < MIN_FREE_DISK and not session.config.option.collectonly:
        raise pytest.UsageError(
            f"only {free / 2**30:.1f} GiB free in {tempfile.gettempdir()}; the test suite needs at least "
            f"{MIN_FREE_DISK / 2**30:.0f} GiB (models downloaded from the Hub stand-in, two site builds). "
            "Free some space (old pytest-of-*/ folders, fresh clones) and run again.")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def mkdocs_config(name: str = "mkdocs.yml"):
    """The site's configuration as MkDocs itself reads it (!ENV defaults applied)."""
    from mkdocs.config import load_config

    return load_config(str(ROOT / name))


@dataclass
class BuiltSite:
    online: Path
    offline: Path
    log: str


@pytest.fixture(scope="session")
def site(tmp_path_factory, worker_id) -> BuiltSite:
    """Built once per run: under `pytest -n 2` (make test) the first worker that needs it builds it into
    the run's shared temporary folder and the other uses that build (a lock in the folder)."""
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    folder, log_file = shared / "build", shared / "build.log"
    with file_lock(shared / "build.lock", what="the other test worker's site build"):
        if not log_file.is_file():
            logs = []
            build_site.build(folder / "site", log=logs.append)
            log_file.write_text("\n".join(logs), encoding="utf-8")
    return BuiltSite(folder / "site", folder / "site-offline", log_file.read_text(encoding="utf-8"))


