"""The site in a real browser: Debian's headless Chromium driven by Playwright
(no browser download).  Every request is recorded; none may leave the machine."""

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.site.conftest import PHONE, SITE_URL, WATCH_WIDEST, real_address_context

def foreign(requests, allowed_host=None):
    bad = []
    for url in requests:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            continue
        if parts.scheme == "file" and allowed_host is None:
            continue
        if parts.hostname != allowed_host:
            bad.append(url)
    return bad


def search(page, query, timeout_s=20):
    """Type a query; retype until the search worker (which loads the index
    after the page) has answered with results."""
    box = page.locator("input.md-search__input")
    box.click()  # on a desktop-wide viewport the search box sits in the header
    results = page.locator(".md-search-result__item")
    for _ in range(timeout_s):
        box.fill(query)
        box.press("End")  # a key event too, as a reader's typing gives
        try:
            expect(results.first).to_be_visible(timeout=1000)
            return results
        except AssertionError:
            continue
    raise AssertionError(f"no search results for {query!r}")


def result_pages(results):
    return [results.nth(i).locator("a").first.get_attribute("href") for i in range(results.count())]


def test_chinese_search_ranks_prose_first(hosted):
    hosted.goto(SITE_URL)
    hrefs = result_pages(search(hosted, "反向传播"))
    # A concept query lands on prose first; the stage page that explains it and
    # the notebook that implements it are both found, the notebook after prose.
    assert "/notebooks/" not in hrefs[0], hrefs
    assert any("stages/02-foundations" in h for h in hrefs), hrefs
    first_notebook = next(i for i, h in enumerate(hrefs) if "neural-network-from-scratch" in h)
    assert all("/notebooks/" not in h for h in hrefs[:first_notebook]), hrefs
    assert not hosted.address.foreign and not hosted.errors


def test_english_word_inside_chinese_page_is_found(hosted):
    for query, expected in [("NumPy", "stages/02-foundations"), ("Transformer", "stages/02-foundations"),
                            ("LoRA", "stages/03-applications")]:
        hosted.goto(SITE_URL)  # a fresh page, so no results of the previous query linger
        hrefs = result_pages(search(hosted, query))
        assert any(expected in h for h in hrefs), (query, hrefs)


def test_dark_mode_toggle(hosted):
    hosted.goto(SITE_URL)
    body = hosted.locator("body")
    before = body.get_attribute("data-md-color-scheme")
    hosted.locator("form[data-md-component=palette] label:visible").first.click()
    expect(body).not_to_have_attribute("data-md-color-scheme", before)


def test_notebook_page_shows_badge_outputs_and_math(hosted):
    hosted.goto(SITE_URL + "notebooks/01-neural-network-from-scratch/")
    badge = hosted.locator("a.nb-badge")
    expect(badge).to_have_count(2)
    expect(badge.first).to_be_visible()
    expect(badge.last).to_be_visible()
    assert badge.first.get_attribute("href").startswith("https://colab.research.google.com/github/")
    assert badge.last.get_attribute("href").startswith("https://kaggle.com/kernels/welcome?src=https://github.com/")
    expect(hosted.locator(".nb-run-info")).to_contain_text("峰值内存")
    hosted.locator(".nb-figure img").first.scroll_into_view_if_needed()  # figures load lazily
    expect(hosted.locator(".nb-figure img").first).to_be_visible()
    # Code cells are ordinary code blocks: Material gives them copy buttons.
    expect(hosted.locator(".nb-input button.md-code__button[data-md-type=copy]").first).to_be_attached()
    hosted.locator(".arithmatex").first.scroll_into_view_if_needed()  # math renders near the screen
    expect(hosted.locator(".katex").first).to_be_attached(timeout=10000)
    assert not hosted.address.foreign and not hosted.errors


def test_offline_build_from_file_url(page, site):
    # Diagrams: Material swaps each rendered <pre class="mermaid"> for a <div class="mermaid">.
    page.goto((site.offline / "stages" / "02-foundations.html").as_uri())
    page.locator("article pre").filter(has_text="flowchart").first.scroll_into_view_if_needed()  # drawn near the screen
    expect(page.locator("div.mermaid").first).to_be_attached(timeout=15000)
    page.goto((site.offline / "index.html").as_uri())
    results = search(page, "反向传播")
    assert results.count() > 0
    # Navigation between file:// pages, then code copy buttons on a Markdown page.
    page.keyboard.press("Escape")  # close the search overlay
    page.locator("a.md-tabs__link", has_text="动手实践").click()
    expect(page).to_have_url(re.compile(r"notebooks/index\.html$"))
    expect(page.locator("button.md-code__button[data-md-type=copy]").first).to_be_attached()
    # Math on a notebook page.
    page.goto((site.offline / "notebooks" / "01-neural-network-from-scratch.html").as_uri())
    page.locator(".arithmatex").first.scroll_into_view_if_needed()  # math renders near the screen
    expect(page.locator(".katex").first).to_be_attached(timeout=10000)
    assert not foreign(page.requests), foreign(page.requests)


def test_glossary_term_opens_by_keyboard_and_tap(browser, site):
    """A tooltip term is a link: keyboard focus shows the definition, a tap opens its glossary row."""
    context = real_address_context(browser, site.online, **PHONE)
    page = context.new_page()
    page.goto(SITE_URL + "stages/03-applications/")
    term = page.locator("article a.glossary-link", has_text="LoRA").first
    term.focus()
    expect(page.locator(".md-tooltip2--active")).to_contain_text("低秩适配")
    term.tap()
    expect(page).to_have_url(re.compile(r"/glossary/#term-lora$"))
    row = page.locator("#term-lora")
    expect(row).to_be_attached()
    context.close()


