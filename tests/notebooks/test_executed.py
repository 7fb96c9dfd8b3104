"""The executed notebooks: within budget, and with clean outputs."""

import re

import nbformat
import pytest

from tools import notebook_meta
from tools.notebook_runner import executed_path

NOTEBOOKS = notebook_meta.sources()
NOISE = re.compile(r"Glyph \d+ .*missing from (current )?font|\d+%\|[█▉▊▋▌▍▎▏ ]+\||Warning|warn\(", re.I)


@pytest.fixture(scope="module")
def executed(site):  # the site fixture executes every notebook
    return {p.stem: nbformat.read(executed_path(notebook_meta.load(p)), as_version=4) for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_within_time_budget(executed, path):
    """The budget on 2 cores is in the notebook's metadata (llm_roadmap.budget_seconds)."""
    budget = notebook_meta.load(path).budget_seconds
    info = executed[path.stem].metadata["run_info"]
    assert info["wall_seconds"] <= budget, (f"{path.name} took {info['wall_seconds']} s, over its budget of "
                                            f"{budget} s: make it faster or raise budget_seconds")


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


def _text_outputs(nb) -> str:
    """Everything the notebook printed or displayed as text/plain, in order."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_bert_meets_the_offline_targets(executed):
    """Issue 5: at least 0.82 test accuracy on a held-out set of at least 400 rows."""
    text = _text_outputs(executed["03-bert-chinese-sentiment"])
    accuracy, support = re.search(r"^\s*accuracy\s+([0-9.]+)\s+(\d+)$", text, re.M).groups()
    assert float(accuracy) >= 0.82 and int(support) >= 400, (accuracy, support)
    baseline = re.search(r"TF-IDF \+ 逻辑回归（同样 \d+ 条，C=\S+）\s+([0-9.]+)", text)
    assert baseline, "the baseline on the same split is shown"


def test_lora_shows_the_comparison_and_round_trip(executed):
    """Issue 6: the LoRA vs full fine-tuning table, and save/merge/reload giving the same outputs."""
    text = _text_outputs(executed["04-lora-finetuning"])
    assert text.count("allclose = True") == 3 and "allclose = False" not in text
    assert "生成的回答相同： True" in text
    assert re.search(r"\(a\) 初始化时输出与原层相同： True", text)
    assert "(d) 与 peft 的输出一致： True" in text
    table = next(o.data["text/html"] for c in executed["04-lora-finetuning"].cells for o in c.get("outputs", [])
                 if "text/html" in o.get("data", {}) and "全量微调" in o.data["text/html"])
    for row in ("可训练参数", "每步用时", "训练峰值内存增量", "梯度 + 优化器状态", "保存的文件", "测试集损失", "格式合规率"):
        assert row in table, row
    ratio = float(re.search(r"全量微调是 LoRA 的：可训练参数 (\d+) 倍", text).group(1))
    assert ratio > 50  # LoRA r=8 trains under 1% of Gemma 3 270M
