"""Fixtures of the site tests: Debian's headless Chromium driven by Playwright (no browser
download), the hosted site at its real address (tools/real_address.py; SITE_URL and
RealAddress are re-exported for the tests), and `project`, a copy of the project to break."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import ROOT
from tools.real_address import ARGS, CHROMIUM, PHONE, SITE_URL, RealAddress, real_address_context  # noqa: F401

# The widest the page gets from the moment this runs, frame by frame (instant navigation keeps the window
# and its loop): anything wider than a phone makes a mobile browser widen its layout viewport, and a
# scroll to a #section then misses it (tests/site/test_real_address.py).
WATCH_WIDEST = """() => {
  window.__widest = innerWidth;
  (function frame() {
    window.__widest = Math.max(window.__widest, innerWidth, document.documentElement.scrollWidth);
    requestAnimationFrame(frame);
  })();
}"""


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


def hosted_page(browser, root):
    """A page in a new context whose requests to SITE_URL are answered from `root`; it records what the
    address refused (`page.address.foreign`), page errors and failed requests (close `page.context`)."""
    context = real_address_context(browser, root)
    page = context.new_page()
    page.address = context.address
    page.errors, page.failed = [], []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    # kept for the failure message: a formula left as source may follow a failed download
    page.on("requestfailed", lambda r: page.failed.append(f"{r.url} ({r.failure})"))
    return page


@pytest.fixture()
def hosted(browser, site):
    """A page whose requests to SITE_URL are answered from the built hosted variant."""
    page = hosted_page(browser, site.online)
    yield page
    page.context.close()


COPIED = ["docs", "notebooks", "includes", "overrides", "tools", "mkdocs.yml", "mkdocs-offline.yml",
          "requirements.txt", "requirements-lock.txt"]


@pytest.fixture()
def project(site, tmp_path):  # `site` first, so the notebook cache is warm
    copy = tmp_path / "project"
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, copy / name)
    return copy
