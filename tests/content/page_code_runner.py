"""Run one page's Python blocks in order, in one namespace, as a reader pasting them into a
notebook would; report what each printed.  Used by tests/content/test_code_blocks.py.

    python -m tests.content.page_code_runner RESULTS.json < blocks.json

Input: [{"code": ..., "setup": name or null}, ...].  Output: [{"stdout": ..., "error": ...}, ...];
after the first error the remaining blocks are not run (they would fail for the wrong reason).

A block that needs something the page leaves to the reader names it in a comment before
the block, `<!-- page-code: setup NAME -->`; SETUPS below provides it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback
from pathlib import Path


def csv_files(namespace: dict) -> None:
    """train.csv and test.csv with a text column, as the reader's own data would be."""
    rows = ["text,label", "物流很快，包装完好,1", "质量太差，不会再买,0", "客服回复及时,1"]
    Path("train.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    Path("test.csv").write_text("\n".join(rows[:2]) + "\n", encoding="utf-8")


def model_dir(namespace: dict) -> None:
    """`model_dir`: the offline Gemma 3 270M folder that the notebooks use."""
    namespace["model_dir"] = os.environ["PAGE_CODE_MODEL_DIR"]


SETUPS = {"csv-files": csv_files, "model-dir": model_dir}


def run(blocks: list[dict]) -> list[dict]:
    namespace: dict = {"__name__": "__main__"}
    results = []
    for n, block in enumerate(blocks):
        out = io.StringIO()
        try:
            if block.get("setup"):
                SETUPS[block["setup"]](namespace)
            with contextlib.redirect_stdout(out):
                exec(compile(block["code"], f"<block {n}>", "exec"), namespace)
        except BaseException:  # noqa: BLE001  a reader would see this traceback
            results.append({"stdout": out.getvalue(), "error": traceback.format_exc(limit=-3)})
            break
        results.append({"stdout": out.getvalue(), "error": None})
    return results


if __name__ == "__main__":
    results = run(json.load(sys.stdin))
    Path(sys.argv[1]).write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")
