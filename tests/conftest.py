"""Shared fixtures and the two test tiers.

`make test` runs everything.  `make test-fast` runs `pytest -m "not slow"`:
content, sources, glossary and tool units, with no site build and no notebook
execution.  A test is slow when it uses the built site (the `site`, `server`
or `browser` fixtures) or is marked `@pytest.mark.slow` (it executes notebooks
or converts models).  The site is built once per test session, both variants,
strictly, with every notebook executed (cached by its inputs).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools import build_site

ROOT = Path(__file__).resolve().parent.parent
SLOW_FIXTURES = {"site", "server", "browser", "project", "model_dir"}  # model_dir: converts a model


MIN_FREE_DISK = 3 * 2**30  # the largest test writes ~1.2 GB (a model from the Hub stand-in) next to a build


def pytest_report_header(config):
    return f"free disk in {tempfile.gettempdir()}: {shutil.disk_usage(tempfile.gettempdir()).free / 2**30:.1f} GiB"


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
def site(tmp_path_factory) -> BuiltSite:
    logs = []
    online, offline = build_site.build(tmp_path_factory.mktemp("build") / "site", log=logs.append)
    return BuiltSite(online, offline, "\n".join(logs))


@pytest.fixture(scope="session")
def server(site):
    """The hosted variant served over HTTP on 127.0.0.1 (a free port)."""
    handler = functools.partial(_QuietHandler, directory=str(site.online))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
