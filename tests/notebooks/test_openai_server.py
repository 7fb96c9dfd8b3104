"""The local OpenAI-compatible server of notebooks/shared/openai_server.py, driven by the
official `openai` client as the notebooks and readers use it, with a stand-in chat model."""

from __future__ import annotations

import json
import urllib.request

import openai
import pytest

from tests.conftest import ROOT

SERVER = ROOT / "notebooks" / "shared" / "openai_server.py"


class EchoModel:
    """Answers 你说：<last message>, cut at max_tokens characters (one character = one token)."""

    def __init__(self):
        self.settings = []

    def complete(self, messages, settings):
        self.settings.append(settings)
        full = "你说：" + messages[-1]["content"]
        text = full[:settings.max_tokens]
        return text, "length" if len(full) > len(text) else "stop", sum(len(m["content"]) for m in messages), len(text)

    def stream(self, messages, settings):
        text = self.complete(messages, settings)[0]
        for start in range(0, len(text), 3):
            yield text[start:start + 3]


@pytest.fixture(scope="module")
def served():
    namespace: dict = {}
    # dont_inherit: this test file's `from __future__ import annotations` must not leak into the cell
    exec(compile(SERVER.read_text(encoding="utf-8"), str(SERVER), "exec", dont_inherit=True), namespace)
    model = EchoModel()
    url, server = namespace["start_server"](namespace["create_app"](model, "echo-1"))
    client = openai.OpenAI(base_url=url, api_key="local")  # any ASCII text: HTTP headers cannot carry Chinese
    yield client, model, url
    server.should_exit = True


def test_a_chat_completion_in_openai_format(served):
    client, model, url = served
    assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
    reply = client.chat.completions.create(model="echo-1", messages=[
        {"role": "system", "content": "你是助手"}, {"role": "user", "content": "你好"}],
        temperature=0, max_tokens=50, seed=3, stop=["。"])
    assert reply.object == "chat.completion" and reply.model == "echo-1" and reply.id.startswith("chatcmpl-")
    choice = reply.choices[0]
    assert (choice.message.role, choice.message.content, choice.finish_reason) == ("assistant", "你说：你好", "stop")
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (6, 5, 11)
    settings = model.settings[-1]
    assert (settings.temperature, settings.max_tokens, settings.seed, settings.stop) == (0, 50, 3, ["。"])


def test_a_cut_answer_says_length(served):
    client, _, _ = served
    reply = client.chat.completions.create(model="echo-1", messages=[{"role": "user", "content": "很长的一句话"}],
                                           max_tokens=4)
    assert (reply.choices[0].message.content, reply.choices[0].finish_reason) == ("你说：很", "length")


def test_streaming_sends_the_same_text_in_chunks(served):
    client, _, _ = served
    chunks = list(client.chat.completions.create(model="echo-1", stream=True,
                                                 messages=[{"role": "user", "content": "流式回答试一试"}]))
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content or "" for c in chunks]
    assert "".join(pieces) == "你说：流式回答试一试" and len([p for p in pieces if p]) == 4
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert len({c.id for c in chunks}) == 1


def test_the_stream_ends_with_done(served):
    _, _, url = served
    body = {"model": "echo-1", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    request = urllib.request.Request(f"{url}/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = [line for line in response.read().decode().split("\n\n") if line]
    assert events[-1] == "data: [DONE]" and all(e.startswith("data: ") for e in events)


@pytest.mark.parametrize("change, param", [
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
    ({"messages": [{"role": "user"}]}, "messages.0.content"),
    ({"temperature": 3}, "temperature"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"top_p": 0}, "top_p"),
])
def test_bad_requests_get_400_with_a_reason(served, change, param):
    client, _, _ = served
    request = {"model": "echo-1", "messages": [{"role": "user", "content": "hi"}], **change}
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(**request)
    error = raised.value.body
    assert error["type"] == "invalid_request_error" and error["param"] == param, error
    assert error["message"].startswith("请求格式不对：" + param)


def test_an_unknown_model_is_404_naming_the_one_there_is(served):
    client, _, _ = served
    with pytest.raises(openai.NotFoundError, match="echo-1"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


def test_models_lists_the_served_model(served):
    client, _, _ = served
    assert [m.id for m in client.models.list()] == ["echo-1"]
