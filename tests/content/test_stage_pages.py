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


CHINESE_NUMBERS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
STATED_COUNT = re.compile(r"准备了([一两二三四五六七八九十])个 notebook")
LISTED_NOTEBOOK = re.compile(r"^- \[[^\]]+\]\(\.\./notebooks/[^)#]+\.md\)", re.M)


def stated_and_listed(hands_on: str) -> tuple[int, int] | None:
    """The number of notebooks a 动手实践 section says it has, and the number its list links to."""
    stated = STATED_COUNT.search(hands_on)
    if stated is None:
        return None
    return CHINESE_NUMBERS[stated.group(1)], len(LISTED_NOTEBOOK.findall(hands_on))


@pytest.mark.parametrize("page", STAGES, ids=lambda p: p.stem)
def test_the_stated_number_of_notebooks_is_the_number_listed(page):
    counts = stated_and_listed(h2_sections(page.read_text(encoding="utf-8"))["动手实践"])
    if counts is not None:
        stated, listed = counts
        assert stated == listed, f"{page.name}: 动手实践 says {stated} notebooks and lists {listed}"


def test_the_stated_number_is_found_where_notebooks_are_listed():
    """The count test above checks nothing on a page where STATED_COUNT finds no sentence: a rewording
    must not turn it off.  The stages with a list of notebooks say how many; the others have no such list."""
    sections = {p.stem: h2_sections(p.read_text(encoding="utf-8"))["动手实践"] for p in STAGES}
    stating = {stem for stem, hands_on in sections.items() if stated_and_listed(hands_on)}
    assert stating == {"02-foundations", "03-applications"}
    assert {stem for stem, hands_on in sections.items() if LISTED_NOTEBOOK.search(hands_on)} == stating


def test_the_notebook_count_check_can_fail():
    section = "本站为这一阶段准备了两个 notebook：\n\n- [A](../notebooks/a.md)：……\n"
    assert stated_and_listed(section) == (2, 1)
