"""Reading the built site: its pages, their links and their ids."""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup


def html_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.html"))


@functools.lru_cache(maxsize=None)
def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@functools.lru_cache(maxsize=None)
def ids(path: Path) -> frozenset[str]:
    return frozenset(el["id"] for el in soup(path).find_all(id=True))


def is_external(url: str) -> bool:
    """True for a URL on another host (data: and blob: URLs load nothing)."""
    parts = urlsplit(url)
    return parts.scheme not in ("", "data", "blob") or bool(parts.netloc)


def resolve(page: Path, url: str, root: Path | None = None, base_path: str = "/") -> tuple[Path, str]:
    """The file a URL on `page` points to, and its fragment.  Root-absolute
    URLs (the 404 page uses them) are taken relative to the site's base path."""
    parts = urlsplit(url)
    if not parts.path:
        return page, unquote(parts.fragment)
    path = unquote(parts.path)
    if path.startswith("/") and root is not None:
        if not path.startswith(base_path):
            return root / "outside-the-site" / path.lstrip("/"), ""
        target = (root / path[len(base_path):]).resolve()
    else:
        target = (page.parent / path).resolve()
    if parts.path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


# Elements that make the browser load something, and the attribute holding the URL.
LOADING = [("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"),
           ("video", "src"), ("audio", "src"), ("embed", "src"), ("object", "data")]


def loaded_urls(path: Path) -> list[str]:
    page = soup(path)
    urls = [el[attr] for tag, attr in LOADING for el in page.find_all(tag) if el.get(attr)]
    for link in page.find_all("link", href=True):
        rel = set(link.get("rel", []))
        if rel & {"stylesheet", "icon", "preload", "modulepreload", "manifest", "prefetch"}:
            urls.append(link["href"])
    return urls
