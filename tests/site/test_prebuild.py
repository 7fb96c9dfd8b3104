"""What re-executes and what does not, end to end on a copy of the project: a prose edit
shows up without executing anything; `--no-execute` (mkdocs serve) never executes and
says which notebooks are stale."""

import nbformat

from tests.site.test_bad_input import prebuild


def edit_first(path, kind, change):
    nb = nbformat.read(path, as_version=4)
    cell = [c for c in nb.cells if c.cell_type == kind][-1]
    cell.source = change(cell.source)
    nbformat.write(nb, path)


def test_prose_edit_rebuilds_the_page_without_executing(project):
    edit_first(project / "notebooks" / "04-lora-finetuning.ipynb", "markdown", lambda s: s + "\n\n新加的一句总结。")
    proc = prebuild(project)
    assert proc.returncode == 0, proc.stderr
    assert "executing" not in proc.stdout and "stale" not in proc.stdout
    page = (project / "docs" / "notebooks" / "04-lora-finetuning.md").read_text(encoding="utf-8")
    assert "新加的一句总结。" in page and "上实测" in page


def test_no_execute_shows_stale_notebooks_and_runs_nothing(project):
    edit_first(project / "notebooks" / "02-mini-transformer.ipynb", "code", lambda s: s + "\nprint('新的一行')")
    proc = prebuild(project, "--no-execute")
    assert proc.returncode == 0, proc.stderr
    assert "executing" not in proc.stdout
    assert "notebook 02-mini-transformer.ipynb: stale" in proc.stdout
    assert proc.stdout.count("stale") == 1, proc.stdout
    page = (project / "docs" / "notebooks" / "02-mini-transformer.md").read_text(encoding="utf-8")
    assert "输出是旧的" in page and "make notebooks" in page
