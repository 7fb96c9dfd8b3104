"""Python on the pages runs, and every output a page shows is what its code prints.

Each page's Python blocks run in order in one namespace (tests/content/page_code_runner.py),
with no network: the API examples talk to an OpenAI-compatible stand-in
(tests/openai_standin.py), the Hub examples to the Hub stand-in serving the offline models.
A block followed by a one-line sentence ending in 「：」 and a ```text block shows its output:
that text must be exactly what the block prints, and a version named in the sentence
(「在 PyTorch 2.13 上的输出：」) must be the pinned one.  A block that prints anything else must
say why its output is not shown.  Markers, an HTML comment on the line before a block:

    <!-- page-code: setup NAME -->          run after page_code_runner.SETUPS[NAME]
    <!-- page-code: output-varies REASON --> prints something a page cannot fix (a model's answer)
    <!-- page-code: file NAME -->           not run in the page: a file of its own (tested below)
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.content import page_code_runner
from tests.content.pages import DOCS, source_pages
from tools.user_cache import cache_root, kept_json

FENCE = re.compile(r"^( *)```(\w*)[^\n]*\n(.*?)^\1```[ \t]*$", re.M | re.S)
MARKER = re.compile(r"<!-- page-code: (setup|output-varies|file) (.+?) -->")
VERSION = re.compile(r"在 (scikit-learn|PyTorch|transformers|NumPy|pandas|peft) ([\d.]+) 上")
PACKAGE = {"scikit-learn": "scikit-learn", "PyTorch": "torch", "transformers": "transformers",
           "NumPy": "numpy", "pandas": "pandas", "peft": "peft"}


def dedent(code: str, indent: int) -> str:
    return "\n".join(line[indent:] for line in code.splitlines()) + "\n"


@dataclass
class Block:
    page: Path
    index: int
    code: str
    marker: tuple[str, str] | None
    intro: str | None       # the sentence before the output block
    expected: str | None    # the output block's text
    following: str | None   # the code of the next fence (e.g. how to run a file)


def page_blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    fences = list(FENCE.finditer(text))
    blocks = []
    for i, fence in enumerate(fences):
        if fence[2] != "python":
            continue
        before = text[fences[i - 1].end() if i else 0:fence.start()].strip().splitlines()
        marker = MARKER.fullmatch(before[-1].strip()) if before else None
        intro = expected = following = None
        if i + 1 < len(fences):
            nxt = fences[i + 1]
            following = dedent(nxt[3], len(nxt[1]))
            gap = text[fence.end():nxt.start()].strip()
            if nxt[2] == "text" and "\n" not in gap and gap.endswith("："):
                intro, expected = gap, following
        blocks.append(Block(page, len(blocks), dedent(fence[3], len(fence[1])),
                            marker.groups() if marker else None, intro, expected, following))
    return blocks


BLOCKS = [b for page in source_pages() for b in page_blocks(page)]
PAGES_WITH_CODE = sorted({b.page for b in BLOCKS})


def block_id(b: Block) -> str:
    return f"{b.page.relative_to(DOCS)}#{b.index}"


@pytest.mark.parametrize("block", BLOCKS, ids=block_id)
def test_python_block_compiles(block):
    compile(block.code, block_id(block), "exec")


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.marker], ids=block_id)
def test_markers_name_what_exists(block):
    kind, arg = block.marker
    if kind == "setup":
        assert arg in page_code_runner.SETUPS, f"unknown setup {arg!r}; known: {sorted(page_code_runner.SETUPS)}"
    elif kind == "output-varies":
        assert len(arg) >= 4, "say why the output is not shown"
    else:
        assert arg in FILE_TESTS, f"no test runs the file {arg!r}"


VERSIONED = [b for b in BLOCKS if b.intro and VERSION.search(b.intro)]  # 「在 PyTorch 2.13 上的输出：」


@pytest.mark.parametrize("block", VERSIONED, ids=block_id)
def test_version_named_above_an_output_is_the_pinned_one(block):
    name, version = VERSION.search(block.intro).groups()
    installed = importlib.metadata.version(PACKAGE[name])
    assert installed == version or installed.startswith(version + "."), (block.intro, installed)


def test_the_parser_sees_outputs_and_markers():
    """It can fail: the pages do show outputs, some naming a version, and a marker is read."""
    assert sum(b.expected is not None for b in BLOCKS) >= 8
    assert len(VERSIONED) >= 4, [b.intro for b in BLOCKS if b.intro]
    assert any(b.marker and b.marker[0] == "file" for b in BLOCKS)


# --- running the pages ------------------------------------------------------------------


@pytest.fixture(scope="module")
def models():
    """The offline models, served by the Hub stand-in under the names the pages use."""
    from tools import offline_models

    return offline_models.ensure_all(names=["gemma", "e5"])


def run_inputs(blocks: list[dict]) -> str:
    """A key for one run of a page's blocks: what they run, what runs them, with which packages and models
    (the page's expected outputs are not in it: they are compared with the kept run every time)."""
    converters = ROOT / "tools" / "offline_models"
    here = Path(__file__).parent
    files = [here / "page_code_runner.py", Path(__file__), ROOT / "tests" / "hub_standin.py",
             ROOT / "tests" / "openai_standin.py", ROOT / "tests" / "notebooks" / "online.py",
             *(converters / f"{name}.py" for name in ("__init__", "gemma", "e5"))]
    packages = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    blob = json.dumps([blocks, sys.version, packages, [f.read_text(encoding="utf-8") for f in files]])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def run_page(page: Path, models: dict[str, Path], tmp_path: Path) -> list[dict]:
    """Each block's stdout and error, from a run with the same inputs on this machine if one was kept
    (the user cache, like the executed notebooks: a page's code takes up to 50 s), else from a new run."""
    blocks = [{"code": b.code, "setup": b.marker[1] if b.marker and b.marker[0] == "setup" else None}
              for b in page_blocks(page) if not (b.marker and b.marker[0] == "file")]
    return kept_json(cache_root() / "page-code-runs" / f"{page.stem}.{run_inputs(blocks)}.json",
                     lambda: run_blocks(blocks, models, tmp_path),
                     worth_keeping=lambda results: not any(result["error"] for result in results))


def run_blocks(blocks: list[dict], models: dict[str, Path], tmp_path: Path) -> list[dict]:
    from tests.hub_standin import HubStandIn
    from tests.notebooks.online import learner_env
    from tests.openai_standin import OpenAIStandIn

    repos = {"google/gemma-3-270m": models["gemma"], "intfloat/multilingual-e5-small": models["e5"]}
    with HubStandIn({"model": repos}) as hub, OpenAIStandIn() as api:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))},
               **learner_env(tmp_path, hub), "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg",
               "LLM_API_KEY": "sk-test", "LLM_BASE_URL": api.url, "LLM_MODEL": "standin-model",
               "PAGE_CODE_MODEL_DIR": str(models["gemma"])}
        work = tmp_path / "work"
        work.mkdir()
        results = tmp_path / "results.json"
        proc = subprocess.run([sys.executable, "-m", "tests.content.page_code_runner", str(results)],
                              input=json.dumps(blocks), text=True, capture_output=True, cwd=work, env=env,
                              timeout=600)
        assert hub.unknown == [], hub.unknown
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(results.read_text(encoding="utf-8"))


