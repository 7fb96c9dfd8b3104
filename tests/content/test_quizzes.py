"""The multiple-choice self-checks on the stage pages are well formed (docs/assets/javascripts/quiz.js):
each has a question, at least three options, exactly one right one, and an explanation."""

import re

import pytest

from tests.content.pages import STAGES

QUIZ = re.compile(r'^<div class="quiz" markdown>\n(.*?)^</div>', re.M | re.S)
OPTION = re.compile(r"^- \[([ x])\] \S", re.M)


def quizzes(page):
    return [m[1] for m in QUIZ.finditer(page.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("page", STAGES, ids=lambda p: p.stem)
def test_each_stage_has_quizzes_in_its_self_check(page):
    text = page.read_text(encoding="utf-8")
    found = quizzes(page)
    assert len(found) >= 3, f"{page.name}: {len(found)} multiple-choice questions"
    section = text[text.index("## 阶段评估"):text.index("\n## ", text.index("## 阶段评估") + 1)]
    assert all(q in section for q in found), "quizzes belong in 「阶段评估」"


@pytest.mark.parametrize("page", STAGES, ids=lambda p: p.stem)
def test_each_quiz_has_one_right_option_and_an_explanation(page):
    for n, quiz in enumerate(quizzes(page), 1):
        marks = OPTION.findall(quiz)
        assert len(marks) >= 3 and marks.count("x") == 1, f"{page.name} quiz {n}: options {marks}"
        assert re.search(r"^\*\*.+\*\*$", quiz, re.M), f"{page.name} quiz {n}: no bold question line"
        assert re.search(r"^解析：\S", quiz, re.M), f"{page.name} quiz {n}: no 「解析：」 paragraph"
