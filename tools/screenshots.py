"""Screenshots of the built site on a phone (390 px wide), for review: `make screenshots`.

    python -m tools.screenshots SITE_DIR [OUT_DIR]

Serves SITE_DIR at the site's real address (request interception, as the browser tests
do) in Debian's headless Chromium and writes full-page PNGs of the home page, a stage
page, a notebook page and the glossary, light and dark, to OUT_DIR (build/screenshots).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"home": "", "stage-02": "stages/02-foundations/",
         "notebook-01": "notebooks/01-neural-network-from-scratch/", "glossary": "glossary/"}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        sys.exit(__doc__)
    site, out = Path(argv[0]).resolve(), Path(argv[1] if len(argv) > 1 else ROOT / "build" / "screenshots")
    from playwright.sync_api import sync_playwright

    from tools.real_address import ARGS, CHROMIUM, PHONE, SITE_URL, real_address_context

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for scheme in ("light", "dark"):
            context = real_address_context(browser, site, **PHONE, color_scheme=scheme)
            page = context.new_page()
            for name, path in PAGES.items():
                page.goto(SITE_URL + path, wait_until="networkidle")
                height = page.evaluate("document.body.scrollHeight")
                for y in range(0, height, 600):  # formulas, diagrams and figures load near the screen
                    page.evaluate(f"window.scrollTo(0, {y})")
                    page.wait_for_timeout(60)
                page.evaluate("window.scrollTo(0, 0)")
                page.wait_for_timeout(500)
                target = out / f"{name}-{scheme}.png"
                page.screenshot(path=str(target), full_page=True)
                print(target)
            context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
