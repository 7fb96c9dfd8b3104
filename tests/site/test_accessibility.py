"""Accessibility with axe-core (the copy bundled by the axe-playwright-python package) on every
page of the hosted site, light and dark: no serious or critical violations.

Code blocks are most of a notebook page's elements (9,000 of 10,000 on notebook 09: one span per
highlighted token), and axe's colour-contrast check costs a few milliseconds an element.  Before axe
runs, a token span whose colour, font and background are those of an earlier one is unwrapped (its
text stays, in its code block): axe then checks each distinct look of a token once per page, the
same verdict it gives every copy, in a third of the time."""

import re
from importlib.resources import files

import pytest

from tests.site.conftest import PHONE, SITE_URL, real_address_context
from tests.site.html import html_files

AXE = str(files("axe_playwright_python") / "axe.min.js")
# target-size (WCAG 2.2's 24 px, or that much space around a smaller target) is off in axe by default.
RUN = """async (rules) => (await axe.run(document, {resultTypes: ["violations"], ...(rules || {})})).violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => `${v.id} (${v.impact}) x${v.nodes.length}: ${v.nodes[0].html.slice(0, 120)}`)"""
# Read every token's look first, then unwrap: reading styles after each change would restyle the page each time.
UNWRAP_SAME_LOOKING_TOKENS = """() => {
  const background = el => {
    for (let up = el; up; up = up.parentElement) {
      const colour = getComputedStyle(up).backgroundColor;
      if (colour !== "rgba(0, 0, 0, 0)" && colour !== "transparent") return colour;
    }
    return "";
  };
  const seen = new Set(), same = [];
  for (const token of document.querySelectorAll(".highlight code span")) {
    const s = getComputedStyle(token);
    const look = [s.color, s.opacity, s.fontSize, s.fontWeight, s.textShadow, background(token),
                  token.checkVisibility()].join("|");
    if (seen.has(look)) same.push(token); else seen.add(look);
  }
  same.forEach(token => token.replaceWith(...token.childNodes));
  return same.length;
}"""


# On a phone only (test_targets_are_large_enough_to_tap_on_a_phone): the narrowest layout is where
# targets crowd, and the check costs about a second a page.
TARGET_SIZE = {"runOnly": ["target-size"]}


def violations(page, rules=None):
    page.evaluate(UNWRAP_SAME_LOOKING_TOKENS)
    page.add_script_tag(path=AXE)
    return page.evaluate(RUN, rules)


def visit_every_page(page, site):
    """Open each page of the hosted site at its real address (not the 404 page, not the downloads); yield its path."""
    for path in html_files(site.online):
        rel = path.relative_to(site.online).as_posix()
        if rel == "404.html" or "downloads" in path.parts:
            continue
        page.goto(SITE_URL + re.sub(r"index\.html$", "", rel), wait_until="networkidle")
        yield rel


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_or_critical_violations(browser, site, scheme):
    context = real_address_context(browser, site.online, color_scheme=scheme)
    page = context.new_page()
    found = {rel: problems for rel in visit_every_page(page, site) if (problems := violations(page))}
    context.close()
    assert not found, found


def test_targets_are_large_enough_to_tap_on_a_phone(browser, site):
    """On a phone (the test above uses a desktop window), every control is 24 px or has that much
    room around it (WCAG 2.5.8): the Colab and Kaggle badges, the progress checkboxes, the
    glossary's letters, the drawer's entries.  Links inside text are exempt, as WCAG says."""
    context = real_address_context(browser, site.online, **PHONE)
    page = context.new_page()
    found = {rel: problems for rel in visit_every_page(page, site) if (problems := violations(page, TARGET_SIZE))}
    context.close()
    assert not found, found


def test_axe_sees_a_violation(browser, site):
    """The check can fail: a button without a name is reported."""
    context = real_address_context(browser, site.online)
    page = context.new_page()
    page.goto(SITE_URL, wait_until="networkidle")
    page.evaluate("""() => { const b = document.createElement("button");
                            document.querySelector("article").appendChild(b); }""")
    assert any(v.startswith("button-name") for v in violations(page))
    # two small buttons side by side: neither is 24 px nor has 24 px of room
    page.evaluate("""() => { const p = document.createElement("p");
      p.innerHTML = '<button style="width:10px;height:10px;padding:0">a</button><button style="width:10px;height:10px;padding:0">b</button>';
      document.querySelector("article").appendChild(p); }""")
    assert any(v.startswith("target-size") for v in violations(page, TARGET_SIZE))
    context.close()


@pytest.mark.parametrize("which", ["every", "last"])
def test_a_faint_code_token_is_reported_wherever_it_is(browser, site, which):
    """Unwrapping same-looking tokens keeps one of each look: a faint colour on every token of a
    kind, or on the last token of the page only (a look of its own), is still found."""
    context = real_address_context(browser, site.online)
    page = context.new_page()
    page.goto(SITE_URL + "notebooks/09-agent-tool-calling/", wait_until="networkidle")
    page.evaluate("""(which) => {
      const tokens = [...document.querySelectorAll(".highlight code span.k")];
      (which === "every" ? tokens : tokens.slice(-1)).forEach(t => { t.style.color = "#dddddd"; });
    }""", which)
    assert any(v.startswith("color-contrast") for v in violations(page))
    context.close()
