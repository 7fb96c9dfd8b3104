# 一个本地的、与 OpenAI Chat Completions 接口兼容的服务。这个单元与仓库里的
# notebooks/shared/openai_server.py 完全相同（测试会核对）。
# 它把一个「聊天模型」对象包装成 HTTP 接口：POST /v1/chat/completions（普通回答和流式回答），
# GET /v1/models。任何 OpenAI 兼容的客户端（官方 openai 库、LangChain……）都能像调用 DeepSeek、
# 通义千问的接口一样调用它，只是地址换成 http://127.0.0.1:端口/v1。
# 聊天模型只需要两个方法：
#   complete(messages, settings) -> (回答文本, 结束原因 "stop" 或 "length", 提示词 Token 数, 回答 Token 数)
#   stream(messages, settings)   -> 逐段产生回答文本的迭代器
# settings 是下面的 ChatRequest（max_tokens、temperature、top_p、seed、stop）。
import json
import socket
import threading
import time
import uuid
from typing import Literal

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field


class Message(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    """The part of OpenAI's request body this server understands; unknown fields are ignored."""
    model: str
    messages: list[Message] = Field(min_length=1)
    max_tokens: int = Field(default=256, ge=1, le=4096)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)  # 0 表示每次都取概率最高的 Token（贪心）
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    seed: int | None = None
    stop: str | list[str] | None = None
    stream: bool = False


def openai_error(status, message, kind="invalid_request_error", param=None):
    """An error in OpenAI's format, so clients raise their usual exception with our message."""
    return JSONResponse(status_code=status, content={
        "error": {"message": message, "type": kind, "param": param, "code": None}})


def create_app(chat_model, model_name):
    """The FastAPI application serving `chat_model` under the name `model_name`."""
    app = FastAPI(title="本地 OpenAI 兼容接口")

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:])  # 去掉开头的 "body"
        return openai_error(400, f"请求格式不对：{where}：{first['msg']}", param=where or None)

    @app.get("/v1/models")
    def list_models():
        return {"object": "list", "data": [{"id": model_name, "object": "model", "owned_by": "local"}]}

    @app.post("/v1/chat/completions")
    def chat(body: ChatRequest):
        if body.model != model_name:
            return openai_error(404, f"没有模型 {body.model!r}，这个服务只有 {model_name!r}",
                                kind="model_not_found", param="model")
        messages = [m.model_dump() for m in body.messages]
        reply_id, created = f"chatcmpl-{uuid.uuid4().hex[:12]}", int(time.time())
        if body.stream:
            return StreamingResponse(stream_events(chat_model, messages, body, reply_id, created),
                                     media_type="text/event-stream")
        text, finish, prompt_tokens, completion_tokens = chat_model.complete(messages, body)
        return {
            "id": reply_id, "object": "chat.completion", "created": created, "model": model_name,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }

    return app


def stream_events(chat_model, messages, body, reply_id, created):
    """Server-sent events as OpenAI sends them: a chunk per piece of text, then data: [DONE]."""
    def event(delta, finish=None):
        chunk = {"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": body.model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    for piece in chat_model.stream(messages, body):
        yield event({"content": piece})
    yield event({}, finish="stop")
    yield "data: [DONE]\n\n"


def start_server(app, host="127.0.0.1"):
    """Run `app` with uvicorn in a background thread on a free port; returns (base_url, server).
    Only 127.0.0.1 by default: the service is for this machine, not the network."""
    with socket.socket() as probe:  # 让系统挑一个空闲端口
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("本地服务 30 秒内没有启动起来")
        time.sleep(0.05)
    return f"http://{host}:{port}/v1", server
