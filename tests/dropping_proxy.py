"""A real HTTP proxy in front of a sandbox Hub that can lose the Hub's answers.

It forwards every request to the sandbox and relays the answer, except for the requests a test
told it to drop: those reach the Hub (which acts on them) and then the connection is closed
without a byte of the answer, as a proxy or a load balancer that fails after the backend answered
would. The client sees "Server disconnected without sending a response": an ambiguous failure,
after which remedybot must find out from the Hub whether the action happened before sending it
again. `forwarded(method, pattern)` counts what reached the Hub, so a test can assert that each
action happened exactly once.
"""

from __future__ import annotations

import http.client
import socket
import threading
from dataclasses import dataclass
from fnmatch import fnmatchcase
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection",
              "content-length"}


@dataclass
class _Drop:
    method: str
    pattern: str  # fnmatch on the path, query string excluded
    times: int


class DroppingProxy:
    """`with DroppingProxy(sandbox.endpoint) as proxy:` then point clients at `proxy.url`."""

    def __init__(self, upstream: str) -> None:
        target = urlsplit(upstream)
        self.upstream_host, self.upstream_port = target.hostname or "127.0.0.1", target.port or 80
        self.seen: list[tuple[str, str, bool]] = []  # (method, path, dropped), in the order they reached the Hub
        self._drops: list[_Drop] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    def __enter__(self) -> DroppingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def drop(self, method: str, pattern: str, times: int = 1) -> None:
        """Lose the answer to the next `times` requests of `method` whose path matches `pattern`."""
        with self._lock:
            self._drops.append(_Drop(method.upper(), pattern, times))

    def forwarded(self, method: str, pattern: str) -> int:
        """How many requests of `method` matching `pattern` reached the Hub."""
        return sum(1 for m, path, _ in self.seen if m == method.upper() and fnmatchcase(path, pattern))

    def dropped(self) -> list[tuple[str, str]]:
        return [(m, path) for m, path, lost in self.seen if lost]

    def _should_drop(self, method: str, path: str) -> bool:
        with self._lock:
            for rule in self._drops:
                if rule.times > 0 and rule.method == method and fnmatchcase(path, rule.pattern):
                    rule.times -= 1
                    return True
        return False

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _relay(self) -> None:
                body = self._body()
                path = urlsplit(self.path).path
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    answer = upstream.getresponse()
                    payload = answer.read()
                finally:
                    upstream.close()
                lose = proxy._should_drop(self.command, path)
                with proxy._lock:
                    proxy.seen.append((self.command, path, lose))
                if lose:  # the Hub acted; its answer is lost on the way back
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response_only(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(payload)
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _relay

        return Handler
