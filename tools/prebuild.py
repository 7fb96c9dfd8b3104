"""The one build step before any site generator: write plain generated files.

    python -m tools.prebuild               # convert models, execute changed notebooks, write everything
    python -m tools.prebuild --no-execute  # render the last executed copies, say which are stale (make serve)

What it writes (all gitignored, all marked as generated):

    generated/snippets/glossary-table.md     the glossary page's tables, by letter (docs/glossary.md includes it)
    generated/snippets/abbreviations.md      tooltips, appended to every page (pymdownx.snippets auto_append)
    generated/snippets/notebooks-table.md    the notebooks index table (docs/notebooks/index.md includes it)
    generated/snippets/notebooks-platforms.md  where each notebook runs (tools/notebook_platforms.py)
    generated/jieba_userdict.txt             the search dictionary: glossary terms + includes/jieba_extra_words.txt
    generated/glossary-search.json           one search entry per glossary term (the hook adds them to the index)
    docs/notebooks/<stem>.md, <stem>/        each executed notebook as a page, with its figures
    docs/notebooks/<stem>.ipynb              the clean source, for download
    docs/notebooks/notebooks.zip             every notebook with its data (downloads also work offline)

A site generator then only renders Markdown: see tools/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlparse

import nbformat

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tools import glossary, notebook_meta, notebook_platforms, notebook_render, notebook_runner, offline_models  # noqa: E402
from tools.notebook_meta import NotebookError  # noqa: E402

GENERATED = ROOT / "generated"
SNIPPETS = GENERATED / "snippets"
PAGES = ROOT / "docs" / "notebooks"
HAND_WRITTEN_PAGES = {"index.md"}  # the only tracked file in docs/notebooks/
REPO_URL = re.compile(r"^repo_url:\s*(https://github\.com/[^/\s]+/[^/\s]+?)/?\s*$", re.M)
BRANCH = re.compile(r"^\s*notebook_branch:\s*(\S+)", re.M)


class BuildError(RuntimeError):
    pass


def write(path: Path, content: str | bytes) -> bool:
    """Write atomically, and only when the content changed (mkdocs serve reloads on every write)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True


def repository() -> tuple[str, str]:
    """(repo URL, notebook branch), as mkdocs.yml names them."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    url, branch = REPO_URL.search(config), BRANCH.search(config)
    if not url:
        raise BuildError("mkdocs.yml: repo_url must be https://github.com/OWNER/NAME")
    return url[1], branch[1] if branch else "main"


def check_repository(running_in: str) -> None:
    """The deploy workflow's guard: it runs in the repository mkdocs.yml names (OWNER/NAME)."""
    url, _ = repository()
    if url.lower() != f"https://github.com/{running_in}".lower():
        raise BuildError(f"this workflow runs in {running_in}, but mkdocs.yml names {url}: the Colab badges, "
                         "edit links and notebook downloads would point there. Change repo_url in mkdocs.yml "
                         "(and the REPO, BRANCH lines the tests then name) to this repository.")


def colab_url(repo_url: str, branch: str, name: str) -> str:
    repo = urlparse(repo_url).path.strip("/")
    return f"https://colab.research.google.com/github/{repo}/blob/{branch}/notebooks/{name}"


def kaggle_url(repo_url: str, branch: str, name: str) -> str:
    """Kaggle imports a notebook from its GitHub address (Kaggle's "Open in Kaggle" link)."""
    return f"https://kaggle.com/kernels/welcome?src={repo_url}/blob/{branch}/notebooks/{name}"


def write_glossary_files(log=print) -> None:
    entries = glossary.load()
    write(SNIPPETS / "glossary-table.md", glossary.table(entries))
    write(SNIPPETS / "abbreviations.md", glossary.abbreviations(entries))
    write(GENERATED / "jieba_userdict.txt", glossary.jieba_dictionary(entries, glossary.extra_words()))
    write(GENERATED / "glossary-search.json", json.dumps(
        {"generated_by": "python -m tools.prebuild from includes/glossary/*.yml",
         "entries": glossary.search_entries(entries)}, ensure_ascii=False, indent=1) + "\n")
    log(f"glossary: {len(entries)} terms -> generated/snippets/, generated/jieba_userdict.txt, "
        "generated/glossary-search.json")


def notebooks_table(notebooks, stage_names) -> str:
    rows = ["| notebook | 所属阶段 | 你会做什么 |", "| --- | --- | --- |"]
    for nb in notebooks:
        stages = "、".join(f"[{stage_names[s]}](../stages/{s}.md)" for s in nb.stages)
        rows.append(f"| {nb.number} [{nb.title}]({nb.stem}.md) | {stages} | {nb.summary} |")
    without = [s for s in stage_names if not any(s in nb.stages for nb in notebooks)]
    if without:
        links = "、".join(f"[{stage_names[s]}](../stages/{s}.md)" for s in without)
        rows += ["", f"还没有 notebook 的阶段：{links}。这些阶段页面「动手实践」里的任务，"
                     "目前是留给你自己完成的项目。"]
    return "\n".join(rows) + "\n"


