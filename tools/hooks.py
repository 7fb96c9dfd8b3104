"""MkDocs hooks: the site-specific glue between MkDocs Material and the project.

- the build fails when jieba is missing (Chinese search would silently break);
- the offline variant turns off instant navigation (it breaks file:// pages);
- executed notebooks from tools/notebook_runner.py become pages, their clean
  sources become downloads, and each page gets its Colab badge and run info;
- includes/glossary/*.yml feed the tooltips on every page and the glossary page.
"""

from __future__ import annotations

import html
import json
import logging
import os
import posixpath
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import yaml
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.structure.toc import get_toc
from pymdownx import slugs as pymdownx_slugs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools import notebook_runner  # noqa: E402

log = logging.getLogger("mkdocs.hooks")
STAGING = ROOT / ".cache" / "site-notebooks"
GLOSSARY_DIR = ROOT / "includes" / "glossary"  # one YAML file per area, merged
GLOSSARY_MARKER = "<!-- glossary-table -->"
# nbconvert's notebook template loads MathJax and mermaid from CDNs (or from an
# empty URL); the site serves its own KaTeX and mermaid (overrides/main.html).
NOTEBOOK_FOREIGN_SCRIPT = re.compile(
    r'<script[^>]*\bsrc="(?:(?:https?:)?//[^"]*)?"[^>]*>\s*</script>'   # remote or empty src
    r"|<script[^>]*>(?:(?!</script>).)*?(?:mathjax|mermaid|cdnjs|unpkg|jsdelivr)"
    r"(?:(?!</script>).)*</script>",                                    # inline loaders
    re.S | re.I,
)
# Links in notebook markdown cells are written like links in docs/ pages:
# relative paths to .md or .ipynb sources, resolved here to page URLs.
NOTEBOOK_HEADING = re.compile(
    r'<h([1-6]) id="[^"]*">(.*?)<a class="anchor-link" href="#[^"]*">¶</a></h\1>', re.S)
NOTEBOOK_NOT_PROSE = re.compile(
    r'<(pre)(?=[\s>])()|<(?:(div|span|table)(\s+class="(?:jp-InputPrompt|jp-OutputPrompt|notice|dataframe|clipboard-copy-txt)\b))')
NOTEBOOK_SOURCE_LINK = re.compile(r'href="(?![a-z]+:|#|/)([^"#]+\.(?:md|ipynb))(#[^"]*)?"')


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
        features = config.theme["features"]
        config.theme["features"] = [f for f in features if f != "navigation.instant"]
    return config


# Run before mkdocs-jupyter's on_files so that it wraps our generated files.
@event_priority(100)
def on_files(files, config):
    # For writers working on prose only: NOTEBOOKS=cached shows the notebooks that
    # are already executed and runs none (never used by the tests or CI).
    cached_only = os.environ.get("NOTEBOOKS") == "cached"
    try:
        results = notebook_runner.execute_all(log=_log, cached_only=cached_only)
    except notebook_runner.NotebookError as exc:
        raise PluginError(str(exc)) from exc
    # mkdocs-jupyter's wrapper needs a real File with a src_dir, so the executed
    # copies are staged under their page path.
    shutil.rmtree(STAGING, ignore_errors=True)
    (STAGING / "notebooks").mkdir(parents=True)
    for result in results:
        stem = result.source.stem
        shutil.copyfile(result.executed, STAGING / "notebooks" / f"{stem}.ipynb")
        files.append(File(f"notebooks/{stem}.ipynb", str(STAGING), config.site_dir,
                          config.use_directory_urls))
        files.append(File.generated(config, f"downloads/{stem}.ipynb",
                                    abs_src_path=str(result.source)))
    return files


def _log(message):
    log.info(message)


def colab_url(config, stem: str) -> str:
    repo = urlparse(config.repo_url).path.strip("/")
    branch = config.extra.get("notebook_branch", "main")
    return f"https://colab.research.google.com/github/{repo}/blob/{branch}/notebooks/{stem}.ipynb"


def load_glossary() -> list[dict]:
    entries = []
    for path in sorted(GLOSSARY_DIR.glob("*.yml")):
        entries += yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return entries


def _abbreviations() -> str:
    lines = []
    for entry in load_glossary():
        for term in [entry["term"], *entry.get("aliases", [])]:
            if term.isascii():  # abbr matches on word boundaries: Latin terms only
                lines.append(f"*[{term}]: {entry['zh']}（{entry['en']}）：{entry['definition']}")
    return "\n".join(lines)


