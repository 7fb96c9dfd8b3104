"""The built site in Debian's headless Chromium at its real address (https, no port).

Used by the browser tests (tests/site/) and by `make screenshots`: Playwright drives the
system Chromium (never a downloaded browser), and request interception answers every
request for the site's address from the built files, as GitHub Pages would.
"""

from __future__ import annotations

import mimetypes
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The chromium flags this workplace needs: no sandbox as root, no background
# connections to Google's hosts on a closed network.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# A phone as Chromium emulates one: a 390 px mobile viewport with touch.  A 390 px desktop window is
# not the same: Material and Chromium scroll, lock and place pages differently on a mobile viewport
# (a search result landed 1,900 px off its section only there).
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


def site_url() -> str:
    """The site's configured address, e.g. https://llm-roadmap-zh.github.io/llm-roadmap/."""
    from mkdocs.config import load_config

    return load_config(str(ROOT / "mkdocs.yml")).site_url


SITE_URL = site_url()


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


def real_address_context(browser, root: Path, **options):
    """A browser context in which SITE_URL is served from `root` (see RealAddress);
    `context.address` records what it refused."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
    context.address = RealAddress(root)
    context.route("**/*", context.address)
    return context

