"""notebooks/shared/llama_cpp_chat.py: the packaged Qwen GGUF run by llama.cpp behind the local
OpenAI-compatible server.  The real model (0.5B, Q4_K_M; llama.cpp loads it in about a second):
the tests check what the wrapper promises (the chat template's tokens, batching and the kept prefix
leave answers as they are but for near-ties, stop strings, finish reasons, streaming, seeds), not
what the model knows."""

from __future__ import annotations

import types
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import ROOT

CELLS = [ROOT / "notebooks" / "shared" / name for name in ("local_chat.py", "llama_cpp_chat.py")]
QUESTIONS = ["用一句话介绍杭州。", "1 加 1 等于几？", "写一个 Python 的 hello world。", "什么是大模型？"]

pytest.importorskip("cyllama", reason="cyllama has no wheel for this platform (requirements.txt)")
pytestmark = pytest.mark.slow  # assembles the GGUF and converts the tokenizer's model folder once


@pytest.fixture(scope="module")
def namespace():
    space: dict = {}
    for cell in CELLS:  # 两个单元在 notebook 里先后运行，共用一个命名空间
        exec(compile(cell.read_text(encoding="utf-8"), str(cell), "exec", dont_inherit=True), space)
    return space


@pytest.fixture(scope="module")
def model_files():
    from transformers import AutoTokenizer

    from tools.offline_models import MODELS_DIR, qwen, qwen_gguf

    tokenizer = AutoTokenizer.from_pretrained(qwen.ensure(MODELS_DIR, log=lambda *_: None))
    return qwen_gguf.gguf_path(qwen_gguf.ensure(MODELS_DIR, log=lambda *_: None)), tokenizer


@pytest.fixture(scope="module")
def chat(namespace, model_files):
    return namespace["LlamaCppChat"](*model_files, max_batch=4)


def settings(**changes):
    base = dict(max_tokens=12, temperature=0.0, top_p=1.0, seed=None, stop=None)
    return types.SimpleNamespace(**{**base, **changes})


def messages(question):
    return [{"role": "system", "content": "你是一个乐于助人的助手。"}, {"role": "user", "content": question}]


def test_the_prompt_is_the_chat_templates_tokens(chat, model_files):
    _, tokenizer = model_files
    _, _, prompt_tokens, _ = chat.complete(messages(QUESTIONS[0]), settings(max_tokens=2))
    ids = tokenizer.apply_chat_template(messages(QUESTIONS[0]), add_generation_prompt=True, return_dict=True)["input_ids"]
    assert prompt_tokens == len(ids) and tokenizer.decode(ids).endswith("<|im_start|>assistant\n")


def test_greedy_answers_hardly_depend_on_the_kept_prefix_or_the_batch(chat, namespace, model_files):
    alone = [chat.complete(messages(q), settings()) for q in QUESTIONS]  # 一个一个算，前缀缓存留着上一题的开头
    fresh = namespace["LlamaCppChat"](*model_files, max_batch=4)  # 新的实例：缓存是空的
    assert fresh.complete(messages(QUESTIONS[2]), settings()) == alone[2]
    before = len(chat.batch_sizes)
    with ThreadPoolExecutor(len(QUESTIONS)) as pool:  # 同时到达：拼成一批，共用系统提示这段开头
        together = list(pool.map(lambda q: chat.complete(messages(q), settings()), QUESTIONS))
    assert max(chat.batch_sizes[before:]) > 1, chat.batch_sizes
    # llama.cpp picks its matrix kernels by the number of tokens in a decode, so a batch rounds a little
    # differently from a single request: where two next tokens score almost the same, the greedy pick can
    # flip (TransformersChat's docstring says the same of transformers). Most answers stay identical.
    same = [a == b for a, b in zip(together, alone)]
    assert sum(same) >= len(QUESTIONS) / 2 and all(a[0][:2] == b[0][:2] for a, b in zip(together, alone)), (together, alone)
    assert all(text for text, _, _, _ in alone)


