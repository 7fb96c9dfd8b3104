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
  without formula sources (results showed raw LaTeX);
- Material's search worker is patched so that Chinese queries keep their last
  character (its segmenter never tries a word ending at the end of the query:
  学习率 searched 学习).  The build fails if the worker no longer matches.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority


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


def on_page_markdown(markdown, page, config, files):
    if page.meta.get("edit_url"):
        page.edit_url = page.meta["edit_url"]
    return markdown


FORMULA = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", re.S)
# Material 9.8's query segmenter (src/.../query/segment): the piece may end at the last
# character (<=), and a piece may start there.  Exact minified text, checked below.
WORKER_FIXES = [("for(let o=s+1;o<t.length;o++)", "for(let o=s+1;o<=t.length;o++)"),
                ("n[a]&&a<t.length-1&&", "n[a]&&a<t.length&&")]


def _fix_search_worker(site_dir: Path) -> None:
    workers = list((site_dir / "assets" / "javascripts" / "workers").glob("search.*.min.js"))
    if len(workers) != 1:
        raise PluginError(f"expected one Material search worker, found {len(workers)}")
    text = workers[0].read_text(encoding="utf-8")
    for old, new in WORKER_FIXES:
        if text.count(old) != 1:
            raise PluginError(
                f"Material's search worker {workers[0].name} changed: the Chinese query fix "
                f"({old!r}) no longer applies. Check whether the new version still drops the last "
                "character of a query (tests/site/test_search.py) and update tools/mkdocs_hooks_search_offline.py.")
        text = text.replace(old, new)
    workers[0].write_text(text, encoding="utf-8")


# After Material writes the search index (priority 0) and before its offline
# plugin inlines it into search_index.js (priority -100).
@event_priority(-50)
def on_post_build(config):
    """Material writes every Chinese character as \\uXXXX (6 bytes each)."""
    site_dir = Path(config.site_dir)
    _fix_search_worker(site_dir)
    path = site_dir / "search" / "search_index.json"
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        for doc in data["docs"]:
            doc["text"] = FORMULA.sub("…", doc["text"])  # a formula reads as … in a result
        path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
