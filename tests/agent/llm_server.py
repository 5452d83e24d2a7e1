"""A scripted chat server for tests: a real HTTP server on 127.0.0.1 that speaks the OpenAI
chat-completions format (`POST /v1/chat/completions`) and Ollama's `/api/chat`, answers
from a queue, and records every request.

    server = ScriptedServer().start()       # or the `llm_server` fixture (conftest.py)
    server.queue("```python\\ndef f(robot):\\n    pass\\n```", "left_of(red cube, blue cube)")
    llm = make_llm("openai:test-model", base_url=server.base_url, timeout=5)
    ...
    server.user_texts()                     # the last user message of every request
    server.messages(0)                      # [{"role": "system", ...}, {"role": "user", ...}]
    server.close()

Replies are taken in order; `fail(...)` queues an HTTP error (or a slow answer) in
between. When the queue is empty the server answers `reply` ("ok"), or, with
`strict=True`, HTTP 400 "no reply queued" (not retried) so that a test that asks the
model more often than it scripted fails with a clear message.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# One scripted answer: (status, payload or payload(request body), headers, delay in seconds).
Scripted = tuple[int, object, dict, float]


def completion(
    model: str, content: str, prompt_tokens: int = 31, completion_tokens: int = 9
) -> dict:
    """An OpenAI chat-completions response body."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def ollama_stream(model: str, content: str) -> list[dict]:
    """An Ollama /api/chat streamed response (NDJSON lines)."""
    stamp = "2024-01-01T00:00:00Z"
    return [
        {
            "model": model,
            "created_at": stamp,
            "message": {"role": "assistant", "content": content},
            "done": False,
        },
        {
            "model": model,
            "created_at": stamp,
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 17,
            "eval_count": 4,
        },
    ]


def server_error(status: int, message: str) -> Scripted:
    """An HTTP error with an OpenAI-style error body."""
    return status, {"error": {"message": message, "type": "server_error"}}, {}, 0.0


def answer(path: str, body: dict, content: str) -> object:
    """The response body to `body` (at `path`) whose reply text is `content`."""
    if path.startswith("/api/chat"):
        return ollama_stream(body.get("model", "m"), content)
    return completion(body.get("model", "m"), content)


class _Loopback:
    """A server on 127.0.0.1 (`port`, `thread` set by the subclass): start, close, URLs."""

    port: int
    thread: threading.Thread

    def start(self):
        self.thread.start()
        return self

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The server's root, e.g. for `ollama:` (http://127.0.0.1:PORT)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (…/v1) for `make_llm("openai:...", base_url=...)`."""
        return f"{self.url}/v1"


class ScriptedServer(_Loopback):
    """Answers from a script; records every request as {"path", "body", "headers"}.

    Args:
        reply: the answer when nothing is queued (unless `strict`).
        strict: answer HTTP 400 "no reply queued" when nothing is queued.
        responder: when nothing is queued, `responder(messages) -> text` answers instead
            (a rule-following stand-in for a model, e.g. `tests/agent/scripted_model.py`).
    """

    def __init__(self, reply: str = "ok", strict: bool = False) -> None:
        self.requests: list[dict] = []
        self.script: list[Scripted] = []
        self.reply = reply
        self.strict = strict
        self.responder: Callable[[list[dict]], str] | None = None
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload, extra, delay = server._next(self.path, body, headers)
                time.sleep(delay)
                if callable(payload):
                    payload = payload(self.path, body)
                ndjson = isinstance(payload, list)
                data = (
                    "".join(json.dumps(p) + "\n" for p in payload)
                    if ndjson
                    else json.dumps(payload)
                ).encode()
                try:
                    self.send_response(status)
                    self.send_header(
                        "Content-Type", "application/x-ndjson" if ndjson else "application/json"
                    )
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- scripting -------------------------------------------------------------------------
    def queue(self, *replies: str) -> None:
        """Answer the next requests with these reply texts, in order."""
        with self._lock:
            for text in replies:
                self.script.append((200, _reply_text(text), {}, 0.0))

    def fail(
        self,
        status: int,
        message: str = "scripted failure",
        headers: dict | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next request with an HTTP error (after `delay` seconds)."""
        with self._lock:
            self.script.append(
                (
                    status,
                    {"error": {"message": message, "type": "server_error"}},
                    headers or {},
                    delay,
                )
            )

    def pending(self) -> int:
        """Scripted answers not used yet."""
        with self._lock:
            return len(self.script)

    # -- what was asked --------------------------------------------------------------------
    def messages(self, i: int = -1) -> list[dict]:
        """The chat messages ({"role", "content"}) of request `i` (default: the last)."""
        return list(self.requests[i]["body"].get("messages", []))

    def user_texts(self) -> list[str]:
        """The last user message of every request, in order."""
        out = []
        for r in self.requests:
            users = [m for m in r["body"].get("messages", []) if m.get("role") == "user"]
            out.append(str(users[-1]["content"]) if users else "")
        return out

    def texts(self, i: int = -1) -> str:
        """Every message of request `i`, joined: for asserting what a prompt contains."""
        return "\n\n".join(str(m.get("content", "")) for m in self.messages(i))

    def _next(self, path: str, body: dict, headers: dict) -> Scripted:
        with self._lock:
            self.requests.append({"path": path, "body": body, "headers": headers})
            if self.script:
                return self.script.pop(0)
        if self.responder is not None:
            return 200, _reply_text(self.responder(list(body.get("messages", [])))), {}, 0.0
        if self.strict:
            return server_error(
                400, f"scripted server: no reply queued for request {len(self.requests)}"
            )
        return 200, _reply_text(self.reply), {}, 0.0


def _reply_text(text: str) -> Callable[[str, dict], object]:
    return lambda path, body: answer(path, body, text)


PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def isolate(monkeypatch) -> None:
    """No proxy, key, model or base URL from the environment reaches a test's clients."""
    for var in (
        *PROXY_VARS,
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "SKILLGROVE_LLM",
        "SKILLGROVE_LLM_BASE_URL",
    ):
        monkeypatch.delenv(var, raising=False)


class SilentServer(_Loopback):
    """A server on 127.0.0.1 that accepts every connection and never answers a byte.

    What a hung model server looks like from the client: the TCP connection is made, the
    request is sent, nothing comes back. `connections` counts the accepted connections.

        with SilentServer() as server:
            make_llm("openai:m", base_url=server.base_url, timeout=0.5).complete("hi")
    """

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._held: list = []  # accepted sockets, kept open and never written to
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:  # the 50 ms poll, or the socket was closed
                continue
            self.connections += 1
            self._held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=2)
        for conn in self._held:
            conn.close()
        self.sock.close()
