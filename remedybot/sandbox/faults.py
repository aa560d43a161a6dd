"""Fault injection for the sandbox Hub: 429s, 5xx, connection resets and latency, by rate and seed.

The Hub access layer promises to survive a flaky Hub (retry 408/429/5xx and
connection errors, honour Retry-After, never retry other 4xx). The sandbox
proves it by injecting those faults on purpose. A run must be reproducible,
so every decision is a pure function of (seed, method, path, how many times
that method+path was requested before): two runs with the same seed inject
the same faults into the same requests even when threads interleave
requests to different routes differently.

Spec format (the CLI's ``--faults SPEC``): ``key=value`` pairs separated by
``;``, lists separated by ``,``, whitespace ignored::

    rate=0.3;kinds=429,500,502,503,reset,latency;routes=/api/spaces/*,/api/whoami-v2;latency=0.05;retry_after=0

==============  ==========================================================  ========================
key             meaning                                                     default
==============  ==========================================================  ========================
``rate``        probability (0..1) that a matching request gets a fault     required
``kinds``       faults to draw from, uniformly: ``408 429 500 502 503       429,500,502,503,reset,
                504`` (an HTTP error answer), ``reset`` (the TCP            latency
                connection is dropped), ``latency`` (the answer is
                delayed, then served normally)
``routes``      fnmatch patterns on the URL path (``*`` also crosses         ``/api/*``
                ``/``); git smart HTTP paths are only hit when listed
``methods``     HTTP methods to consider                                    all
``latency``     seconds a ``latency`` fault waits (real seconds)            0.05
``retry_after`` seconds sent in the ``Retry-After`` header of a 429         1
==============  ==========================================================  ========================

Admin routes (paths starting ``/_sandbox/``) never get faults unless a
``routes`` pattern itself starts with ``/_sandbox/``: a test must always be
able to steer the sandbox. Unknown keys, kinds or malformed values raise
ValueError naming the culprit.

This module decides; the server carries the decision out (it sleeps, drops
the socket or answers the error).
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

STATUS_KINDS = ("408", "429", "500", "502", "503", "504")
KINDS = (*STATUS_KINDS, "reset", "latency")
DEFAULT_KINDS = ("429", "500", "502", "503", "reset", "latency")
ADMIN_PREFIX = "/_sandbox/"
_KEYS = ("rate", "kinds", "routes", "methods", "latency", "retry_after")


@dataclass(frozen=True)
class Fault:
    """One injected fault: an HTTP error answer ('status'), a dropped connection ('reset') or a delay."""

    kind: str  # "status" | "reset" | "latency"
    label: str  # the spec's name for it: "429", "503", "reset", "latency"
    code: int | None = None  # HTTP status for kind "status"
    seconds: float = 0.0  # delay for kind "latency"
    retry_after: int | None = None  # Retry-After header value for a 429


@dataclass(frozen=True)
class FaultSpec:
    """What to inject, where, and how often (see the module docstring for the text format)."""

    rate: float
    kinds: tuple[str, ...] = DEFAULT_KINDS
    routes: tuple[str, ...] = ("/api/*",)
    methods: tuple[str, ...] | None = None  # None: every method
    latency: float = 0.05
    retry_after: int = 1

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault spec: rate must be between 0 and 1, got {self.rate!r}")
        if not self.kinds:
            raise ValueError("fault spec: kinds must name at least one fault")
        bad = [kind for kind in self.kinds if kind not in KINDS]
        if bad:
            raise ValueError(f"fault spec: unknown fault kind {bad[0]!r}; known kinds: {', '.join(KINDS)}")
        if not self.routes:
            raise ValueError("fault spec: routes must name at least one path pattern")
        if self.latency < 0:
            raise ValueError(f"fault spec: latency must not be negative, got {self.latency!r}")
        if self.retry_after < 0:
            raise ValueError(f"fault spec: retry_after must not be negative, got {self.retry_after!r}")

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Parse ``rate=0.3;kinds=429,reset;routes=/api/*;...``.

        Raises:
            ValueError: empty spec, unknown key or kind, repeated key, or a malformed value;
                the message names it. Fix the spec and pass it again.
        """
        values: dict[str, str] = {}
        for part in (text or "").split(";"):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep:
                raise ValueError(f"fault spec: expected key=value, got {part.strip()!r}")
            if key not in _KEYS:
                raise ValueError(f"fault spec: unknown key {key!r}; known keys: {', '.join(_KEYS)}")
            if key in values:
                raise ValueError(f"fault spec: key {key!r} given twice")
            values[key] = value.strip()
        if "rate" not in values:
            raise ValueError("fault spec: 'rate' is required, e.g. 'rate=0.3'")
        kwargs: dict[str, Any] = {"rate": _number(values, "rate", float)}
        if "kinds" in values:
            kwargs["kinds"] = _items(values, "kinds")
        if "routes" in values:
            kwargs["routes"] = _items(values, "routes")
        if "methods" in values:
            kwargs["methods"] = tuple(m.upper() for m in _items(values, "methods"))
        if "latency" in values:
            kwargs["latency"] = _number(values, "latency", float)
        if "retry_after" in values:
            kwargs["retry_after"] = _number(values, "retry_after", int)
        return cls(**kwargs)

    def matches(self, method: str, path: str) -> bool:
        """Whether a request is eligible for a fault (admin paths only when listed explicitly)."""
        if self.methods is not None and method.upper() not in self.methods:
            return False
        patterns = self.routes
        if path.startswith(ADMIN_PREFIX):
            patterns = tuple(p for p in patterns if p.startswith(ADMIN_PREFIX))
        return any(fnmatchcase(path, pattern) for pattern in patterns)


