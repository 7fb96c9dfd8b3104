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

from tests.site.conftest import PHONE, SITE_URL, real_address_context

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


def load_trace(browser, page, url):
    """Chromium's timeline events of loading `url`, and the number of elements it ends with."""
    page.goto("about:blank")  # so that nothing the previous page does while unloading is counted
    browser.start_tracing(page=page, categories=["devtools.timeline"])
    page.goto(url, wait_until="load")
    page.wait_for_timeout(2500)  # Material mounts its components, formulas near the screen render
    events = json.loads(browser.stop_tracing())["traceEvents"]
    return events, page.evaluate("document.getElementsByTagName('*').length")


def full_restyles(events, elements):
    """Style recalculations that touched most of the page's elements."""
    return [e["args"]["elementCount"] for e in events
            if e.get("name") == "UpdateLayoutTree" and e["args"].get("elementCount", 0) > elements / 2]


def layouts(events):
    return [e for e in events if e.get("name") == "Layout" and e.get("ph") == "X"]


def during(events, name, outer):
    """The `name` events that happen inside any of the `outer` events."""
    spans = [(o["ts"], o["ts"] + o["dur"]) for o in outer]
    return [e for e in events if e.get("name") == name and any(a <= e["ts"] <= b for a, b in spans)]


@pytest.mark.parametrize("scheme", ["default", "slate"])
def test_a_page_load_restyles_the_page_at_most_twice(browser, site, scheme):
    with hosted_page(browser, site, scheme) as page:
        counts = {path or "home": full_restyles(*load_trace(browser, page, SITE_URL + path)) for path in PAGES}
    assert all(len(c) <= 2 for c in counts.values()), counts


def test_material_mounts_a_page_without_laying_it_out_again(browser, site):
    """Material mounts its components on DOMContentLoaded.  It used to put each code block's
    copy button in and then measure the block, one block after another: a layout per code
    block (47 on notebook 04).  Patched, the buttons go in once every block is measured."""
    with hosted_page(browser, site, "default") as page:
        counts, buttons = {}, {}
        for path in PAGES:
            events, _ = load_trace(browser, page, SITE_URL + path)
            mount = [e for e in events if e.get("name") == "EventDispatch" and e.get("ph") == "X"
                     and e["args"].get("data", {}).get("type") == "DOMContentLoaded"]
            counts[path or "home"] = (len(mount), len(during(events, "Layout", mount)))
            buttons[path or "home"] = page.evaluate("""() => [
              document.querySelectorAll("article pre:not(.mermaid) > code").length,
              document.querySelectorAll("article pre > .md-code__nav > button[data-md-type=copy]").length]""")
    assert all(dispatched and laid_out <= 2 for dispatched, laid_out in counts.values()), counts
    assert all(blocks == copy for blocks, copy in buttons.values()), buttons  # every code block has one
    assert buttons["notebooks/04-lora-finetuning/"][0] > 20, buttons


def test_formulas_do_not_make_the_browser_lay_out_the_page_again(browser, site):
    """KaTeX's stylesheet used to be appended when the first formula neared the screen; its
    @font-face rules made the browser lay out the whole page again after it had loaded (a
    long task on a phone).  It is in <head> now: rendering formulas lays out only them.
    Each page opens at a section full of formulas, so that they render while it loads."""
    with hosted_page(browser, site, "default") as page:
        relayouts = {}
        for path in ["stages/03-applications/#参数高效微调peft", "stages/04-advanced/#zero-与-fsdp"]:
            events, _ = load_trace(browser, page, SITE_URL + path)
            loaded = max(e["ts"] for e in events if e.get("name") == "MarkLoad")
            formulas = page.locator("article .arithmatex .katex").count()
            relayouts[path] = (formulas, [
                e["args"]["beginData"]["dirtyObjects"] for e in layouts(events)
                if e["ts"] > loaded and e["args"]["beginData"]["totalObjects"] > 1000
                and e["args"]["beginData"]["dirtyObjects"] > e["args"]["beginData"]["totalObjects"] / 2])
    assert all(formulas > 5 and not whole for formulas, whole in relayouts.values()), relayouts


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
    context = real_address_context(browser, site.online, **PHONE)
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
