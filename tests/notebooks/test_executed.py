"""The executed notebooks: within budget, and with clean outputs."""

import re

import nbformat
import pytest

from tests.conftest import ROOT
from tools.notebook_runner import executed_path

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Wall-time budgets on 2 CPU cores, in seconds (from the issues).
BUDGET_S = {
    "01-neural-network-from-scratch": 60,
    "02-mini-transformer": 180,
    "03-bert-chinese-sentiment": 360,
    "04-lora-finetuning": 480,
}
NOISE = re.compile(r"Glyph \d+ .*missing from (current )?font|\d+%\|[█▉▊▋▌▍▎▏ ]+\||Warning|warn\(", re.I)


@pytest.fixture(scope="module")
def executed(site):  # the site fixture executes every notebook
    return {p.stem: nbformat.read(executed_path(p), as_version=4) for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_within_time_budget(executed, path):
    info = executed[path.stem].metadata["run_info"]
    assert path.stem in BUDGET_S, f"give {path.name} a time budget"
    assert info["wall_seconds"] <= BUDGET_S[path.stem], info


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_are_clean(executed, path):
    problems = []
    for index, cell in enumerate(executed[path.stem].cells, start=1):
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output.output_type == "stream" else ""
            if output.output_type == "error":
                problems.append(f"cell {index}: error output")
            if output.get("name") == "stderr" and text.strip():
                problems.append(f"cell {index}: stderr: {text[:200]}")
            if NOISE.search(text):
                problems.append(f"cell {index}: {NOISE.search(text)[0]}")
            if text.count("\n") > 60:
                problems.append(f"cell {index}: {text.count(chr(10))} lines of text output")
    assert not problems, "\n".join(problems)
