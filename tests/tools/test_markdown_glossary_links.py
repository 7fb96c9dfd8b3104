"""tools/markdown_glossary_links.py: tooltip terms become links to their glossary row."""

import markdown


def render(text):
    return markdown.markdown(text + "\n\n*[LoRA]: 低秩适配：一种微调方法。\n",
                             extensions=["abbr", "attr_list", "tools.markdown_glossary_links"])


def test_term_in_text_links_to_its_row_with_the_tooltip_on_the_link():
    html = render("用 LoRA 微调。")
    assert ('<a class="glossary-link" href="/glossary.md#term-lora" title="低秩适配：一种微调方法。">'
            "<abbr>LoRA</abbr></a> 微调" in html)


def test_terms_in_headings_and_links_keep_a_plain_tooltip_and_the_glossary_table_has_none():
    html = markdown.markdown('## LoRA 原理\n\n见 [LoRA 笔记](x.md)。\n\n<div class="glossary-table" markdown>\n\n用 LoRA 微调\n\n</div>'
                             "\n\n*[LoRA]: 低秩适配", extensions=["abbr", "md_in_html", "tools.markdown_glossary_links"])
    assert "glossary-link" not in html and html.count("<abbr") == 2
    assert "<p>用 LoRA 微调</p>" in html


def test_only_the_first_use_in_each_section_gets_the_tooltip():
    html = render("LoRA 和 *LoRA* 与 LoRA。\n\n再说 LoRA。\n\n## 第二节\n\nLoRA 又出现。")
    assert html.count('class="glossary-link"') == 2
    assert "<abbr>LoRA</abbr></a> 和 <em>LoRA</em> 与 LoRA。</p>\n<p>再说 LoRA。</p>" in html
    assert html.index("第二节") < html.rindex("glossary-link")
