"""Execute the notebooks in notebooks/ for real, with a content-keyed cache.

This module knows nothing about the site generator: it turns clean source
notebooks into executed copies (outputs + run info in the notebook metadata)
that any renderer can show.  The MkDocs hook in tools/hooks.py only calls
`execute_all()`.

    python -m tools.notebook_runner            # execute what changed
    python -m tools.notebook_runner --force    # execute everything

Cache key: the notebook's bytes, requirements.txt, the data files under
notebooks/data/, the offline-model converters and this file.  Any change
re-runs the notebook.  Before the first notebook runs, the offline models
are converted (tools/offline_models, cached on disk).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tools import offline_models  # noqa: E402
NOTEBOOK_DIR = ROOT / "notebooks"
CACHE_DIR = ROOT / ".cache" / "executed"
CELL_TIMEOUT_S = 900

# Environment of the kernel: never reach a model hub, keep outputs free of
# progress bars.  Notebooks read USE_HF_HUB ("auto" in Colab) to pick a path.
KERNEL_ENV = {
    "USE_HF_HUB": "0",
    "LLM_ROADMAP_MODELS": str(offline_models.MODELS_DIR),
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TQDM_DISABLE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYTHONHASHSEED": "0",
}

# Run inside the kernel after the last cell, then removed from the notebook.
_PROBE = """
import json as _j, os as _o, platform as _p, resource as _r, sys as _s
# Peak memory of this kernel.  On Linux read VmHWM: ru_maxrss survives exec(), so it
# would report the runner's own size at the moment it started the kernel.
try:
    with open("/proc/self/status") as _f:
        _peak = next(int(_l.split()[1]) for _l in _f if _l.startswith("VmHWM:"))
except (OSError, StopIteration):
    _peak = _r.getrusage(_r.RUSAGE_SELF).ru_maxrss
_info = {"python": _p.python_version(), "cpus": _o.cpu_count(), "peak_rss_kb": _peak}
for _name in ("torch", "transformers", "peft", "numpy"):
    if _name in _s.modules:
        _info[_name] = _s.modules[_name].__version__
if "torch" in _s.modules and _s.modules["torch"].cuda.is_available():
    _info["gpu"] = _s.modules["torch"].cuda.get_device_name(0)
print(_j.dumps(_info))
"""


class NotebookError(RuntimeError):
    """A notebook is malformed or one of its cells failed."""


@dataclass
class Result:
    source: Path
    executed: Path
    cached: bool


def cache_key(notebook: Path) -> str:
    digest = hashlib.sha256()
    inputs = [notebook, ROOT / "requirements.txt", Path(__file__),
              *sorted((ROOT / "tools" / "offline_models").glob("*.py"))]
    data_dir = notebook.parent / "data"
    if data_dir.is_dir():
        inputs += sorted(p for p in data_dir.rglob("*") if p.is_file())
    for path in inputs:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:16]


def check_clean(nb: nbformat.NotebookNode, name: str) -> None:
    """Sources are committed without outputs and execution counts."""
    for index, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            raise NotebookError(
                f"{name}: cell {index} has committed outputs or an execution count. "
                f"Clear them before committing (e.g. `jupyter nbconvert --clear-output --inplace {name}`)."
            )


def load_source(path: Path) -> nbformat.NotebookNode:
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several unrelated types
        raise NotebookError(f"{path.name}: not a valid notebook: {exc}") from exc
    check_clean(nb, path.name)
    return nb


def execute(path: Path, out_path: Path) -> None:
    nb = load_source(path)
    env = {**os.environ, **KERNEL_ENV}
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.monotonic()
    with client.setup_kernel(env=env):
        for index, cell in enumerate(nb.cells):
            try:
                client.execute_cell(cell, index)
            except (CellExecutionError, CellTimeoutError) as exc:
                raise NotebookError(
                    f"{path.name}: cell {index + 1} failed "
                    f"(notebook stops here; fix it and rebuild):\n{exc}"
                ) from exc
        wall_s = time.monotonic() - started
        probe = nbformat.v4.new_code_cell(_PROBE)
        nb.cells.append(probe)
        client.execute_cell(probe, len(nb.cells) - 1)
        nb.cells.pop()
    stdout = "".join(o.get("text", "") for o in probe.outputs if o.get("name") == "stdout")
    info = json.loads(stdout.strip().splitlines()[-1])
    info.update(wall_seconds=round(wall_s, 1), date=dt.date.today().isoformat())
    nb.metadata["run_info"] = info
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".tmp")
    nbformat.write(nb, tmp)
    tmp.replace(out_path)


def executed_path(source: Path) -> Path:
    return CACHE_DIR / f"{source.stem}.{cache_key(source)}.ipynb"


def execute_all(force: bool = False, notebook_dir: Path = NOTEBOOK_DIR,
                log=print, cached_only: bool = False) -> list[Result]:
    results = []
    models_ready = False
    for source in sorted(notebook_dir.glob("*.ipynb")):
        target = executed_path(source)
        if target.exists() and not force:
            load_source(source)  # still refuse committed outputs
            results.append(Result(source, target, cached=True))
            continue
        if cached_only:
            log(f"skipping {source.name}: not executed yet")
            continue
        if not models_ready:
            offline_models.ensure_all(log=log)
            models_ready = True
        log(f"executing {source.name} ...")
        execute(source, target)
        info = nbformat.read(target, as_version=4).metadata["run_info"]
        log(f"executed {source.name} in {info['wall_seconds']} s")
        for stale in CACHE_DIR.glob(f"{source.stem}.*.ipynb"):
            if stale != target:
                stale.unlink()
        results.append(Result(source, target, cached=False))
    return results


def describe_run(info: dict) -> str:
    """The run-info line shown on each notebook page, in Chinese."""
    minutes, seconds = divmod(round(info["wall_seconds"]), 60)
    duration = f"{minutes} 分 {seconds} 秒" if minutes else f"{seconds} 秒"
    peak_gb = info["peak_rss_kb"] / 1024 / 1024
    peak = f"{peak_gb:.1f} GB" if peak_gb >= 1 else f"{peak_gb * 1024:.0f} MB"
    device = f"GPU（{info['gpu']}）" if info.get("gpu") else f"{info['cpus']} 核 CPU"
    versions = [f"Python {info['python']}"] + [
        f"{name} {info[name]}" for name in ("torch", "transformers", "peft") if name in info
    ]
    return (f"在 {device} 上实测：{duration}，峰值内存 {peak} · "
            + " · ".join(versions) + f" · 验证于 {info['date']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="ignore the cache")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOK_DIR)
    args = parser.parse_args(argv)
    try:
        for result in execute_all(args.force, args.notebooks):
            info = nbformat.read(result.executed, as_version=4).metadata["run_info"]
            state = "cached" if result.cached else "ran"
            print(f"{result.source.name}: {state} · {describe_run(info)}")
    except NotebookError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
