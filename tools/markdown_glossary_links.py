"""A Python-Markdown extension: every glossary term with a tooltip links to its row.

pymdownx.snippets appends the glossary's abbreviation list to every page (see
tools/glossary.py), and the abbr extension turns each use of a term into
<abbr title="definition">.  A title alone works with a mouse only; this extension
wraps each such <abbr> in <a class="glossary-link" href="/glossary.md#term-..."
title="definition">, so a tap (phones have no hover) opens the definition and the
link takes keyboard focus, where Material's content.tooltips shows the tooltip.
The absolute link is resolved by MkDocs (validation.links.absolute_links:
relative_to_docs) and checked like every other link.  Terms in headings, in
links and in the glossary table itself are left alone.
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

        def inside_skipped(element):
            while element in parents:
                element = parents[element]
                if element.tag in SKIP or "glossary-table" in (element.get("class") or "").split():
                    return True
            return False

        for abbr in list(root.iter("abbr")):
            if not abbr.get("title") or not abbr.text or inside_skipped(abbr):
                continue
            parent = parents[abbr]
            link = etree.Element("a", {"href": f"/glossary.md#{row_id(abbr.text)}", "class": "glossary-link",
                                       "title": abbr.attrib.pop("title")})
            link.tail, abbr.tail = abbr.tail, None
            parent.insert(list(parent).index(abbr), link)
            parent.remove(abbr)
            link.append(abbr)


class GlossaryLinkExtension(Extension):
    def extendMarkdown(self, md):
        # after the abbr extension's treeprocessor (7), before MkDocs rewrites links (0)
        md.treeprocessors.register(GlossaryLinkTreeprocessor(md), "glossary_links", 6)


def makeExtension(**kwargs):
    return GlossaryLinkExtension(**kwargs)
