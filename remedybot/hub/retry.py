"""The one retry policy for every Hub call (docs/ARCHITECTURE.md, "hub").

What is retried is what can succeed on a second try: 408/429/500/502/503/504
answers, connection failures, timeouts and connections reset mid-answer. Any
other 4xx is final (a missing Space stays missing), so it fails at once. Waits
grow exponentially with jitter, so many clients do not hammer a recovering Hub
in step, and a server's `Retry-After` (or `RateLimit: ...;r=0;t=N`) wins over
our own guess. Attempts and total time are both capped, so an outage becomes a
clear error instead of a hang.

Non-idempotent calls (duplicate, commit, create) pass `before_retry`: when an
attempt failed after the request may have reached the Hub (a timeout, a reset,
a 502 from a proxy), the check looks whether it took effect before trying again,
so nothing is done twice.

This module does not translate errors: `retrying` re-raises the last exception
unchanged (with `remedybot_attempts` set on it) and `hub.errors.translate` turns
it into a RemedyError. Playbooks never retry on their own.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar, overload

import httpx2
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from remedybot.core.env import SETTINGS, setting
from remedybot.core.redact import redact

log = logging.getLogger("remedybot.hub")

T = TypeVar("T")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Transport failures worth another try; the same set huggingface_hub's own http_backoff uses.
RETRY_EXCEPTIONS: tuple[type[Exception], ...] = (
    httpx2.TimeoutException,
    httpx2.NetworkError,
    httpx2.RemoteProtocolError,
)
ATTEMPTS_ATTR = "remedybot_attempts"  # set on the exception `retrying` gives up with; read by translate()

_RATELIMIT = re.compile(r'"?(?P<kind>\w+)"?\s*;\s*r\s*=\s*(?P<r>\d+)\s*;\s*t\s*=\s*(?P<t>\d+)')


class TookEffect:
    """Marker returned by `retrying` when `before_retry` found that a failed attempt took effect."""

    def __repr__(self) -> str:
        return "TOOK_EFFECT"


TOOK_EFFECT = TookEffect()


@dataclass(frozen=True)
class RetryPolicy:
    """Caps and pace of retries; `from_env()` reads the REMEDYBOT_RETRY_* overrides.

    Attributes:
        max_attempts: attempts in all, the first included.
        max_seconds: no new attempt starts once this much time has passed (waits included).
        base: first backoff wait in seconds; doubles per attempt, plus up to `base` of jitter.
        max_wait: cap of one backoff wait (a server's Retry-After is capped only by max_seconds).
    """

    max_attempts: int = int(SETTINGS["REMEDYBOT_RETRY_MAX_ATTEMPTS"].default)
    max_seconds: float = SETTINGS["REMEDYBOT_RETRY_MAX_SECONDS"].default
    base: float = SETTINGS["REMEDYBOT_RETRY_BASE"].default
    max_wait: float = 20.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """The default policy with REMEDYBOT_RETRY_MAX_ATTEMPTS / _MAX_SECONDS / _BASE applied.

        Read at each call, so tests and the sandbox can shorten waits without rebuilding clients.

        Raises:
            UsageError: a variable is not a positive number; fix or unset it.
        """
        return cls(
            max_attempts=int(setting("REMEDYBOT_RETRY_MAX_ATTEMPTS")),
            max_seconds=setting("REMEDYBOT_RETRY_MAX_SECONDS"),
            base=setting("REMEDYBOT_RETRY_BASE"),
        )


def status_of(exc: BaseException) -> int | None:
    """The HTTP status carried by an exception (HfHubHTTPError, httpx2.HTTPStatusError), if any."""
    response = getattr(exc, "response", None)
    return response.status_code if isinstance(response, httpx2.Response) else None


def is_retryable(exc: BaseException) -> bool:
    """True for the failures another attempt can fix: 408/429/5xx and transport errors."""
    if isinstance(exc, RETRY_EXCEPTIONS):
        return True
    return status_of(exc) in RETRY_STATUSES


def server_wait(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (Retry-After, or an exhausted RateLimit), if it said."""
    response = getattr(exc, "response", None)
    if not isinstance(response, httpx2.Response) or response.status_code not in RETRY_STATUSES:
        return None
    retry_after = response.headers.get("retry-after", "").strip()
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:  # the HTTP-date form
                return max(0.0, parsedate_to_datetime(retry_after).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    ratelimit = _RATELIMIT.search(response.headers.get("ratelimit", ""))
    if response.status_code == 429 and ratelimit and int(ratelimit["r"]) == 0:
        return float(ratelimit["t"])
    return None


def describe_failure(exc: BaseException) -> str:
    """A short, token-free label of a failure for logs: 'HTTP 503' or the exception class."""
    status = status_of(exc)
    return f"HTTP {status}" if status is not None else type(exc).__name__


def _waiter(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    backoff = wait_exponential_jitter(multiplier=policy.base, max=policy.max_wait, jitter=policy.base)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = server_wait(exc) if exc is not None else None
        return hinted if hinted is not None else backoff(state)

    return wait


def _logger(what: str, policy: RetryPolicy) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.debug("retrying %s after %s (attempt %d/%d failed; waiting %.2fs)", redact(what),
                  describe_failure(exc) if exc else "?", state.attempt_number, policy.max_attempts,
                  state.upcoming_sleep)

    return before_sleep


@overload
def retrying(fn: Callable[[], T], *, what: str, before_retry: None = None,
             policy: RetryPolicy | None = None) -> T: ...
@overload
def retrying(fn: Callable[[], T], *, what: str, before_retry: Callable[[], Any],
             policy: RetryPolicy | None = None) -> Any: ...


def retrying(fn: Callable[[], Any], *, what: str, before_retry: Callable[[], Any] | None = None,
             policy: RetryPolicy | None = None) -> Any:
    """Call `fn` under the retry policy and return its result.

    Args:
        fn: the call; it is repeated as-is, so it must be safe to repeat or come with `before_retry`.
        what: what the call does, for the debug log ("restart Space 'alice/demo'"); never a token.
        before_retry: for non-idempotent calls, run before each re-attempt. A falsy result means
            "not done yet, try again"; `True` stops and returns TOOK_EFFECT; any other truthy value
            stops and is returned (so a check can hand back what it found). Its own retryable
            failures count as a failed attempt and the check runs again on the next one.
        policy: caps and pace; default `RetryPolicy.from_env()`.

    Raises:
        The last exception unchanged, with `remedybot_attempts` set on it, when it is not retryable,
        or when the attempts or the time ran out. Callers translate it with `hub.errors.translate`.
    """
    policy = policy or RetryPolicy.from_env()
    controller = Retrying(
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_seconds),
        wait=_waiter(policy),
        retry=retry_if_exception(is_retryable),
        before_sleep=_logger(what, policy),
        reraise=True,
    )
    attempts = 0
    try:
        for attempt in controller:
            with attempt:
                attempts += 1
                if before_retry is not None and attempts > 1:
                    found = before_retry()
                    if found:
                        log.debug("%s: the earlier attempt took effect; not repeating it", redact(what))
                        return TOOK_EFFECT if found is True else found
                return fn()
    except Exception as exc:
        with contextlib.suppress(AttributeError):  # exceptions with __slots__; the count is only for messages
            setattr(exc, ATTEMPTS_ATTR, attempts)
        raise
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover
