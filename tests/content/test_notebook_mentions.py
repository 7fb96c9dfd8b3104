"""Pages that list notebooks by hand list the right ones: the home page's roadmap and table name each
stage's notebooks (from the notebooks' own `stages` metadata), and the notebooks index names the
notebooks that download a model on Colab, Kaggle or ModelScope (tools/notebook_platforms.ONLINE_MODELS)."""

from __future__ import annotations

import re

import pytest

from tests.content.pages import DOCS, text
from tools import notebook_meta
from tools.notebook_platforms import ONLINE_MODELS

NOTEBOOKS = notebook_meta.load_all()
STAGE_STEMS = sorted(notebook_meta.stage_names())
NOTEBOOK_LINK = re.compile(r"\(notebooks/(\d\d)-[^)]*\.md\)")


def numbers(listing: str) -> set[int]:
    """Notebook numbers of a Chinese listing: "03、04、05 和 07～11" -> {3, 4, 5, 7, 8, 9, 10, 11}."""
    found: set[int] = set()
    for first, last in re.findall(r"(\d\d)(?:～(\d\d))?", listing):
        found.update(range(int(first), int(last or first) + 1))
    return found


def stage_notebooks(stage: str) -> set[int]:
    return {int(nb.stem[:2]) for nb in NOTEBOOKS if stage in nb.stages}


def home_page_parts(stage: str) -> dict[str, str]:
    """The roadmap box and the table row of `stage` on the home page."""
    home = text("index.md")
    boxes = [box for box in home.split('<div class="roadmap-stage"')[1:] if f"(stages/{stage}.md)" in box.split("\n")[1]]
    rows = [line for line in home.splitlines() if line.startswith(f"| [") and f"](stages/{stage}.md) |" in line]
    assert len(boxes) == 1 and len(rows) == 1, f"index.md: {len(boxes)} roadmap boxes, {len(rows)} table rows for {stage}"
    return {"roadmap": boxes[0].split("</div>")[0], "table": rows[0].split(" | ")[-1]}


@pytest.mark.parametrize("stage", STAGE_STEMS)
def test_the_home_page_lists_each_stages_notebooks(stage):
    for part, markdown in home_page_parts(stage).items():
        listed = {int(n) for n in NOTEBOOK_LINK.findall(markdown)}
        assert listed == stage_notebooks(stage), f"index.md, {part} of {stage}: lists {sorted(listed)}"


def sentences(markdown: str, marker: str) -> list[str]:
    return [s for s in re.split(r"[。\n]", markdown) if marker in s]


@pytest.mark.parametrize("marker", ["Colab、Kaggle 里默认从 Hugging Face Hub 下载", "设成 `\"modelscope\"`"])
def test_the_notebooks_index_names_the_notebooks_with_an_online_model(marker):
    found = sentences((DOCS / "notebooks" / "index.md").read_text(encoding="utf-8"), marker)
    assert found, f"docs/notebooks/index.md has no sentence with {marker!r}"
    online = {int(stem[:2]) for stem in ONLINE_MODELS}
    for sentence in found:
        assert numbers(sentence) == online, sentence


def test_the_listing_parser_reads_ranges_and_can_fail():
    assert numbers("运行 03、04、05 和 07～11，") == {3, 4, 5, 7, 8, 9, 10, 11}
    assert numbers("03、04、05、07 和 08") != {3, 4, 5, 7, 8, 9, 10, 11}
