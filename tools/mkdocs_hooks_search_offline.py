"""MkDocs hooks: only what a generated file cannot do.

Everything the site shows is a plain file written by `python -m tools.prebuild`
(glossary table, tooltips, notebook pages, search dictionary).  What is left
here depends on MkDocs itself, and each piece is listed in tools/README.md
with what replaces it under another generator:

- the build fails when jieba is missing (Material would silently index each
  Chinese sentence as one unsearchable token);
- the offline variant turns off instant navigation (it breaks file:// pages);
- a page's `edit_url` front matter overrides the computed one (generated
  notebook pages point at their source notebook);
- the search index is rewritten as UTF-8 (about 20% smaller after gzip) and
  with formulas as Unicode text, not LaTeX source (results showed raw LaTeX); each glossary term becomes
  its own entry (generated/glossary-search.json, segmented like the rest of the
  index), so a search finds the term's row instead of the whole table;
- Material's built assets get the exact-text patches of tools/material_patches.py
  (Chinese queries keep their last character; a page load no longer restyles the
  whole page three extra times).  The build fails if one no longer applies.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from pylatexenc.latex2text import LatexNodes2Text

from tools import material_patches


@event_priority(100)  # before Material's search plugin, which would crash on a missing jieba
def on_config(config):
    try:
        import jieba  # noqa: F401  Material segments Chinese for search only if it imports
    except ImportError as exc:
        raise PluginError(
            "jieba is not installed: Chinese search would index each sentence as one "
            "unsearchable token. Install the pinned requirements (make test / make serve)."
        ) from exc
    if config.extra.get("offline"):
        config.theme["features"] = [f for f in config.theme["features"] if f != "navigation.instant"]
    return config


GLOSSARY_PAGE = "glossary.md"  # its table is excluded from the page's own entry (data-search-exclude)
glossary_url = None


def on_page_markdown(markdown, page, config, files):
    global glossary_url
    if page.file.src_uri == GLOSSARY_PAGE:
        glossary_url = page.url
    if page.meta.get("edit_url"):
        page.edit_url = page.meta["edit_url"]
    return markdown


FORMULA = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", re.S)
LATEX = LatexNodes2Text(math_mode="text")  # one converter for every formula of the index


def formula_text(tex: str) -> str:
    """A formula as a search result shows it: its LaTeX read as Unicode text, \\sqrt{d_k} as √(d_k)
    (results used to show the source, then a bare …).  The index holds HTML, with jieba's word breaks."""
    text = LATEX.latex_to_text(html.unescape(tex.replace("\u200b", "")))
    return html.escape(" ".join(text.split()), quote=False) or "…"


def on_page_content(html, page, config, files):
    try:
        html = material_patches.wrap_tables(html)
        html = material_patches.unwrap_plain_code_spans(html)
        html = material_patches.keep_punctuation_with_math(html)
        return material_patches.code_nav(html)
    except material_patches.PatchError as exc:
        raise PluginError(f"{page.file.src_uri}: {exc}") from exc


# After Material writes the search index (priority 0) and before its offline
# plugin inlines it into search_index.js (priority -100).
@event_priority(-50)
def on_post_build(config):
    """Material writes every Chinese character as \\uXXXX (6 bytes each)."""
    site_dir = Path(config.site_dir)
    try:
        material_patches.apply(site_dir)
    except material_patches.PatchError as exc:
        raise PluginError(str(exc)) from exc
    path = site_dir / "search" / "search_index.json"
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        for doc in data["docs"]:
            doc["text"] = FORMULA.sub(lambda m: formula_text(m[1] or m[2]), doc["text"])
        data["docs"].extend(glossary_search_entries(config, data["docs"]))
        path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def glossary_search_entries(config, docs):
    """The glossary's terms as search entries of the glossary page, one per row: a result names
    the term, shows its explanation and links to its row.  A row is short and its title is the
    term itself, so at the glossary page's boost it came before the pages that teach the term
    (BERT before the BERT notebook): rows get half the lowest boost of any entry."""
    if glossary_url is None:
        raise PluginError(f"the glossary page {GLOSSARY_PAGE} was not built: its terms cannot be indexed")
    source = Path(config.config_file_path).parent / "generated" / "glossary-search.json"
    if not source.is_file():
        raise PluginError(f"{source} is missing: run `python -m tools.prebuild` first (make build does)")
    if not any(d["location"] == glossary_url for d in docs):
        raise PluginError(f"the search index has no entry for {glossary_url}")
    from material.plugins.search.plugin import SearchIndex  # its jieba segmentation, same dictionary
    segment = SearchIndex()._segment_chinese
    boost = min(d.get("boost", 1) for d in docs) / 2
    return [{"location": f"{glossary_url}#{term['anchor']}",
             "title": segment(html.escape(term["title"], quote=False)),
             "text": "<p>" + segment(html.escape(term["text"], quote=False)) + "</p>",
             "boost": boost}
            for term in json.loads(source.read_text(encoding="utf-8"))["entries"]]
