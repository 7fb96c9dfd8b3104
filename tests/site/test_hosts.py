"""Nothing on any built page is loaded from another host, and pages stay light."""

import re

import pytest

from tests.site.html import html_files, is_external, loaded_urls

CSS_URL = re.compile(r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)")


@pytest.mark.parametrize("variant", ["online", "offline"])
def test_pages_load_nothing_from_other_hosts(site, variant):
    root = getattr(site, variant)
    foreign = [f"{page.relative_to(root)}: {url[:120]}"
               for page in html_files(root) for url in loaded_urls(page) if is_external(url)]
    assert not foreign, "\n".join(foreign[:30])


@pytest.mark.parametrize("variant", ["online", "offline"])
def test_stylesheets_import_nothing_from_other_hosts(site, variant):
    root = getattr(site, variant)
    foreign = [f"{css.relative_to(root)}: {m}" for css in root.rglob("*.css")
               for m in CSS_URL.findall(css.read_text(encoding="utf-8", errors="replace"))]
    assert not foreign, "\n".join(foreign[:30])


def test_no_google_fonts_or_cdn_in_any_page(site):
    hosts = ("fonts.googleapis.com", "fonts.gstatic.com", "unpkg.com", "cdn.jsdelivr.net",
             "cdnjs.cloudflare.com", "api.github.com")
    for root in (site.online, site.offline):
        for page in html_files(root):
            text = page.read_text(encoding="utf-8")
            assert not any(h in text for h in hosts), f"{page.relative_to(root)} names a CDN"


def test_heavy_libraries_only_on_pages_that_use_them(site):
    for page in html_files(site.online):
        text = page.read_text(encoding="utf-8")
        urls = loaded_urls(page)
        loads_mermaid = any("mermaid.min.js" in u for u in urls)
        assert loads_mermaid == ('class="mermaid"' in text), page
        loads_katex = any("katex.min.js" in u for u in urls)
        if loads_katex:
            assert "arithmatex" in text or "jupyter-wrapper" in text, page
