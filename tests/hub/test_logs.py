"""The SSE log tail: bounded in lines, bytes, memory and time, whatever the stream does."""

from __future__ import annotations

import json
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler

import pytest
from hubserver import Reply, Request, ScriptedServer, repo_not_found

from remedybot.core.errors import ForbiddenError, NotFoundError
from remedybot.hub import log_tail

BUILD = "/api/spaces/alice/demo/logs/build"
RUN = "/api/spaces/alice/demo/logs/run"


def event(text: str) -> bytes:
    return f"data: {json.dumps({'data': text, 'timestamp': '2024-05-01T10:00:00.000Z'})}\n\n".encode()


def start_stream(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/event-stream")
    h.end_headers()


def test_only_the_last_lines_are_kept_in_bounded_memory(server: ScriptedServer, hub) -> None:
    pad = "x" * 80
    # Built before tracing starts, so the peak below is what the client holds.
    batches = [b"".join(event(f"line {i} {pad}\n") for i in range(start, start + 1000)) + b"data:\n\n"
               for start in range(0, 100_000, 1000)]

    def huge(request: Request) -> None:
        start_stream(request.handler)
        for batch in batches:
            request.handler.wfile.write(batch)  # a keep-alive closes each batch

    server.route("GET", BUILD, huge)

    tracemalloc.start()
    started = time.monotonic()
    lines = log_tail(hub, "alice/demo", build=True, max_lines=50, timeout=30)
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert lines == [f"line {i} {pad}" for i in range(99_950, 100_000)]
    assert sum(map(len, batches)) > 10_000_000
    assert peak < 3_000_000  # the stream is read chunk by chunk, never whole
    assert elapsed < 5


def test_a_stream_that_never_ends_stops_at_the_timeout(server: ScriptedServer, hub) -> None:
    def endless(request: Request) -> None:
        start_stream(request.handler)
        request.handler.wfile.write(event("Starting app\n"))
        while not server.stopping.wait(0.02):
            try:
                request.handler.wfile.write(b"data:\n\n")
            except OSError:  # the client hung up
                return

    server.route("GET", RUN, endless)

    started = time.monotonic()
    lines = log_tail(hub, "alice/demo", build=False, timeout=1.0)

    assert lines == ["Starting app"]
    assert time.monotonic() - started < 1.6


def test_a_silent_stream_stops_at_the_timeout(server: ScriptedServer, hub) -> None:
    def silent(request: Request) -> None:
        start_stream(request.handler)
        request.handler.wfile.write(event("Build queued\n"))
        server.stopping.wait(10)

    server.route("GET", BUILD, silent)

    started = time.monotonic()
    lines = log_tail(hub, "alice/demo", build=True, timeout=1.0)

    assert lines == ["Build queued"]
    assert time.monotonic() - started < 2.2


def test_lines_are_split_stripped_and_bounded_in_bytes(server: ScriptedServer, hub) -> None:
    body = (b": comment\r\n" + event("first\nsecond\r\n") + b"data:\n\n" + b"event: ping\n"
            + b"".join(event(f"{i:04d}" + "y" * 996 + "\n") for i in range(100))
            + b"data: {not json}\n\n" + b'data: {"data": "' + b"z" * 700_000 + b'"}\n\n' + event("last\n"))
    server.script("GET", RUN, Reply(200, body, {"Content-Type": "text/event-stream"}))

    lines = log_tail(hub, "alice/demo", build=False, max_bytes=5_000, timeout=5)

    assert lines == [f"{i:04d}" + "y" * 996 for i in range(96, 100)] + ["last"]
    assert server.queries == [("GET", RUN, "tail=400")]  # the Hub may trim the replay for us


def test_short_logs_come_back_whole(server: ScriptedServer, hub) -> None:
    body = event("Collecting gradio\n") + event("ModuleNotFoundError: No module named 'torch'\n")
    server.script("GET", BUILD, Reply(503, "busy"), Reply(200, body, {"Content-Type": "text/event-stream"}))

    assert log_tail(hub, "alice/demo", build=True) == ["Collecting gradio",
                                                       "ModuleNotFoundError: No module named 'torch'"]
    assert server.hit_count("GET", BUILD) == 2  # the 503 on opening was retried


@pytest.mark.parametrize(("reply", "error"), [
    (Reply(403, {"error": "not the owner"}, {"X-Error-Message": "not the owner"}), ForbiddenError),
    (repo_not_found(), NotFoundError),
])
def test_errors_opening_the_stream_are_translated_not_retried(server: ScriptedServer, hub, reply: Reply,
                                                              error: type[Exception]) -> None:
    server.script("GET", RUN, reply)

    with pytest.raises(error, match="alice/demo"):
        log_tail(hub, "alice/demo", build=False)
    assert server.hit_count("GET", RUN) == 1
