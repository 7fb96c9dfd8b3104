"""Preview the site while writing: `make serve` (http://127.0.0.1:8000/).

Unlike `mkdocs serve`, which stops answering while a build is broken, this
always serves the last good build.  When a rebuild fails, every page shows the
error at the top (and the terminal prints it) until the next good build.  It
never executes notebooks: `python -m tools.prebuild --no-execute` renders their
last executed copies and says which are stale (`make notebooks` executes them).

    python -m tools.serve [--port 8000]

It polls docs/, includes/, notebooks/, overrides/ and the configuration once a
second and rebuilds after a change; open pages reload themselves after a build.
"""

from __future__ import annotations

import argparse
import html
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
WATCHED = ["docs", "includes", "notebooks", "overrides", "mkdocs.yml"]
OUT = ROOT / ".cache" / "serve"
RELOAD = """<script>
(function () {
  var seen = null;
  setInterval(function () {
    fetch("/__build__").then(function (r) { return r.text(); }).then(function (id) {
      if (seen === null) { seen = id; } else if (id !== seen) { location.reload(); }
    }).catch(function () {});
  }, 1000);
})();
</script>"""


class State:
    def __init__(self):
        self.site: Path | None = None   # the last good build
        self.error = ""                 # why the latest build failed ("" when it did not)
        self.build_id = "0"
        self.lock = threading.Lock()


def _snapshot() -> dict[str, int]:
    """mtimes of the sources (the notebook pages tools.prebuild writes into docs/notebooks/ excluded)."""
    generated = ROOT / "docs" / "notebooks"
    state = {}
    for name in WATCHED:
        path = ROOT / name
        for p in [path] if path.is_file() else path.rglob("*"):
            if p.is_file() and (generated not in p.parents or p == generated / "index.md"):
                state[str(p)] = p.stat().st_mtime_ns
    return state


def build(state: State, log=print) -> None:
    """prebuild (no execution) + mkdocs build into a new folder; swap it in only on success."""
    started = time.monotonic()
    target = OUT / f"site-{int(time.time() * 1000)}"
    steps = [[sys.executable, "-m", "tools.prebuild", "--no-execute"],
             [sys.executable, "-m", "mkdocs", "build", "--quiet", "-d", str(target)]]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    for cmd in steps:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, text=True, capture_output=True)
        output = (proc.stdout + proc.stderr).strip()
        if proc.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            with state.lock:
                state.error = output[-4000:]
                state.build_id = str(time.time())
            log(f"BUILD FAILED (still serving the last good build):\n{state.error}")
            return
        if output and cmd[2] == "tools.prebuild":
            # what a writer needs to see: notebooks whose outputs are old or missing (and, were
            # --no-execute ever ignored, an execution: tests/site/test_serve.py looks for it)
            log("\n".join(line for line in output.splitlines()
                           if any(word in line for word in ("stale", "never", "executing"))))
    with state.lock:
        old, state.site, state.error = state.site, target, ""
        state.build_id = str(time.time())
    if old:
        shutil.rmtree(old, ignore_errors=True)
    log(f"built in {time.monotonic() - started:.1f} s")


def handler_for(state: State, base_path: str):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            path = urlsplit(self.path).path
            if path == "/__build__":
                return self._send(state.build_id.encode(), "text/plain")
            if path == "/" and base_path != "/":
                self.send_response(302)
                self.send_header("Location", base_path)
                return self.end_headers()
            with state.lock:
                site, error = state.site, state.error
            if site is None:
                return self._send(self._error_page(error or "第一次构建还没有完成。"), "text/html")
            rel = path[len(base_path):] if path.startswith(base_path) else None
            target = site / rel if rel is not None else None
            if target is not None and (target.is_dir() or path.endswith("/")):
                target = target / "index.html"
            if target is None or not target.is_file():
                return self._send(b"not found", "text/plain", 404)
            body = target.read_bytes()
            if target.suffix == ".html":
                banner = self._banner(error) if error else ""
                body = body.replace(b"</body>", (banner + RELOAD).encode() + b"</body>", 1)
            return self._send(body, self.guess_type(str(target)))

        def _banner(self, error):
            return ('<div style="position:fixed;top:0;left:0;right:0;z-index:10;max-height:50vh;overflow:auto;'
                    'background:#b00020;color:#fff;padding:0.8em 1em;font:13px/1.5 monospace;white-space:pre-wrap">'
                    f'构建失败，下面显示的是上一次成功的构建。错误：\n{html.escape(error)}</div>')

        def _error_page(self, error):
            return f"<!doctype html><meta charset=utf-8><body>{self._banner(error)}{RELOAD}</body>".encode()

        def _send(self, body, content_type, status=200):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

    return Handler


def base_path() -> str:
    """The path part of site_url: the site is served under it, as on GitHub Pages."""
    from mkdocs.config import load_config

    return urlsplit(load_config(str(ROOT / "mkdocs.yml")).site_url or "/").path or "/"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress shows at once, also when piped
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    state, prefix = State(), base_path()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(state, prefix))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"serving http://127.0.0.1:{args.port}{prefix} (Ctrl+C to stop)")
    build(state)
    seen = _snapshot()
    try:
        while True:
            time.sleep(1)
            now = _snapshot()
            if now != seen:
                seen = now
                build(state)
                seen = _snapshot()  # the build itself may have touched watched files
    except KeyboardInterrupt:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
