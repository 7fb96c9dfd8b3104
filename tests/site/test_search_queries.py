"""Chinese search as a reader uses it, on the hosted site at its real address.

Material 9.8's query segmenter drops the last character of a Chinese query (学习率
searched 学习); the build patches its worker (tools/material_patches.py).
The search index loads only when the reader turns to search, and a query typed
without key events (pasted, dictated, picked from an input method) still runs."""

from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from playwright.sync_api import expect

from tests.site.conftest import SITE_URL, real_address_context

# query -> the page a learner wants first
FIRST = {
    "学习率": "stages/02-foundations/",
    "分布式训练": "stages/04-advanced/",
    "量化": "stages/04-advanced/",
    "微调": "stages/03-applications/",
    "自注意力": "stages/02-foundations/",
    "位置编码": "stages/02-foundations/",
    "BERT": "notebooks/03-bert-chinese-sentiment/",
    "LoRA": "stages/03-applications/",
    "反向传播": "stages/02-foundations/",
    "检索增强生成": "stages/03-applications/",
    "混合专家": "stages/04-advanced/",
    "提示词": "stages/01-getting-started/",
    "困惑度": "notebooks/07-tokens-decoding-kv-cache/",  # the formula, computed by hand, and what changes it
    "Transformer": "stages/02-foundations/",
    "知识蒸馏": "stages/04-advanced/",
    "显存": "stages/04-advanced/",
    "术语表": "glossary/",
}


def page_of(href):
    """A result's page, relative to the site: stages/02-foundations/."""
    return urlsplit(href).path.replace(urlsplit(SITE_URL).path, "", 1)


def highlights(hrefs):
    """What each result highlights (its h=), in order; "" for a page entry whose own text has no match."""
    return [parse_qs(urlsplit(h).query).get("h", [""])[0] for h in hrefs]


@pytest.fixture(scope="module")
def searcher(browser, site):
    context = real_address_context(browser, site.online)
    page = context.new_page()
    page.requests = []
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(SITE_URL, wait_until="networkidle")
    yield page
    context.close()


def run_query(page, query):
    box = page.locator("input.md-search__input")
    box.click()
    results = page.locator(".md-search-result__item > a")
    box.fill("")  # the previous query's results go first: those that come next are this query's
    expect(results).to_have_count(0)
    box.fill(query)  # an `input` event and no key event, like a paste or an IME pick
    expect(results.first).to_be_visible(timeout=15000)
    page.wait_for_timeout(300)
    return [results.nth(i).get_attribute("href") for i in range(results.count())]


def test_index_waits_until_the_reader_turns_to_search(browser, site):
    context = real_address_context(browser, site.online)
    page = context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(SITE_URL + "stages/02-foundations/", wait_until="networkidle")
    page.wait_for_timeout(500)
    assert not [u for u in requests if "search_index" in u]
    page.locator("input.md-search__input").focus()
    page.wait_for_timeout(1000)
    assert [u for u in requests if "search_index" in u]
    context.close()


@pytest.mark.parametrize("query", sorted(FIRST))
def test_whole_query_is_searched_and_the_wanted_page_comes_first(searcher, query):
    hrefs = run_query(searcher, query)
    assert page_of(hrefs[0]) == FIRST[query], [unquote(h) for h in hrefs[:6]]
    # The page entry may carry an empty h= (its own text has no match); its sections do not.
    highlighted = next(m for m in highlights(hrefs) if m)
    assert highlighted == query.lower(), f"searched {highlighted!r} instead of {query!r}"


# A word the index holds as several pieces (扩散 + 模型, kv + 缓存, top + p): all of its pieces are
# searched and required, so no result has only the commonest piece (模型 titles came first, KV缓存 found nothing).
PIECES = {
    "扩散模型": ("扩散 模型", "stages/05-frontier/"),
    "KV缓存": ("kv 缓存", "stages/04-advanced/"),
    "top-p": ("top p", "glossary/"),
    "bert-base-chinese": ("bert base chinese", "notebooks/03-bert-chinese-sentiment/"),
}


@pytest.mark.parametrize("query", sorted(PIECES))
def test_a_word_held_as_pieces_is_searched_as_all_of_them(searcher, query):
    pieces, wanted = PIECES[query]
    hrefs = run_query(searcher, query)
    assert page_of(hrefs[0]) == wanted, [unquote(h) for h in hrefs[:6]]
    marks = set(highlights(hrefs)) - {""}
    assert marks == {pieces}, marks


# A question no section holds whole -> what every result must have, the page a learner wants first.
# The question words are only counted (显存不够怎么办: no section has 怎么办 with 显存 and 不够; searched as
# any piece, 「无法访问 Hub 时怎么办」 came first); then, if need be, the piece whose release finds the most
# (不足: no section has it with 显存).
QUESTIONS = {
    "显存不够怎么办": ("显存 不够", {"stages/03-applications/", "stages/04-advanced/"}),
    "如何部署模型": ("部署 模型", {"stages/03-applications/", "notebooks/11-model-serving/"}),
    "GPU显存不足怎么办": ("gpu 显存", {"faq/", "stages/04-advanced/"}),
}


@pytest.mark.parametrize("query", sorted(QUESTIONS))
def test_a_question_finds_the_sections_with_its_other_words(searcher, query):
    wanted, pages = QUESTIONS[query]
    hrefs = run_query(searcher, query)
    assert set(highlights(hrefs)) - {""} == {wanted}, [unquote(h) for h in hrefs[:6]]
    assert page_of(hrefs[0]) in pages, [unquote(h) for h in hrefs[:6]]


def test_a_query_with_words_the_index_lacks_searches_any_piece(searcher):
    """量化香蕉: 香蕉 is no word of the index; Material's way (any piece) still finds 量化."""
    hrefs = run_query(searcher, "量化香蕉")
    assert page_of(hrefs[0]) == "stages/04-advanced/" and set(highlights(hrefs)) - {""} == {"量化"}, hrefs[:4]


def test_results_show_clean_text(searcher):
    for query in ["注意力", "反向传播", "softmax"]:
        run_query(searcher, query)
        text = searcher.locator(".md-search-result").inner_text()
        for artefact in ("\\(", "\\[", "¶", "export"):
            assert artefact not in text, (query, artefact)


def test_a_glossary_term_is_found_as_its_row(searcher):
    """A term's result on the glossary page is its row: its name, its one-line explanation,
    and a link to the row (the whole table used to show as one block of text)."""
    from tools import glossary

    entry = next(e for e in glossary.load() if e["term"] == "余弦相似度")
    row_id = glossary.row_id(entry["term"])
    hrefs = run_query(searcher, entry["term"])
    rows = [h for h in hrefs if urlsplit(h).path.endswith("/glossary/") and urlsplit(h).fragment]
    assert rows and unquote(urlsplit(rows[0]).fragment) == row_id, hrefs
    article = searcher.locator(f'.md-search-result__item > a[href="{rows[0]}"]')
    text = article.inner_text().replace("\u200b", "")  # the index's word breaks
    assert entry["definition"][:10] in text and len(text) < 200, text
    article.click()
    searcher.wait_for_function("(id) => decodeURIComponent(location.hash) === '#' + id", arg=row_id)
    expect(searcher.locator(f'[id="{row_id}"]').locator("xpath=..")).to_be_in_viewport()  # its cell
