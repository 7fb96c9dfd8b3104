"""The mini-Transformer notebook: its pieces, imported from the notebook itself, against PyTorch's own."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.notebook_import import load_exports


@pytest.fixture(scope="module")
def nb():
    return load_exports("02-mini-transformer.ipynb")


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


# --- the task ---------------------------------------------------------------------------------

@pytest.mark.parametrize("n, text", [
    (0, "零"), (7, "七"), (10, "十"), (15, "十五"), (20, "二十"), (110, "一百一十"), (1001, "一千零一"),
    (1010, "一千零一十"), (1200, "一千二百"), (10000, "一万"), (10320, "一万零三百二十"), (100000, "十万"),
    (101000, "十万一千"), (100100, "十万零一百"), (150000, "十五万"), (1020000, "一百零二万"),
    (1200001, "一百二十万零一"), (100000000, "一亿"), (100010000, "一亿零一万"), (100001000, "一亿零一千"),
    (230000001, "二亿三千万零一"), (1000000000, "十亿"),
])
def test_to_chinese_follows_the_reading_rules(nb, n, text):
    assert nb.to_chinese(n) == text


def test_to_chinese_is_one_to_one(nb):
    numbers = range(200_000)
    assert len({nb.to_chinese(n) for n in numbers}) == len(numbers)


def test_sample_numbers_are_distinct_in_range_and_exclude(nb):
    import numpy as np

    rng = np.random.default_rng(0)
    excluded = set(range(100, 1000))
    numbers = nb.sample_numbers(rng, 500, min_digits=2, max_digits=4, zero_prob=0.3, exclude=excluded)
    assert len(numbers) == len(set(numbers)) == 500
    assert all(10 <= n < 10_000 for n in numbers)
    assert not excluded & set(numbers)


def test_encode_and_decode(nb):
    src, tgt = nb.encode_batch([10320, 7])
    assert src.shape == (2, len("一万零三百二十")) and tgt.shape == (2, 1 + 5 + 1)
    assert [nb.SRC_VOCAB[i] for i in src[0]] == list("一万零三百二十")
    assert src[1, 1:].eq(nb.PAD_ID).all() and tgt[1, 3:].eq(nb.PAD_ID).all()
    assert tgt[0, 0] == nb.BOS_ID and tgt[0, -1] == nb.EOS_ID
    assert nb.decode_target(tgt[0].tolist()) == "10320"
    assert nb.decode_target(tgt[1].tolist()) == "7"
    assert nb.decode_target([nb.BOS_ID, 3, 4]) is None  # never ended


# --- attention and masks ----------------------------------------------------------------------

def test_scaled_dot_product_attention_matches_pytorch(nb):
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 6)
    mask = torch.rand(2, 1, 5, 7) > 0.4
    mask[..., 0] = True
    for m in (None, mask):
        out, weights = nb.scaled_dot_product_attention(q, k, v, m)
        assert out.shape == (2, 3, 5, 6) and weights.shape == (2, 3, 5, 7)
        assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v, attn_mask=m), atol=1e-6)
        assert torch.allclose(weights.sum(-1), torch.ones(2, 3, 5))
    expected = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(8), dim=-1)
    assert torch.allclose(nb.scaled_dot_product_attention(q, k, v)[1], expected, atol=1e-6)


def test_padding_mask_gives_zero_weight_to_padding(nb):
    src, _ = nb.encode_batch([10320, 7, 450006])
    mask = nb.padding_mask(src)
    assert mask.shape == (3, 1, 1, src.size(1)) and mask.dtype == torch.bool
    assert torch.equal(mask[:, 0, 0], src != nb.PAD_ID)
    x = torch.randn(3, 2, src.size(1), 4)
    _, weights = nb.scaled_dot_product_attention(x, x, x, mask)
    is_pad = (src == nb.PAD_ID)[:, None, None, :].expand_as(weights)
    assert is_pad.any()
    assert weights[is_pad].eq(0).all()
    assert weights[~is_pad].gt(0).all()


def test_causal_mask(nb):
    mask = nb.causal_mask(6)
    assert mask.shape == (6, 6) and mask.dtype == torch.bool
    assert torch.equal(mask, torch.ones(6, 6).tril().bool())
    x = torch.randn(2, 6, 4)
    _, weights = nb.scaled_dot_product_attention(x, x, x, mask)
    assert weights.triu(diagonal=1).eq(0).all()
    assert weights[:, 0, 0].eq(1).all()


# --- multi-head attention and positions --------------------------------------------------------

def _torch_mha(nb, ours, d_model, n_heads):
    theirs = nn.MultiheadAttention(d_model, n_heads, batch_first=True).eval()
    nb.copy_attention_to_torch(ours, theirs)
    return theirs


@torch.no_grad()
def test_multi_head_attention_matches_nn_multihead_attention(nb):
    d_model, n_heads = 32, 4
    ours = nb.MultiHeadAttention(d_model, n_heads).eval()
    theirs = _torch_mha(nb, ours, d_model, n_heads)
    src, _ = nb.encode_batch([10320, 7, 450006])
    x, y = torch.randn(3, src.size(1), d_model), torch.randn(3, 5, d_model)
    pad, causal = nb.padding_mask(src), nb.causal_mask(5)

    checks = [
        (ours(x, x, x, pad), theirs(x, x, x, key_padding_mask=src == nb.PAD_ID, average_attn_weights=False)),
        (ours(y, y, y, causal), theirs(y, y, y, attn_mask=~causal, average_attn_weights=False)),
        (ours(y, x, x, pad), theirs(y, x, x, key_padding_mask=src == nb.PAD_ID, average_attn_weights=False)),
    ]
    for (out, weights), (ref_out, ref_weights) in checks:
        assert out.shape == ref_out.shape and weights.shape == ref_weights.shape
        assert weights.shape[1] == n_heads
        assert torch.allclose(out, ref_out, atol=1e-6)
        assert torch.allclose(weights, ref_weights, atol=1e-6)
    # cross-attention: padded source positions get no weight from any head
    _, weights = checks[2][0]
    assert weights[(src == nb.PAD_ID)[:, None, None, :].expand_as(weights)].eq(0).all()


def test_sinusoidal_positions(nb):
    pe = nb.sinusoidal_positions(50, 16)
    assert pe.shape == (50, 16)
    assert torch.equal(pe[0, 0::2], torch.zeros(8)) and torch.equal(pe[0, 1::2], torch.ones(8))
    for pos, i in [(1, 0), (7, 3), (49, 7)]:
        angle = pos / 10000 ** (2 * i / 16)
        assert pe[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-5)
        assert pe[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-5)
    assert pe.abs().max() <= 1


# --- layers and model ---------------------------------------------------------------------------

@torch.no_grad()
def test_encoder_layer_matches_nn_transformer_encoder_layer(nb):
    d_model, n_heads, d_ff = 32, 4, 64
    ours = nb.EncoderLayer(d_model, n_heads, d_ff).eval()
    theirs = nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout=0.0, batch_first=True).eval()
    nb.copy_encoder_layer_to_torch(ours, theirs)
    src, _ = nb.encode_batch([10320, 7, 450006])
    x = torch.randn(3, src.size(1), d_model)
    valid = src != nb.PAD_ID
    out = ours(x, nb.padding_mask(src))
    ref = theirs(x, src_key_padding_mask=~valid)
    assert out.shape == x.shape
    assert torch.allclose(out[valid], ref[valid], atol=1e-5)


@torch.no_grad()
def test_decoder_layer_matches_nn_transformer_decoder_layer(nb):
    d_model, n_heads, d_ff = 32, 4, 64
    ours = nb.DecoderLayer(d_model, n_heads, d_ff).eval()
    theirs = nn.TransformerDecoderLayer(d_model, n_heads, d_ff, dropout=0.0, batch_first=True).eval()
    nb.copy_decoder_layer_to_torch(ours, theirs)
    src, tgt = nb.encode_batch([10320, 7, 450006])
    memory, y = torch.randn(3, src.size(1), d_model), torch.randn(3, tgt.size(1), d_model)
    src_valid, tgt_valid = src != nb.PAD_ID, tgt != nb.PAD_ID
    T = tgt.size(1)
    out, cross = ours(y, memory, nb.padding_mask(tgt) & nb.causal_mask(T), nb.padding_mask(src))
    ref = theirs(y, memory, tgt_mask=~nb.causal_mask(T), tgt_key_padding_mask=~tgt_valid,
                 memory_key_padding_mask=~src_valid)
    assert out.shape == y.shape and cross.shape == (3, n_heads, T, src.size(1))
    assert torch.allclose(out[tgt_valid], ref[tgt_valid], atol=1e-5)
    assert cross[(~src_valid)[:, None, None, :].expand_as(cross)].eq(0).all()


def _model(nb):
    return nb.Seq2SeqTransformer(len(nb.SRC_VOCAB), len(nb.TGT_VOCAB), d_model=32, n_heads=4, d_ff=64,
                                 n_layers=2, dropout=0.0).eval()


@torch.no_grad()
def test_model_shapes_and_no_pytorch_transformer_modules(nb):
    model = _model(nb)
    banned = (nn.MultiheadAttention, nn.Transformer, nn.TransformerEncoder, nn.TransformerDecoder,
              nn.TransformerEncoderLayer, nn.TransformerDecoderLayer)
    assert not any(isinstance(m, banned) for m in model.modules())
    src, tgt = nb.encode_batch([10320, 7, 450006])
    logits = model(src, tgt[:, :-1])
    assert logits.shape == (3, tgt.size(1) - 1, len(nb.TGT_VOCAB))
    memory, src_mask = model.encode(src)
    assert memory.shape == (3, src.size(1), 32) and src_mask.shape == (3, 1, 1, src.size(1))
    _, cross = model.decode(tgt[:, :-1], memory, src_mask)
    assert len(cross) == 2 and cross[-1].shape == (3, 4, tgt.size(1) - 1, src.size(1))


@torch.no_grad()
def test_decoder_is_causal_and_padding_does_not_leak(nb):
    model = _model(nb)
    src, tgt = nb.encode_batch([10320, 450006])
    memory, src_mask = model.encode(src)
    logits, _ = model.decode(tgt, memory, src_mask)
    # change every target token after position 2: logits up to position 2 must not move
    changed = tgt.clone()
    changed[:, 3:] = torch.randint(3, len(nb.TGT_VOCAB), changed[:, 3:].shape)
    logits_changed, _ = model.decode(changed, memory, src_mask)
    assert torch.allclose(logits[:, :3], logits_changed[:, :3], atol=1e-6)
    assert not torch.allclose(logits[:, 3:], logits_changed[:, 3:])
    # the short source (四十五万零六, one <pad> in this batch) alone and inside the padded batch give the
    # same logits: the padding of the source never reaches the encoder or the cross-attention
    assert src[1, -1] == nb.PAD_ID
    alone, tgt_alone = nb.encode_batch([450006])
    assert torch.allclose(model(alone, tgt_alone), model(src, tgt)[1:2, : tgt_alone.size(1)], atol=1e-5)


def test_greedy_decode_and_cross_attention_map(nb):
    model = _model(nb)
    src, _ = nb.encode_batch([10320, 7, 450006])
    for layer, head in [(-1, None), (0, None), (1, 3)]:
        weights, source, generated = nb.cross_attention_map(model, 10320, layer=layer, head=head, max_len=6)
        assert source == list("一万零三百二十")
        assert weights.shape == (len(generated), len(source)) == (6, 7)
        assert torch.allclose(weights.sum(-1), torch.ones(len(generated)), atol=1e-5)
    assert nb.greedy_decode(model, src, max_len=6).shape == (3, 7)  # untrained: never ends, stops at max_len
    with torch.no_grad():  # make <eos> likelier: rows 0 and 2 end at once, row 1 one token later
        model.generator.bias[nb.EOS_ID] += 1.5
    out = nb.greedy_decode(model, src, max_len=6)
    bos, eos, pad = nb.BOS_ID, nb.EOS_ID, nb.PAD_ID
    assert out.tolist() == [[bos, eos, pad], [bos, 10, eos], [bos, eos, pad]]  # after <eos> only <pad>
    # predict() gives the digits before <eos> (id 10 is "7")
    assert nb.predict(model, [10320, 7], max_len=6) == [nb.decode_target(row) for row in out[:2].tolist()] == ["", "7"]
    assert nb.exact_match(["10320", "8"], [10320, 7]) == 0.5
