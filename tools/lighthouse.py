"""Lighthouse (mobile) on the built site: a benchmark, not a test.  `make lighthouse`.

    python -m tools.lighthouse SITE_DIR [--runs N] [PAGE ...]

Installs the npm package lighthouse (pinned below) into build/lighthouse/ once, serves
SITE_DIR on 127.0.0.1 the way GitHub Pages serves it (gzip for text, `Cache-Control:
max-age=600`; Python's plain file server sends neither) and runs it with Debian's Chromium (CHROME_PATH) on the home page,
a stage page, a notebook page and the glossary.  Prints one line per page with the four
category scores, the median of N runs (default 3: single runs of the performance score
vary by ±5 on a shared machine), and writes build/lighthouse/<page>-<run>.json.  Served with a port, Material
turns instant navigation off; that changes nothing Lighthouse measures on a first load.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import io
import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
from pathlib import Path

from tools.real_address import ARGS, CHROMIUM

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "build" / "lighthouse"
VERSION = "12.2.3"  # Lighthouse 13 needs Node 22; the machines have Node 20
PAGES = {"home": "", "stage-03": "stages/03-applications/",
         "notebook-04": "notebooks/04-lora-finetuning/", "glossary": "glossary/"}
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
CHROME_FLAGS = " ".join(["--headless=new", *ARGS])  # the browser tests' flags

COMPRESSED = (".html", ".css", ".js", ".json", ".xml", ".svg", ".txt", ".map")


class PagesLikeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with GitHub Pages' gzip and cache headers, so the figures are what readers get."""

    def log_message(self, *args):
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "max-age=600")
        super().end_headers()

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        # a directory asked for without its slash gets the parent class's redirect
        if not (path.suffix in COMPRESSED and path.is_file()
                and "gzip" in self.headers.get("Accept-Encoding", "")
                and self.path.split("?")[0].endswith(("/", path.suffix))):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def ensure_lighthouse() -> Path:
    binary = TOOL / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        TOOL.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "-E", f"lighthouse@{VERSION}"],
                       cwd=TOOL, check=True)
    return binary


def run(binary: Path, url: str, report: Path) -> dict:
    subprocess.run([str(binary), url, "--quiet", "--output=json", f"--output-path={report}",
                    "--form-factor=mobile", f"--chrome-flags={CHROME_FLAGS}"],
                   env={**os.environ, "CHROME_PATH": CHROMIUM}, check=True)
    report_json = json.loads(report.read_text(encoding="utf-8"))
    scores = {c: round(report_json["categories"][c]["score"] * 100) for c in CATEGORIES}
    scores["TBT ms"] = round(report_json["audits"]["total-blocking-time"]["numericValue"])
    scores["FCP ms"] = round(report_json["audits"]["first-contentful-paint"]["numericValue"])
    return scores


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("pages", nargs="*", metavar="PAGE", help=f"some of {', '.join(PAGES)} (default: all)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_intermixed_args(argv)
    if unknown := set(args.pages) - set(PAGES):
        parser.error(f"unknown page(s): {', '.join(sorted(unknown))}")
    binary = ensure_lighthouse()
    handler = functools.partial(PagesLikeHandler, directory=str(args.site.resolve()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    columns = [*CATEGORIES, "TBT ms", "FCP ms"]
    print(f"{'page':12s} " + " ".join(f"{c:>14s}" for c in columns), flush=True)
    for name in args.pages or PAGES:
        runs = [run(binary, base + PAGES[name], TOOL / f"{name}-{i}.json") for i in range(args.runs)]
        median = {c: statistics.median_low(sorted(r[c] for r in runs)) for c in columns}
        print(f"{name:12s} " + " ".join(f"{median[c]:>14d}" for c in columns), flush=True)
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
