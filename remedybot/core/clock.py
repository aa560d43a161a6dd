"""The clock every wait in remedybot reads: the `time` module unless a test installed another.

Verification polls a Space until it settles, and `watch` sleeps between rounds. Against the sandbox
Hub, whose builds run on a simulated clock (1000x real time), waiting real seconds only slows tests
down; a test installs a clock whose `sleep` jumps the sandbox's clock instead (tests/conftest.py).
Nothing in the product calls `set_clock`, and it is not read from the environment, so a user's run (and
a CLI run in a subprocess) always waits on real time. The product never imports the sandbox: the test
fixture wires the two together.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """What a wait needs of a clock; the `time` module is one."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float, /) -> None: ...


_clock: Clock = time


def current() -> Clock:
    """The clock waits use now."""
    return _clock


def set_clock(clock: Clock | None) -> Clock:
    """Make every wait use `clock` (None: the real `time` module again); returns the clock it replaces.

    For tests only: a fixture installs a fast clock and puts the returned one back afterwards. It is
    process-wide, not per thread.
    """
    global _clock
    previous = _clock
    _clock = time if clock is None else clock
    return previous
