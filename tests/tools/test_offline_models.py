"""tools/offline_models/__init__.py: the shared steps of every converter."""

from __future__ import annotations

import json

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
    names = [module.__name__.rsplit(".", 1)[1] for module in offline_models.converters()]
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
