"""A scripted HTTP server on 127.0.0.1 for the Hub-access tests (fixtures in conftest.py).

Each route answers a scripted sequence of replies (the last one repeats) or
runs a handler function; the server counts what it saw per route and the side
effects handlers record, so tests assert outcomes ("the POST ran once"), not
calls. Replies use the header shapes of the real Hub.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

TOKEN = "hf_remedybotTestToken0123456789"


@dataclass
class Reply:
    """One scripted answer. `reset` closes the socket with RST instead of answering."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False
    delay: float = 0.0


def repo_not_found() -> Reply:
    return Reply(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound",
                                                          "X-Error-Message": "Repository not found"})


Handler = Callable[["Request"], Reply | None]


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    handler: BaseHTTPRequestHandler


class ScriptedServer:
    """Routes (method, path) to scripted replies or handler functions; counts hits and effects."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.scripts: dict[tuple[str, str], list[Reply]] = {}
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.hits: Counter[tuple[str, str]] = Counter()
        self.effects: Counter[str] = Counter()
        self.seen_headers: list[dict[str, str]] = []
        self.queries: list[tuple[str, str, str]] = []  # (method, path, query string) in arrival order
        self.stopping = threading.Event()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._dispatch(self)

            do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        class _Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # resets and clients hanging up mid-stream are part of the script

        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def script(self, method: str, path: str, *replies: Reply) -> None:
        self.scripts[(method, path)] = list(replies)

    def route(self, method: str, path: str, handler: Handler) -> None:
        self.handlers[(method, path)] = handler

    def hit_count(self, method: str, path: str) -> int:
        return self.hits[(method, path)]

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        body = _read_body(h)
        request = Request(h.command, parts.path, parts.query, dict(h.headers.items()), body, h)
        key = (h.command, parts.path)
        with self.lock:
            self.hits[key] += 1
            self.seen_headers.append(request.headers)
            self.queries.append((h.command, parts.path, parts.query))
            script = self.scripts.get(key)
            reply = script.pop(0) if script and len(script) > 1 else (script[0] if script else None)
        if reply is None and key in self.handlers:
            reply = self.handlers[key](request)
            if reply is None:  # the handler wrote the answer itself (streams)
                return
        if reply is None:
            reply = repo_not_found()
        send(h, reply)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _read_body(h: BaseHTTPRequestHandler) -> bytes:
    if h.headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                h.rfile.readline()
                return body
            body += h.rfile.read(size)
            h.rfile.readline()
    length = int(h.headers.get("content-length") or 0)
    return h.rfile.read(length) if length else b""


def send(h: BaseHTTPRequestHandler, reply: Reply) -> None:
    """Write one reply (or reset the connection)."""
    if reply.delay:
        threading.Event().wait(reply.delay)
    if reply.reset:
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()
        h.close_connection = True
        return
    body = reply.body
    headers = dict(reply.headers)
    if isinstance(body, dict | list):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
    h.send_response(reply.status)
    for key, value in headers.items():
        h.send_header(key, value)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)
