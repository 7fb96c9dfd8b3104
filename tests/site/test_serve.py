"""`make serve` (tools/serve.py) on a copy of the project: it never executes a notebook,
and while a build is broken it keeps serving the last good build with the error shown."""

import socket
import subprocess
import sys
import time
import urllib.request

import nbformat



def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode("utf-8")


def wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("timed out")


def test_serve_survives_a_broken_build_and_executes_nothing(project, tmp_path):
    path = project / "notebooks" / "01-neural-network-from-scratch.ipynb"
    nb = nbformat.read(path, as_version=4)
    next(c for c in nb.cells if c.cell_type == "code").source += "\n# 改过的代码：这个 notebook 过期了"
    nbformat.write(nb, path)
    port = free_port()
    log = open(tmp_path / "serve.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "tools.serve", "--port", str(port)], cwd=project,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/llm-roadmap/"
    try:
        wait_for(lambda: "built in" in (tmp_path / "serve.log").read_text())
        status, body = fetch(base + "faq/")
        assert status == 200 and "构建失败" not in body
        _, page = fetch(base + "notebooks/01-neural-network-from-scratch/")
        assert "输出是旧的" in page

        with open(project / "docs" / "faq.md", "a", encoding="utf-8") as f:
            f.write('\n--8<-- "no-such-snippet.md"\n')
        wait_for(lambda: "构建失败" in fetch(base + "faq/")[1])
        status, body = fetch(base + "glossary/")   # still answering, with the last good pages
        assert status == 200 and "术语表" in body and "no-such-snippet.md" in body

        text = (project / "docs" / "faq.md").read_text(encoding="utf-8")
        (project / "docs" / "faq.md").write_text(text.replace('--8<-- "no-such-snippet.md"\n', ""), encoding="utf-8")
        wait_for(lambda: "构建失败" not in fetch(base + "faq/")[1])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    output = (tmp_path / "serve.log").read_text()
    assert "01-neural-network-from-scratch.ipynb: stale" in output and "executing" not in output
