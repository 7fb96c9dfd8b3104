"""The evaluation set written for the retrieval-augmented-generation notebook (issue 17),
notebooks/data/rag_eval.jsonl: at least 50 Chinese questions about this site, each naming the
page section(s) that answer it.  Every named section must exist in the page as it is now, so a
renamed or removed heading fails here rather than silently turning right answers into misses."""
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "notebooks" / "data" / "rag_eval.jsonl"
KINDS = {"keyword", "paraphrase", "vague"}
FENCE = re.compile(r"^ *(```|~~~)")
HEADING = re.compile(r"^(#{2,6}) +(.+?) *$")


def rows():
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def headings(page):
    """The headings of a docs page below its title, outside code blocks (as the notebook reads them)."""
    found, in_code = [], False
    for line in (ROOT / "docs" / page).read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            in_code = not in_code
        elif not in_code and (m := HEADING.match(line)):
            found.append(m.group(2))
    return found


def test_the_set_is_well_formed():
    items = rows()
    assert len(items) >= 50, len(items)
    assert len({q["id"] for q in items}) == len(items)
    assert {q["kind"] for q in items} == KINDS
    for q in items:
        assert q["question"].endswith("？") and re.search(r"[\u4e00-\u9fff]", q["question"]), q
        assert 1 <= len(q["sections"]) <= 2 and q["answer"].strip(), q
    # every kind well represented, no question asked twice
    assert min(Counter(q["kind"] for q in items).values()) >= 8
    assert len({q["question"] for q in items}) == len(items)


def test_every_named_section_exists_in_its_page():
    missing = []
    for q in rows():
        for ref in q["sections"]:
            page = ROOT / "docs" / ref["page"]
            if not page.is_file() or headings(ref["page"]).count(ref["heading"]) != 1:
                missing.append((q["id"], ref["page"], ref["heading"]))
    assert not missing, f"sections that are not (exactly once) in their page: {missing}"


def test_the_questions_cover_every_page_of_the_knowledge_base():
    pages = Counter(ref["page"] for q in rows() for ref in q["sections"])
    assert set(pages) == {"stages/01-getting-started.md", "stages/02-foundations.md", "stages/03-applications.md",
                          "stages/04-advanced.md", "stages/05-frontier.md", "faq.md", "concepts.md"}, pages
    assert min(pages.values()) >= 4, pages


def test_the_check_fails_on_a_renamed_heading(tmp_path, monkeypatch):
    """The existence check is not vacuous: a page whose heading was renamed is caught."""
    q = rows()[0]
    ref = q["sections"][0]
    text = (ROOT / "docs" / ref["page"]).read_text(encoding="utf-8")
    renamed = tmp_path / "docs" / ref["page"]
    renamed.parent.mkdir(parents=True)
    renamed.write_text(text.replace(f" {ref['heading']}\n", f" {ref['heading']}（改名）\n", 1), encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert ref["heading"] not in headings(ref["page"])
