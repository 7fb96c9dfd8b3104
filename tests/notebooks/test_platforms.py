"""The notebooks on Colab and Kaggle: installing what they ask for leaves the platform's own packages
alone, and they run with the platform's versions of the libraries.  See tests/notebooks/platforms.py
for how each platform is stood in for here (its published package list, its Python for resolving,
a virtual environment of its versions).
"""

import functools
import re

import nbformat
import pytest

from tests.notebooks import platforms
from tests.notebooks import online
from tests.notebooks.platforms import COLAB, PLATFORMS
from tools import notebook_meta, notebook_runner, offline_models
from tools.notebook_platforms import ONLINE_MODELS

NOTEBOOKS = notebook_meta.sources()
PIP_INSTALL = re.compile(r"^\s*[%!]pip install (.+)$", re.M)
# Replacing any of these in a running session breaks it (already imported, binary ABI).
PROTECTED = {"torch", "numpy", "pandas", "pyarrow", "huggingface-hub"}
ONLINE = list(ONLINE_MODELS)  # their default there: the Hub
by_name = pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.name)


# The platform a first cell's `if` line names: the cells install per platform what that one lacks.
MARKERS = {"Colab": "google.colab", "Kaggle": "KAGGLE_KERNEL_RUN_TYPE"}


def pip_specs(path, platform):
    """The package specs of every `%pip install` line the notebook runs on the platform: a line under an
    `if`/`elif` runs there when that condition names the platform's marker, a line under no `if` everywhere."""
    nb = nbformat.read(path, as_version=4)
    specs = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines = cell.source.splitlines()
        for i, line in enumerate(lines):
            match = PIP_INSTALL.match(line)
            if not match:
                continue
            indent = len(line) - len(line.lstrip())
            condition = next((up for up in reversed(lines[:i]) if up.strip()
                              and len(up) - len(up.lstrip()) < indent and up.lstrip().startswith(("if ", "elif "))),
                             None)
            if condition is None or MARKERS[platform.name] in condition:
                specs += [spec for spec in match.group(1).split() if not spec.startswith("-")]
    return specs


