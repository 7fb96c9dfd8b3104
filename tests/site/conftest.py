"""Browser fixtures: Debian's headless Chromium driven by Playwright (no browser download),
and the hosted site served at its real address (https, no port) by request interception."""

from __future__ import annotations

import mimetypes
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import mkdocs_config

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The chromium flags this workplace needs: no sandbox as root, no background
# connections to Google's hosts on a closed network.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


SITE_URL = mkdocs_config().site_url  # e.g. https://llm-roadmap-zh.github.io/llm-roadmap/


class RealAddress:
    """Answers every request for SITE_URL from the built files, as GitHub Pages does
    (directories serve index.html, a missing file the 404 page); any other host is refused
    and recorded.  Material only turns on instant navigation on such an address."""

    def __init__(self, root: Path, site_url: str = SITE_URL):
        self.root, self.site_url = root, site_url
        parts = urlsplit(site_url)
        self.host, self.base = parts.netloc, parts.path
        self.foreign: list[str] = []

    def __call__(self, route):
        url = urlsplit(route.request.url)
        if url.scheme in ("data", "blob"):
            return route.continue_()
        if url.netloc != self.host or not url.path.startswith(self.base):
            self.foreign.append(route.request.url)
            return route.abort()
        path = self.root / unquote(url.path[len(self.base):])
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            return route.fulfill(status=404, path=str(self.root / "404.html"), content_type="text/html")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return route.fulfill(status=200, path=str(path), content_type=kind)


@pytest.fixture(scope="session")
def browser():
    assert shutil.which(CHROMIUM), "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.requests = []
    page.errors = []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


@pytest.fixture()
def hosted(browser, site):
    """A page whose requests to SITE_URL are answered from the built hosted variant."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    address = RealAddress(site.online)
    context.route("**/*", address)
    page = context.new_page()
    page.address = address
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()
