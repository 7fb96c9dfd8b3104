"""Both variants build strictly, and the build output is what a reader needs."""

import re

from tests.site.html import html_files


def test_strict_builds_log_no_warnings(site):
    # build_site runs `mkdocs build --strict`, which already fails on warnings;
    # this also catches warnings from tools that strict mode does not count.
    assert not re.search(r"^WARNING", site.log, re.M), site.log


def test_notebooks_were_rendered_in_both_variants(site):
    for root in (site.online, site.offline):
        pages = [p for p in html_files(root) if p.parent.name.startswith("0") or p.stem.startswith("0")]
        assert any("notebooks" in p.parts for p in pages), root


def test_offline_variant_uses_file_urls_and_no_instant_navigation(site):
    index = (site.offline / "index.html").read_text(encoding="utf-8")
    assert "navigation.instant" not in index
    assert (site.offline / "search" / "search_index.js").is_file()   # search without a server
    assert 'href="glossary.html"' in index or "glossary.html" in index


def test_hosted_variant_has_instant_navigation_and_offline_zip(site):
    import zipfile

    index = (site.online / "index.html").read_text(encoding="utf-8")
    assert "navigation.instant" in index
    assert "离线版下载" in index
    with zipfile.ZipFile(site.online / "downloads" / "llm-roadmap-offline.zip") as zf:
        names = zf.namelist()
    assert "llm-roadmap-offline/index.html" in names
    assert "llm-roadmap-offline/search/search_index.js" in names


def test_glossary_terms_have_tooltips_on_every_page_that_uses_them(site):
    from tests.site.html import soup

    for page, terms in [("stages/03-applications/index.html", ["LoRA", "RAG"]),
                        ("stages/04-advanced/index.html", ["RLHF", "ZeRO"]),
                        ("faq/index.html", ["GPU"])]:
        abbrs = {a.get_text(): a.get("title", "") for a in soup(site.online / page).find_all("abbr")}
        for term in terms:
            assert abbrs.get(term), f"{page}: no tooltip for {term}"


def test_chinese_headings_get_readable_anchors(site):
    from tests.site.html import ids

    page = site.online / "stages" / "02-foundations" / "index.html"
    assert {"学习目标", "核心知识", "阶段评估"} <= ids(page)
    assert not any(re.fullmatch(r"_\d+", i) for i in ids(page))
