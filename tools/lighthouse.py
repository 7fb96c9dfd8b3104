"""Lighthouse (mobile) on the built site: a benchmark, not a test.  `make lighthouse`.

    python -m tools.lighthouse SITE_DIR

Installs the npm package lighthouse (pinned below) into build/lighthouse/ once, serves
SITE_DIR on 127.0.0.1 and runs it with Debian's Chromium (CHROME_PATH) on the home page,
a stage page, a notebook page and the glossary.  Prints one line per page with the four
category scores and writes build/lighthouse/<page>.json.  Served with a port, Material
turns instant navigation off; that changes nothing Lighthouse measures on a first load.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "build" / "lighthouse"
VERSION = "12.2.3"  # Lighthouse 13 needs Node 22; the machines have Node 20
PAGES = {"home": "", "stage-03": "stages/03-applications/",
         "notebook-04": "notebooks/04-lora-finetuning/", "glossary": "glossary/"}
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
                "--disable-background-networking --disable-component-update --disable-sync")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def ensure_lighthouse() -> Path:
    binary = TOOL / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        TOOL.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "-E", f"lighthouse@{VERSION}"],
                       cwd=TOOL, check=True)
    return binary


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        sys.exit(__doc__)
    site = Path(argv[0]).resolve()
    binary = ensure_lighthouse()
    chrome = shutil.which("chromium") or "/usr/bin/chromium"
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    print(f"{'page':12s} " + " ".join(f"{c:>15s}" for c in CATEGORIES))
    for name, path in PAGES.items():
        report = TOOL / f"{name}.json"
        subprocess.run([str(binary), base + path, "--quiet", "--output=json", f"--output-path={report}",
                        "--form-factor=mobile", f"--chrome-flags={CHROME_FLAGS}"],
                       env={**os.environ, "CHROME_PATH": chrome}, check=True)
        scores = json.loads(report.read_text(encoding="utf-8"))["categories"]
        print(f"{name:12s} " + " ".join(f"{round(scores[c]['score'] * 100):>15d}" for c in CATEGORIES))
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
