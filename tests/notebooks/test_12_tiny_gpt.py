"""The tiny-GPT notebook: its data cleaning, tokenizer, model blocks, schedule, SFT masking, format and repeat checks
and DPO loss, imported from the notebook and checked against PyTorch, transformers' Llama and the paper's
formula.  No real training here (only 100 steps that teach a tiny model three poems, for sample()); the build
executes the notebook (and its own TRL check)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.notebook_import import load_exports


POEMS = ["白日依山尽，\n黄河入海流。", "欲穷千里目，\n更上一层楼。", "春眠不觉晓，\n处处闻啼鸟。"]


@pytest.fixture(scope="module")
def nb():
    module = load_exports("12-tiny-chinese-gpt.ipynb")
    module.tokenizer = module.train_tokenizer(POEMS * 20, 400)
    module.PAD_ID, module.BOS_ID, module.EOS_ID, module.USER_ID, module.ASSISTANT_ID = (
        module.tokenizer.token_to_id(t) for t in module.SPECIAL_TOKENS)
    return module


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


LINE = "白日依山尽黄河，"


def poem(*lines, title="題", author="作者"):
    return {"title": title, "author": author, "lines": list(lines)}


# --- data ----------------------------------------------------------------------------------------
def test_cleaning_converts_drops_and_deduplicates(nb):
    raw = [poem("風急天高猿嘯哀，", "渚清沙白鳥飛迴。"),
           poem("风急天高猿啸哀，", "渚清沙白鸟飞回。"),  # the same text once converted
           poem(["白", "日"], ["依", "山"]),               # scrambled single characters
           poem("白日依山尽，", "黄河入海流。"),             # five characters a line
           poem("风急天高猿啸哀！", "渚清沙白鸟飞回。")]     # another mark
    kept, dropped = nb.clean_poems(raw)
    assert [p["body"] for p in kept] == ["风急天高猿啸哀，\n渚清沙白鸟飞回。"]
    assert kept[0]["title"] == "题"
    assert dropped == {"正文重复": 1, "诗句被打乱成单字列表": 1, "不是每句七个字": 2}


def test_the_split_is_stable_and_about_five_percent(nb):
    poems, _ = nb.clean_poems(nb.load_tang_poems())
    assert len(poems) > 7000
    share = sum(map(nb.is_validation, poems)) / len(poems)
    assert 0.03 < share < 0.07
    # the same side in every process and Python version (not hash(), which is salted per process), by the text only
    assert [i for i in range(200) if nb.is_validation({"body": f"诗{i}"})] == [89, 104, 136, 142, 154, 156, 166, 186]
    assert nb.is_validation({"body": "诗89", "title": "别的题目", "author": "别人"})


# --- tokenizer -----------------------------------------------------------------------------------
def test_tokenizer_round_trips_and_has_special_tokens_first(nb):
    text = "欲穷千里目，\n更上一层楼。龘"  # 龘 never seen: split into bytes, still decoded
    assert nb.tokenizer.decode(nb.tokenizer.encode(text).ids) == text
    assert [nb.tokenizer.token_to_id(t) for t in nb.SPECIAL_TOKENS] == [0, 1, 2, 3, 4]
    assert len(nb.tokenizer.encode("龘").ids) > 1
    assert nb.tokenizer.encode("<|bos|><|user|>").ids == [nb.BOS_ID, nb.USER_ID]


# --- model ---------------------------------------------------------------------------------------
def test_rms_norm_equals_torch(nb):
    x = torch.randn(3, 5, 16)
    ours, library = nb.RMSNorm(16), nn.RMSNorm(16, eps=1e-6)
    ours.weight.data = library.weight.data = torch.rand(16)
    assert torch.allclose(ours(x), library(x), atol=1e-6)


def test_rope_scores_depend_on_the_distance_only(nb):
    cos, sin = nb.rope_tables(16, 64)
    q, k = torch.randn(16), torch.randn(16)
    score = lambda m, n: nb.apply_rope(q, cos[m], sin[m]) @ nb.apply_rope(k, cos[n], sin[n])
    assert torch.allclose(score(9, 2), score(40, 33), atol=1e-4)
    assert not torch.allclose(score(9, 2), score(9, 8), atol=1e-2)
    assert torch.allclose(nb.apply_rope(q, cos[0], sin[0]), q)  # position 0 is not rotated


def test_tiny_gpt_equals_llama_and_is_causal(nb):
    model = nb.TinyGPT(500, dim=32, n_layers=2, n_heads=4, hidden=64).eval()
    ids = torch.randint(500, (2, 12))
    with torch.no_grad():
        logits = model(ids)
        assert torch.allclose(logits, nb.to_llama(model)(ids).logits, atol=1e-5)
        changed = ids.clone()
        changed[:, 8] = (changed[:, 8] + 1) % 500
        assert torch.allclose(model(changed)[:, :8], logits[:, :8], atol=1e-6)  # the future is never seen
        assert not torch.allclose(model(changed)[:, 8:], logits[:, 8:])
    assert model.lm_head.weight is model.embed.weight


def test_hf_tokenizer_gives_the_same_ids_and_names_the_special_tokens(nb):
    hf = nb.hf_tokenizer()
    text = nb.chat_prompt("写一首七言绝句。") + "白日依山尽，\n黄河入海流。"
    assert hf(text, add_special_tokens=False)["input_ids"] == nb.tokenizer.encode(text).ids
    assert (hf.bos_token_id, hf.eos_token_id, hf.pad_token_id) == (nb.BOS_ID, nb.EOS_ID, nb.PAD_ID)
    assert hf.decode(nb.tokenizer.encode(text).ids) == text


def test_sample_continues_each_prompt(nb):
    """A model that has learnt POEMS recites the rest of each one from its own prompt, whatever the other prompts
    of the (left-padded) batch: only the new text, ending at <|eos|> or after max_new_tokens."""
    model = nb.TinyGPT(len(nb.tokenizer.get_vocab()), dim=32, n_layers=1, n_heads=2, hidden=64)
    rows = torch.tensor([[nb.BOS_ID, *nb.tokenizer.encode(p).ids, nb.EOS_ID] for p in POEMS])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(100):
        nb.train_step(model, optimizer, F.cross_entropy(model(rows[:, :-1]).flatten(0, 1), rows[:, 1:].flatten()))
    model.eval()
    prompts = ["<|bos|>欲穷千里目，\n", "<|bos|>春眠不觉晓", "<|bos|>白日依山尽，"]  # 4, 2 and 3 tokens
    assert nb.sample(model, prompts, temperature=0.01) == ["更上一层楼。", "，\n处处闻啼鸟。", "\n黄河入海流。"]
    assert nb.sample(model, prompts, temperature=0.01, max_new_tokens=2) == ["更上一层楼。", "，\n", "\n黄河入海流"]


# --- training pieces -----------------------------------------------------------------------------
def test_pack_blocks_joins_texts_with_markers(nb):
    rows = nb.pack_blocks([[10, 11, 12], [13, 14]], block_size=3)
    stream = [nb.BOS_ID, 10, 11, 12, nb.EOS_ID, nb.BOS_ID, 13, 14, nb.EOS_ID]
    assert rows.tolist() == [stream[0:4], stream[3:7]]  # neighbouring rows share one token


def test_learning_rate_warms_up_then_decays_to_a_tenth(nb):
    lrs = [nb.lr_at(step, 100, 1.0, 10) for step in range(101)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:]))
    assert lrs[100] == pytest.approx(0.1)


def test_weight_decay_only_on_matrices(nb):
    model = nb.TinyGPT(100, dim=16, n_layers=1, n_heads=2, hidden=32)
    decayed, plain = nb.make_optimizer(model, 1e-3).param_groups
    assert decayed["weight_decay"] > 0 and plain["weight_decay"] == 0
    assert all(p.dim() == 2 for p in decayed["params"]) and all(p.dim() == 1 for p in plain["params"])
    assert sum(map(len, (decayed["params"], plain["params"]))) == len(list(model.parameters()))


def test_sft_example_masks_the_prompt(nb):
    body = "白日依山尽黄河，\n欲穷千里目更上，\n春眠不觉晓处处，\n夜来风雨声花落。\n" * 2
    ids, labels = nb.sft_example({"body": body.strip()}, 4, "写一首七言绝句。")
    prompt = nb.tokenizer.encode(nb.chat_prompt("写一首七言绝句。")).ids
    assert ids[:len(prompt)] == prompt and labels[:len(prompt)] == [-100] * len(prompt)
    assert labels[len(prompt):] == ids[len(prompt):] and ids[-1] == nb.EOS_ID
    assert nb.tokenizer.decode(ids[len(prompt):-1]).count("\n") == 3  # four lines


def test_follows_and_repeats(nb):
    four = "\n".join(["白日依山尽黄河，", "欲穷千里目更上。"] * 2)
    assert nb.follows("写一首七言绝句。", four) and not nb.follows("写一首七言律诗。", four)
    assert not nb.follows("写一首七言绝句。", four.replace("黄河", "黄"))
    assert nb.repeated_characters(four) == 14 and nb.repeated_characters("春风") == 0
    assert nb.poem_lines("\n白日依山尽黄河，\n欲穷千里目更上。\n") == ["白日依山尽黄河，", "欲穷千里目更上。"]


# --- DPO -----------------------------------------------------------------------------------------
def test_dpo_loss_is_log_two_at_the_start_and_the_papers_formula(nb):
    logps = torch.tensor([-40.0, -35.0])
    loss, chosen, rejected = nb.dpo_loss(logps, logps + 1, logps, logps + 1, 0.1)
    assert loss.item() == pytest.approx(math.log(2)) and chosen.eq(0).all() and rejected.eq(0).all()
    pc, pr, rc, rr = -40.0, -42.0, -41.0, -41.5
    expected = -math.log(1 / (1 + math.exp(-0.5 * ((pc - rc) - (pr - rr)))))
    loss, *_ = nb.dpo_loss(*(torch.tensor([v]) for v in (pc, pr, rc, rr)), 0.5)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_sequence_logps_sums_the_answer_tokens_only(nb):
    model = nb.TinyGPT(len(nb.tokenizer.get_vocab()), dim=32, n_layers=1, n_heads=2, hidden=64).eval()
    ids, mask = nb.encode_pairs([("<|bos|><|user|>写<|assistant|>", "白日", "黄河入海流")])
    with torch.no_grad():
        got = nb.sequence_logps(model, ids, mask)
        logp = F.log_softmax(model(ids[:, :-1]), dim=-1)
    for row in range(2):
        positions = [t for t in range(1, ids.size(1)) if mask[row, t]]
        expected = sum(logp[row, t - 1, ids[row, t]].item() for t in positions)
        assert got[row].item() == pytest.approx(expected, rel=1e-5)
    assert mask[0].sum() == len(nb.tokenizer.encode("白日").ids) + 1  # the answer and its <|eos|>


def test_a_dpo_step_widens_the_margin(nb):
    policy = nb.TinyGPT(len(nb.tokenizer.get_vocab()), dim=32, n_layers=1, n_heads=2, hidden=64)
    reference = nb.TinyGPT(len(nb.tokenizer.get_vocab()), dim=32, n_layers=1, n_heads=2, hidden=64)
    reference.load_state_dict(policy.state_dict())
    ids, mask = nb.encode_pairs([("<|bos|><|user|>写<|assistant|>", "白日依山尽", "黄河黄河黄")])
    optimizer = torch.optim.SGD(policy.parameters(), lr=0.5)
    margins = []
    for _ in range(3):
        with torch.no_grad():
            reference_logps = nb.sequence_logps(reference, ids, mask).chunk(2)
        loss, chosen, rejected = nb.dpo_loss(*nb.sequence_logps(policy, ids, mask).chunk(2), *reference_logps, 0.1)
        margins.append((chosen - rejected).item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert margins[0] == 0 and margins[1] > 0 and margins[2] > margins[1]
