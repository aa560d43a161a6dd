"""The Hub's rate limits in the sandbox: three buckets, 5-minute fixed windows, tiers per user.

Every counted answer carries the headers of draft-ietf-httpapi-ratelimit-headers as the Hub sends
them (https://huggingface.co/docs/hub/rate-limits, "HTTP Headers"):

    RateLimit: "api";r=<remaining>;t=<seconds until the window resets>
    RateLimit-Policy: "fixed window";"api";q=<quota>;w=300

and past the quota the request is refused with 429, `Retry-After` and the same headers (r=0). Windows
are aligned on the sandbox's simulated clock (`floor(now / 300)`), so at its default speed (1000x) a
window lasts 0.3 real seconds and a test suite never fills one by accident; a test that wants to
exhaust a quota passes small `quotas` or a slow clock. Users have a tier (`User.tier`, default
`free`); requests without a valid token count per client IP as `anonymous`. The numbers and which
path belongs to which bucket are data (`ratelimits.yaml`). This module decides; the server adds the
headers and refuses.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

LIMITS = yaml.safe_load((Path(__file__).with_name("ratelimits.yaml")).read_text())
TIERS = tuple(LIMITS["tiers"])


def check_tier(tier: str) -> str:
    """`tier` if the table knows it; raises ValueError naming the known tiers."""
    if tier not in LIMITS["tiers"] or tier == "anonymous":
        known = ", ".join(t for t in TIERS if t != "anonymous")
        raise ValueError(f"unknown rate-limit tier {tier!r}; use one of {known}")
    return tier


def bucket_of(path: str) -> str | None:
    """The bucket a request path counts against, or None when it is not counted."""
    for rule in LIMITS["buckets"]:
        if fnmatchcase(path, rule["pattern"]):
            return rule["bucket"]
    return None


@dataclass(frozen=True)
class Decision:
    bucket: str
    quota: int
    remaining: int
    reset: int  # seconds until the window resets
    allowed: bool
    who: str  # the user's name, or the client IP for anonymous requests
    anonymous: bool

    def headers(self) -> dict[str, str]:
        window = LIMITS["window_seconds"]
        out = {"RateLimit": f'"{self.bucket}";r={self.remaining};t={self.reset}',
               "RateLimit-Policy": f'"fixed window";"{self.bucket}";q={self.quota};w={window}'}
        if not self.allowed:
            out["Retry-After"] = str(self.reset)
        return out

    def message(self) -> str:
        if self.anonymous:
            return LIMITS["messages"]["anonymous"].format(ip=self.who)
        return LIMITS["messages"]["user"].format(quota=self.quota, bucket=self.bucket, reset=self.reset)


class RateLimiter:
    """Counts requests per (user or IP, bucket) in the current fixed window of a clock.

    Args:
        clock: anything with `now()` in seconds (the sandbox's SimClock).
        quotas: per tier, per bucket overrides of the table (tests: a quota of 5 is quick to exhaust).
    """

    def __init__(self, clock: Any, quotas: dict[str, dict[str, int]] | None = None) -> None:
        self.clock = clock
        self.window = float(LIMITS["window_seconds"])
        self.table = {tier: dict(row) for tier, row in LIMITS["tiers"].items()}
        for tier, row in (quotas or {}).items():
            self.table.setdefault(tier, {}).update(row)
        self._counts: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()
        self.refused = 0

    def check(self, path: str, user: Any, ip: str) -> Decision | None:
        """Count one request; None when its path is not counted."""
        bucket = bucket_of(path)
        if bucket is None:
            return None
        tier = getattr(user, "tier", "free") if user is not None else "anonymous"
        quota = self.table.get(tier, self.table["free"])[bucket]
        who = user.name if user is not None else ip
        key = ("user:" + who if user is not None else "ip:" + who, bucket)
        now = self.clock.now()
        start = math.floor(now / self.window) * self.window
        with self._lock:
            window_start, count = self._counts.get(key, (start, 0))
            if window_start != start:
                count = 0
            allowed = count < quota
            if allowed:
                count += 1
            else:
                self.refused += 1
            self._counts[key] = (start, count)
        reset = max(1, math.ceil(start + self.window - now))
        return Decision(bucket=bucket, quota=quota, remaining=quota - count, reset=reset, allowed=allowed,
                        who=who, anonymous=user is None)
