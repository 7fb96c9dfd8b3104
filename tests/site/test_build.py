"""Both variants build strictly, and the build output is what a reader needs."""

import re
import subprocess
import sys

from tests.conftest import ROOT
from tests.site.html import html_files, soup
from tools import glossary

HOOKS = ROOT / "tools" / "mkdocs_hooks_search_offline.py"


# A warning or error anywhere on a line: tools print their own prefixes before it (「[IPKernelApp] WARNING | …」).
PROBLEM = re.compile(r"\bWARNING\b|Traceback|\bERROR\b")


def test_strict_builds_log_no_warnings(site):
    # build_site runs `mkdocs build --strict`, which already fails on MkDocs warnings;
    # this also catches warnings from plugins and tools that strict mode does not count.
    problems = [line for line in site.log.splitlines() if PROBLEM.search(line)]
    assert not problems, "\n".join(problems)


def test_the_warning_check_sees_a_warning_after_a_prefix():
    assert PROBLEM.search("[IPKernelApp] WARNING | Kernel is running over TCP without encryption.")
    assert not PROBLEM.search("INFO    -  Documentation built in 10.41 seconds")


def test_hooks_hold_no_content_code():
    """The hooks import nothing of the project's content tooling (glossary, notebooks, YAML)."""
    import ast

    tree = ast.parse(HOOKS.read_text(encoding="utf-8"))
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    from_tools = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module == "tools"
                  for alias in node.names}
    # material: its search plugin's Chinese segmentation, for the glossary's entries (generated JSON)
    # pylatexenc: formulas as text in search results
    assert modules <= {"__future__", "html", "json", "re", "pathlib", "mkdocs", "material", "jieba", "pylatexenc",
                       "tools"}, modules
    assert from_tools <= {"material_patches"}, from_tools  # patches to Material's assets, no content


def test_site_renders_from_generated_files_without_any_hook(site, tmp_path):
    """The site generator only renders: built with the hooks removed, the glossary table,
    the tooltips and the notebook pages with their run info are all there."""
    config = tmp_path / "mkdocs-no-hooks.yml"
    config.write_text(f"INHERIT: {ROOT / 'mkdocs.yml'}\ndocs_dir: {ROOT / 'docs'}\n"
                      f"theme:\n  custom_dir: {ROOT / 'overrides'}\nhooks: []\n", encoding="utf-8")
    out = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    entries = glossary.load()
    rows = soup(out / "glossary" / "index.html").select("article table tbody tr")
    assert len(rows) == len(entries)
    tooltips = [a for a in soup(out / "stages" / "03-applications" / "index.html").find_all("abbr")
                if a.get("title") or a.parent.get("title")]
    assert len(tooltips) > 100, len(tooltips)
    page = soup(out / "notebooks" / "01-neural-network-from-scratch" / "index.html")
    assert "上实测" in page.select_one(".nb-run-info").get_text()
    assert page.select(".nb-figure img")


def test_notebooks_were_rendered_in_both_variants(site):
    from tools import notebook_meta

    stems = [notebook.stem for notebook in notebook_meta.sources()]
    assert len(stems) >= 12
    for stem in stems:
        assert (site.online / "notebooks" / stem / "index.html").is_file(), stem
        assert (site.offline / "notebooks" / f"{stem}.html").is_file(), stem


def test_offline_variant_uses_file_urls_and_no_instant_navigation(site):
    index = (site.offline / "index.html").read_text(encoding="utf-8")
    assert "navigation.instant" not in index
    assert (site.offline / "search" / "search_index.js").is_file()   # search without a server
    assert 'href="glossary.html"' in index


def test_hosted_variant_has_instant_navigation_and_offline_zip(site):
    import zipfile

    index = (site.online / "index.html").read_text(encoding="utf-8")
    assert "navigation.instant" in index
    assert "离线版下载" in index
    with zipfile.ZipFile(site.online / "downloads" / "llm-roadmap-offline.zip") as zf:
        names = zf.namelist()
    assert "llm-roadmap-offline/index.html" in names
    assert "llm-roadmap-offline/search/search_index.js" in names


def test_glossary_terms_have_tooltips_on_sample_pages(site):
    """A few terms on three kinds of page (tools/markdown_glossary_links.py decides where tooltips go)."""

    for page, terms in [("stages/03-applications/index.html", ["LoRA", "RAG"]),
                        ("stages/04-advanced/index.html", ["RLHF", "ZeRO"]),
                        ("faq/index.html", ["GPU"])]:
        # the definition sits on the abbr, or on the link to the glossary row that wraps it
        abbrs = {a.get_text(): a.get("title") or a.parent.get("title", "") for a in soup(site.online / page).find_all("abbr")}
        for term in terms:
            assert abbrs.get(term), f"{page}: no tooltip for {term}"


def test_chinese_headings_get_readable_anchors(site):
    from tests.site.html import ids

    page = site.online / "stages" / "02-foundations" / "index.html"
    assert {"学习目标", "核心知识", "阶段评估"} <= ids(page)
    assert not any(re.fullmatch(r"_\d+", i) for i in ids(page))


def test_no_english_interface_text_from_markdown_extensions(site):
    """Python-Markdown's toc writes 「Permanent link」 as the ¶'s tooltip unless told otherwise."""
    pages = [p for root in (site.online, site.offline) for p in html_files(root)]
    assert not [p for p in pages if 'title="Permanent link"' in p.read_text(encoding="utf-8")]
    assert any('title="本节的链接"' in p.read_text(encoding="utf-8") for p in pages)
