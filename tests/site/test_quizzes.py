"""The multiple-choice self-checks answer back (docs/assets/javascripts/quiz.js), on the hosted
site at its real address and in the offline build over file://."""

import re

from playwright.sync_api import expect

from tests.site.conftest import SITE_URL, real_address_context


def answer_first_quiz(page):
    quiz = page.locator(".quiz[data-quiz-ready]").first
    explanation = quiz.locator("p", has_text=re.compile("^解析"))
    expect(explanation).to_be_hidden()  # the answer waits until the reader has chosen
    options = quiz.locator(".quiz-option")
    rights = [options.nth(i).evaluate("b => b.parentElement.dataset.right") for i in range(options.count())]
    assert rights.count("true") == 1, rights
    wrong, right = rights.index("false"), rights.index("true")
    options.nth(wrong).click()
    expect(quiz.locator(".quiz-feedback")).to_have_text(re.compile("不对"))
    expect(explanation).to_be_visible()
    expect(quiz.locator("li.quiz-right")).to_have_count(1)  # the right option is shown
    expect(quiz.locator("li.quiz-wrong")).to_have_count(1)
    options.nth(right).click()
    expect(quiz.locator(".quiz-feedback")).to_have_text(re.compile("答对了"))
    expect(quiz.locator("li.quiz-wrong")).to_have_count(0)
    expect(options.nth(right)).to_have_attribute("aria-pressed", "true")


def test_quiz_answers_back_on_every_stage_page(browser, site):
    context = real_address_context(browser, site.online)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    for stem in ["01-getting-started", "02-foundations", "03-applications", "04-advanced", "05-frontier"]:
        page.goto(SITE_URL + f"stages/{stem}/")
        answer_first_quiz(page)
    context.close()
    assert not errors, errors


def test_quiz_answers_back_over_file_urls(page, site):
    page.goto((site.offline / "stages" / "03-applications.html").as_uri())
    answer_first_quiz(page)
    assert not page.errors, page.errors
