"""Learning progress (docs/assets/javascripts/progress.js) as a reader uses it: tick stage
goals and notebooks, reload, see it in the navigation and on the home page, export it and
import it in a fresh browser; the same over file:// in the offline build."""

import json
import re

from playwright.sync_api import expect

from tests.site.conftest import PHONE, SITE_URL, real_address_context
from tests.site.html import soup

STAGE = "stages/01-getting-started/"
NOTEBOOK = "notebooks/04-lora-finetuning/"


def goals_in(html_file) -> int:
    heading = soup(html_file).find(id="学习目标")
    return len(heading.find_next_sibling("ul").find_all("li", recursive=False))


def nav_badge(page, href_part):
    return page.locator(f".md-nav--primary a.md-nav__link[href*='{href_part}'] .progress-badge").first


def test_ticks_survive_a_reload_and_show_in_navigation_and_on_the_home_page(browser, site, tmp_path):
    goals = goals_in(site.online / STAGE / "index.html")
    context = real_address_context(browser, site.online, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(SITE_URL + STAGE)
    boxes = page.locator("#学习目标 ~ ul .progress-check")
    expect(boxes).to_have_count(goals)
    boxes.nth(0).check()
    boxes.nth(2).check()
    page.reload()
    expect(boxes.nth(0)).to_be_checked()
    expect(boxes.nth(1)).not_to_be_checked()
    expect(boxes.nth(2)).to_be_checked()
    expect(nav_badge(page, "01-getting-started")).to_have_text(f"2/{goals}")

    # a notebook, reached by instant navigation: its tick appears without a reload
    page.evaluate("window.__notReloaded = true")
    page.locator("a.md-tabs__link", has_text="动手实践").first.click()
    page.locator("article a[href*='04-lora-finetuning']").first.click()
    expect(page).to_have_url(SITE_URL + NOTEBOOK)
    assert page.evaluate("window.__notReloaded === true"), "instant navigation is off"
    page.get_by_label("我已完成这个 notebook").check()
    expect(nav_badge(page, "04-lora-finetuning")).to_have_text("✓")
    # the page's own entry on a phone (the label that opens its table of contents) has it too; its table of
    # contents does not (after instant navigation its links are absolute: every section got a ✓)
    expect(page.locator(".md-nav--primary label.md-nav__link[for='__toc'] .progress-badge")).to_have_text("✓")
    in_toc = page.evaluate("""() => [...document.querySelectorAll(".md-nav--primary .progress-badge")]
      .map(badge => badge.closest("a, label")).filter(l => l.tagName === "A" && new URL(l.href).hash)
      .map(l => l.textContent.trim())""")
    assert not in_toc, in_toc

    page.goto(SITE_URL)
    card = page.locator(".roadmap-stage a[href*='01-getting-started'] .progress-badge")
    expect(card).to_have_text(f"2/{goals}")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出进度").click()
    exported = tmp_path / "progress.json"
    download.value.save_as(exported)
    data = json.loads(exported.read_text(encoding="utf-8"))
    assert data["version"] == 1 and len(data["done"]) == 3 and "notebook:04-lora-finetuning" in data["done"]
    assert data["totals"]["01-getting-started"] == goals
    context.close()

    # another browser: nothing ticked until the file is imported
    fresh = real_address_context(browser, site.online)
    page = fresh.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(SITE_URL)
    assert page.locator(".progress-badge").count() == 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "done": {"x": "yes"}}', encoding="utf-8")
    page.locator("[data-progress-import]").set_input_files(bad)
    expect(page.locator(".progress-status")).to_have_text(re.compile("没有导入"))
    page.locator("[data-progress-import]").set_input_files(exported)
    expect(page.locator(".progress-status")).to_have_text("已导入 3 项进度。")
    expect(page.locator(".roadmap-stage a[href*='01-getting-started'] .progress-badge")).to_have_text(f"2/{goals}")
    page.goto(SITE_URL + STAGE)
    expect(page.locator("#学习目标 ~ ul .progress-check").nth(2)).to_be_checked()
    fresh.close()
    assert not errors, errors


def test_progress_works_over_file_urls(page, site):
    stage = site.offline / "stages" / "02-foundations.html"
    page.goto(stage.as_uri())
    boxes = page.locator("#学习目标 ~ ul .progress-check")
    expect(boxes).to_have_count(goals_in(stage))
    boxes.last.check()
    page.reload()
    expect(boxes.last).to_be_checked()
    page.goto((site.offline / "index.html").as_uri())
    expect(page.locator(".roadmap-stage a[href*='02-foundations'] .progress-badge")).to_have_text(
        f"1/{goals_in(stage)}")
    assert not page.errors, page.errors


def test_every_notebook_can_be_ticked_and_shows_in_the_navigation(browser, site):
    """Each notebook page, hosted and offline (notebooks 10–12 once had a box that stayed disabled)."""
    from tools import notebook_meta

    stems = [path.stem for path in notebook_meta.sources()]
    assert len(stems) >= 12
    for context, url_of in [(real_address_context(browser, site.online), lambda stem: SITE_URL + f"notebooks/{stem}/"),
                            (browser.new_context(), lambda stem: (site.offline / "notebooks" / f"{stem}.html").as_uri())]:
        page = context.new_page()
        for stem in stems:
            page.goto(url_of(stem))
            page.get_by_label("我已完成这个 notebook").check()
            expect(nav_badge(page, stem)).to_have_text("✓")
        context.close()


def test_a_mark_in_the_phone_drawer_sits_on_its_titles_first_line(browser, site):
    """In the phone's drawer the current page's entry also holds the icon of its table of contents;
    the ✓ went into the title and wrapped under it.  Now it is an item of the entry's row, on the first line."""
    done = {"version": 1, "done": {"notebook:07-tokens-decoding-kv-cache": True, "notebook:09-agent-tool-calling": True}}
    context = real_address_context(browser, site.online, **PHONE)
    context.add_init_script(f"localStorage.setItem('llm-roadmap-progress', {json.dumps(json.dumps(done))})")
    page = context.new_page()
    page.goto(SITE_URL + "notebooks/07-tokens-decoding-kv-cache/", wait_until="networkidle")
    page.locator("label.md-header__button[for='__drawer']").click()
    for entry in (".md-nav--primary label.md-nav__link[for='__toc']",  # this page: title, ✓, icon
                  ".md-nav--primary a.md-nav__link[href*='09-agent-tool-calling']"):  # a long title on 3 lines
        badge = page.locator(f"{entry} .progress-badge")
        expect(badge).to_be_visible()
        first_line, mark = page.evaluate("""([entry]) => {
          const title = entry.querySelector(".md-ellipsis"), badge = entry.querySelector(".progress-badge");
          return [title.getClientRects()[0].toJSON(), badge.getBoundingClientRect().toJSON()];
        }""", [page.locator(entry).element_handle()])
        assert mark["top"] < first_line["bottom"] and mark["bottom"] > first_line["top"], (entry, first_line, mark)
        assert mark["left"] >= first_line["right"] - 1, "beside the title, not over it"
    context.close()