def _notice(result) -> str:
    if result.executed is None:
        return ('!!! warning "还没有执行过"\n\n    这一页只有代码，没有输出：运行 `make notebooks` 执行它。'
                "（只在本地预览时出现；正式构建会先执行每个 notebook。）")
    if result.stale:
        return ('!!! warning "输出是旧的"\n\n    这个 notebook 的代码或环境改过，下面是上一次执行的输出：'
                "运行 `make notebooks` 重新执行。（只在本地预览时出现。）")
    return ""


def write_notebook_pages(results, stage_names, log=print) -> dict:
    """Write each notebook's page; return {stem: run_info or None} of the copies shown."""
    repo_url, branch = repository()
    expected = set(HAND_WRITTEN_PAGES) | {"notebooks.zip"}
    run_infos = {}
    for result in results:
        notebook = result.notebook
        if result.executed is None:
            nb, info = notebook.nb, None
        else:
            executed = nbformat.read(result.executed, as_version=4)
            nb = executed if result.stale else notebook_render.merge(notebook.nb, executed, notebook.path.name)
            info = executed.metadata.get("run_info")
        run_infos[notebook.stem] = info
        run_info = notebook_runner.describe_run(info) if info else "尚未执行"
        markdown, figures = notebook_render.render(
            notebook, nb, colab_url=colab_url(repo_url, branch, notebook.path.name),
            kaggle_url=kaggle_url(repo_url, branch, notebook.path.name),
            stage_names=stage_names, run_info=run_info, notice=_notice(result))
        markdown = markdown.replace(
            "---\n", f"---\nedit_url: {repo_url}/blob/{branch}/notebooks/{notebook.path.name}\n", 1)
        write(PAGES / f"{notebook.stem}.md", markdown)
        write(PAGES / notebook.path.name, notebook.path.read_bytes())
        expected |= {f"{notebook.stem}.md", notebook.path.name, notebook.stem}
        for rel, data in figures.items():
            write(PAGES / rel, data)
        figure_dir = PAGES / notebook.stem
        if figure_dir.is_dir():  # figures of an older run
            for old in figure_dir.iterdir():
                if f"{notebook.stem}/{old.name}" not in figures:
                    old.unlink()
    for leftover in PAGES.iterdir():  # pages of deleted or renamed notebooks
        if leftover.name not in expected:
            log(f"removing {leftover.relative_to(ROOT)} (its notebook is gone)")
            if leftover.is_dir():
                for f in leftover.iterdir():
                    f.unlink()
                leftover.rmdir()
            else:
                leftover.unlink()
    return run_infos


ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed, so that an unchanged zip is byte-identical


def zip_name(path: Path) -> str:
    """A file's name in the zip: what notebooks/ holds at the top of llm-roadmap-notebooks/, the other
    files of the repository (the site's pages that notebooks 08 and 09 read) under their path from the
    repository's root.  The notebooks look for both there when they run in that folder; no name climbs
    out of the folder with ../ (extractors skip or refuse that)."""
    path = path.resolve()
    inside = path.relative_to(ROOT / "notebooks") if path.is_relative_to(ROOT / "notebooks") else path.relative_to(ROOT)
    return f"llm-roadmap-notebooks/{inside.as_posix()}"


def notebooks_zip(notebooks) -> bytes:
    """All notebooks, their data and the shared cells, under llm-roadmap-notebooks/."""
    import io
    import zipfile

    files = sorted({nb.path for nb in notebooks} | {f.resolve() for nb in notebooks for f in nb.data_files()}
                   | set((ROOT / "notebooks" / "shared").glob("*.py")))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(zip_name(path), ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def prebuild(execute: bool = True, force: bool = False, log=print) -> list:
    """Write every generated file; execute changed notebooks first when `execute`."""
    write_glossary_files(log=log)
    notebooks = notebook_meta.load_all()
    stage_names = notebook_meta.stage_names()
    write(SNIPPETS / "notebooks-table.md", notebooks_table(notebooks, stage_names))
    results = notebook_runner.execute_all(notebooks, force=force, execute_stale=execute, log=log)
    for result in results:
        if result.stale or result.executed is None:
            state = "never executed" if result.executed is None else "stale (shown with its last outputs)"
            log(f"notebook {result.notebook.path.name}: {state}; run `make notebooks` to execute it")
    run_infos = write_notebook_pages(results, stage_names, log=log)
    write(SNIPPETS / "notebooks-platforms.md", notebook_platforms.table(notebooks, run_infos))
    write(PAGES / "notebooks.zip", notebooks_zip(notebooks))
    log(f"notebooks: {len(results)} pages -> docs/notebooks/")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-execute", action="store_true",
                        help="render the last executed copies; execute nothing (for make serve)")
    parser.add_argument("--force", action="store_true", help="execute every notebook again")
    parser.add_argument("--check-repository", metavar="OWNER/NAME",
                        help="only check that mkdocs.yml names this repository (the deploy workflow)")
    args = parser.parse_args(argv)
    try:
        if args.check_repository:
            check_repository(args.check_repository)
            return 0
        prebuild(execute=not args.no_execute, force=args.force)
    except (BuildError, NotebookError, glossary.GlossaryError, offline_models.ModelError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
