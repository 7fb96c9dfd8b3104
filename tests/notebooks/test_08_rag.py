"""Notebook 08's hand-written pieces, imported from the notebook: reading pages into sections,
the three chunkings, brute-force search against Faiss, BM25 against bm25s, reciprocal rank fusion,
the retrieval metrics, the anchors of citation links against MkDocs' own slugify, and the
groundedness check."""

import faiss
import numpy as np
import pytest

from tests.conftest import mkdocs_config
from tests.notebook_import import load_exports
from tests.notebooks.test_rag_data import ROOT, headings, rows

PAGE = """---
search:
  boost: 2
---
# 标题

导语一句。

## 第一节

第一节的正文。这里有 [一个链接](x.md) 和 **粗体**。

```python
# 这不是标题
print("代码不进知识库")
```

### 小节 A

小节的正文；第二句！
<!-- 注释不进知识库 -->

## 第二节

第二节的正文。
"""


@pytest.fixture(scope="module")
def nb():
    return load_exports("08-rag-retrieval-augmented-generation.ipynb")


def test_a_page_is_read_into_sections_with_their_heading_paths(nb):
    sections = nb.read_page("x.md", PAGE)
    assert [s.path for s in sections] == [["标题"], ["标题", "第一节"], ["标题", "第一节", "小节 A"], ["标题", "第二节"]]
    assert sections[1].text == "第一节的正文。这里有 一个链接 和 粗体。\n"
    assert "代码" not in "".join(s.text for s in sections) and "注释" not in "".join(s.text for s in sections)
    assert "boost" not in sections[0].text


def test_the_notebook_reads_the_same_headings_as_the_data_test():
    """The evaluation set's check and the notebook agree on what a page's headings are."""
    nb = load_exports("08-rag-retrieval-augmented-generation.ipynb")
    for page in {ref["page"] for q in rows() for ref in q["sections"]}:
        read = [s.heading for s in nb.read_page(page, (ROOT / "docs" / page).read_text(encoding="utf-8"))]
        assert read[1:] == headings(page), page


def test_chunks_cover_the_text_and_know_their_section(nb):
    sections = nb.read_page("x.md", PAGE * 1)
    text = "".join(s.text for s in sections)
    by_length = nb.chunk_by_length(sections, size=12, overlap=4)
    assert all(len(c.text) <= 12 for c in by_length)
    assert "".join(c.text[:8] for c in by_length[:-1]) + by_length[-1].text == text  # windows step size - overlap
    by_sentence = nb.chunk_by_sentence(sections, size=10)
    assert "".join(c.text for c in by_sentence) == text.replace("\n", "")  # whole sentences, nothing lost or repeated
    assert all(c.path == s.path for s in sections for c in by_sentence if c.text in s.text)
    by_heading = nb.chunk_by_heading(sections)
    assert by_heading[2].text.startswith("标题 > 第一节 > 小节 A\n")


def test_a_hit_is_a_chunk_from_the_named_section_or_below(nb):
    chunk = nb.Chunk("……", "p.md", ["页", "第一节", "小节 A"])
    assert nb.is_hit(chunk, {"sections": [{"page": "p.md", "heading": "第一节"}]})
    assert not nb.is_hit(chunk, {"sections": [{"page": "q.md", "heading": "第一节"}]})
    assert not nb.is_hit(chunk, {"sections": [{"page": "p.md", "heading": "第二节"}]})


def test_brute_force_search_matches_faiss(nb):
    rng = np.random.default_rng(0)
    chunks = rng.normal(size=(300, 32)).astype(np.float32)
    chunks /= np.linalg.norm(chunks, axis=1, keepdims=True)
    queries = chunks[:20] + 0.3 * rng.normal(size=(20, 32)).astype(np.float32)
    index = faiss.IndexFlatIP(32)
    index.add(chunks)
    assert np.array_equal(index.search(queries, 7)[1], nb.top_k_by_numpy(queries, chunks, 7))


def test_hand_written_bm25_matches_bm25s(nb):
    import bm25s

    docs = [nb.words(t) for t in ["混合检索把向量检索和 BM25 合起来。", "BM25 是关键词检索的打分公式，BM25 很常用。",
                                    "向量检索比较意思。", "RRF 只看名次。", "检索增强生成先检索再生成。"]]
    library = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    library.index(docs, show_progress=False)
    mine = nb.BM25(docs)
    for query in (["bm25"], ["检索", "名次"], ["没有", "的词"]):
        assert np.allclose(mine.scores(query), library.get_scores(query), rtol=1e-4, atol=1e-6)
    assert nb.words("BM25，是 Okapi 的！") == ["bm25", "是", "okapi", "的"]


def test_rrf_ranks_by_summed_reciprocal_ranks(nb):
    assert nb.rrf([["a", "b", "c"], ["b", "c", "a"]], k=60) == ["b", "a", "c"]  # b: 1/62+1/61 beats a: 1/61+1/63
    assert nb.rrf([["x"], ["y"]], k=0) == ["x", "y"]  # a tie keeps the first seen first
    assert nb.rrf([]) == []


def test_metrics(nb):
    ranks = [1, 3, None, 2]
    assert nb.recall_at(ranks, 1) == 0.25 and nb.recall_at(ranks, 3) == 0.75
    assert nb.mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    chunks = [nb.Chunk("", "p.md", ["页", "别的"]), nb.Chunk("", "p.md", ["页", "对的"])]
    assert nb.first_hit([0, 1], chunks, {"sections": [{"page": "p.md", "heading": "对的"}]}) == 2


def test_citation_anchors_are_the_sites_own():
    """The notebook's slug equals the slugify mkdocs.yml configures, for every heading of the knowledge base."""
    nb = load_exports("08-rag-retrieval-augmented-generation.ipynb")
    site_slug = mkdocs_config()["mdx_configs"]["toc"]["slugify"]
    for page in {ref["page"] for q in rows() for ref in q["sections"]}:
        for heading in headings(page):
            assert nb.slug(heading) == site_slug(heading, "-"), heading
    assert nb.page_url("stages/03-applications.md", "混合检索与 RAG-Fusion") == (
        nb.SITE_URL + "stages/03-applications/#混合检索与-rag-fusion")


def test_site_url_is_the_configured_one(nb):
    from tools.real_address import site_url

    assert nb.SITE_URL == site_url()


def test_groundedness_check(nb):
    chunks = [nb.Chunk("BM25 给术语和数字打高分，向量检索比较意思。", "p.md", ["页"]),
              nb.Chunk("RRF 只看名次，常数 k 取 60。", "p.md", ["页"])]
    question = "RRF 的常数 k 取多少？"
    checked = nb.check_sentences("RRF 的常数 k 通常取 60，只看名次。资料中没有找到答案。", chunks, question)
    assert [(n, cited, ok) for _, n, cited, ok in checked] == [(2, False, True)]  # a refusal states nothing
    # cites a source that does not say it
    assert not nb.check_sentences("RRF 的常数 k 取 60，只看名次 [1]。", chunks, question)[0][3]
    # says what the sources do not
    assert not nb.check_sentences("RRF 由谷歌在二零二零年发明，需要训练神经网络。", chunks, question)[0][3]
    # only repeats the question: claims nothing
    assert not nb.check_sentences("RRF 的常数 k 取多少要看情况。", chunks, question)[0][3]
