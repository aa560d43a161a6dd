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

# The stream is read in blocks of 8 KiB per kept line (256 KiB to 8 MiB): a block costs Python work on its last
# max_lines events only, so a long replay costs about one such step per 8 KiB, whatever max_lines is.
BLOCK_BYTES_PER_LINE, MIN_BLOCK, MAX_BLOCK = 8 * 1024, 256 * 1024, 8 * 1024 * 1024
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

    def add_block(self, block: bytes, max_line: int) -> None:
        """Whole SSE lines at once: keep `data: {...}` payloads (not keep-alives, comments, other fields). Only the
        block's last `max_lines` events can be kept, so only those are read, walking back from its end; lines
        longer than `max_line` are dropped."""
        found: list[bytes] = []
        end = len(block)
        while end >= 0 and len(found) < self.max_lines:
            start = block.rfind(b"\n", 0, end) + 1
            if end - start <= max_line and block.startswith((b"data: {", b"data:{"), start, end):
                found.append(block[start + 5:end].strip())
            end = start - 1
        if len(found) >= self.max_lines:  # the block alone fills the tail: what came before is gone
            self.payloads.clear()
            self.raw_size = 0
        for payload in reversed(found):
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
    """Feed the stream into `tail` until it ends, goes silent, or the deadline passes.

    Chunks are gathered into blocks of about BLOCK_BYTES and each block's whole lines go to the tail at once,
    so a long replay costs its transfer and a few hundred lines per block, not Python work on every line.
    """
    max_line = 2 * tail.max_bytes + 4096  # one SSE line, JSON-escaped; longer ones are dropped
    block_bytes = min(MAX_BLOCK, max(MIN_BLOCK, BLOCK_BYTES_PER_LINE * tail.max_lines))
    chunks: list[bytes] = []
    size = 0
    pending = b""  # the start of a line the last block cut
    dropping = False  # inside an overlong line: skip up to its end
    ended = True
    try:
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= block_bytes:
                pending, dropping = _block(pending + b"".join(chunks), tail, max_line, dropping)
                chunks, size = [], 0
            if time.monotonic() >= deadline:
                log.debug("log stream still sending at the deadline; returning the lines read so far")
                ended = False
                break
    except _STREAM_ENDS as exc:
        log.debug("log stream ended: %s", type(exc).__name__)
        ended = False
    pending, dropping = _block(pending + b"".join(chunks), tail, max_line, dropping)
    if ended and not dropping:
        tail.add_block(pending, max_line)  # the stream's last line, without its newline


def _block(data: bytes, tail: _Tail, max_line: int, dropping: bool) -> tuple[bytes, bool]:
    """Give `tail` the whole lines of `data`; return the unfinished last line and whether it is being dropped."""
    cut = data.rfind(b"\n")
    if cut < 0:  # no line ends here: all of it belongs to one line
        return (b"", True) if dropping or len(data) > max_line else (data, False)
    start = data.find(b"\n") + 1 if dropping else 0  # the end of an overlong line
    if start <= cut:
        tail.add_block(data[start:cut], max_line)
    pending = data[cut + 1:]
    if len(pending) > max_line:
        log.debug("dropping an SSE line longer than %d bytes", max_line)
        return b"", True
    return pending, False


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
