"""Notebook 07's hand-written pieces, imported from the notebook: BPE against the tokenizers library,
logits processing and decoding against transformers' generate, perplexity against the library's loss,
and the hand-written KV cache against the model's own attention.  Small random models of the two
architectures the notebook meets (Gemma 3 offline, Qwen2.5 from the Hub) stand in for the real ones."""

import math

import pytest
import torch
from transformers import (Gemma3ForCausalLM, Gemma3TextConfig, GenerationConfig, Qwen2Config, Qwen2ForCausalLM,
                          RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper,
                          TopPLogitsWarper)

from tests.notebook_import import load_exports

VOCAB, EOS = 320, 1


@pytest.fixture(scope="module")
def nb():
    return load_exports("07-tokens-decoding-kv-cache.ipynb")


# ------------------------------------------------------------------------------------------- BPE --
CORPORA = {
    "mixed": ["大模型每次只预测下一个词元。", "The tokenizer splits text into tokens.", "分词器 splits 中文 and English, 123!",
              "汉字在 UTF-8 里占三个字节；emoji 🙂 占四个。", "the the the there then 的的的"] * 3,
    "ties": ["ab ba ab ba", "cd dc cd dc", "ef fe"],  # many pairs with equal counts: the tie rule decides
    "rare": ["龘靐齉 𠀀", "ａｂｃ", "tab\tand\nnewline  two spaces"],
}


@pytest.mark.parametrize("corpus", CORPORA, ids=str)
@pytest.mark.parametrize("merges", [20, 120])
def test_hand_written_bpe_learns_the_librarys_merges_and_splits(nb, corpus, merges):
    texts = CORPORA[corpus]
    learnt = nb.train_bpe(texts, merges)
    library = nb.train_library_bpe(texts, merges)
    assert [pair for pair, _ in learnt] == nb.library_merges(library)
    unseen = "没见过的句子 with new words, 还有 🙂 和龘。"
    for text in [*texts, unseen]:
        tokens = nb.bpe_encode(text, learnt)
        assert tokens == library.encode(text).tokens
        assert nb.bpe_decode(tokens) == text == library.decode(library.encode(text).ids)


def test_merges_are_taken_most_frequent_first_with_their_counts(nb):
    # "aaab" and " aaab" hold a-a twice each (4), a-b once each plus "ab" (3): a-a first; then in
    # (aa, a, b) the pairs are aa-a (2) and a-b (3)
    assert nb.train_bpe(["aaab aaab", "ab"], 2) == [(("a", "a"), 4), (("a", "b"), 3)]


def test_readable_shows_incomplete_characters_as_bytes(nb):
    da = "".join(nb.BYTE_TO_CHAR[b] for b in "大".encode("utf-8"))
    assert nb.readable(da) == "大" and nb.readable(da[:2]) == "<E5><A4>"
    assert nb.pretokenize(" the") == ["Ġthe"]


# -------------------------------------------------------------------------------- logits processing --
@pytest.mark.parametrize("seed", range(3))
def test_processors_equal_transformers_logits_processors(nb, seed):
    generator = torch.Generator().manual_seed(seed)
    scores = torch.randn(3, 500, generator=generator) * 4
    history = torch.randint(0, 500, (3, 30), generator=generator)
    assert torch.equal(nb.apply_temperature(scores, 0.6), TemperatureLogitsWarper(0.6)(history, scores))
    for k in (1, 7, 100):
        assert torch.equal(nb.keep_top_k(scores, k), TopKLogitsWarper(k)(history, scores))
    for p in (0.05, 0.5, 0.95):
        assert torch.equal(nb.keep_top_p(scores, p), TopPLogitsWarper(p)(history, scores))
    for penalty in (0.8, 1.3):
        assert torch.equal(nb.apply_repetition_penalty(scores, history, penalty),
                           RepetitionPenaltyLogitsProcessor(penalty)(history, scores.clone()))


def test_top_p_keeps_the_smallest_set_reaching_p_and_never_nothing(nb):
    scores = torch.log(torch.tensor([[0.6, 0.2, 0.1, 0.05, 0.05]]))
    kept = lambda p: torch.isfinite(nb.keep_top_p(scores, p))[0].tolist()
    assert kept(0.7) == [True, True, False, False, False]
    assert kept(0.1) == [True, False, False, False, False]
    assert kept(1.0) == [True] * 5


def test_blocking_does_not_touch_the_input(nb):
    scores = torch.zeros(2, 5)
    blocked = nb.block_tokens(scores, [1, 3])
    assert torch.isinf(blocked[:, [1, 3]]).all() and torch.equal(scores, torch.zeros(2, 5))


# ------------------------------------------------------------------------------ decoding on models --
def gemma():
    config = Gemma3TextConfig(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                              num_attention_heads=4, num_key_value_heads=2, head_dim=16, sliding_window=512,
                              layer_types=["sliding_attention", "full_attention"], max_position_embeddings=512,
                              bos_token_id=2, eos_token_id=EOS, pad_token_id=0)
    return Gemma3ForCausalLM(config)


def qwen():
    config = Qwen2Config(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=1, max_position_embeddings=512,
                         bos_token_id=2, eos_token_id=EOS, pad_token_id=0)
    return Qwen2ForCausalLM(config)


@pytest.fixture(scope="module", params=[gemma, qwen], ids=["gemma3", "qwen2"])
def model(request):
    torch.manual_seed(0)
    built = request.param().eval()
    with torch.no_grad():  # larger weights than the initialisation: peaked, varied next-token distributions
        for parameter in built.parameters():
            if parameter.dim() > 1:
                parameter.normal_(0, 0.3)
    built.generation_config = GenerationConfig(bos_token_id=2, eos_token_id=[EOS], pad_token_id=0)
    return built


