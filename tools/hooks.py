"""MkDocs hooks: the site-specific glue between MkDocs Material and the project.

- the build fails when jieba is missing (Chinese search would silently break);
- the offline variant turns off instant navigation (it breaks file:// pages);
- executed notebooks from tools/notebook_runner.py become pages, their clean
  sources become downloads, and each page gets its Colab badge and run info;
- includes/glossary/*.yml feed the tooltips on every page and the glossary page.
"""

from __future__ import annotations

import importlib.util
import os
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools import notebook_runner  # noqa: E402

STAGING = ROOT / ".cache" / "site-notebooks"
GLOSSARY_DIR = ROOT / "includes" / "glossary"  # one YAML file per area, merged
GLOSSARY_MARKER = "<!-- glossary-table -->"
# Scripts that nbconvert's template would load from CDNs; the site serves its
# own KaTeX and mermaid (see overrides/main.html).
CDN_SCRIPT = re.compile(
    r"<script[^>]*>(?:(?!</script>).)*?(?:mathjax|mermaid|require\.js|cdnjs|unpkg|jsdelivr)"
    r"(?:(?!</script>).)*</script>|<script[^>]+src=\"https?://[^\"]+\"[^>]*></script>",
    re.S | re.I,
)


def on_config(config):
    if importlib.util.find_spec("jieba") is None:
        raise PluginError(
            "jieba is not installed: Chinese search would index each sentence as one "
            "unsearchable token. Install the pinned requirements (make test / make serve)."
        )
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
    import logging
    logging.getLogger("mkdocs.hooks").info(message)


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
        rows.append(f"| {name} | {entry['en']} | {entry['definition']} | [{entry.get('where', '正文')}]({href}) |")
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
        # Prose pages should outrank notebook pages for concept queries.
        page.meta["search"] = {"boost": 0.5}
        return markdown
    if GLOSSARY_MARKER in markdown:
        markdown = markdown.replace(GLOSSARY_MARKER, _glossary_table(page))
    return markdown + "\n\n" + _abbreviations() + "\n"


def on_page_content(html_content, page, config, files):
    if not _is_notebook(page):
        return html_content
    html_content = CDN_SCRIPT.sub("", html_content)
    # Code and outputs stay on the page but out of the search index.
    return html_content.replace('<div class="jp-Cell jp-CodeCell',
                                '<div data-search-exclude class="jp-Cell jp-CodeCell')

