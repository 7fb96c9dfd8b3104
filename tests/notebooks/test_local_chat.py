"""notebooks/shared/local_chat.py: a transformers model behind the local OpenAI-compatible
server.  A tiny random Qwen2 model with the offline Qwen tokenizer and chat template: the
tests check the wrapping (template, greedy vs sampling, seed, stop, finish reason, streaming),
not the answers."""

from __future__ import annotations

import types

import pytest

from tests.conftest import ROOT

CELL = ROOT / "notebooks" / "shared" / "local_chat.py"


@pytest.fixture(scope="module")
def chat():
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    from tools.offline_models import MODELS_DIR, qwen

    namespace: dict = {}
    exec(compile(CELL.read_text(encoding="utf-8"), str(CELL), "exec", dont_inherit=True), namespace)
    tokenizer = AutoTokenizer.from_pretrained(qwen.ensure(MODELS_DIR, log=lambda *_: None))
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2))
    model.generation_config.eos_token_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    return namespace, namespace["TransformersChat"](model, tokenizer), model, tokenizer


def settings(**changes):
    base = dict(max_tokens=12, temperature=0.0, top_p=1.0, seed=None, stop=None)
    return types.SimpleNamespace(**{**base, **changes})


MESSAGES = [{"role": "system", "content": "你是助手"}, {"role": "user", "content": "你好"}]


def test_greedy_answer_is_what_generate_gives_on_the_chat_template(chat):
    import torch

    _, wrapper, model, tokenizer = chat
    text, finish, prompt_tokens, completion_tokens = wrapper.complete(MESSAGES, settings())
    ids = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, return_tensors="pt",
                                        return_dict=True)["input_ids"]
    assert tokenizer.decode(ids[0]).endswith("<|im_start|>assistant\n")
    with torch.inference_mode():
        expected = model.generate(ids, max_new_tokens=12, do_sample=False)[0, ids.shape[1]:]
    assert text == tokenizer.decode(expected, skip_special_tokens=True)
    assert (prompt_tokens, completion_tokens, finish) == (ids.shape[1], len(expected), "length")


def test_sampling_is_reproducible_with_a_seed(chat):
    _, wrapper, _, _ = chat
    first = wrapper.complete(MESSAGES, settings(temperature=1.5, seed=7))[0]
    assert wrapper.complete(MESSAGES, settings(temperature=1.5, seed=7))[0] == first
    others = {wrapper.complete(MESSAGES, settings(temperature=1.5, seed=s))[0] for s in range(5)}
    assert len(others) > 1


def test_stop_strings_end_the_answer_and_are_left_out(chat):
    namespace, wrapper, _, _ = chat
    assert namespace["cut_at_stop"]("你好。再见。", ["。"]) == ("你好", True)
    assert namespace["cut_at_stop"]("你好", ["。", "！"]) == ("你好", False)
    full = wrapper.complete(MESSAGES, settings(max_tokens=20))[0]
    stop = full[3:5]  # a piece of the greedy answer
    text, finish, _, _ = wrapper.complete(MESSAGES, settings(max_tokens=20, stop=[stop]))
    assert text == full[:full.find(stop)] and finish == "stop"


def test_streaming_gives_the_same_text(chat):
    _, wrapper, _, _ = chat
    for options in (settings(max_tokens=16), settings(max_tokens=20, stop=["。", "x"])):
        full = wrapper.complete(MESSAGES, options)[0]
        assert "".join(wrapper.stream(MESSAGES, options)) == full


def test_requests_that_arrive_together_are_generated_as_one_batch(chat):
    """Eight concurrent greedy requests of different lengths: one batch (one generate call),
    each answer the same as when it is asked alone, each cut at its own max_tokens."""
    from concurrent.futures import ThreadPoolExecutor

    _, wrapper, model, _ = chat
    conversations = [[{"role": "user", "content": "问题" * (i + 1)}] for i in range(8)]
    limits = [12, 5, 12, 9, 12, 12, 3, 12]
    alone = [wrapper.complete(c, settings(max_tokens=n)) for c, n in zip(conversations, limits)]
    calls = []
    original = model.generate

    def counted(*args, **kwargs):
        calls.append(kwargs["input_ids"].shape[0] if "input_ids" in kwargs else args[0].shape[0])
        return original(*args, **kwargs)

    model.generate = counted
    try:
        with ThreadPoolExecutor(8) as pool:
            together = list(pool.map(lambda cn: wrapper.complete(cn[0], settings(max_tokens=cn[1])),
                                     zip(conversations, limits)))
    finally:
        model.generate = original
    assert calls == [8], calls
    assert wrapper.batch_sizes[-1] == 8  # what the notebook prints about batching
    assert [t[0] for t in together] == [a[0] for a in alone]
    assert [t[3] for t in together] == [min(a[3], n) for a, n in zip(alone, limits)]
    assert [t[2] for t in together] == [a[2] for a in alone]  # prompt tokens without the padding


