"""An OpenAI-compatible chat-completions server on 127.0.0.1: what vLLM, llama.cpp's server, LM Studio
and most gateways expose, standing in for the model service (the one true seam of the LLM path).

The assistant reaches it through the real provider package (`langchain-openai`, its `openai` and
`httpx` clients) with `OPENAI_BASE_URL` pointing here. Each request is answered by the next step of
a script: a reply text, an HTTP error (with headers such as Retry-After), or no answer at all. A
step may be a function of the request, so a test can cite the number the prompt gave a sentence.
A request with `"stream": true` (what the assistant sends) gets the reply as server-sent events,
chunk by chunk, the way the OpenAI API streams.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG_LIMIT = 60.0
"""A hanging request is released after this long even if the test never stops the server."""


@dataclass(frozen=True)
class Reply:
    """One scripted response: `content` as the assistant message, or an HTTP error, or a hang."""

    content: str = ""
    status: int = 200
    headers: dict = field(default_factory=dict)
    hang: bool = False
    chunk: int = 4096
    """Characters per streamed chunk ..."""
    trickle: float = 0.0
    """... and seconds between chunks (a model that writes slowly, or a server that drips)."""


Step = Reply | Callable[[dict], Reply]


@dataclass
class Request:
    at: float
    """time.monotonic() when it arrived."""
    body: dict

    @property
    def prompt(self) -> str:
        """The human message: the numbered sentences and the question."""
        return self.body["messages"][-1]["content"]

    def number_of(self, sentence: str) -> int:
        """The [n] the prompt gave `sentence`."""
        match = re.search(rf"^\[(\d+)\] {re.escape(sentence)}$", self.prompt, re.MULTILINE)
        assert match, f"the sentence was not in the prompt: {sentence[:60]!r}"
        return int(match.group(1))


class FakeChatCompletions:
    """`POST /v1/chat/completions`. `script(...)` sets the replies; the last one repeats."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._steps: list[Step] = [Reply("{}")]
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """What `OPENAI_BASE_URL` is set to."""
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    def start(self) -> FakeChatCompletions:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # hanging handlers return, so shutdown does not wait for them
        self._server.shutdown()
        self._server.server_close()

    def script(self, *steps: Step) -> None:
        with self._lock:
            self._steps = list(steps)
            self.requests = []

    def _next(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            step = self._steps.pop(0) if len(self._steps) > 1 else self._steps[0]
        return step(request) if callable(step) else step

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                reply = fake._next(Request(time.monotonic(), body))
                if reply.hang:
                    fake._release.wait(HANG_LIMIT)  # accepted, read, never answered
                    self.close_connection = True
                    return
                if reply.status != 200:
                    return self._send(reply.status, {"error": {"message": f"scripted {reply.status}", "type": "server_error"}}, reply.headers)
                if body.get("stream"):
                    return self._stream(body.get("model", "test-model"), reply)
                self._send(200, completion(body.get("model", "test-model"), reply.content))

            def _stream(self, model: str, reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    content = reply.content
                    for piece in (content[n : n + reply.chunk] for n in range(0, len(content), reply.chunk)):
                        if reply.trickle and fake._release.wait(reply.trickle):
                            break
                        self._event(chunk(model, {"content": piece}, None))
                    self._event(chunk(model, {}, "stop"))
                    self._chunk(b"data: [DONE]\n\n")
                    self._chunk(b"")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up reading: what a runaway reply should get

            def _event(self, payload: dict) -> None:
                self._chunk(f"data: {json.dumps(payload)}\n\n".encode())

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

            def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def chunk(model: str, delta: dict, finish_reason: str | None) -> dict:
    """A chat.completion.chunk object, one server-sent event of a streamed reply."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": {"role": "assistant", **delta}, "finish_reason": finish_reason}],
    }


def completion(model: str, content: str) -> dict:
    """A chat.completion object as the OpenAI API returns it."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }
