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
- the search index is rewritten as UTF-8 (about 20% smaller after gzip).
"""

from __future__ import annotations

import json
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


# After Material writes the search index (priority 0) and before its offline
# plugin inlines it into search_index.js (priority -100).
@event_priority(-50)
def on_post_build(config):
    """Material writes every Chinese character as \\uXXXX (6 bytes each)."""
    path = Path(config.site_dir) / "search" / "search_index.json"
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
