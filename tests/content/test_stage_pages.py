"""Every stage page has the same skeleton, and enough self-check questions with answers."""

import re

import pytest

from tests.content.pages import SKELETON, STAGES, h2_sections

ANSWER = re.compile(r'^\?\?\?\+? success "参考答案"', re.M)


def test_five_stages():
    assert [p.stem for p in STAGES] == ["01-getting-started", "02-foundations", "03-applications",
                                        "04-advanced", "05-frontier"]


@pytest.mark.parametrize("page", STAGES, ids=lambda p: p.stem)
def test_skeleton_sections_in_order(page):
    headings = list(h2_sections(page.read_text(encoding="utf-8")))
    assert [h for h in headings if h in SKELETON] == SKELETON, headings


@pytest.mark.parametrize("page", STAGES, ids=lambda p: p.stem)
def test_at_least_five_self_check_questions_with_answers(page):
    assessment = h2_sections(page.read_text(encoding="utf-8"))["阶段评估"]
    answers = ANSWER.findall(assessment)
    assert len(answers) >= 5, f"{page.name}: {len(answers)} answers"
    # Every answer block has a body (indented text under it).
    bodies = re.findall(r'^\?\?\?\+? success "参考答案"\n((?: {4}.*\n|\n)+)', assessment, re.M)
    assert len(bodies) == len(answers) and all(b.strip() for b in bodies)


@pytest.mark.parametrize("page", STAGES, ids=lambda p: p.stem)
def test_sections_are_not_empty(page):
    sections = h2_sections(page.read_text(encoding="utf-8"))
    for name in SKELETON:
        assert len(sections[name].strip()) > 80, f"{page.name}: section {name} is thin"


def test_the_skeleton_check_can_fail():
    broken = "## 学习目标\n\n## 核心知识\n\n## 阶段评估\n\n1. 问题？\n"
    assert list(h2_sections(broken)) != SKELETON
