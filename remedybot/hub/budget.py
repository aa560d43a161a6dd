"""The request budget: remedybot never spends the part of the Hub's rate limit that belongs to the user.

The Hub counts requests in 5-minute fixed windows per bucket (api, resolvers, pages) and says
where each one stands in every answer (https://huggingface.co/docs/hub/rate-limits):
`RateLimit: "api";r=<remaining>;t=<seconds to reset>` and
`RateLimit-Policy: "fixed window";"api";q=<quota>;w=300`. Other tools of the same user (`hf`,
downloads, CI) draw on the same quota, so remedybot keeps a reserve of `(1 - share) * quota` per
window (by default half): before a request, when the last answer's `remaining`, less the requests
still in flight, would fall below the reserve, it waits until the window resets, instead of running
into a 429 and taking the user's other tools down with it.

It sits in huggingface_hub's shared HTTP client as a transport (`BudgetTransport`), so every request
is counted, those of huggingface_hub's own helpers included. Which bucket a request will count against
is known only from the answer, so the wait applies to the bucket of the last answer from the same kind
of URL (`bucket_of_url`). Waits read `remedybot.core.clock`, so tests wait on the sandbox's clock.
Listeners (`on_wait`) hear of each wait once per window, for progress bars and `--json` events.
One budget per process (`current()`, `configure()`), like huggingface_hub's client.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx2
from huggingface_hub.utils import parse_ratelimit_headers

from remedybot.core import clock as clocks
from remedybot.core.errors import UsageError

DEFAULT_SHARE = 0.5
WaitListener = Callable[[str, float], None]  # (bucket, seconds to wait)


def parse_share(raw: object, *, option: str = "--budget") -> float:
    """A budget share from the command line or a file: a number above 0 and at most 1.

    Raises:
        UsageError: anything else (0, 1.5, -1, nan, abc); the message names `option`.
    """
    try:
        share = float(raw) if not isinstance(raw, bool) else math.nan  # type: ignore[arg-type]
    except (TypeError, ValueError):
        share = math.nan
    if not 0 < share <= 1:  # also false for nan
        raise UsageError(f"{option} must be a share of the rate limit above 0 and at most 1 (0.5 leaves half "
                         f"for your other tools), not {raw!r}.")
    return share


def bucket_of_url(path: str) -> str:
    """The bucket the Hub will most likely count a URL path against (the answer says for sure)."""
    if path.startswith("/api/"):
        return "api"
    if "/resolve/" in path or path.endswith(("/info/refs", "/git-upload-pack", "/git-receive-pack")) \
            or "/info/lfs/" in path:
        return "resolvers"
    return "pages"


@dataclass
class _Window:
    quota: int
    remaining: int
    reset_at: float  # on the budget's clock
    length: float = 300.0  # seconds per window (RateLimit-Policy's w)
    pending: int = 0  # requests sent and not yet answered
    announced: float = -1.0  # reset_at of the last wait told to listeners
    sleeping: bool = False  # a thread is waiting this window out; the others wait for it
    epoch: int = 0  # windows seen; an answer to a request sent in an earlier one says nothing of this one


class RequestBudget:
    """How much of each rate-limit window remedybot may spend, and the waits that keep it there."""

    def __init__(self, share: float = DEFAULT_SHARE, *, enabled: bool = True) -> None:
        self.share = share
        self.enabled = enabled  # False: only observe (tests that mean to meet the Hub's 429 with a raw client)
        self._windows: dict[tuple[str, str], _Window] = {}  # (host, bucket)
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._listeners: list[WaitListener] = []
        self.waited = 0.0  # seconds spent waiting, for reports
        self.lowest: dict[str, int] = {}  # the lowest `remaining` seen per bucket (bench: was the reserve kept?)
        self.sent: dict[str, int] = {}  # requests sent per bucket (by the URL's likely bucket)

    def reserve(self, quota: int) -> int:
        return math.ceil(quota * (1 - self.share))

    def on_wait(self, listener: WaitListener) -> Callable[[], None]:
        """Call `listener(bucket, seconds)` when a request waits for the next window; returns an unsubscribe."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def acquire(self, bucket: str, host: str = "") -> int | None:
        """Before a request to `host`: wait while it would eat into the reserve, then count it as in flight.

        One thread sleeps until the window resets; the others wait for it to wake (a condition, not
        the clock), so a clock that jumps instead of sleeping (tests, the bench) jumps once per window.
        """
        clock = clocks.current()
        while True:
            with self._cond:
                window = self._windows.get((host, bucket))
                if window is None or not self.enabled:
                    self.sent[bucket] = self.sent.get(bucket, 0) + 1
                    return None
                now = clock.monotonic()
                if now >= window.reset_at:  # a new window: assume it is full until an answer says otherwise
                    window.remaining, window.reset_at, window.pending = window.quota, math.inf, 0
                    window.epoch += 1
                if window.remaining - window.pending - 1 >= self.reserve(window.quota):
                    window.pending += 1
                    self.sent[bucket] = self.sent.get(bucket, 0) + 1
                    return window.epoch
                if window.sleeping:
                    self._cond.wait(timeout=1.0)
                    continue
                window.sleeping = True
                wait = window.reset_at - now
                tell = window.announced != window.reset_at
                window.announced = window.reset_at
                listeners = list(self._listeners) if tell else []
            try:
                for listener in listeners:
                    listener(bucket, wait)
                self.waited += wait
                clock.sleep(wait)
            finally:
                with self._cond:
                    window.sleeping = False
                    self._cond.notify_all()

    def release(self, bucket: str, headers: Any | None, host: str = "", epoch: int | None = None) -> None:
        """After a request (answered or not): take in what the answer says about its window.

        `epoch` is what `acquire` returned: the answer to a request sent before the window reset
        (None: sent before any window was known) is counted only when it starts the first window.
        """
        info = parse_ratelimit_headers(headers) if headers is not None else None
        now = clocks.current().monotonic()
        with self._lock:
            window = self._windows.get((host, bucket))
            if window is not None and epoch is not None and epoch != window.epoch:
                return  # counted by the Hub in a window that is over
            if window is not None and epoch is not None and window.pending > 0:
                window.pending -= 1
            if info is None:
                return
            name = info.resource_type
            quota = info.limit or (window.quota if window is not None and name == bucket else info.remaining)
            reset_at = now + info.reset_in_seconds
            known = self._windows.get((host, name))
            if known is None:
                self._windows[(host, name)] = _Window(quota=quota, remaining=info.remaining, reset_at=reset_at,
                                                      length=float(info.window_seconds or 300))
            elif known.reset_at == math.inf or reset_at > known.reset_at + 1:  # the Hub started a new window
                known.quota, known.remaining, known.reset_at = quota, info.remaining, reset_at
            else:  # answers may arrive out of order: the lowest count is the latest
                known.quota, known.remaining = quota, min(known.remaining, info.remaining)
            self.lowest[name] = min(self.lowest.get(name, info.remaining), info.remaining)


    def interval_for(self, sent: dict[str, int]) -> float:
        """Seconds a repeated job needs between starts to send `sent` requests per round within budget."""
        with self._lock:
            needed = 0.0
            for (_host, bucket), window in self._windows.items():
                allowed = window.quota - self.reserve(window.quota)
                if sent.get(bucket) and allowed > 0:
                    needed = max(needed, sent[bucket] / allowed * window.length)
            return needed

    def sent_since(self, before: dict[str, int]) -> dict[str, int]:
        """Requests sent per bucket since `before` (a copy of `sent` taken earlier)."""
        with self._lock:
            return {bucket: count - before.get(bucket, 0) for bucket, count in self.sent.items()}


_budget = RequestBudget()


def current() -> RequestBudget:
    """The budget every Hub request of this process goes through."""
    return _budget


def configure(share: float = DEFAULT_SHARE, *, enabled: bool = True) -> RequestBudget:
    """Start a fresh budget with `share` (each command calls this once, before its first request)."""
    global _budget
    _budget = RequestBudget(share, enabled=enabled)
    return _budget


class BudgetTransport(httpx2.BaseTransport):
    """An httpx transport that runs every request through `current()` budget."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        budget = current()
        bucket, host = bucket_of_url(request.url.path), request.url.netloc.decode("ascii", "replace")
        epoch = budget.acquire(bucket, host)
        headers = None
        try:
            response = self._inner.handle_request(request)
            headers = response.headers
            return response
        finally:
            budget.release(bucket, headers, host, epoch)

    def close(self) -> None:
        self._inner.close()