def _items(values: dict[str, str], key: str) -> tuple[str, ...]:
    items = tuple(item.strip() for item in values[key].split(",") if item.strip())
    if not items:
        raise ValueError(f"fault spec: {key} must not be empty")
    return items


def _number(values: dict[str, str], key: str, kind: type) -> Any:
    try:
        return kind(values[key])
    except ValueError:
        raise ValueError(f"fault spec: {key} must be a{'n integer' if kind is int else ' number'}, "
                         f"got {values[key]!r}") from None


@dataclass
class _Counts:
    requests: int = 0
    eligible: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)


class FaultInjector:
    """Decides, request by request, whether to inject a fault. Thread-safe and reproducible by seed."""

    def __init__(self, spec: FaultSpec, seed: int = 0) -> None:
        self.spec = spec
        self.seed = seed
        self._lock = threading.Lock()
        self._seen: Counter[tuple[str, str]] = Counter()
        self._counts = _Counts()

    def decide(self, method: str, path: str) -> Fault | None:
        """The fault to inject into this request, or None to serve it normally.

        The n-th request for a given (method, path) always gets the same answer for a given seed.
        """
        method = method.upper()
        eligible = self.spec.matches(method, path)
        with self._lock:
            self._counts.requests += 1
            if not eligible:
                return None
            index = self._seen[(method, path)]
            self._seen[(method, path)] += 1
            self._counts.eligible += 1
        fault = self._draw(method, path, index)
        if fault is not None:
            with self._lock:
                self._counts.by_kind[fault.label] += 1
        return fault

    def _draw(self, method: str, path: str, index: int) -> Fault | None:
        digest = hashlib.sha256(f"{self.seed}\x00{method}\x00{path}\x00{index}".encode()).digest()
        if int.from_bytes(digest[:8], "big") / 2**64 >= self.spec.rate:
            return None
        label = self.spec.kinds[int.from_bytes(digest[8:12], "big") % len(self.spec.kinds)]
        if label == "reset":
            return Fault(kind="reset", label=label)
        if label == "latency":
            return Fault(kind="latency", label=label, seconds=self.spec.latency)
        code = int(label)
        return Fault(kind="status", label=label, code=code,
                     retry_after=self.spec.retry_after if code == 429 else None)

    def stats(self) -> dict[str, Any]:
        """Counts so far: `requests` seen, `eligible` (matched the spec), `injected`, and `by_kind`."""
        with self._lock:
            by_kind = dict(self._counts.by_kind)
            return {"requests": self._counts.requests, "eligible": self._counts.eligible,
                    "injected": sum(by_kind.values()), "by_kind": by_kind}