def test_the_shared_prefix_leaves_every_prompt_a_token_of_its_own(chat):
    shared_prefix = chat[0]["shared_prefix"]
    assert shared_prefix([[1, 2, 3, 4], [1, 2, 5], [1, 2, 3]]) == [1, 2]
    assert shared_prefix([[1, 2, 3], [1, 2, 3]]) == [1, 2]  # identical prompts: the last token is computed per row
    assert shared_prefix([[7, 8], [9, 8]]) == [] and shared_prefix([[5]]) == []


def test_a_prefix_is_computed_once_and_each_row_adds_its_own_tokens(chat):
    """The cache of the shared system prompt is copied to every row; the rows' own tokens are
    padded in front and masked, so each row's first-step logits equal those of the prompt alone."""
    import torch

    _, wrapper, model, tokenizer = chat
    conversations = [[{"role": "system", "content": "你是网店的客服分拣员。" * 4}, {"role": "user", "content": text}]
                     for text in ("你好", "我的快递到哪了？", "发票")]
    prompts = [tokenizer.apply_chat_template(c, add_generation_prompt=True)["input_ids"] for c in conversations]
    with torch.inference_mode():
        input_ids, mask, cache = wrapper._prefix_cached(prompts)
        assert cache.get_seq_length() == len(chat[0]["shared_prefix"](prompts)) >= 40
        batched = model(input_ids=input_ids[:, cache.get_seq_length():], attention_mask=mask, past_key_values=cache,
                        position_ids=(mask.cumsum(-1) - 1)[:, cache.get_seq_length():]).logits[:, -1]
        for row, ids in enumerate(prompts):
            alone = model(torch.tensor([ids])).logits[0, -1]
            torch.testing.assert_close(batched[row], alone, rtol=1e-4, atol=1e-4)
    assert [p[-3:] for p in prompts] == [row[-3:] for row in input_ids.tolist()]
    assert mask.sum(-1).tolist() == [len(p) for p in prompts]
    with torch.inference_mode():  # nothing shared, or a request alone: plain left padding
        assert wrapper._prefix_cached([[7, 8], [9]])[2] is None
        ids, mask, cache = wrapper._prefix_cached([prompts[0]])
        assert cache is None and ids.tolist() == [prompts[0]] and mask.sum() == len(prompts[0])


def test_the_prefix_cache_is_kept_for_the_next_batch(chat):
    """An agent's rounds start with the same system prompt: the next batch copies the kept cache (the
    model is not run on the prefix again, and the kept copy is left as it was); a batch that starts
    otherwise computes and keeps its own."""
    import torch

    _, wrapper, model, tokenizer = chat
    system = {"role": "system", "content": "你是会使用工具的助手。" * 4}
    def prompts(*texts):
        return [tokenizer.apply_chat_template([system, {"role": "user", "content": t}], add_generation_prompt=True)["input_ids"]
                for t in texts]

    calls = []
    hook = model.register_forward_hook(lambda module, args, kwargs_out: calls.append(1))
    try:
        with torch.inference_mode():
            first = wrapper._prefix_cached(prompts("你好", "发票"))
            kept, kept_cache = wrapper.kept_prefix
            assert len(calls) == 1 and first[2].get_seq_length() == len(kept)
            again = wrapper._prefix_cached(prompts("快递", "退货", "换货"))
            assert len(calls) == 1, "the prefix was computed again"
            assert again[2].get_seq_length() == len(kept) and wrapper.kept_prefix[1] is kept_cache
            assert kept_cache.get_seq_length() == len(kept) and kept_cache.layers[0].keys.shape[0] == 1
            torch.testing.assert_close(again[2].layers[0].keys[2], first[2].layers[0].keys[0])
            wrapper._prefix_cached([[5, 6, 7], [5, 6, 8]])
            assert len(calls) == 2 and wrapper.kept_prefix[0] == [5, 6]
    finally:
        hook.remove()