def _glossary_table(page) -> str:
    rows = ["| 术语 | 英文 | 一句话解释 | 详见 |", "| --- | --- | --- | --- |"]
    for entry in sorted(load_glossary(), key=lambda e: e["term"].lower()):
        target, _, anchor = entry["link"].partition("#")
        rel = Path(target).as_posix()
        href = f"{rel}#{anchor}" if anchor else rel
        name = entry["term"] if entry["term"] == entry["zh"] else f"{entry['zh']}（{entry['term']}）"
        cells = [name, entry["en"], entry["definition"], entry.get("where", "正文")]
        name, en, definition, where = (c.replace("|", "\\|") for c in cells)  # e.g. P(y|x)
        rows.append(f"| {name} | {en} | {definition} | [{where}]({href}) |")
    return "\n".join(rows)


def _is_notebook(page) -> bool:
    return page.file.src_uri.startswith("notebooks/") and page.file.src_uri.endswith(".ipynb")


def on_page_markdown(markdown, page, config, files):
    if _is_notebook(page):
        stem = Path(page.file.src_uri).stem
        info = nbformat.read(page.file.abs_src_path, as_version=4).metadata["run_info"]
        page.meta["notebook"] = {
            "colab_url": colab_url(config, stem),
            "download": f"downloads/{stem}.ipynb",
            "run_info": notebook_runner.describe_run(info),
        }
        page.edit_url = f"{config.repo_url.rstrip('/')}/blob/{config.extra.get('notebook_branch', 'main')}/notebooks/{stem}.ipynb"
        # Prose pages should outrank notebook pages for concept queries.
        page.meta["search"] = {"boost": 0.1}
        return markdown
    if GLOSSARY_MARKER in markdown:
        markdown = markdown.replace(GLOSSARY_MARKER, _glossary_table(page))
    return markdown + "\n\n" + _abbreviations() + "\n"


def _readable_headings(html_content, page):
    """nbconvert drops Chinese from heading ids (小结 gets id=""): give notebook
    headings the same readable ids as Markdown pages, and rebuild the TOC."""
    slugify = pymdownx_slugs.slugify(case="lower")
    seen, tokens, stack = set(), [], []

    def rewrite(match):
        level, inner = int(match[1]), match[2]
        text = html.unescape(re.sub(r"<[^>]+>", "", inner)).strip()
        slug = base = slugify(text, "-") or "section"
        counter = 1
        while slug in seen:
            slug, counter = f"{base}_{counter}", counter + 1
        seen.add(slug)
        token = {"level": level, "id": slug, "name": html.escape(text), "children": []}
        while stack and stack[-1]["level"] >= level:
            stack.pop()
        (stack[-1]["children"] if stack else tokens).append(token)
        stack.append(token)
        return f'<h{level} id="{slug}">{inner}<a class="anchor-link" href="#{slug}">¶</a></h{level}>'

    html_content = NOTEBOOK_HEADING.sub(rewrite, html_content)
    page.toc = get_toc(tokens)
    return html_content


def on_page_content(html_content, page, config, files):
    if not _is_notebook(page):
        return html_content
    html_content = NOTEBOOK_FOREIGN_SCRIPT.sub("", html_content)

    def resolve(match):
        path = posixpath.normpath(posixpath.join(posixpath.dirname(page.file.src_uri), match[1]))
        target = files.get_file_from_path(path)
        if target is None:
            log.warning("Doc file '%s' contains a link to '%s' which is not found.",
                        page.file.src_uri, match[1])
            return match[0]
        return f'href="{target.url_relative_to(page.file)}{match[2] or ""}"'

    html_content = NOTEBOOK_SOURCE_LINK.sub(resolve, html_content)
    html_content = _readable_headings(html_content, page)
    # Code, outputs and prompts stay on the page but out of the search index.
    # (Material's search parser compares elements by tag name only, so the
    # marker must sit on elements that do not nest: pre, prompts, copy texts.)
    return NOTEBOOK_NOT_PROSE.sub(
        lambda m: f"<{m[1] or m[3]} data-search-exclude{m[2] or m[4] or ''}", html_content)


# After Material writes the search index (priority 0) and before its offline
# plugin inlines it into search_index.js (priority -100).
@event_priority(-50)
def on_post_build(config):
    """Material writes the index with every Chinese character escaped as \\uXXXX
    (6 bytes each); written as UTF-8 it is about 20% smaller after gzip, which
    every page pays for since the index loads with the page."""
    path = Path(config.site_dir) / "search" / "search_index.json"
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