def test_tooltips_show_on_the_first_hover(hosted):
    """Material sets a content tooltip up only when the reader first points at its element
    (tools/material_patches.py): that first hover already shows it, and so does the next."""
    page = hosted
    page.goto(SITE_URL + "stages/03-applications/")
    tooltip = page.locator(".md-tooltip2--active")
    for name, definition in [("LoRA", "低秩适配"), ("RAG", "检索增强生成")]:
        term = page.locator("article a.glossary-link", has_text=name).first
        for _ in range(2):
            term.hover()
            expect(tooltip).to_contain_text(definition)
            page.mouse.move(0, 0)
            expect(tooltip).to_have_count(0)
    assert not page.errors, page.errors


WIDE_BOXES = """() => Object.fromEntries(
  ["div.arithmatex", "div.mermaid", ".md-typeset__scrollwrap", ".nb-html", "pre.nb-text"].map(selector => [selector,
    [...document.querySelectorAll(selector)].filter(d => d.scrollWidth > d.clientWidth + 2).map(d =>
      [getComputedStyle(d).overflowX, getComputedStyle(d).backgroundImage.includes("gradient"), d.scrollWidth])]))"""


# Chinese punctuation on another line than the short formula next to it (tools/material_patches.py:
# keep_punctuation_with_math): 「，」 after it on the next line, or 「（」 before it on the line above.
PUNCTUATION_OFF_ITS_FORMULA = """() => [...document.querySelectorAll("article .math-punct")].filter(pair => {
  const formula = pair.querySelector(".katex");
  if (!formula) return false;
  const box = formula.getBoundingClientRect(), range = document.createRange();
  const [before, after] = [pair.firstChild, pair.lastChild].map(n => n.nodeType === Node.TEXT_NODE ? n : null);
  if (after) {
    range.setStart(after, 0); range.setEnd(after, 1);
    if (range.getBoundingClientRect().top >= box.bottom - 2) return true;
  }
  if (before) {
    range.setStart(before, 0); range.setEnd(before, 1);
    if (range.getBoundingClientRect().bottom <= box.top + 2) return true;
  }
  return false;
}).map(pair => pair.textContent.slice(-20))"""


def test_phone_pages_fit_the_screen_and_the_glossary_and_notebook_list_are_cards(browser, site):
    """Every page on a phone, scrolled through (formulas and diagrams render near the screen): never wider
    than the screen, and no punctuation cut off from its formula.  Display formulas, diagrams, tables and notebook outputs wider than the phone scroll
    sideways, with shadows at the edges as the cue; a diagram keeps readable text (drawn at least 600 px wide, or its own
    width), not shrunk to 358 px."""
    context = real_address_context(browser, site.online, **PHONE)
    context.add_init_script(f"addEventListener('load', {WATCH_WIDEST});")  # from each page's load
    page = context.new_page()
    too_wide, wide, punctuation, pairs = {}, {}, {}, 0
    paths = [p.relative_to(site.online).as_posix().removesuffix("index.html")
             for p in sorted(site.online.rglob("index.html")) if "downloads" not in p.parts]
    assert len(paths) >= 25 and "glossary/" in paths and "stages/04-advanced/" in paths, paths
    for path in paths:
        page.goto(SITE_URL + path, wait_until="networkidle")
        if path in ("glossary/", "notebooks/"):  # one card per term, per notebook
            cards = ".glossary-table tr" if path == "glossary/" else ".notebook-list tbody tr"
            assert page.evaluate(f"getComputedStyle(document.querySelector('{cards}')).display") == "block", path
        for y in range(0, page.evaluate("document.body.scrollHeight"), 800):
            page.evaluate(f"window.scrollTo(0, {y})")
            page.wait_for_timeout(30)
        page.wait_for_timeout(300)
        if path in ("stages/02-foundations/", "stages/04-advanced/", "notebooks/02-mini-transformer/",
                    "notebooks/07-tokens-decoding-kv-cache/"):
            page.wait_for_timeout(700)  # the last diagrams are drawn
            for kind, found in page.evaluate(WIDE_BOXES).items():
                wide.setdefault(kind, []).extend(found)
        if path == "transformers-v5/":  # code in a table cell is not broken inside a name (load_in_4b / it=True)
            broken = page.evaluate("""() => [...document.querySelectorAll("article td code")]
              .filter(c => c.getClientRects().length > 1 && !/\\s/.test(c.textContent)).map(c => c.textContent)""")
            assert not broken, broken
        pairs += page.locator("article .math-punct .katex").count()
        if off := page.evaluate(PUNCTUATION_OFF_ITS_FORMULA):
            punctuation[path] = off
        widest = page.evaluate("window.__widest")
        if widest != PHONE["viewport"]["width"]:
            too_wide[path or "home"] = widest
    context.close()
    assert not too_wide, f"pages wider than the phone at some point: {too_wide}"
    # 「，」 never starts a line after a formula (a reader saw 15 such lines on a phone), nor 「（」 ends one before it
    assert pairs > 50 and not punctuation, (pairs, punctuation)
    assert all(wide.values()), wide
    assert all(overflow == "auto" and cue for overflow, cue, _ in sum(wide.values(), [])), wide
    assert all(width >= 600 for _, _, width in wide["div.mermaid"]), wide["div.mermaid"]


def test_offline_404_page_is_styled(page, site):
    page.goto((site.offline / "404.html").as_uri())
    header = page.locator("header.md-header")
    expect(header).to_be_visible()
    background = header.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), "404.html has no styles"
    assert not page.errors