def lines(text: str) -> str:
    """Output as a page can show it: no trailing spaces (editors strip them)."""
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_code_runs_and_prints_what_the_page_shows(page, models, tmp_path):
    blocks = [b for b in page_blocks(page) if not (b.marker and b.marker[0] == "file")]
    results = run_page(page, models, tmp_path)
    problems = []
    for block, result in zip(blocks, results):
        where = f"{block_id(block)} (line 1: {block.code.splitlines()[0]!r})"
        if result["error"]:
            problems.append(f"{where} fails:\n{result['error']}")
            break
        printed = lines(result["stdout"])
        if block.expected is not None:
            if printed != lines(block.expected):
                problems.append(f"{where} prints\n{printed}\nbut the page shows\n{lines(block.expected)}")
        elif printed and not (block.marker and block.marker[0] == "output-varies"):
            problems.append(f"{where} prints\n{printed}\nand the page does not show it: add the output "
                            "(「输出：」 and a ```text block) or an output-varies marker")
    assert len(results) == len(blocks) or problems, "the runner stopped early"
    assert not problems, "\n\n".join(problems)


# --- files a page asks the reader to save and run ---------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def serve_app_py(block: Block, model: Path, tmp_path: Path):
    """Start the page's app.py the way the page says (uvicorn app:app), on a free port."""
    (tmp_path / "app.py").write_text(block.code, encoding="utf-8")
    assert "uvicorn app:app --host 127.0.0.1 --port 8000" in block.following, block.following
    port = free_port()
    env = {**os.environ, "MODEL_DIR": str(model), "HF_HUB_OFFLINE": "1", "NO_PROXY": "127.0.0.1"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read()[-3000:]
        try:
            with urllib.request.urlopen(base + "/health", timeout=5) as response:
                assert json.loads(response.read()) == {"status": "ok"}
                return server, base
        except (urllib.error.URLError, ConnectionError):
            time.sleep(1)
    server.kill()
    raise AssertionError("app.py did not answer /health within 3 minutes")


def check_app_py(block: Block, gemma: Path, tmp_path: Path) -> None:
    server, base = serve_app_py(block, gemma, tmp_path)
    try:
        payload = json.loads(re.search(r"-d '(.*?)'", block.following, re.S)[1])  # the page's curl request
        status, body = post(base + "/generate", payload)
        assert status == 200 and body["text"].strip(), (status, body)
        assert post(base + "/generate", {"prompt": ""})[0] == 422  # validated by the request model
        assert post(base + "/generate", {"prompt": "你好", "max_new_tokens": 100000})[0] == 422
    finally:
        server.terminate()
        server.wait(timeout=30)


FILE_TESTS = {"app.py": check_app_py}


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in BLOCKS if b.marker and b.marker[0] == "file"], ids=block_id)
def test_files_on_the_pages_run_as_the_page_says(block, models, tmp_path):
    FILE_TESTS[block.marker[1]](block, models["gemma"], tmp_path)
