"""Build both variants of the site strictly, as the deploy workflow does.

    python -m tools.build_site OUT

1. `tools.prebuild`: convert the offline models, execute the notebooks whose
   inputs changed, write the generated files (glossary, tooltips, notebook pages);
2. `mkdocs build --strict` twice, which only renders files:

OUT/            the hosted site, with OUT/downloads/llm-roadmap-offline.zip
OUT-offline/    the offline variant (works from file://), zipped into the above

One build at a time per checkout (a lock in .cache/): two builds would write
the same generated files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tools import glossary, offline_models, prebuild  # noqa: E402
from tools.notebook_meta import NotebookError  # noqa: E402
from tools.user_cache import file_lock  # noqa: E402

ZIP_NAME = "llm-roadmap-offline"


class BuildError(RuntimeError):
    pass


def mkdocs_build(config: str, out: Path, root: Path = ROOT, env: dict | None = None) -> str:
    """Build strictly (any warning fails); return the log, raise BuildError with it."""
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean",
           "-f", str(root / config), "-d", str(out)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})}
    proc = subprocess.run(cmd, cwd=root, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise BuildError(f"mkdocs build -f {config} failed:\n{proc.stdout}")
    return proc.stdout


def relative_404(offline: Path) -> None:
    """MkDocs writes 404.html with root-absolute URLs (/llm-roadmap/...) so that a server can
    show it at any depth; opened from the offline folder they point nowhere.  It sits at the
    top of the folder, so ./ is the same place."""
    page = offline / "404.html"
    text = page.read_text(encoding="utf-8")
    base = re.search(r'"base":\s*"([^"]+)"', text)
    if base and base[1].startswith("/"):
        text = text.replace(f'="{base[1]}', '="./').replace(f'"base": "{base[1]}"', '"base": "."')
        page.write_text(text, encoding="utf-8")


def build(out: Path, log=print) -> tuple[Path, Path]:
    out = out.resolve()
    offline = out.with_name(out.name + "-offline")
    with file_lock(ROOT / ".cache" / "build.lock", log=log):
        try:
            prebuild.prebuild(execute=True, log=log)
        except (prebuild.BuildError, NotebookError, glossary.GlossaryError, offline_models.ModelError) as exc:
            raise BuildError(str(exc)) from exc
        log(mkdocs_build("mkdocs-offline.yml", offline))
        relative_404(offline)
        log(mkdocs_build("mkdocs.yml", out))
    downloads = out / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    # The zip unpacks to one folder, llm-roadmap-offline/, holding index.html.
    staging = out.parent / f".{ZIP_NAME}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(offline, staging / ZIP_NAME)
    shutil.make_archive(str(downloads / ZIP_NAME), "zip", staging)
    shutil.rmtree(staging)
    return out, offline


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        site, offline = build(Path(sys.argv[1]))
    except BuildError as exc:
        sys.exit(f"ERROR: {exc}")
    print(f"built {site} and {offline}")
