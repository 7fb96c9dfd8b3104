"""The LoRA notebook: its hand-written LoRA layer against peft, its answer loss, the metrics, and the
customer-service dataset.  (The notebook's adapter save/load/merge round trip is not an exported cell: its
executed output is checked in tests/notebooks/test_executed.py.)"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import torch
from torch import nn

from tests.notebook_import import load_exports

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "04-lora-finetuning.ipynb"
DATA = ROOT / "notebooks" / "data" / "customer_service_qa.jsonl"


@pytest.fixture(scope="module")
def nb():
    return load_exports(NOTEBOOK)


def _peft_single_layer(base: nn.Linear, r: int, alpha: float):
    from peft import LoraConfig, get_peft_model

    class OneLayer(nn.Module):
        def __init__(self, layer):
            super().__init__()
            self.proj = layer

        def forward(self, x):
            return self.proj(x)

    model = get_peft_model(OneLayer(copy.deepcopy(base)),
                           LoraConfig(r=r, lora_alpha=alpha, target_modules=["proj"]))
    return model, model.base_model.model.proj


# --- the hand-written layer -------------------------------------------------

def test_initial_output_equals_frozen_layer(nb):
    torch.manual_seed(0)
    base = nn.Linear(20, 12)
    layer = nb.LoRALinear(copy.deepcopy(base), r=4, alpha=8)
    x = torch.randn(5, 20)
    assert torch.equal(layer(x), base(x))
    assert torch.count_nonzero(layer.lora_B) == 0
    assert not layer.base.weight.requires_grad and not layer.base.bias.requires_grad


@pytest.mark.parametrize("r, alpha", [(1, 1), (4, 8), (8, 16), (16, 4)])
def test_matches_peft_with_same_a_and_b(nb, r, alpha):
    torch.manual_seed(r)
    base = nn.Linear(24, 40)
    ours = nb.LoRALinear(copy.deepcopy(base), r=r, alpha=alpha)
    with torch.no_grad():
        ours.lora_B.normal_()  # B = 0 would make every LoRA output equal the base output
    peft_model, peft_layer = _peft_single_layer(base, r, alpha)
    nb.copy_lora_to_peft(ours, peft_layer)
    x = torch.randn(3, 7, 24)
    with torch.no_grad():
        assert not torch.allclose(ours(x), base(x), atol=1e-3)
        assert torch.allclose(ours(x), peft_model(x), atol=1e-5)
        assert torch.allclose(ours.delta_weight(), peft_layer.get_delta_weight("default"), atol=1e-6)
    assert peft_layer.scaling["default"] == pytest.approx(ours.scaling)


def test_merged_layer_gives_same_outputs(nb):
    torch.manual_seed(1)
    base = nn.Linear(16, 16)
    layer = nb.LoRALinear(copy.deepcopy(base), r=2, alpha=4)
    with torch.no_grad():
        layer.lora_B.uniform_(-1, 1)
    merged = layer.merged()
    assert isinstance(merged, nn.Linear)
    x = torch.randn(9, 16)
    with torch.no_grad():
        assert torch.allclose(merged(x), layer(x), atol=1e-5)
    assert torch.equal(layer.base.weight, base.weight), "merging must not touch the frozen layer"


def test_parameter_count_formula(nb):
    layer = nb.LoRALinear(nn.Linear(640, 1024), r=8, alpha=16)
    trainable, total = nb.count_parameters(layer)
    assert trainable == 8 * (640 + 1024)
    assert total == trainable + 640 * 1024 + 1024


def test_only_a_and_b_receive_gradients(nb):
    torch.manual_seed(2)
    layer = nb.LoRALinear(nn.Linear(8, 6), r=2, alpha=2)
    layer(torch.randn(4, 8)).sum().backward()
    assert layer.lora_A.grad is not None and layer.lora_B.grad is not None
    assert layer.base.weight.grad is None and layer.base.bias.grad is None


def test_add_lora_replaces_only_targets(nb):
    model = nn.Sequential()
    model.add_module("fc1", nn.Linear(4, 8))
    model.add_module("act", nn.ReLU())
    model.add_module("fc2", nn.Linear(8, 2))
    nb.add_lora(model, ["fc1"], r=2, alpha=4)
    assert isinstance(model.fc1, nb.LoRALinear) and isinstance(model.fc2, nn.Linear)
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["fc1.lora_A", "fc1.lora_B"]


# --- a (tiny) causal language model ----------------------------------------

def _tiny_causal_lm(seed: int):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
    return LlamaForCausalLM(config).eval()


def test_answer_loss_matches_the_models_own_loss(nb):
    model = _tiny_causal_lm(seed=3)
    ids = torch.randint(1, 96, (2, 12))
    labels = ids.clone()
    labels[:, :5] = -100  # the prompt
    labels[1, 10:] = -100  # padding
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0
    with torch.no_grad():
        ours = nb.answer_loss(model, ids, mask, labels)
        theirs = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    assert torch.allclose(ours, theirs, atol=1e-5)


class _CharTokenizer:
    """Just enough of a tokenizer for collate(): one id per character, bos = 1, eos = 2, pad = 0."""

    pad_token_id, eos_token_id = 0, 2
    chat_template = None  # a base model's tokenizer: the plain 「用户：……客服：」 prompt

    def __call__(self, text, add_special_tokens=True):
        ids = [3 + (ord(c) % 90) for c in text]
        return type("Encoding", (), {"input_ids": ([1] if add_special_tokens else []) + ids})()


def test_collate_masks_prompt_and_padding(nb):
    tok = _CharTokenizer()
    rows = [{"question": "能退吗？", "answer": "您好，可以。祝您购物愉快！"},
            {"question": "包邮吗？", "answer": "您好，满 99 元包邮。祝您购物愉快！"}]
    input_ids, attention_mask, labels = nb.collate(tok, rows)
    assert input_ids.shape == labels.shape == attention_mask.shape
    for i, row in enumerate(rows):
        n_prompt = 1 + len(nb.prompt_of(row["question"]))
        n_answer = len(row["answer"]) + 1  # + <eos>
        assert (labels[i, :n_prompt] == -100).all()
        assert labels[i, n_prompt + n_answer - 1] == tok.eos_token_id
        assert (labels[i] != -100).sum() == n_answer
        assert attention_mask[i].sum() == n_prompt + n_answer
        assert (input_ids[i, attention_mask[i] == 0] == tok.pad_token_id).all()


def test_an_instruct_tokenizer_gets_its_chat_template(nb):
    class ChatTokenizer(_CharTokenizer):
        chat_template = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}<|assistant|>"

        def apply_chat_template(self, messages, tokenize, add_generation_prompt):
            assert not tokenize and add_generation_prompt
            return "".join(f"<|{m['role']}|>{m['content']}" for m in messages) + "<|assistant|>"

    assert nb.prompt_of("能退吗？", ChatTokenizer()) == "<|user|>能退吗？<|assistant|>"
    assert nb.prompt_of("能退吗？", _CharTokenizer()) == nb.prompt_of("能退吗？") == "用户：能退吗？\n客服："


# --- metrics -----------------------------------------------------------------

def test_metrics(nb):
    assert nb.format_ok("您好，可以退货。祝您购物愉快！")
    assert nb.format_ok("  您好，可以。祝您购物愉快！\n")
    assert not nb.format_ok("可以退货。祝您购物愉快！")
    assert not nb.format_ok("您好，可以退货。")
    assert nb.keywords_hit("满 99 元包邮", ["99 元", "包邮"])
    assert not nb.keywords_hit("满 99 元免运费", ["99 元", "包邮"])
    assert nb.rouge_l("您好", "您好") == pytest.approx(1.0)
    assert nb.rouge_l("", "您好") == 0.0
    assert nb.rouge_l("甲乙", "丙丁") == 0.0
    # LCS("ABCBDAB", "BDCABA") = 4 (e.g. "BCBA"): P = 4/7, R = 4/6
    assert nb.rouge_l("ABCBDAB", "BDCABA") == pytest.approx(2 * (4 / 7) * (4 / 6) / (4 / 7 + 4 / 6))


def test_peak_memory_sees_a_large_allocation(nb):
    import time

    with nb.PeakMemory("cpu") as memory:
        block = torch.ones(64 * 1024 * 1024 // 4)  # 64 MB, touched
        time.sleep(10 * memory.interval)  # RSS is sampled every `interval`; a training step lasts seconds
        del block
    assert memory.extra_bytes > 48 * 1024 * 1024


# --- the dataset ---------------------------------------------------------------

@pytest.fixture(scope="module")
def rows():
    lines = DATA.read_text(encoding="utf-8").splitlines()
    assert all(line.strip() for line in lines), "no blank lines"
    return [json.loads(line) for line in lines]


def test_dataset_is_well_formed(nb, rows):
    assert len(rows) >= 200
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    for r in rows:
        assert set(r) == {"id", "split", "intent", "question", "answer", "keywords"}, r
        assert r["split"] in {"train", "test"}
        assert r["id"].startswith(r["split"] + "-")
        assert r["question"].strip() and r["answer"].strip()
        assert "{" not in r["question"] + r["answer"], "unfilled template slot"
        assert nb.format_ok(r["answer"]), r["answer"]
        assert r["keywords"] and nb.keywords_hit(r["answer"], r["keywords"]), r
    assert rows == nb.load_rows(DATA, url="http://invalid.example/never-used")


def test_dataset_split_has_no_overlap(rows):
    def norm(text):
        return re.sub(r"[\s，。？！、,.?!]", "", text)

    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    assert len(test) >= 40 and len(train) >= 160
    assert not {norm(r["question"]) for r in train} & {norm(r["question"]) for r in test}
    assert len({norm(r["question"]) for r in rows}) == len(rows), "duplicate questions"
    intents = {r["intent"] for r in rows}
    assert intents == {r["intent"] for r in test} == {r["intent"] for r in train}


def test_data_url_names_the_sites_repository(nb):
    from tools.prebuild import repository

    url, branch = repository()
    assert (f"https://github.com/{nb.REPO}", nb.BRANCH) == (url, branch)
    assert nb.DATA_URL == f"https://raw.githubusercontent.com/{nb.REPO}/{branch}/notebooks/{nb.DATA_FILE}"
    assert (ROOT / "notebooks" / nb.DATA_FILE).resolve() == DATA.resolve()


def test_without_the_file_next_to_it_the_notebook_reads_the_data_from_the_url(nb, rows, tmp_path, monkeypatch):
    """A notebook opened alone (Colab, a download) has no data/ folder: it fetches the file instead."""
    import functools
    import http.server
    import threading

    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    quiet = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    handler = functools.partial(quiet, directory=str(DATA.parent.parent))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/{nb.DATA_FILE}"
            assert nb.load_rows(tmp_path / "missing.jsonl", url=url) == rows
        finally:
            server.shutdown()
