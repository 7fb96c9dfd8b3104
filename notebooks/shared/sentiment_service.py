# 中文评论情感分类和文本生成的 HTTP 服务。这个单元与仓库里的 notebooks/shared/sentiment_service.py
# 完全相同（测试会核对）；notebooks/deploy/Dockerfile 把同一个文件复制进镜像：在 notebook 里试过的，就是要部署的。
# 接口：
#   GET  /health          服务活着就回答，附上类别和批处理的设置
#   POST /classify        {"text": "..."}        -> {"label": "正面", "probabilities": {"负面": 0.1, "正面": 0.9}}
#   POST /classify/batch  {"texts": ["...", ...]} -> {"results": [同上, ...]}
#   POST /generate        {"prompt": "...", "max_new_tokens": 32} -> 服务器推送事件（SSE）：
#                         每段文本一行 data: {"text": "..."}，最后一行 data: [DONE]
# 不合格的输入得到 4xx 和中文的原因：{"detail": "text：不能为空……", "errors": [{"field", "type", "message"}, ...]}。
# create_app 接收模型对象，测试可以换成几行代码的假模型。模型对象只需要：
#   classifier.labels                          类别名的列表，例如 ["负面", "正面"]
#   classifier.predict_proba(texts)            每条文本一行概率（NumPy 数组，行数 = len(texts)）
#   generator.stream(prompt, max_new_tokens)   逐段产生回答文本的迭代器
import asyncio
import json
import os
import queue
import threading
import time
from concurrent.futures import Future
from contextlib import asynccontextmanager
from typing import Annotated

import numpy as np
import torch
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.concurrency import run_in_threadpool
from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer, TextIteratorStreamer

MAX_CHARS = 200          # 一条评论最多 200 个字：再长的多半不是评论，还会拖慢同一批里的其他请求
MAX_TEXTS = 32           # 一次批量请求最多 32 条
MAX_PROMPT_CHARS = 500
MAX_NEW_TOKENS = 64      # 生成的上限：一个请求不能把模型占住太久

# 去掉首尾空白后再量长度：全是空格的文本算空
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CHARS)]
Prompt = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_PROMPT_CHARS)]


class Strict(BaseModel):
    # strict：类型不对就报错，字符串 "5" 不会被悄悄当成整数 5；forbid：拼错的字段名（"txt"）报错，而不是被忽略
    model_config = ConfigDict(strict=True, extra="forbid")


class ClassifyRequest(Strict):
    text: Text


class BatchRequest(Strict):
    texts: list[Text] = Field(min_length=1, max_length=MAX_TEXTS)


class GenerateRequest(Strict):
    prompt: Prompt
    max_new_tokens: int = Field(default=32, ge=1, le=MAX_NEW_TOKENS)


class Prediction(BaseModel):
    label: str
    probabilities: dict[str, float]


class BatchPrediction(BaseModel):
    results: list[Prediction]


# pydantic 的错误类型 -> 给调用者看的中文原因（{...} 由错误的上下文填上）
REASONS = {
    "missing": "缺少这个字段",
    "extra_forbidden": "不认识这个字段",
    "string_type": "应该是字符串",
    "string_too_short": "不能为空（去掉首尾空白后至少要有 1 个字）",
    "string_too_long": "太长了：最多 {max_length} 个字",
    "list_type": "应该是列表",
    "too_short": "至少要有 {min_length} 条",
    "too_long": "太多了：最多 {max_length} 条",
    "int_type": "应该是整数",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "model_type": "请求体应该是一个 JSON 对象",
    "model_attributes_type": "请求体应该是一个 JSON 对象",
    "json_invalid": "请求体不是合法的 JSON（{error}）",
}


def explain(error):
    """One pydantic error as {"field", "type", "message"} with a Chinese reason."""
    kind = error["type"]
    # 去掉开头的 "body"；列表里的第 3 条是 texts.2。JSON 读不懂时 loc 里是出错的位置，不是字段
    field = "" if kind == "json_invalid" else ".".join(str(part) for part in error["loc"][1:])
    reason = REASONS.get(kind, error["msg"]).format(**error.get("ctx", {}))
    if kind == "string_too_long":
        reason += f"，收到 {len(error['input'].strip())} 个"
    if kind == "missing" and not field:
        reason = "缺少请求体：请发送 JSON"
    return {"field": field, "type": kind, "message": f"{field}：{reason}" if field else reason}


