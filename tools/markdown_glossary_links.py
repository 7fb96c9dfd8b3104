"""A Python-Markdown extension: every glossary term with a tooltip links to its row.

pymdownx.snippets appends the glossary's abbreviation list to every page (see
tools/glossary.py), and the abbr extension turns each use of a term into
<abbr title="definition">.  A title alone works with a mouse only; this extension
wraps each such <abbr> in <a class="glossary-link" href="/glossary.md#term-..."
title="definition">, so a tap (phones have no hover) opens the definition and the
link takes keyboard focus, where Material's content.tooltips shows the tooltip.
The absolute link is resolved by MkDocs (validation.links.absolute_links:
relative_to_docs) and checked like every other link.

Only the first use of a term in each section (a part of the page under one h2) gets
the link and tooltip; later uses in the same section are plain text, as a textbook
defines a term once per chapter.  Every tooltip costs Material a component with its
own event and layout watchers at page load: a stage page used to mount about 300,
which alone kept a phone's main thread busy for half a second.  Terms in headings
and links keep a plain <abbr> tooltip; in the glossary table, where every
definition is on the page already, terms are plain text.
"""

from __future__ import annotations

from xml.etree import ElementTree as etree

from markdown import Extension
from markdown.treeprocessors import Treeprocessor

from tools.glossary import row_id

SKIP = {"a", "h1", "h2", "h3", "h4", "h5", "h6"}


class GlossaryLinkTreeprocessor(Treeprocessor):
    def run(self, root: etree.Element) -> None:
        parents = {child: parent for parent in root.iter() for child in parent}

        def ancestors(element):
            while element in parents:
                element = parents[element]
                yield element

        seen: set[str] = set()
        for element in list(root.iter()):  # document order
            if element.tag == "h2":
                seen = set()  # a new section: each term gets its tooltip once more
            if element.tag != "abbr" or not element.get("title") or not element.text:
                continue
            abbr, parent = element, parents[element]
            above = list(ancestors(abbr))
            if any("glossary-table" in (a.get("class") or "").split() for a in above):
                unwrap(parent, abbr)
            elif any(a.tag in SKIP for a in above):
                continue  # a heading or a link: keep the plain <abbr> tooltip
            elif abbr.text in seen:
                unwrap(parent, abbr)
            else:
                seen.add(abbr.text)
                link = etree.Element("a", {"href": f"/glossary.md#{row_id(abbr.text)}", "class": "glossary-link",
                                           "title": abbr.attrib.pop("title")})
                link.tail, abbr.tail = abbr.tail, None
                parent.insert(list(parent).index(abbr), link)
                parent.remove(abbr)
                link.append(abbr)


def unwrap(parent: etree.Element, element: etree.Element) -> None:
    """Replace a childless element by its text, keeping the text around it."""
    text = (element.text or "") + (element.tail or "")
    index = list(parent).index(element)
    if index:
        previous = parent[index - 1]
        previous.tail = (previous.tail or "") + text
    else:
        parent.text = (parent.text or "") + text
    parent.remove(element)


class GlossaryLinkExtension(Extension):
    def extendMarkdown(self, md):
        # after the abbr extension's treeprocessor (7), before MkDocs rewrites links (0)
        md.treeprocessors.register(GlossaryLinkTreeprocessor(md), "glossary_links", 6)


def makeExtension(**kwargs):
    return GlossaryLinkExtension(**kwargs)
