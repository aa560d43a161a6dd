"""Numbers and URLs read from environment variables: one reader, one message, for every REMEDYBOT_* setting.

A bad value is a usage error (exit 2) naming the variable, never silently replaced by the
default: a user who set REMEDYBOT_VERIFY_TIMEOUT=10m expecting ten minutes must hear that it
was not understood rather than wait thirty.
"""

from __future__ import annotations

import math
import os
from typing import NamedTuple

from remedybot.core.errors import UsageError


def env_number(name: str, default: float, *, integer: bool = False, unit: str = "") -> float:
    """The positive, finite number in `$name`, or `default` when it is unset or empty.

    Raises:
        UsageError: the value is not a positive finite number (or integer); fix or unset it.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(int(raw)) if integer else float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        kind = "a positive integer" if integer else "a positive number"
        raise UsageError(f"{name} must be {kind}{f' of {unit}' if unit else ''}, not {raw[:40]!r}. "
                         "Fix or unset it.")
    return value


class Setting(NamedTuple):
    """A numeric REMEDYBOT_* environment variable: its default, and whether it counts whole things.

    A NamedTuple rather than a dataclass: every start-up builds this class, and a dataclass costs
    milliseconds of `remedybot --help` (bench/bench_cli_startup.py).
    """

    default: float
    integer: bool = False
    unit: str = ""


# Every numeric setting, in one table: the modules read their value with `setting(name)`, and the CLI
# checks them all before any command acts (`check_environment`), so a bad value is exit 2 up front, never
# a warning halfway through collecting evidence or an error after a first step ran.
SETTINGS: dict[str, Setting] = {
    "REMEDYBOT_HTTP_TIMEOUT": Setting(30.0, unit="seconds"),
    "REMEDYBOT_RETRY_MAX_ATTEMPTS": Setting(6, integer=True),
    "REMEDYBOT_RETRY_MAX_SECONDS": Setting(60.0),
    "REMEDYBOT_RETRY_BASE": Setting(1.0),
    "REMEDYBOT_VERIFY_TIMEOUT": Setting(1800.0, unit="seconds"),
    "REMEDYBOT_VERIFY_POLL": Setting(10.0, unit="seconds"),
    "REMEDYBOT_VERIFY_NO_PROGRESS": Setting(300.0, unit="seconds"),
    "REMEDYBOT_WATCH_TIMEOUT": Setting(3600.0, unit="seconds"),
    "REMEDYBOT_WATCH_POLL": Setting(30.0, unit="seconds"),
}


def setting(name: str) -> float:
    """The value of the numeric setting `name` (one of SETTINGS) from the environment, else its default.

    Raises:
        UsageError: the variable is set to something other than a positive finite number.
    """
    spec = SETTINGS[name]
    return env_number(name, spec.default, integer=spec.integer, unit=spec.unit)


# Every URL setting and its default. A value must be an http(s) URL with a host: a typo would otherwise
# send requests somewhere unexpected or fail with a traceback deep inside a library.
URL_SETTINGS: dict[str, str] = {
    "REMEDYBOT_PYPI_URL": "https://pypi.org",  # the package index's JSON API (/pypi/<name>/json)
}


def url_setting(name: str) -> str:
    """The URL in `$name` (one of URL_SETTINGS) without a trailing slash, else its default.

    Raises:
        UsageError: the value is not an http:// or https:// URL with a host; fix or unset it.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return URL_SETTINGS[name]
    scheme, sep, rest = raw.partition("://")  # no urllib here: this module is read at every start-up
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0]
    if scheme.lower() not in ("http", "https") or not sep or not host or any(c.isspace() for c in raw):
        raise UsageError(f"{name} must be an http:// or https:// URL, not {raw[:60]!r}. Fix or unset it.")
    return raw.rstrip("/")


def check_environment() -> None:
    """Read every numeric and URL setting once; raises the first UsageError."""
    for name in SETTINGS:
        setting(name)
    for name in URL_SETTINGS:
        url_setting(name)