class DynamicBatcher:
    """Dynamic batching by hand.  submit() puts one input in a queue and returns a Future at once;
    a worker thread takes the first waiting input, collects more for at most `max_wait_seconds`
    (or until `max_batch_size`), runs `predict` once on the whole batch and hands each row back
    through its Future."""

    def __init__(self, predict, max_batch_size=16, max_wait_seconds=0.005):
        self.predict, self.max_batch_size, self.max_wait_seconds = predict, max_batch_size, max_wait_seconds
        self.batch_sizes = []  # 每次前向计算算了几条：看得见批处理有没有发生
        self.waiting = queue.Queue()
        self.worker = threading.Thread(target=self._run, daemon=True)
        self.worker.start()

    def submit(self, item):
        answer = Future()
        self.waiting.put((item, answer))
        return answer

    def close(self):
        self.waiting.put(None)  # 让工作线程退出
        self.worker.join(timeout=5)

    def _run(self):
        while (first := self.waiting.get()) is not None:
            batch = [first]
            # 从第一条到达时算起，最多再等 max_wait_seconds：等待给每个请求增加的延迟有上限
            deadline = time.monotonic() + self.max_wait_seconds
            while len(batch) < self.max_batch_size and (left := deadline - time.monotonic()) > 0:
                try:
                    request = self.waiting.get(timeout=left)
                except queue.Empty:
                    break
                if request is None:
                    self.waiting.put(None)  # 先把手上这一批算完，下一圈再退出
                    break
                batch.append(request)
            items, answers = zip(*batch)
            self.batch_sizes.append(len(batch))
            try:
                rows = self.predict(list(items))
            except Exception as error:  # 出错时每个等待的请求都收到这个错误，而不是永远等下去
                for answer in answers:
                    answer.set_exception(error)
                continue
            for answer, row in zip(answers, rows):
                answer.set_result(row)


def sse_event(data):
    """One server-sent event: a data line and the blank line that ends the event."""
    return f"data: {data}\n\n"


def sse_stream(pieces):
    """The pieces of an answer as SSE: JSON keeps line breaks inside one data line; [DONE] at the end."""
    try:
        for piece in pieces:
            yield sse_event(json.dumps({"text": piece}, ensure_ascii=False))
    except Exception as error:  # 响应头已经发出（状态码 200），只能在流里报告错误
        yield sse_event(json.dumps({"error": str(error)}, ensure_ascii=False))
    yield sse_event("[DONE]")


def create_app(classifier, generator, batching=False, max_batch_size=16, max_wait_seconds=0.005):
    """The FastAPI application.  batching=False: one forward pass per request, one request at a time.
    batching=True: requests that arrive together share one forward pass (DynamicBatcher)."""
    batcher = DynamicBatcher(classifier.predict_proba, max_batch_size, max_wait_seconds) if batching else None
    model_lock = threading.Lock()  # 不批处理时，模型一次只算一个请求

    def predict_alone(texts):
        with model_lock:
            return classifier.predict_proba(texts)

    async def probabilities(texts):
        if batcher is None:  # 推理放进线程池：不占住事件循环，健康检查照样能回答
            return list(await run_in_threadpool(predict_alone, texts))
        return await asyncio.gather(*(asyncio.wrap_future(batcher.submit(text)) for text in texts))

    def prediction(row):
        scores = {label: float(p) for label, p in zip(classifier.labels, row)}
        return Prediction(label=max(scores, key=scores.get), probabilities=scores)

    @asynccontextmanager
    async def lifespan(app):
        yield
        if batcher is not None:  # 服务停下时，批处理的工作线程也退出
            batcher.close()

    app = FastAPI(title="中文评论情感分类与文本生成", lifespan=lifespan)
    app.state.batcher = batcher

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        errors = [explain(e) for e in exc.errors()]
        status = 400 if errors[0]["type"] == "json_invalid" else 422  # 400：读不懂；422：读懂了但不合要求
        detail = "；".join(e["message"] for e in errors)  # 一次说全：改一处、发一次、再看到下一处，太费事
        return JSONResponse(status_code=status, content={"detail": detail, "errors": errors})

    @app.get("/health")
    def health():
        settings = {"max_batch_size": max_batch_size, "max_wait_seconds": max_wait_seconds} if batching else None
        return {"status": "ok", "labels": list(classifier.labels), "batching": settings}

    @app.post("/classify")
    async def classify(body: ClassifyRequest) -> Prediction:
        (row,) = await probabilities([body.text])
        return prediction(row)

    @app.post("/classify/batch")
    async def classify_batch(body: BatchRequest) -> BatchPrediction:
        return BatchPrediction(results=[prediction(row) for row in await probabilities(body.texts)])

    @app.post("/generate")
    def generate(body: GenerateRequest):
        pieces = generator.stream(body.prompt, body.max_new_tokens)
        return StreamingResponse(sse_stream(pieces), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})  # 别让中间的代理缓存这个流

    return app


