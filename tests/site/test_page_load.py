"""What a page load costs a phone, on the hosted site at its real address.

Material's bundle used to make the browser restyle every element of the page five more
times after the first (tools/material_patches.py says why); the patched build restyles
a page once, twice at most.  The rewrites behind it change nothing a reader sees: the
colour scheme meta follows the palette, plain tables scroll inside one wrapper, and
code text is drawn in the same colours."""

import contextlib
import json

import pytest
from playwright.sync_api import expect

from tests.site.conftest import SITE_URL, real_address_context

PAGES = ["", "stages/03-applications/", "notebooks/04-lora-finetuning/", "glossary/"]


def switch_to_dark(page):
    page.goto(SITE_URL)
    page.locator("form[data-md-component=palette] label:visible").first.click()
    expect(page.locator("body")).to_have_attribute("data-md-color-scheme", "slate")


@contextlib.contextmanager
def hosted_page(browser, site, scheme):
    """A page at the real address, in the given palette scheme (stored as a reader's choice)."""
    context = real_address_context(browser, site.online)
    page = context.new_page()
    if scheme == "slate":
        switch_to_dark(page)
    try:
        yield page
    finally:
        context.close()


def full_restyles(browser, page, url):
    """Style recalculations during the load of `url` that touched most of the page's elements."""
    page.goto("about:blank")  # so that nothing the previous page does while unloading is counted
    browser.start_tracing(page=page, categories=["devtools.timeline"])
    page.goto(url, wait_until="load")
    page.wait_for_timeout(1500)  # Material mounts its components after load
    events = json.loads(browser.stop_tracing())["traceEvents"]
    elements = page.evaluate("document.getElementsByTagName('*').length")
    return [e["args"]["elementCount"] for e in events
            if e.get("name") == "UpdateLayoutTree" and e["args"].get("elementCount", 0) > elements / 2]


@pytest.mark.parametrize("scheme", ["default", "slate"])
def test_a_page_load_restyles_the_page_at_most_twice(browser, site, scheme):
    with hosted_page(browser, site, scheme) as page:
        counts = {path or "home": full_restyles(browser, page, SITE_URL + path) for path in PAGES}
    assert all(len(c) <= 2 for c in counts.values()), counts


def test_color_scheme_meta_follows_the_palette(hosted):
    page = hosted
    metas = "[...document.querySelectorAll('meta[name=color-scheme]')].map(m => m.content)"
    page.goto(SITE_URL + "stages/01-getting-started/")
    assert page.evaluate(metas) == ["light"]
    page.locator("form[data-md-component=palette] label:visible").first.click()
    expect(page.locator("body")).to_have_attribute("data-md-color-scheme", "slate")
    assert page.evaluate(metas) == ["dark"]
    page.locator("a.md-tabs__link", has_text="开始之前").first.click()  # instant navigation
    expect(page).to_have_url(SITE_URL + "directions/")
    assert page.evaluate(metas)[0] == "dark"  # the first one is the one the browser uses
    page.reload()
    assert page.evaluate(metas) == ["dark"]
    assert not page.errors, page.errors


def test_plain_tables_are_wrapped_once_and_scroll(browser, site):
    context = real_address_context(browser, site.online, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(SITE_URL + "stages/03-applications/")
    page.wait_for_timeout(500)
    state = page.evaluate("""() => ({
      plain: document.querySelectorAll("article table:not([class])").length,
      wrapped: document.querySelectorAll(
        "article .md-typeset__scrollwrap > .md-typeset__table > table:not([class])").length,
      twice: document.querySelectorAll("article .md-typeset__table .md-typeset__table").length,
      scrolls: [...document.querySelectorAll("article .md-typeset__scrollwrap")].some(
        w => getComputedStyle(w).overflowX === "auto"),
    })""")
    context.close()
    assert state["plain"] > 3 and state["wrapped"] == state["plain"] and not state["twice"], state
    assert state["scrolls"], state


@pytest.mark.parametrize("scheme", ["default", "slate"])
def test_unwrapped_code_text_has_the_colour_its_span_had(browser, site, scheme):
    """Names and whitespace lose their Pygments spans: the theme must draw them like the code text."""
    with hosted_page(browser, site, scheme) as page:
        page.goto(SITE_URL + "notebooks/04-lora-finetuning/")
        colours = page.evaluate("""() => {
          const code = document.querySelector("article div.highlight code");
          const probe = (cls) => {
            const span = document.createElement("span");
            span.className = cls;
            span.textContent = "x";
            code.appendChild(span);
            const colour = getComputedStyle(span).color;
            span.remove();
            return colour;
          };
          return {code: getComputedStyle(code).color, n: probe("n"), w: probe("w"), keyword: probe("k"),
                  leftover: code.closest("article").querySelectorAll("code span.n, code span.w").length};
        }""")
    assert colours["n"] == colours["code"] == colours["w"], colours
    assert colours["keyword"] != colours["code"], colours  # the probe does see the theme's colours
    assert colours["leftover"] == 0, colours


LAYOUT_SHIFTS = """
window.__shifts = [];
new PerformanceObserver(list => {
  for (const e of list.getEntries()) {
    if (e.hadRecentInput) continue;
    const node = (e.sources || []).map(s => s.node && (s.node.parentElement || s.node)).find(Boolean);
    window.__shifts.push({value: e.value, node: node ? node.outerHTML.slice(0, 120) : null});
  }
}).observe({type: "layout-shift", buffered: true});
"""


def test_nothing_moves_while_a_page_loads_on_a_phone(browser, site):
    """No layout shift after the first paint (Lighthouse's CLS), with a phone's screen and a
    reader who has ticked progress: progress.js, the tooltips and the formulas only fill in
    what the built page already has room for."""
    context = real_address_context(browser, site.online, viewport={"width": 412, "height": 823},
                                   device_scale_factor=1.75, is_mobile=True, has_touch=True)
    context.add_init_script(LAYOUT_SHIFTS)
    page = context.new_page()
    # a phone's slower CPU (Lighthouse's mobile setting): scripts then run after the first paint,
    # where anything they move counts; on this machine's full speed they would run before it
    context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 4})
    page.goto(SITE_URL)
    page.evaluate("""localStorage.setItem("llm-roadmap-progress", JSON.stringify({version: 1,
      done: {"notebook:04-lora-finetuning": true}, totals: {"03-applications": 6}}))""")
    shifts = {}
    for path in PAGES + ["stages/01-getting-started/"]:
        page.goto(SITE_URL + path, wait_until="load")
        page.wait_for_timeout(2500)  # Material mounts its components and progress.js runs after load
        found = page.evaluate("window.__shifts")
        if sum(s["value"] for s in found) > 0.01:
            shifts[path or "home"] = found
    context.close()
    assert not shifts, shifts
