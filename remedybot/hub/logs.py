"""The tail of a Space's build or run log, read from the Hub's SSE stream, bounded in time and memory.

`GET {endpoint}/api/spaces/{id}/logs/{build|run}` replays the log as Server-Sent
Events (`data: {"data": "<line>\\n", "timestamp": "..."}`) and may then stay open
for new lines forever. So the stream is read chunk by chunk, only the last
`max_lines` lines (and at most `max_bytes` of them) are kept, and reading stops
at a deadline or once the stream has been silent for a few seconds: the tail is
"what the log says now", not a follow.

Only opening the stream is retried (connection failures, 408/429/5xx); an error
after lines arrived ends the read with what was collected, because starting over
would replay the whole log. 403/404 raise the translated errors.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections import deque

import httpx2
from huggingface_hub.utils import get_session, hf_raise_for_status

from remedybot.hub.core import HubCore
from remedybot.hub.retry import RetryPolicy
from remedybot.hub.session import CONNECT_TIMEOUT

log = logging.getLogger("remedybot.hub")

IDLE_SECONDS = 5.0  # silence that means "the replay is over" (huggingface_hub's non-follow read timeout)
# Transport failures that end a stream we are reading: keep the lines we have.
_STREAM_ENDS = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError,
                httpx2.DecodingError)


class _Tail:
    """The newest SSE `data:` payloads, parsed into lines only at the end.

    Parsing every event of a long replay would cost more than reading it, so raw
    payloads are kept (at most `max_lines` of them, and a byte budget that JSON
    escaping cannot undercut) and only those are decoded. `lines()` then applies
    the exact bounds: the last `max_lines` lines, `max_bytes` of text in all.
    """

    def __init__(self, max_lines: int, max_bytes: int) -> None:
        self.max_lines, self.max_bytes = max_lines, max_bytes
        self.raw_budget = 4 * max_bytes + 256 * max_lines
        self.payloads: deque[bytes] = deque()
        self.raw_size = 0

    def add_line(self, raw: bytes) -> None:
        """One SSE line: keep `data: {...}` payloads; skip keep-alives ("data:"), comments, other fields."""
        if not raw.startswith(b"data:"):
            return
        payload = raw[5:].strip()
        if not payload.startswith(b"{"):
            return
        self.payloads.append(payload)
        self.raw_size += len(payload)
        while len(self.payloads) > self.max_lines or self.raw_size > self.raw_budget:
            self.raw_size -= len(self.payloads.popleft())

    def lines(self) -> list[str]:
        kept: deque[tuple[str, int]] = deque()
        size = 0
        for payload in self.payloads:
            try:
                event = json.loads(payload)
            except ValueError:
                continue
            text = event.get("data") if isinstance(event, dict) else None
            if not isinstance(text, str):
                continue
            for line in text.rstrip("\r\n").split("\n"):
                data = line.rstrip("\r").encode("utf-8", errors="replace")[: self.max_bytes]
                kept.append((data.decode("utf-8", errors="ignore"), len(data)))
                size += len(data)
                while kept and (len(kept) > self.max_lines or size > self.max_bytes):
                    size -= kept.popleft()[1]
        return [line for line, _ in kept]


def _read(response: httpx2.Response, tail: _Tail, deadline: float) -> None:
    """Feed the stream into `tail` until it ends, goes silent, or the deadline passes."""
    max_line = 2 * tail.max_bytes + 4096  # one SSE line, JSON-escaped; longer ones are dropped
    pending = b""
    dropping = False
    try:
        for chunk in response.iter_bytes():
            parts = (pending + chunk).split(b"\n")
            pending = parts.pop()
            if parts and dropping:
                parts[0], dropping = b"", False  # the end of the overlong line
            for part in parts:
                tail.add_line(part)
            if len(pending) > max_line:
                log.debug("dropping an SSE line longer than %d bytes", max_line)
                pending, dropping = b"", True
            if time.monotonic() >= deadline:
                log.debug("log stream still sending at the deadline; returning the lines read so far")
                return
        if not dropping:
            tail.add_line(pending)
    except _STREAM_ENDS as exc:
        log.debug("log stream ended: %s", type(exc).__name__)


def log_tail(hub: HubCore, space_id: str, *, build: bool, max_lines: int = 400, max_bytes: int = 256_000,
             timeout: float = 10.0) -> list[str]:
    """The last lines of the Space's build (build=True) or run log, oldest first, without newlines.

    Returns by `timeout` seconds after the stream opened (at worst plus min(5 s, timeout) when it
    falls silent just before), holding at most `max_bytes` of log text whatever the stream sends.
    An empty list is an empty log. `?tail=max_lines` asks the Hub for a short replay; a server
    that ignores it and replays more than `timeout` allows yields the latest lines read, which
    are then not the log's very end (logged at debug level).

    Raises:
        ForbiddenError: logs need the owner's write token. NotFoundError: no such Space.
        HubUnavailableError: the stream could not be opened within the retry budget.
    """
    which = "build" if build else "run"
    url = f"{hub.endpoint}/api/spaces/{space_id}/logs/{which}"
    deadline = time.monotonic() + timeout
    timeouts = httpx2.Timeout(min(IDLE_SECONDS, timeout), connect=min(CONNECT_TIMEOUT, timeout))
    policy = hub.policy or RetryPolicy.from_env()
    policy = dataclasses.replace(policy, max_seconds=min(policy.max_seconds, timeout))

    def open_stream() -> httpx2.Response:
        session = get_session()
        request = session.build_request("GET", url, params={"tail": max_lines}, headers=hub.request_headers(),
                                        timeout=timeouts)
        response = session.send(request, stream=True)
        if response.status_code >= 400:
            try:
                response.read()  # error bodies are small; the message is in them
                hf_raise_for_status(response)
            finally:
                response.close()
        return response

    response: httpx2.Response = hub._call(open_stream, what=f"read the {which} logs of", repo_id=space_id,
                                          policy=policy)
    tail = _Tail(max_lines, max_bytes)
    try:
        _read(response, tail, deadline)
    finally:
        response.close()
    return tail.lines()