def mean_pooled(encoder, tokenizer, texts, max_length=128):
    """Normalised E5 sentence vectors: the mean of the last layer over the real tokens of "query: " + text
    (E5 was trained with these prefixes; "query: " is the one its model card gives for classification)."""
    batch = tokenizer(["query: " + t for t in texts], padding=True, truncation=True,
                      max_length=max_length, return_tensors="pt").to(encoder.device)
    with torch.inference_mode():
        hidden = encoder(**batch).last_hidden_state.float()
    mask = batch["attention_mask"].unsqueeze(-1)  # 补齐的位置不参与平均
    mean = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(mean, dim=-1).cpu().numpy()


class E5Classifier:
    """A frozen multilingual-e5-small encoder and a logistic-regression head trained on its sentence
    vectors: probabilities softmax(x W^T + b), which for two labels is a sigmoid of one score."""

    def __init__(self, encoder, tokenizer, weights, bias, labels, max_length=128):
        self.encoder, self.tokenizer = encoder.eval(), tokenizer
        self.weights, self.bias = np.asarray(weights, dtype=np.float32), np.asarray(bias, dtype=np.float32)
        self.labels, self.max_length = list(labels), max_length

    def predict_proba(self, texts):
        scores = mean_pooled(self.encoder, self.tokenizer, texts, self.max_length) @ self.weights.T + self.bias
        if self.weights.shape[0] == 1:  # 两类时逻辑回归只有一行权重：正类的概率是 sigmoid
            positive = 1 / (1 + np.exp(-scores[:, 0]))
            return np.stack([1 - positive, positive], axis=1)
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def save_head(self, path):
        np.savez(path, weights=self.weights, bias=self.bias, labels=np.array(self.labels))

    @classmethod
    def from_files(cls, e5_dir, head_file):
        head = np.load(head_file)  # 只有数组，不用 pickle：加载别人给的文件也不会执行代码
        encoder = AutoModel.from_pretrained(e5_dir, add_pooling_layer=False)
        return cls(encoder, AutoTokenizer.from_pretrained(e5_dir), head["weights"], head["bias"], head["labels"].tolist())


class QwenGenerator:
    """A chat model that streams its answer: model.generate runs in a thread and writes the text into a
    TextIteratorStreamer; iterating the streamer gives the pieces as soon as they are decoded."""

    def __init__(self, model, tokenizer):
        self.model, self.tokenizer = model.eval(), tokenizer
        self.lock = threading.Lock()  # 一次只生成一个回答

    def prepare(self, prompt, max_new_tokens):
        """(inputs, options) for model.generate: the prompt in the model's chat template, greedy decoding."""
        inputs = self.tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                                    return_dict=True, return_tensors="pt").to(self.model.device)
        options = dict(max_new_tokens=max_new_tokens, do_sample=False, temperature=None, top_p=None, top_k=None,
                       pad_token_id=self.tokenizer.pad_token_id)  # 贪心解码：同一个问题，回答相同
        return inputs, options

    def stream(self, prompt, max_new_tokens):
        inputs, options = self.prepare(prompt, max_new_tokens)
        options["streamer"] = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=120)
        failed = []
        with self.lock:
            thread = threading.Thread(target=self._generate, args=(inputs, options, failed), daemon=True)
            thread.start()
            yield from (piece for piece in options["streamer"] if piece)  # 解码器还在攒字时会交出空字符串
            thread.join()
        if failed:
            raise failed[0]

    def _generate(self, inputs, options, failed):
        try:
            with torch.inference_mode():
                self.model.generate(**inputs, **options)
        except Exception as error:  # 让等着读流的那一边知道出错了，而不是等到超时
            failed.append(error)
            options["streamer"].end()

    @classmethod
    def from_dir(cls, model_dir):
        return cls(AutoModelForCausalLM.from_pretrained(model_dir), AutoTokenizer.from_pretrained(model_dir))


def app_from_environment():
    """The application the container runs (uvicorn --factory): models from the folders the environment names."""
    missing = [name for name in ("E5_DIR", "HEAD_FILE", "QWEN_DIR") if not os.environ.get(name)]
    if missing:
        raise RuntimeError(f"请设置环境变量 {'、'.join(missing)}：E5_DIR 和 QWEN_DIR 是模型目录，HEAD_FILE 是分类头的 .npz 文件")
    classifier = E5Classifier.from_files(os.environ["E5_DIR"], os.environ["HEAD_FILE"])
    return create_app(classifier, QwenGenerator.from_dir(os.environ["QWEN_DIR"]), batching=True)