def test_pip_specs_follow_the_platform_guards(tmp_path):
    """A cell that installs one package on Colab only and another on both platforms."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'import os, sys\n'
        'if "google.colab" in sys.modules:\n    !pip install -q a==1 b==2\n'
        'elif "KAGGLE_KERNEL_RUN_TYPE" in os.environ:\n    !pip install -q b==2\n'
        'if "google.colab" in sys.modules or "KAGGLE_KERNEL_RUN_TYPE" in os.environ:\n    !pip install c==3\n')])
    nbformat.write(nb, tmp_path / "x.ipynb")
    colab, kaggle = PLATFORMS
    assert pip_specs(tmp_path / "x.ipynb", colab) == ["a==1", "b==2", "c==3"]
    assert pip_specs(tmp_path / "x.ipynb", kaggle) == ["b==2", "c==3"]


@by_name
def test_the_package_list_names_its_source_and_has_the_core_packages(platform):
    header = platform.freeze.read_text(encoding="utf-8")[:600]
    assert platform.source in header and re.search(r"commit [0-9a-f]{40}", header)
    assert PROTECTED | {"transformers", "datasets", "peft"} <= set(platforms.versions(platform))


@by_name
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_installs_only_what_the_platform_lacks(platform, path):
    """Each `%pip install` names a package the platform does not have, pinned as in requirements.txt;
    a package it has is used at its version (the notebook is tested with it below)."""
    there, pins = platforms.versions(platform), platforms.project_pins()
    for spec in pip_specs(path, platform):
        name, _, version = spec.partition("==")
        assert platforms.canonical(name) not in there, (
            f"{path.name} installs {spec}, which {platform.name} already has "
            f"({name}=={there.get(platforms.canonical(name))}): upgrading it in a running session breaks what "
            "is already imported; use the platform's version")
        assert version == pins.get(platforms.canonical(name)), f"{path.name}: {spec} is not pinned as in requirements.txt"


def installs(path, platform):
    """What the notebook installs there, and the pip packages of its offline models and data."""
    pins = platforms.project_pins()
    offline = [f"{name}=={pins[platforms.canonical(name)]}" for name in notebook_meta.load(path).packages]
    return list(dict.fromkeys(pip_specs(path, platform) + offline))


def changes(platform, installed):
    there = platforms.versions(platform)
    return [f"{n} {there[platforms.canonical(n)]} → {v}" for n, v in installed
            if platforms.canonical(n) in there and there[platforms.canonical(n)] != v]


@functools.cache
def resolved_together(platform):
    """What every notebook's installs resolve to at once, or None when they do not resolve together.
    If they do, each notebook's own installs do too (the joint solution, cut down to them, is one), so
    one pip resolution per platform stands for all of them (about 8 s each on a cold pip cache)."""
    try:
        installed = platforms.dry_run(platform, sorted({s for p in NOTEBOOKS for s in installs(p, platform)}))
    except AssertionError:
        return None
    return None if changes(platform, installed) else installed


@pytest.mark.parametrize("platform, path", [(pl, p) for pl in PLATFORMS for p in NOTEBOOKS if installs(p, pl)],
                         ids=lambda v: getattr(v, "stem", getattr(v, "name", "")))
def test_installing_changes_no_package_of_the_platform(platform, path):
    """pip resolves those installs with the platform's Python and every preinstalled package held fixed
    (all notebooks' installs at once; when that fails, this notebook's alone, to name the culprit)."""
    if resolved_together(platform) is not None:
        return
    changed = changes(platform, platforms.dry_run(platform, installs(path, platform)))
    assert not changed, f"{path.name} would change {platform.name}'s {changed}"


def test_when_the_installs_do_not_resolve_together_each_notebook_is_checked_alone(monkeypatch):
    import tests.notebooks.test_platforms as this

    path = next(p for p in NOTEBOOKS if installs(p, COLAB))
    monkeypatch.setattr(this, "resolved_together", lambda platform: None)
    monkeypatch.setattr(platforms, "dry_run", lambda platform, specs: [("pandas", "9.9.9")])
    with pytest.raises(AssertionError, match=rf"{path.name} would change Colab's \['pandas [0-9.]+ → 9.9.9'\]"):
        test_installing_changes_no_package_of_the_platform(COLAB, path)


def test_the_check_catches_an_upgrade_of_a_platform_package():
    """What the first cells used to do: pin transformers to this project's version.  The failure must be pip's
    resolver conflict over that pin (Colab's transformers held fixed), not any failure of pip."""
    spec = f"transformers=={platforms.project_pins()['transformers']}"
    assert spec != f"transformers=={platforms.versions(COLAB)['transformers']}"
    with pytest.raises(AssertionError, match="would change Colab's own packages") as failed:
        platforms.dry_run(COLAB, [spec])
    assert f"Cannot install {spec} because these package versions have conflicting dependencies" in str(failed.value)
    assert "ResolutionImpossible" in str(failed.value)


# What each platform runs by default: the offline path of the notebooks without a model download (01,
# 02) and the Hub source of the others (further down, with tiny models: every line of their code meets
# the platform's versions but the few that load the offline model).  Their offline path on a platform
# needs a clone of this repository; running it with the real models here took 6 minutes per change.
OFFLINE = [path for path in NOTEBOOKS if path.stem not in ONLINE]


def extra_packages(platform):
    """Installed in the platform's environment besides NOTEBOOK_PACKAGES: the packages that ship the offline
    data of the notebooks run offline there, and those the notebooks' first cells install there."""
    shipped = {n for p in OFFLINE for n in notebook_meta.load(p).packages}
    installed = {spec.partition("==")[0] for p in NOTEBOOKS for spec in pip_specs(p, platform)}
    return sorted(shipped | installed)


# Colab's, and Kaggle's only when one of its versions is not between Colab's and the project's (platforms.py).
EXTRA = sorted({n for pl in PLATFORMS for n in extra_packages(pl)})
RUN_ON = platforms.platforms_to_run(EXTRA)
OFFLINE_RUNS = [(platform, path) for platform in RUN_ON for path in OFFLINE]
# Fewer training steps where the offline path is mostly PyTorch training: the platform environments have
# this project's torch (platforms.py), so the steps left out run in the site build with that same torch,
# while every cell still meets the platform's pandas, tokenizers, matplotlib …  Values go into the
# notebook's `parameters` cell (tools/notebook_runner.inject_parameters); they are large enough that every
# stage has data to work on: notebook 12's DPO needs SFT answers that keep the format (after 100 + 40 steps
# there were none; after 150 + 100, 27 pairs).  About 95 s instead of 130 s on the build machine.
SCALED_DOWN = {"12-tiny-chinese-gpt": {"PRETRAIN_STEPS": 150, "SFT_STEPS": 100, "DPO_STEPS": 6}}


def test_a_version_between_two_tested_ones_is_inside():
    colab, project = {"a": "1.0", "b": "2.0", "c": "3.0"}, {"a": "2.0", "b": "2.0", "c": "1.0"}
    assert platforms.outside({"a": "1.5", "b": "2.0", "c": "2.9"}, colab, project) == []
    assert platforms.outside({"a": "2.1", "b": "1.9", "d": "1"}, colab, project) == [
        "a 2.1 (tested: 1.0, 2.0)", "b 1.9 (tested: 2.0)", "d 1 (tested: -)"]
    # httpx: the platforms have it, the project has httpx2 instead; Kaggle's is Colab's, which runs
    assert platforms.outside({"e": "0.28.1"}, {"e": "0.28.1"}, {}) == []
    assert platforms.outside({"e": "0.28.2"}, {"e": "0.28.1"}, {}) == ["e 0.28.2 (tested: -, 0.28.1)"]


def test_kaggle_runs_when_one_of_its_versions_is_outside_colabs_and_the_projects(monkeypatch):
    real = platforms.versions
    monkeypatch.setattr(platforms, "versions", lambda p: real(COLAB))  # Kaggle with Colab's versions: inside
    assert [p.name for p in platforms.platforms_to_run(EXTRA)] == ["Colab"]
    older = {"pandas": "1.5.3"}  # older than Colab's
    monkeypatch.setattr(platforms, "versions", lambda p: {**real(COLAB), **(older if p.name == "Kaggle" else {})})
    assert [p.name for p in platforms.platforms_to_run(EXTRA)] == ["Colab", "Kaggle"]


def venv(platform):
    """One environment per platform for all notebooks (extra_packages); and its requirements, for cache keys."""
    python = platforms.platform_venv(platform, extra_packages(platform))
    return python, (python.parent.parent / "installed").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("platform, path", OFFLINE_RUNS, ids=lambda v: getattr(v, "stem", getattr(v, "name", "")))
def test_offline_path_runs_with_the_platforms_versions(platform, path, tmp_path):
    """Top to bottom, in a kernel whose transformers, datasets, peft, pandas, pyarrow … are the platform's."""
    notebook = notebook_meta.load(path)
    if notebook.models:
        offline_models.ensure_all(names=list(notebook.models))  # converted with the project's versions
    python, requirements = venv(platform)
    scaled = SCALED_DOWN.get(path.stem, {})
    passed, mark = online.once(f"{path.stem[:2]}-offline-{platform.name.lower()}",
                               notebook_runner.cache_key(notebook), requirements, repr(scaled))
    if passed:
        return  # these exact inputs already ran clean with these versions
    notebook_runner.execute(notebook, tmp_path / path.name, python=str(python), parameters=scaled)  # raises on any failure
    mark()


@pytest.mark.slow
@pytest.mark.parametrize("platform", RUN_ON, ids=lambda p: p.name)
@pytest.mark.parametrize("stem", ONLINE)
def test_hub_source_runs_with_the_platforms_versions(platform, stem, tmp_path):
    """What "在 Colab 中打开" and "在 Kaggle 中打开" run by default: the Hub source, through the platform's
    own transformers, datasets and huggingface_hub, against the Hub stand-in (tests/notebooks/online.py)."""
    python, requirements = venv(platform)
    passed, mark = online.once(f"{stem[:2]}-hub-{platform.name.lower()}", *online.case_inputs(stem), requirements)
    if passed:
        return
    online.check_whole_run(online.run(stem, "hub", online.served(stem, tmp_path), tmp_path, python=str(python)),
                           stem, "hub")
    mark()