PROMPT = torch.tensor([[2, 17, 99, 250, 31, 8]])
SETTINGS = [dict(), dict(do_sample=True, top_k=0), dict(do_sample=True, temperature=0.7, top_k=0),
            dict(do_sample=True, top_k=5), dict(do_sample=True, top_p=0.8, top_k=0),
            dict(do_sample=True, temperature=1.5, top_k=20, top_p=0.9, repetition_penalty=1.2),
            dict(repetition_penalty=1.5)]


@pytest.mark.parametrize("settings", SETTINGS, ids=str)
def test_generate_by_hand_gives_generates_tokens(nb, model, settings):
    samples = 3 if settings.get("do_sample") else 1
    mine = nb.generate_by_hand(model, PROMPT, 12, [EOS], num_samples=samples, seed=5, **settings)
    torch.manual_seed(5)
    theirs = model.generate(PROMPT, max_new_tokens=12, suppress_tokens=[EOS], num_return_sequences=samples,
                            **settings)
    assert torch.equal(mine, theirs)
    assert not (mine[:, PROMPT.shape[1]:] == EOS).any()


@pytest.mark.parametrize("beams", [2, 4])
def test_beam_search_by_hand_gives_generates_tokens(nb, model, beams):
    mine, logp = nb.beam_search_by_hand(model, PROMPT, 10, beams, [EOS])
    theirs = model.generate(PROMPT, max_new_tokens=10, suppress_tokens=[EOS], num_beams=beams)
    assert torch.equal(mine, theirs)
    # its score is the sequence's log-probability under the model (with the end token blocked)
    with torch.no_grad():
        logits = model(mine).logits[:, PROMPT.shape[1] - 1:-1].float()
    logits[..., EOS] = -torch.inf
    by_model = logits.log_softmax(-1).gather(-1, mine[:, PROMPT.shape[1]:, None]).sum().item()
    assert math.isclose(logp, by_model, rel_tol=5e-3)  # cached vs whole-sequence float32 arithmetic


def test_distinct_n(nb):
    assert nb.distinct_n([[1, 2, 3, 4]], 1) == 1.0
    assert nb.distinct_n([[1, 1, 1, 1]], 1) == 0.25
    assert nb.distinct_n([[1, 2, 1, 2, 1]], 2) == 0.5  # 12 21 12 21: two of four
    assert nb.distinct_n([[1, 1], [1, 2]], 1) == 0.75  # the mean of 0.5 and 1


def test_perplexity_by_hand_is_the_exponential_of_the_librarys_loss(nb, model):
    ids = torch.tensor([[2, 5, 9, 33, 120, 7, 7, 7, 301, 64]])
    ppl, nll, n = nb.perplexity_by_hand(model, ids)
    with torch.no_grad():
        loss = model(ids, labels=ids).loss.item()
    assert n == ids.shape[1] - 1 and math.isclose(ppl, math.exp(loss), rel_tol=1e-5)
    assert math.isclose(nll / n, loss, rel_tol=1e-5)
    # a context as long as the text changes nothing; shorter contexts score the same tokens
    assert math.isclose(nb.perplexity_with_short_context(model, ids, 100), ppl, rel_tol=1e-5)
    assert nb.perplexity_with_short_context(model, ids, 2) != pytest.approx(ppl)


def test_continuation_perplexity_counts_only_the_new_tokens(nb, model):
    ids = torch.tensor([[2, 5, 9, 33, 120, 7, 8]])
    with torch.no_grad():
        logp = model(ids).logits.float().log_softmax(-1)
    expected = math.exp(-(logp[0, 3, 120] + logp[0, 4, 7] + logp[0, 5, 8]).item() / 3)
    assert math.isclose(nb.continuation_perplexity(model, ids, 4), expected, rel_tol=1e-5)


# --------------------------------------------------------------------------------------- KV cache --
def test_hand_written_attention_equals_the_models_own(nb, model):
    ids = torch.randint(3, VOCAB, (2, 20), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        reference = model(ids).logits
        with nb.hand_written_attention(model, use_cache=False):
            ours = model(ids, position_ids=torch.arange(20)[None].expand(2, -1), use_cache=False).logits
    assert torch.allclose(ours, reference, atol=1e-4)
    assert all(type(layer.self_attn).__name__ != "CachedAttention" for layer in model.model.layers)  # put back


def test_cached_and_uncached_greedy_agree_with_generate_and_the_cache_size_formula(nb, model):
    cached, times, nbytes = nb.greedy_with_hand_attention(model, PROMPT, 30, use_cache=True)
    plain, _, none = nb.greedy_with_hand_attention(model, PROMPT, 30, use_cache=False)
    reference = model.generate(PROMPT, max_new_tokens=30, do_sample=False, min_new_tokens=30)
    assert torch.equal(cached, plain) and torch.equal(cached, reference)
    assert len(times) == 30 and times == sorted(times) and none == 0
    config, attention = model.config, model.model.layers[0].self_attn
    length = cached.shape[1] - 1  # every position but the last token, which was never fed back
    assert nbytes == nb.kv_cache_bytes(config.num_hidden_layers, config.num_key_value_heads, attention.head_dim,
                                       length, 4)


def test_kv_cache_bytes_matches_a_worked_example(nb):
    # 04-advanced's quiz: 32 layers, 8 key/value heads of 128 dimensions, FP16, 32768 tokens: 4 GiB
    assert nb.kv_cache_bytes(32, 8, 128, 32768, 2) == 4 * 2**30
