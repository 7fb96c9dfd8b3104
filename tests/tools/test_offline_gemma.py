"""tools/offline_models/gemma.py: convert only when needed, never leave half a model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import offline_models
from tools.offline_models import gemma


def _fake_complete(target: Path, sha256: str) -> None:
    target.mkdir(parents=True)
    for name in gemma.REQUIRED_FILES:
        (target / name).write_text("{}", encoding="utf-8")
    (target / offline_models.MARKER).write_text(json.dumps({"sha256": sha256}), encoding="utf-8")
    offline_models.write_checksums(target)


def test_is_registered_with_the_runner():
    assert gemma in list(offline_models.converters())


def test_package_ships_every_part():
    package = gemma._package()
    package.verify_chunks()  # raises when a part package is missing
    assert package.MODEL_NAME.endswith(".gguf")


def test_missing_or_partial_directory_is_incomplete(tmp_path):
    target = tmp_path / gemma.NAME
    assert not gemma.is_complete(target)
    target.mkdir()
    (target / "config.json").write_text("{}", encoding="utf-8")
    assert not gemma.is_complete(target)


def test_marker_must_name_the_packaged_gguf(tmp_path):
    target = tmp_path / gemma.NAME
    _fake_complete(target, sha256="0" * 64)
    assert not gemma.is_complete(target)
    (target / offline_models.MARKER).write_text(json.dumps({"sha256": gemma._package().EXPECTED_SHA256}))
    assert gemma.is_complete(target)


def test_ensure_converts_only_when_needed(tmp_path, monkeypatch):
    calls = []

    def fake_convert(target, log=print):
        calls.append(target)
        _fake_complete(target, gemma._package().EXPECTED_SHA256)

    monkeypatch.setattr(gemma, "convert", fake_convert)
    first = gemma.ensure(tmp_path, log=lambda message: None)
    second = gemma.ensure(tmp_path, log=lambda message: None)
    assert first == second == tmp_path / gemma.NAME
    assert calls == [tmp_path / gemma.NAME]


@pytest.mark.slow
def test_converted_directory_is_a_plain_float32_checkpoint():
    # Converts on first use (about 3 minutes), like the notebook runner does.
    target = gemma.ensure(offline_models.MODELS_DIR, log=lambda message: None)
    config = json.loads((target / "config.json").read_text(encoding="utf-8"))
    assert "quantization_config" not in config
    assert config["model_type"] == "gemma3_text" and config["dtype"] == "float32"
    assert not list(target.glob("*.gguf"))
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(target)
    ids = tokenizer("您好，祝您购物愉快！").input_ids
    assert tokenizer.decode(ids, skip_special_tokens=True) == "您好，祝您购物愉快！"
