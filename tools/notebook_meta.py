"""What each notebook says about itself, in its own metadata.

Every notebook in notebooks/ carries, under `metadata.llm_roadmap`:

    title           the page title and the link text on the notebooks index; the first cell's
                    heading is `# title` or `# title：subtitle`
    short_title     the shorter name pages may use for it instead of the title (optional;
                    tests/content/test_terms.py: a link to a notebook says its title, this short
                    title or 「notebook NN」)
    stages          the roadmap stages it belongs to: stems of docs/stages/*.md
    summary         one sentence for the index table ("你会做什么")
    budget_seconds  wall time on 2 CPU cores that a build may take (the build
                    stops a notebook at 3x this; the tests fail above 1x)
    models          offline-model converters it uses (tools/offline_models/<name>.py)
    packages        pip packages that ship its offline data or models
    data            its own data files, relative to notebooks/

Everything else (the notebooks index table, the budget test, the stage links,
the cache key, what the runner prepares) is derived from this.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
STAGE_DIR = ROOT / "docs" / "stages"
KEY = "llm_roadmap"
FIELDS = {"title": str, "short_title": str, "stages": list, "summary": str, "budget_seconds": int,
          "models": list, "packages": list, "data": list}
OPTIONAL = {"short_title", "models", "packages", "data"}
NAME = re.compile(r"^\d\d-[a-z0-9]+(?:-[a-z0-9]+)*\.ipynb$")


class NotebookError(RuntimeError):
    """A notebook is malformed, its metadata is incomplete, or one of its cells failed."""


@dataclass(frozen=True)
class Notebook:
    path: Path
    title: str
    stages: tuple[str, ...]
    summary: str
    budget_seconds: int
    models: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    data: tuple[str, ...] = ()
    short_title: str = ""
    nb: nbformat.NotebookNode = field(repr=False, compare=False, default=None)

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def number(self) -> str:
        """02 for 02-mini-transformer: how the pages refer to it (「notebook 02」)."""
        return self.stem[:2]

    @property
    def nav_title(self) -> str:
        """Its line in the navigation: 02 从零实现迷你 Transformer."""
        return f"{self.number} {self.title}"

    @property
    def limit_seconds(self) -> int:
        """The wall-clock limit of one execution: three times the budget."""
        return 3 * self.budget_seconds

    def data_files(self) -> list[Path]:
        return [self.path.parent / name for name in self.data]


def _where(path: Path) -> str:
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def read(path: Path) -> nbformat.NotebookNode:
    """Read a notebook; malformed JSON is reported with its line and column."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{_where(path)}: invalid JSON at line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg}") from exc
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several unrelated types
        raise NotebookError(f"{_where(path)}: not a valid notebook: {exc}") from exc
    return nb


def check_clean(nb: nbformat.NotebookNode, name: str) -> None:
    """Sources are committed without outputs and execution counts."""
    for index, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            raise NotebookError(
                f"{name}: cell {index} has committed outputs or an execution count. Clear them before "
                f"committing (Jupyter: Edit → Clear Outputs of All Cells, or "
                f"`python -m tools.notebook_runner --clear notebooks/{Path(name).name}`)."
            )


def stage_names() -> dict[str, str]:
    """Stage stem -> short Chinese name, from each stage page's title ("# 基础夯实：..." -> 基础夯实)."""
    names = {}
    for page in sorted(STAGE_DIR.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        if text.startswith("---\n"):  # front matter
            text = text.split("\n---\n", 1)[1]
        title = next(line for line in text.splitlines() if line.startswith("# "))
        names[page.stem] = title[2:].split("：")[0].strip()
    return names


def load(path: Path, stages: dict[str, str] | None = None) -> Notebook:
    """Read and check one notebook: valid, committed clean, with complete metadata."""
    path = Path(path)
    where = _where(path)
    if not NAME.match(path.name):
        raise NotebookError(f"{where}: name notebooks NN-lowercase-words.ipynb (e.g. 05-rag-basics.ipynb)")
    nb = read(path)
    check_clean(nb, where)
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        raise NotebookError(f"{where}: the kernel must be python3 (metadata.kernelspec.name)")
    meta = nb.metadata.get(KEY)
    if not isinstance(meta, dict):
        raise NotebookError(f"{where}: metadata.{KEY} is missing; it needs {', '.join(FIELDS)} "
                            "(see tools/notebook_meta.py and CONTRIBUTING.md)")
    problems = []
    for name, kind in FIELDS.items():
        if name not in meta:
            if name not in OPTIONAL:
                problems.append(f"{name} is missing")
            continue
        if not isinstance(meta[name], kind) or (kind is int and isinstance(meta[name], bool)):
            problems.append(f"{name} must be a {kind.__name__}")
    problems += [f"unknown field {name}" for name in sorted(set(meta) - set(FIELDS))]
    if not problems:
        stages = stage_names() if stages is None else stages
        problems += [f"stage {s!r} is not a page in docs/stages/ (one of {', '.join(stages)})"
                     for s in meta["stages"] if s not in stages]
        if not meta["stages"]:
            problems.append("stages is empty")
        if meta["budget_seconds"] <= 0:
            problems.append("budget_seconds must be positive")
        if "short_title" in meta and not 0 < len(meta["short_title"].strip()) < len(meta["title"]):
            problems.append("short_title must be shorter than the title (leave it out when there is none)")
        models_dir = ROOT / "tools" / "offline_models"
        problems += [f"model {m!r} has no converter tools/offline_models/{m}.py"
                     for m in meta.get("models", []) if not (models_dir / f"{m}.py").is_file()]
        problems += [f"data file {d!r} does not exist next to the notebook"
                     for d in meta.get("data", []) if not (path.parent / d).is_file()]
    if problems:
        raise NotebookError(f"{where}: metadata.{KEY}: " + "; ".join(problems))
    return Notebook(path=path, title=meta["title"], stages=tuple(meta["stages"]), summary=meta["summary"],
                    budget_seconds=meta["budget_seconds"], models=tuple(meta.get("models", [])),
                    packages=tuple(meta.get("packages", [])), data=tuple(meta.get("data", [])),
                    short_title=meta.get("short_title", ""), nb=nb)


def sources(notebook_dir: Path = NOTEBOOK_DIR) -> list[Path]:
    return sorted(Path(notebook_dir).glob("*.ipynb"))


def load_all(notebook_dir: Path = NOTEBOOK_DIR) -> list[Notebook]:
    stages = stage_names()
    return [load(path, stages) for path in sources(notebook_dir)]
