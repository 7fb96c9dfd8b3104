"""tools/glossary.py: clear errors that name the file and the term; the generated files."""

import re

import pytest

from tests.conftest import ROOT, mkdocs_config
from tools import glossary, prebuild
from tools.glossary import GlossaryError

GOOD = """\
- term: LoRA
  zh: 低秩适配
  en: Low-Rank Adaptation
  definition: 冻结原权重、只训练低秩增量的微调方法。
  link: stages/03-applications.md#lora
- term: 检索增强生成
  zh: 检索增强生成
  en: Retrieval-Augmented Generation
  definition: 先检索资料再生成回答。
  link: stages/03-applications.md#rag
  aliases: [RAG]
"""


def write(tmp_path, text, name="area.yml"):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_loads_entries_and_remembers_their_file(tmp_path):
    entries = glossary.load(write(tmp_path, GOOD))
    assert [e["term"] for e in entries] == ["LoRA", "检索增强生成"]
    assert entries[0]["source"].endswith("area.yml")


def test_yaml_error_names_the_file_and_position(tmp_path):
    with pytest.raises(GlossaryError, match=r"area.yml: not valid YAML at line 4, column 13"):
        glossary.load(write(tmp_path, GOOD.replace("  en: Low-Rank", "  en: [Low-Rank")))


def test_missing_field_names_file_and_term(tmp_path):
    text = GOOD.replace("  definition: 冻结原权重、只训练低秩增量的微调方法。\n", "")
    with pytest.raises(GlossaryError, match=r"area.yml: entry 1 \(LoRA\): missing or empty field\(s\) definition"):
        glossary.load(write(tmp_path, text))


def test_unknown_field_and_duplicate_term(tmp_path):
    with pytest.raises(GlossaryError, match=r"entry 1 \(LoRA\): unknown field\(s\) defintion"):
        glossary.load(write(tmp_path, GOOD.replace("  definition: 冻结", "  defintion: x\n  definition: 冻结")))
    write(tmp_path, GOOD)
    write(tmp_path, GOOD.split("- term: 检索")[0], name="other.yml")
    with pytest.raises(GlossaryError, match=r"other.yml: entry 1 \(LoRA\): the term 'LoRA' is already defined in .*area.yml"):
        glossary.load(tmp_path)


def test_generated_files(tmp_path):
    entries = glossary.load(write(tmp_path, GOOD))
    abbr = glossary.abbreviations(entries)
    assert "*[LoRA]: 低秩适配（Low-Rank Adaptation）" in abbr and "*[RAG]: 检索增强生成" in abbr
    assert "*[检索增强生成]" not in abbr  # abbr needs word boundaries: Latin terms only
    table = glossary.table(entries)
    assert '| <span id="term-lora"></span>低秩适配（LoRA） | Low-Rank Adaptation |' in table
    assert '<span id="term-检索增强生成"></span><span id="term-rag"></span>' in table
    assert "[正文](stages/03-applications.md#lora)" in table
    words = glossary.jieba_dictionary(entries, ["大模型"]).splitlines()
    assert words == ["低秩适配 2000", "检索增强生成 2000", "大模型 2000"]
    search = glossary.search_entries(entries)
    assert search == [  # in the table's order: 检索 (jian) before LoRA
        {"anchor": "term-检索增强生成", "title": "检索增强生成",
         "text": "Retrieval-Augmented Generation：先检索资料再生成回答。（详见正文）"},
        {"anchor": "term-lora", "title": "低秩适配（LoRA）",
         "text": "Low-Rank Adaptation：冻结原权重、只训练低秩增量的微调方法。（详见正文）"}]
    assert all(f'<span id="{e["anchor"]}"></span>' in table for e in search)


def test_terms_are_filed_under_letters_chinese_by_pinyin():
    """Latin and Chinese terms together, A～Z, Chinese by pinyin syllable by syllable (the order of a
    Chinese dictionary, and of a phone's contacts); it was code-point order, Chinese after Z."""
    def entry(term):
        return {"term": term, "zh": term, "en": term, "definition": "释义。", "link": "faq.md"}

    terms = ["注意力", "Zero", "重排", "重要性", "互相关", "滑动窗口", "LoRA", "量化", "最长公共子序列", "最大似然"]
    ordered = [e["term"] for e in glossary.in_table_order([entry(t) for t in terms])]
    # 互相关 (hu) before 滑动 (hua): syllables, not letters; 重排 is chóng, 最长 is zuì cháng
    assert ordered == ["重排", "互相关", "滑动窗口", "量化", "LoRA", "Zero", "重要性", "注意力", "最长公共子序列", "最大似然"]
    assert [glossary.letter(entry(t)) for t in ("重排", "LoRA", "注意力", "Zero")] == ["C", "L", "Z", "Z"]

    page = glossary.table([entry(t) for t in terms])
    headings = re.findall(r"^## (\S+) \{ #(letter-\w+) data-search-exclude \}$", page, re.M)
    assert headings == [("C", "letter-c"), ("H", "letter-h"), ("L", "letter-l"), ("Z", "letter-z")]
    bar = re.search(r'<nav class="glossary-letters".*</nav>', page).group(0)
    assert re.findall(r"\[(\w)\]\(#(letter-\w+)\)", bar) == [(k, i) for k, i in headings]
    # every letter's rows in a table of their own, left out of the page's search entry
    assert page.count('<div class="glossary-table" markdown data-search-exclude>') == len(headings)


def test_pipe_in_a_cell_is_escaped(tmp_path):
    entries = glossary.load(write(tmp_path, GOOD.replace("先检索资料再生成回答。", "建模 P(y|x)。")))
    assert r"P(y\|x)" in glossary.table(entries)


def test_extra_words_must_be_single_words(tmp_path):
    path = tmp_path / "extra.txt"
    path.write_text("# comment\n大模型\n注意 力\n", encoding="utf-8")
    with pytest.raises(GlossaryError, match=r"extra.txt: line 3: '注意 力' is not one word"):
        glossary.extra_words(path)


def test_the_real_glossary_feeds_the_search_dictionary(tmp_path, monkeypatch):
    """The file the prebuild step writes, which mkdocs.yml gives the search plugin, holds every Chinese term
    and extra word."""
    search = mkdocs_config()["plugins"]["material/search"].config
    assert ROOT / search["jieba_dict_user"] == prebuild.GENERATED / "jieba_userdict.txt"
    monkeypatch.setattr(prebuild, "GENERATED", tmp_path)
    monkeypatch.setattr(prebuild, "SNIPPETS", tmp_path / "snippets")
    prebuild.write_glossary_files(log=lambda message: None)
    lines = (tmp_path / "jieba_userdict.txt").read_text(encoding="utf-8").splitlines()
    words = {line.split()[0] for line in lines}
    assert {"检索增强生成", "低秩适配", "大模型", "注意力机制"} <= words
    assert set(glossary.chinese_terms(glossary.load())) | set(glossary.extra_words()) <= words


def test_anchors_are_unique_across_the_real_glossary():
    entries = glossary.load()
    ids = [glossary.row_id(n) for e in entries for n in dict.fromkeys([e["term"], *e.get("aliases", [])])]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_a_tooltip_names_a_term_once_when_it_has_no_chinese_form(tmp_path):
    entries = glossary.load(write(tmp_path, GOOD))
    entries[0] = {**entries[0], "zh": "PyTorch", "en": "pytorch", "term": "PyTorch"}
    assert "*[PyTorch]: PyTorch：" in glossary.abbreviations(entries)
