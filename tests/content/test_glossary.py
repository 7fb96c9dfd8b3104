"""The glossary: not empty, each term used somewhere, and linked to where it is explained (load() checks the rest)."""

from pathlib import Path

import pytest

from tests.content.pages import DOCS, source_pages
from tests.site.html import ids
from tools.glossary import load as load_glossary

ENTRIES = load_glossary()
ALL_TEXT = "\n".join(p.read_text(encoding="utf-8") for p in source_pages() if p.name != "glossary.md")
ALL_TEXT += "\n".join(p.read_text(encoding="utf-8") for p in (DOCS.parent / "notebooks").glob("*.ipynb"))


def test_there_are_entries():
    """load() checks fields and uniqueness (tests/tools/test_glossary.py); here: the glossary files are not
    all empty, which load() accepts and which would leave every test below with nothing to check."""
    assert ENTRIES


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["term"])
def test_term_is_used_on_a_page(entry):
    names = [entry["term"], entry["zh"], *entry.get("aliases", [])]
    assert any(name in ALL_TEXT for name in names), entry["term"]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["term"])
def test_link_targets_an_existing_page(entry):
    target = entry["link"].partition("#")[0]
    if target.startswith("notebooks/") and target != "notebooks/index.md":  # a page generated from a notebook
        source = DOCS.parent / "notebooks" / target.split("/", 1)[1].replace(".md", ".ipynb")
    else:
        source = DOCS / target
    assert target.endswith(".md") and source.is_file(), f"{entry['source']}: {entry['term']}: {entry['link']}"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["term"])
def test_link_targets_an_existing_heading(entry, site):
    """The entry's anchor is an id on the built target page (docs/a/b.md is a/b/index.html)."""
    target, _, anchor = entry["link"].partition("#")
    page = Path(target).with_suffix("")
    built = site.online / (page.parent if page.name == "index" else page) / "index.html"
    where = f"{entry['source']}: {entry['term']}: {entry['link']}"
    assert built.is_file(), where
    assert not anchor or anchor in ids(built), f"{where}: no such id on {built.relative_to(site.online)}"
