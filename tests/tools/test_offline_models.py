"""tools/offline_models/__init__.py: the shared steps of every converter."""

from __future__ import annotations

import importlib
import json
import os
import time

import pytest

from tools import offline_models
from tools.offline_models import MARKER, read_marker, staging_dir


def test_staging_dir_replaces_the_target_only_on_success(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.txt").write_text("old", encoding="utf-8")

    with pytest.raises(RuntimeError):
        with staging_dir(target) as out:
            (out / "new.txt").write_text("half written", encoding="utf-8")
            raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary directory left behind
    assert [p.name for p in target.iterdir()] == ["old.txt"]

    with staging_dir(target) as out:
        assert out.parent != tmp_path and out.name == target.name and not any(out.iterdir())
        (out / "new.txt").write_text("complete", encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert sorted(p.name for p in target.iterdir()) == [offline_models.CHECKSUMS, "new.txt"]


def test_read_marker_needs_every_file_and_valid_json(tmp_path):
    assert read_marker(tmp_path, ["config.json"]) is None
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    assert read_marker(tmp_path, ["config.json"]) is None  # no marker yet
    (tmp_path / MARKER).write_text("{not json", encoding="utf-8")
    assert read_marker(tmp_path, ["config.json"]) is None
    (tmp_path / MARKER).write_text(json.dumps({"sha256": "ab"}), encoding="utf-8")
    assert read_marker(tmp_path, ["config.json"]) is None  # no checksums: an older or unfinished conversion
    offline_models.write_checksums(tmp_path)
    assert read_marker(tmp_path, ["config.json"]) == {"sha256": "ab"}


def test_every_converter_has_ensure():
    names = [offline_models.short_name(module) for module in offline_models.converters()]
    assert names == ["e5", "gemma", "qwen", "qwen15", "qwen15_gguf", "qwen_gguf"]
    assert all(callable(module.ensure) for module in offline_models.converters())


def test_damaged_model_is_caught_naming_the_folder_to_delete(tmp_path):
    target = tmp_path / "gemma-3-270m"
    with staging_dir(target) as out:
        (out / "model.safetensors").write_bytes(b"\0" * 4096)
        (out / "config.json").write_text("{}", encoding="utf-8")
    assert offline_models.verify(target) == target
    with open(target / "model.safetensors", "r+b") as f:  # truncated, as by a full disk
        f.truncate(1000)
    with pytest.raises(offline_models.ModelError, match=rf"model.safetensors is damaged: 1000 bytes, expected 4096\. "
                                                        rf"Delete the folder {target}"):
        offline_models.verify(target)
    (target / "model.safetensors").write_bytes(b"\1" * 4096)  # same size, other bytes
    with pytest.raises(offline_models.ModelError, match="sha256 differs"):
        offline_models.verify(target)


def test_a_settled_folder_is_hashed_once_per_process_and_a_rewritten_file_again(tmp_path, monkeypatch):
    target = tmp_path / "model"
    with staging_dir(target) as out:
        (out / "model.safetensors").write_bytes(b"\0" * 4096)
    an_hour_ago = time.time() - 3600
    os.utime(target / "model.safetensors", (an_hour_ago, an_hour_ago))  # settled: written long ago
    hashed = []
    monkeypatch.setattr(offline_models, "sha256_file", lambda path: hashed.append(path.name) or real_sha256(path))
    offline_models.verify(target)
    offline_models.verify(target)
    assert hashed == ["model.safetensors"]
    (target / "model.safetensors").write_bytes(b"\1" * 4096)  # same size, new bytes, a new modification time
    with pytest.raises(offline_models.ModelError, match="sha256 differs"):
        offline_models.verify(target)


real_sha256 = offline_models.sha256_file

FAKE_CONVERTER = '''
import os, time
from pathlib import Path
NAME = "{name}"
def is_complete(target):
    return (target / "pid").is_file()
def ensure(models_dir, log=print):
    target = Path(models_dir) / NAME
    if not is_complete(target):
        target.mkdir(parents=True)
        (target / "started").touch()
        if NAME == "broken":
            raise RuntimeError("the packaged file is damaged")
        others = [p for p in Path(models_dir).glob("*") if p != target]
        deadline = time.monotonic() + 60
        while not any((p / "started").is_file() for p in others) and time.monotonic() < deadline:
            time.sleep(0.05)  # until the other conversion runs too: they run at once, or this one times out
            others = [p for p in Path(models_dir).glob("*") if p != target]
        (target / "pid").write_text(str(os.getpid()))
    return target
'''


def fake_converters(folder, names):
    for name in names:
        (folder / f"fake_{name}.py").write_text(FAKE_CONVERTER.format(name=name), encoding="utf-8")
    return [importlib.import_module(f"fake_{name}") for name in names]


def test_conversions_run_at_once_in_their_own_processes(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    modules = fake_converters(tmp_path, ["a", "b"])
    offline_models.convert_in_parallel(modules, tmp_path / "models", log=lambda message: None, processes=2)
    pids = {(tmp_path / "models" / name / "pid").read_text() for name in ("a", "b")}  # written once both had started
    assert len(pids) == 2 and str(os.getpid()) not in pids
    offline_models.convert_in_parallel(modules, tmp_path / "models", log=pytest.fail, processes=2)  # nothing left


def test_a_failed_conversion_stops_the_build_with_its_error(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    modules = fake_converters(tmp_path, ["c", "broken"])
    with pytest.raises(RuntimeError, match="the packaged file is damaged"):
        offline_models.convert_in_parallel(modules, tmp_path / "models", log=lambda message: None, processes=2)


def _fake_part_packages(tmp_path, monkeypatch, parts: list[bytes], name: str) -> list[str]:
    """Importable modules named like the pip packages that ship a GGUF in parts (`name` differs per
    test: an imported module stays in sys.modules)."""
    names = []
    for i, data in enumerate(parts, 1):
        (tmp_path / f"part{i}.bin").write_bytes(data)
        (tmp_path / f"{name}_part{i}.py").write_text(
            f"def get_part_path():\n    return {str(tmp_path / f'part{i}.bin')!r}\n")
        names.append(f"{name}-part{i}")
    monkeypatch.syspath_prepend(str(tmp_path))
    return names


def test_parts_are_joined_in_order_and_checked(tmp_path, monkeypatch):
    import hashlib

    packages = _fake_part_packages(tmp_path, monkeypatch, [b"GGUF", b"-two", b"-three"], "joined")
    whole = b"GGUF-two-three"
    target = offline_models.assemble_parts(packages, tmp_path / "model.gguf", len(whole),
                                           hashlib.sha256(whole).hexdigest())
    assert target.read_bytes() == whole


def test_a_changed_part_or_a_missing_package_stops_with_what_to_reinstall(tmp_path, monkeypatch):
    packages = _fake_part_packages(tmp_path, monkeypatch, [b"GGUF", b"-two"], "changed")
    with pytest.raises(RuntimeError, match=r"not the recorded one \(8 bytes.*reinstall the pinned changed-part\* packages"):
        offline_models.assemble_parts(packages, tmp_path / "model.gguf", 8, "0" * 64)
    assert not (tmp_path / "model.gguf").exists()  # no half-checked file left for the next run to trust
    with pytest.raises(RuntimeError, match="The package changed-part3 is missing"):
        offline_models.assemble_parts(packages + ["changed-part3"], tmp_path / "model.gguf", 8, "0" * 64)
