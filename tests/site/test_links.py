"""Every internal link, anchor and asset in the built HTML resolves."""

import pytest

from urllib.parse import urlsplit

from tests.conftest import mkdocs_config
from tests.site.html import html_files, ids, is_external, loaded_urls, resolve, soup

# Material's search result and permalink markup use these fragments, not ids.
IGNORED_FRAGMENTS = {"", "__search", "__drawer", "__toc"}


def broken_links(root, base_path="/"):
    problems = []
    for page in html_files(root):
        urls = [a["href"] for a in soup(page).find_all("a", href=True)] + loaded_urls(page)
        for url in urls:
            if is_external(url) or url.startswith(("mailto:", "data:", "javascript:")):
                continue
            target, fragment = resolve(page, url, root, base_path)
            rel = page.relative_to(root)
            if not target.exists():
                problems.append(f"{rel}: {url} -> missing {target}")
            elif fragment not in IGNORED_FRAGMENTS and target.suffix == ".html" and fragment not in ids(target):
                problems.append(f"{rel}: {url} -> no id '{fragment}' in {target.relative_to(root)}")
    return problems


@pytest.mark.parametrize("variant", ["online", "offline"])
def test_internal_links_and_anchors_resolve(site, variant):
    root = getattr(site, variant)
    base_path = urlsplit(mkdocs_config().site_url).path or "/"
    problems = broken_links(root, base_path)
    assert not problems, "\n".join(problems[:50])


def test_link_checker_catches_a_broken_link(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#x">b</a><a href="#here">h</a><p id="here"></p>')
    (tmp_path / "b.html").write_text('<p id="y"></p><img src="missing.png">')
    problems = broken_links(tmp_path)
    assert any("no id 'x'" in p for p in problems)
    assert any("missing.png" in p for p in problems)
    assert not any("#here" in p for p in problems)
