"""The glossary: well-formed, unique, used somewhere, and linked to where each term is explained."""

import re

import pytest

from tests.content.pages import DOCS, source_pages
from tools.glossary import load as load_glossary

ENTRIES = load_glossary()
FIELDS = {"term", "zh", "en", "definition", "link"}
ALL_TEXT = "\n".join(p.read_text(encoding="utf-8") for p in source_pages() if p.name != "glossary.md")
ALL_TEXT += "\n".join(p.read_text(encoding="utf-8") for p in (DOCS.parent / "notebooks").glob("*.ipynb"))


def test_entries_are_well_formed_and_unique():
    assert ENTRIES
    for entry in ENTRIES:
        assert FIELDS <= set(entry), entry
        assert all(str(entry[f]).strip() for f in FIELDS), entry
    terms = [e["term"].lower() for e in ENTRIES]
    duplicates = {t for t in terms if terms.count(t) > 1}
    assert not duplicates, duplicates


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
    anchor = entry["link"].partition("#")[2]
    # The glossary page is built with these links; the site's link test checks
    # the anchors in the built HTML, so here it is enough that the page has it.
    page = site.online / "glossary" / "index.html"
    href = re.escape(anchor)
    assert not anchor or re.search(f'href="[^"]*#{href}"', page.read_text(encoding="utf-8")), entry["link"]
