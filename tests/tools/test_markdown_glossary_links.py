"""tools/markdown_glossary_links.py: tooltip terms become links to their glossary row."""

import markdown


def render(text):
    return markdown.markdown(text + "\n\n*[LoRA]: 低秩适配：一种微调方法。\n",
                             extensions=["abbr", "attr_list", "tools.markdown_glossary_links"])


def test_term_in_text_links_to_its_row_with_the_tooltip_on_the_link():
    html = render("用 LoRA 微调。")
    assert ('<a class="glossary-link" href="/glossary.md#term-lora" title="低秩适配：一种微调方法。">'
            "<abbr>LoRA</abbr></a> 微调" in html)


def test_terms_in_headings_links_and_the_glossary_table_stay_plain():
    html = markdown.markdown('## LoRA 原理\n\n见 [LoRA 笔记](x.md)。\n\n<div class="glossary-table" markdown>\n\nLoRA\n\n</div>'
                             "\n\n*[LoRA]: 低秩适配", extensions=["abbr", "md_in_html", "tools.markdown_glossary_links"])
    assert "glossary-link" not in html and html.count("<abbr") == 3
