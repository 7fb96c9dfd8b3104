"""The tasks written for the agent notebook (notebooks/data/agent_tasks.jsonl): well formed, every tool
in the notebook's registry, every site fact really on its page section, every number recomputed with
the notebook's own calculator and converter."""
import json
from pathlib import Path

import pytest

from tests.notebook_import import load_exports

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "notebooks" / "data" / "agent_tasks.jsonl"
CHECKS = {"number", "contains", "today", "weekday", "days_until"}


@pytest.fixture(scope="module")
def nb():
    return load_exports("09-agent-tool-calling.ipynb")


def rows():
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_set_is_well_formed(nb):
    tasks = rows()
    assert len(tasks) >= 30 and len({t["id"] for t in tasks}) == len(tasks) and len({t["task"] for t in tasks}) == len(tasks)
    names = set(nb.make_registry(lambda query: []))
    for t in tasks:
        assert t["tools"] and set(t["tools"]) <= names, t
        assert t["check"]["kind"] in CHECKS, t
    kinds = [t["id"].split("-")[0] for t in tasks]
    assert {k: kinds.count(k) >= 4 for k in ("calc", "unit", "date", "site", "multi")} == dict.fromkeys(("calc", "unit", "date", "site", "multi"), True)


def test_every_site_fact_is_in_the_section_that_answers_it(nb):
    for t in rows():
        if "search_site" not in t["tools"]:
            continue
        ref = t["source"]
        sections = nb.read_page(ref["page"], (ROOT / "docs" / ref["page"]).read_text(encoding="utf-8"))
        texts = [s.text for s in sections if s.heading == ref["heading"]]
        assert len(texts) == 1, (t["id"], ref)
        assert ref["fact"] in texts[0], (t["id"], ref["fact"])
        if t["check"]["kind"] == "contains":
            assert any(word in texts[0] for word in t["check"]["any"]), t["id"]


RECOMPUTE = {  # id → how the notebook's own tools compute the expected number
    "calc-01": lambda nb: nb.calculate("17 × 23"), "calc-02": lambda nb: nb.calculate("(125 + 375) / 4"),
    "calc-03": lambda nb: nb.calculate("3 + 4 * 5"), "calc-04": lambda nb: nb.calculate("2 ** 10"),
    "calc-05": lambda nb: nb.calculate("12.5 * 0.8 + 3.75"), "calc-06": lambda nb: nb.calculate("320 * 85%"),
    "calc-07": lambda nb: nb.calculate("200 * 15%"), "calc-08": lambda nb: nb.calculate("(18 - 3) * (7 + 5) / 6"),
    "calc-09": lambda nb: nb.calculate("1000 * (1 + 3%) ** 2"), "calc-10": lambda nb: nb.calculate("100 % 8"),
    "calc-11": lambda nb: nb.calculate("-7 + 3 * (2 - 9)"),
    "unit-01": lambda nb: nb.convert(5, "km", "mile"), "unit-02": lambda nb: nb.convert(3, "kg", "斤"),
    "unit-03": lambda nb: nb.convert(150, "磅", "kg"), "unit-04": lambda nb: nb.convert(25, "C", "F"),
    "unit-05": lambda nb: nb.convert(98.6, "F", "C"), "unit-06": lambda nb: nb.convert(10, "m", "feet"),
    "unit-07": lambda nb: nb.convert(2, "mile", "m"),
    "site-04": lambda nb: 60, "site-06": lambda nb: nb.calculate("65536 / (4096 * 4096) * 100"),
    "multi-01": lambda nb: nb.convert(12, "斤", "kg") * 8.5, "multi-02": lambda nb: nb.convert(10, "km", "mile") * 3,
    "multi-03": lambda nb: nb.convert(38.5, "C", "F") - 98.6, "multi-04": lambda nb: 42.195 - nb.convert(5, "mile", "km"),
    "multi-05": lambda nb: nb.convert(10, "磅", "斤") * 3, "multi-06": lambda nb: nb.calculate("8 * (4096 + 4096) * 32"),
}


def test_every_number_is_recomputed_by_the_notebooks_tools(nb):
    numbers = [t for t in rows() if t["check"]["kind"] == "number"]
    assert {t["id"] for t in numbers} == set(RECOMPUTE)
    for t in numbers:
        assert nb.check_answer(nb.format_number(round(RECOMPUTE[t["id"]](nb), 6)), t["check"]), t["id"]


def test_the_search_tool_finds_each_answering_section_from_the_task_itself(nb):
    sections = [s for page in nb.PAGES for s in nb.read_page(page, (ROOT / "docs" / page).read_text(encoding="utf-8"))]
    search = nb.SiteSearch(sections)
    missed = []
    for t in rows():
        if "search_site" in t["tools"]:
            found = [(s.page, s.heading) for s in search.top(t["task"])]
            if (t["source"]["page"], t["source"]["heading"]) not in found:
                missed.append(t["id"])
    assert not missed, f"the answering section is not in the top 3 for {missed}"
