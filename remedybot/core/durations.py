"""Durations written by people: "90s", "10m", "2 hours", "1d" (policy cooldowns, startup_duration_timeout).

One grammar for every place remedybot reads a duration, so "30m" means the same
in remedybot.toml and in a README's front matter.
"""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
                 "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
                 "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
                 "d": 86400, "day": 86400, "days": 86400}


def parse_seconds(text: object, *, bare_unit: str | None = None) -> float | None:
    """Seconds in `text`, or None when it is not a duration.

    `bare_unit` is the unit of a number written without one ("s" for startup_duration_timeout);
    None refuses a bare number.
    """
    match = _DURATION.match(str(text)) if text is not None else None
    if match is None:
        return None
    unit = match.group(2).lower() or bare_unit
    factor = _UNIT_SECONDS.get(unit) if unit else None
    return None if factor is None else float(match.group(1)) * factor
