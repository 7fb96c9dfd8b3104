"""A stand-in for an OpenAI-compatible Chat Completions API on 127.0.0.1, for running the
pages' API examples in tests with the official `openai` client and no key or network.

    POST /v1/chat/completions    {"model", "messages", "stream"?} → a chat.completion, or with
                                 "stream": true, server-sent chat.completion.chunk events and [DONE]

The answer is canned (it names the last user message), so tests check the client code, not a
model.  A missing key is 401, a body that is not a chat request 400, any other route 404, each
with an OpenAI-style {"error": {"message", "type"}} body; `requests` records what was asked.

    with OpenAIStandIn() as api:
        os.environ["LLM_BASE_URL"] = api.url    # http://127.0.0.1:PORT/v1
"""

from __future__ import annotations

import http.server
import json
import threading
import time


def answer_to(messages: list[dict]) -> str:
    last = next(m["content"] for m in reversed(messages) if m["role"] == "user")
    return f"（测试服务的固定回答）你问的是：{last}"


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, kind: str) -> None:
        self._json(status, {"error": {"message": message, "type": kind}})

    def do_GET(self):
        self._error(404, f"unknown route {self.path}", "not_found")

    def do_POST(self):
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._error(404, f"unknown route {self.path}", "not_found")
        if not self.headers.get("Authorization", "").startswith("Bearer ") or self.headers["Authorization"] == "Bearer ":
            return self._error(401, "missing API key", "authentication_error")
        try:
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            model, messages = request["model"], request["messages"]
            assert isinstance(model, str) and model
            assert messages and all(m["role"] in ("system", "user", "assistant") and isinstance(m["content"], str)
                                    for m in messages)
            text = answer_to(messages)
        except (ValueError, KeyError, TypeError, AssertionError, StopIteration):
            return self._error(400, "expected {model, messages: [{role, content}], …} with a user message",
                               "invalid_request_error")
        self.server.requests.append(request)
        created = int(time.time())
        if request.get("stream"):
            return self._stream(model, text, created)
        prompt_tokens = sum(len(m["content"]) for m in messages)
        self._json(200, {
            "id": "chatcmpl-standin", "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text),
                      "total_tokens": prompt_tokens + len(text)},
        })

    def _stream(self, model: str, text: str, created: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        pieces = [{"role": "assistant", "content": ""}] + [{"content": text[i:i + 4]} for i in range(0, len(text), 4)]
        for n, delta in enumerate(pieces):
            chunk = {"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": created,
                     "model": model, "choices": [{"index": 0, "delta": delta,
                                                  "finish_reason": "stop" if n == len(pieces) - 1 else None}]}
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode("utf-8"))
        self.wfile.write(b"data: [DONE]\n\n")


class OpenAIStandIn:
    def __enter__(self) -> "OpenAIStandIn":
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.requests = []
        self.requests = self.server.requests
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
