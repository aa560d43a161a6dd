"""Simulated time for the sandbox Hub: real time, sped up.

Builds, startup timeouts and "stuck for 30 minutes" only mean something if
time passes, but no test may wait real minutes. `SimClock` runs `speed` times
faster than the wall clock (1000x by default: a 60 s build takes 60 ms, the
30-minute launch timeout 1.8 s), starting at the real "now" so timestamps in
logs and API answers look current. Tests can also jump ahead with `advance`.

It reads the monotonic clock, so a wall-clock change on the host cannot make
simulated time run backwards. It owns no state besides its origin and offset
and never sleeps.

`SimWaits` lets code that waits on the sandbox (remedybot's verification, in
tests) sleep by jumping this clock instead of waiting in real time.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class SimClock:
    """Simulated epoch time that runs `speed` times faster than real time.

    Args:
        speed: simulated seconds per real second (1000.0: one real millisecond is one sim second).
        start: simulated epoch seconds at creation; defaults to the real now. Pass the time a
            saved sandbox stopped at to carry its builds over a restart.

    Raises:
        ValueError: `speed` is not positive; pass a number above 0.
    """

    def __init__(self, speed: float = 1000.0, start: float | None = None) -> None:
        if not speed > 0:
            raise ValueError(f"SimClock speed must be positive, got {speed!r}")
        self._speed = float(speed)
        self._lock = threading.Lock()
        self._origin_sim = time.time() if start is None else float(start)
        self._origin_mono = time.monotonic()
        self._offset = 0.0

    @property
    def speed(self) -> float:
        """Simulated seconds per real second."""
        return self._speed

    def now(self) -> float:
        """Current simulated time, as epoch seconds."""
        with self._lock:
            return self._origin_sim + (time.monotonic() - self._origin_mono) * self._speed + self._offset

    def now_dt(self) -> datetime:
        """Current simulated time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def advance(self, seconds: float) -> float:
        """Jump simulated time forward by `seconds` (tests); returns the new now.

        Raises:
            ValueError: `seconds` is negative; simulated time never runs backwards.
        """
        if seconds < 0:
            raise ValueError(f"cannot advance a SimClock by a negative amount ({seconds!r})")
        with self._lock:
            self._offset += seconds
        return self.now()

    def real_seconds(self, sim_seconds: float) -> float:
        """How long `sim_seconds` of simulated time take in real time (for pacing loops)."""
        return sim_seconds / self._speed

    @staticmethod
    def iso(t: float) -> str:
        """Epoch seconds as ISO-8601 UTC with milliseconds and a 'Z', like the Hub's timestamps."""
        dt = datetime.fromtimestamp(t, tz=UTC)
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class SimWaits:
    """A `monotonic()`/`sleep()` pair for code that waits on a sandbox: sleeping jumps its clock.

    Time is the sandbox's, in real-time units: `monotonic()` is `clock.now() / clock.speed`, so it
    runs at real pace and also moves with every `advance`. `sleep(s)` advances the sandbox clock by
    `s * speed` (what `s` real seconds would have let happen) and returns at once, so a poll loop
    that waits out a 2-second deadline sees the same Hub it would have seen, without waiting.
    Use it only with code that waits on this one sandbox; it never sleeps in real time.
    """

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock

    def monotonic(self) -> float:
        return self._clock.now() / self._clock.speed

    def sleep(self, seconds: float, /) -> None:
        if seconds > 0:
            self._clock.advance(seconds * self._clock.speed)
        time.sleep(0)  # let the server's threads run
