"""Nothing on any built page is loaded from another host, and pages stay light."""

import re

import pytest

from tests.site.html import html_files, is_external, loaded_urls

# url(//host/…) and the plain-string form @import "//host/…"
CSS_URL = re.compile(r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)|@import\s+['\"]((?:https?:)?//[^'\"]+)")


@pytest.mark.parametrize("variant", ["online", "offline"])
def test_pages_load_nothing_from_other_hosts(site, variant):
    root = getattr(site, variant)
    foreign = [f"{page.relative_to(root)}: {url[:120]}"
               for page in html_files(root) for url in loaded_urls(page) if is_external(url)]
    assert not foreign, "\n".join(foreign[:30])


@pytest.mark.parametrize("variant", ["online", "offline"])
def test_stylesheets_import_nothing_from_other_hosts(site, variant):
    root = getattr(site, variant)
    foreign = [f"{css.relative_to(root)}: {m[0] or m[1]}" for css in root.rglob("*.css")
               for m in CSS_URL.findall(css.read_text(encoding="utf-8", errors="replace"))]
    assert not foreign, "\n".join(foreign[:30])


def test_no_google_fonts_or_cdn_in_any_page(site):
    hosts = ("fonts.googleapis.com", "fonts.gstatic.com", "unpkg.com", "cdn.jsdelivr.net",
             "cdnjs.cloudflare.com", "api.github.com")
    for root in (site.online, site.offline):
        for page in html_files(root):
            text = page.read_text(encoding="utf-8")
            assert not any(h in text for h in hosts), f"{page.relative_to(root)} names a CDN"


def test_heavy_libraries_are_never_loaded_up_front(site):
    """KaTeX's script and mermaid are loaded by script when a formula or diagram nears the
    screen (tests/site/test_real_address.py measures what each page really fetches).  KaTeX's
    stylesheet (4 KB gzip) is in every <head>: tests/site/test_page_load.py says why."""
    for page in html_files(site.online):
        urls = loaded_urls(page)
        assert not [u for u in urls if "mermaid.min.js" in u or "katex.min.js" in u], page
