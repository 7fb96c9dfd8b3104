"""Accessibility with axe-core (the copy bundled by the axe-playwright-python package) on every
page of the hosted site, light and dark: no serious or critical violations."""

import re
from importlib.resources import files

import pytest

from tests.site.conftest import SITE_URL, real_address_context
from tests.site.html import html_files

AXE = str(files("axe_playwright_python") / "axe.min.js")
RUN = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => `${v.id} (${v.impact}) x${v.nodes.length}: ${v.nodes[0].html.slice(0, 120)}`)"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_or_critical_violations(browser, site, scheme):
    context = real_address_context(browser, site.online, color_scheme=scheme)
    page = context.new_page()
    found = {}
    for path in html_files(site.online):
        rel = path.relative_to(site.online).as_posix()
        if rel == "404.html" or "downloads" in path.parts:
            continue
        page.goto(SITE_URL + re.sub(r"index\.html$", "", rel), wait_until="networkidle")
        page.add_script_tag(path=AXE)
        violations = page.evaluate(RUN)
        if violations:
            found[rel] = violations
    context.close()
    assert not found, found


def test_axe_sees_a_violation(browser, site):
    """The check can fail: a button without a name is reported."""
    context = real_address_context(browser, site.online)
    page = context.new_page()
    page.goto(SITE_URL, wait_until="networkidle")
    page.evaluate("""() => { const b = document.createElement("button");
                            document.querySelector("article").appendChild(b); }""")
    page.add_script_tag(path=AXE)
    assert any(v.startswith("button-name") for v in page.evaluate(RUN))
    context.close()
