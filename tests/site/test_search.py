"""The search index is segmented into Chinese words and keeps English words whole.

The browser test runs real queries through Material's search; these tests
check the index itself, tokenised the way the site's search does it.
"""

import json
import re

import pytest

from tests.conftest import mkdocs_config

CONFIG = mkdocs_config()
SEPARATOR = re.compile(CONFIG.plugins["material/search"].config.separator)

# (query, page whose text must contain it as a whole search token)
QUERIES = [
    ("大语言模型", "stages/01-getting-started/"),
    ("注意力机制", "stages/05-frontier/"),
    ("自注意力", "stages/02-foundations/"),
    ("位置编码", "stages/02-foundations/"),
    ("transformer", "stages/02-foundations/"),
    ("numpy", "stages/02-foundations/"),
    ("反向传播", "notebooks/01-neural-network-from-scratch/"),
    ("低秩适配", "stages/03-applications/"),
    ("lora", "stages/03-applications/"),
    ("检索增强生成", "stages/03-applications/"),
    ("fastapi", "stages/03-applications/"),
    ("思维链", "stages/03-applications/"),
    ("zero", "stages/04-advanced/"),
    ("vllm", "stages/04-advanced/"),
    ("混合专家", "stages/05-frontier/"),
    ("涌现", "concepts/"),
    ("术语表", "glossary/"),
]

# Terms of the generated search dictionary (glossary + includes/jieba_extra_words.txt) that must never be split.
WHOLE_TERMS = ["大语言模型", "注意力机制", "自注意力", "位置编码", "低秩适配",
               "检索增强生成", "思维链", "指令微调", "混合专家", "向量数据库"]


@pytest.fixture(scope="module")
def index(site):
    return json.loads((site.online / "search" / "search_index.json").read_text(encoding="utf-8"))


def tokens(text):
    text = re.sub(r"<[^>]+>", " ", text)
    return {t.lower() for t in SEPARATOR.split(text) if t}


def test_chinese_text_is_segmented(index):
    chinese = [d for d in index["docs"] if re.search(r"[\u4e00-\u9fff]{6,}", d["text"])]
    assert chinese, "no Chinese text in the index"
    segmented = [d for d in chinese if "\u200b" in d["text"]]
    assert len(segmented) == len(chinese), "some Chinese sections are not segmented by jieba"


def test_stemmer_is_off(index):
    # With the stemmer on, lunr indexes "transformer" as "transform" and the
    # query "Transformer" finds nothing.
    assert index["config"]["pipeline"] == ["trimmer"]


@pytest.mark.parametrize("query,page", QUERIES)
def test_query_finds_expected_page(index, query, page):
    found = {d["location"].split("#")[0] for d in index["docs"] if query.lower() in tokens(d["title"] + " " + d["text"])}
    assert page in found, f"{query!r} finds {sorted(found)[:10]}"


def test_user_dictionary_keeps_terms_whole(tmp_path):
    import jieba

    from tools import glossary

    userdict = tmp_path / "jieba_userdict.txt"  # as tools.prebuild writes it
    userdict.write_text(glossary.jieba_dictionary(glossary.load(), glossary.extra_words()), encoding="utf-8")
    jieba.load_userdict(str(userdict))
    for term in WHOLE_TERMS:
        assert term in jieba.lcut(f"我们学习{term}的原理"), term


def test_notebook_code_is_not_indexed(index, site):
    nb_docs = [d for d in index["docs"] if d["location"].startswith("notebooks/0")]
    assert nb_docs, "notebook prose should be searchable"
    code = " ".join(d["text"] for d in nb_docs)
    assert "def backward" not in code and "np.random.default_rng" not in code


def test_each_glossary_term_is_its_own_entry_linked_to_its_row(index, site):
    """The glossary table used to be one entry: a search showed the whole table as one block
    of text.  Each term is an entry of its own now, linked to its row, ranked below every page;
    the page's own entry keeps only its introduction."""
    from tests.site.html import ids
    from tools import glossary

    entries = glossary.load()
    docs = [d for d in index["docs"] if d["location"].startswith("glossary/")]
    page, rows = docs[0], docs[1:]
    assert page["location"] == "glossary/" and len(rows) == len(entries)
    assert not any(e["definition"][:12] in page["text"].replace("\u200b", "") for e in entries)
    anchors = ids(site.online / "glossary" / "index.html")
    for row, entry in zip(rows, glossary.in_table_order(entries)):
        assert row["location"] == f"glossary/#{glossary.row_id(entry['term'])}"
        assert row["location"].split("#")[1] in anchors, row["location"]
        assert entry["definition"] in row["text"].replace("\u200b", ""), row
        assert "\u200b" in row["text"] or not glossary.CJK.search(entry["definition"])  # segmented
    assert max(r["boost"] for r in rows) < min(d.get("boost", 1) for d in index["docs"] if d not in rows)


def test_formulas_read_as_text(index):
    """A formula in a result reads as Unicode text (√(d_k)), not as its LaTeX source nor as a bare …."""
    text = {d["location"]: d["text"].replace("\u200b", "") for d in index["docs"]}
    assert not [loc for loc, t in text.items() if "\\(" in t or "\\[" in t]
    assert "为什么要除以 √(d_k)" in text["career/#找工作"]
    assert "3.15×10^23" in text["concepts/#研发大模型的三道门槛数据算力算法"]