def test_continued_conversations_reuse_their_sequences(chat, namespace, model_files):
    """Agents' next steps (or retries) send each whole conversation again: only what was added is computed."""
    firsts = [messages("请用一句话说明：为什么天空是蓝色的？"), messages("请用一句话说明：为什么海水是咸的？")]
    with ThreadPoolExecutor(2) as pool:  # 同时到达：一批，两条序列只共用系统提示这段开头
        replies = list(pool.map(lambda m: chat.complete(m, settings()), firsts))
    follows = [m + [{"role": "assistant", "content": text}, {"role": "user", "content": "再说得短一点。"}]
               for m, (text, _, _, _) in zip(firsts, replies)]
    computed, feed = [], chat._feed
    chat._feed = lambda pieces: (computed.extend(len(tokens) for _, tokens, _ in pieces), feed(pieces))[1]
    before = len(chat.batch_sizes)
    try:
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda m: chat.complete(m, settings()), follows))
    finally:
        del chat._feed  # 恢复类里的方法
    assert chat.batch_sizes[before:] == [2], chat.batch_sizes
    added = [answer[2] - reply[2] for answer, reply in zip(answers, replies)]  # 回答和新一轮的提问
    assert all(c <= a + 2 for c, a in zip(sorted(computed), sorted(added))), (computed, added)  # 重新分词可能差一两个
    fresh = namespace["LlamaCppChat"](*model_files, max_batch=4)  # 从头算整段对话
    assert [fresh.complete(m, settings())[0] for m in follows] == [text for text, _, _, _ in answers]


def test_max_tokens_and_stop_strings_end_the_answer(chat):
    text, finish, _, completion_tokens = chat.complete(messages(QUESTIONS[3]), settings(max_tokens=5))
    assert (finish, completion_tokens) == ("length", 5)
    longer = chat.complete(messages(QUESTIONS[3]), settings(max_tokens=40))[0]
    stop = longer[len(text) + 1:len(text) + 2]  # 一个在回答后面才出现的字
    stopped, finish, _, _ = chat.complete(messages(QUESTIONS[3]), settings(max_tokens=40, stop=[stop]))
    assert finish == "stop" and stop not in stopped and longer.startswith(stopped), (longer, stop, stopped)


def test_streaming_gives_the_same_text(chat):
    for options in (settings(max_tokens=24), settings(max_tokens=24, stop=["。"])):
        pieces = list(chat.stream(messages(QUESTIONS[0]), options))
        assert "".join(pieces) == chat.complete(messages(QUESTIONS[0]), options)[0]
        assert all(pieces) and "\ufffd" not in "".join(pieces)


def test_seeded_sampling_is_reproducible(chat):
    hot = dict(temperature=1.2, max_tokens=16)
    first = chat.complete(messages("讲一个很短的故事。"), settings(seed=1, **hot))[0]
    assert chat.complete(messages("讲一个很短的故事。"), settings(seed=1, **hot))[0] == first
    assert len({chat.complete(messages("讲一个很短的故事。"), settings(seed=s, **hot))[0] for s in range(4)}) > 1


def test_served_through_the_openai_client(namespace, chat):
    import openai

    space: dict = {}
    cell = ROOT / "notebooks" / "shared" / "openai_server.py"
    exec(compile(cell.read_text(encoding="utf-8"), str(cell), "exec", dont_inherit=True), space)
    url, server = space["start_server"](space["create_app"](chat, "local-gguf"))
    try:
        client = openai.OpenAI(base_url=url, api_key="local")
        reply = client.chat.completions.create(model="local-gguf", messages=messages(QUESTIONS[1]),
                                               temperature=0, max_tokens=12)
        assert reply.choices[0].message.content == chat.complete(messages(QUESTIONS[1]), settings())[0]
    finally:
        server.should_exit = True
