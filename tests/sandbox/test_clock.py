"""SimClock: fast simulated time that starts at the real now."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC

import pytest

from remedybot.sandbox.clock import SimClock


def test_starts_at_real_now_and_runs_fast() -> None:
    clock = SimClock()
    start = clock.now()
    assert abs(start - time.time()) < 5  # a few ms real at 1000x
    time.sleep(0.02)
    assert clock.now() - start >= 19  # 20 ms real is 20 s simulated
    assert clock.speed == 1000.0 and clock.real_seconds(60) == pytest.approx(0.06)


def test_advance_and_monotonic() -> None:
    clock = SimClock(speed=1.0, start=1_000_000.0)
    before = clock.now()
    assert clock.advance(3600) >= before + 3600
    readings = [clock.now() for _ in range(100)]
    assert readings == sorted(readings)
    with pytest.raises(ValueError, match="negative"):
        clock.advance(-1)


def test_iso_and_datetime() -> None:
    assert SimClock.iso(1_768_988_738.25) == "2026-01-21T09:45:38.250Z"
    clock = SimClock(start=1_768_988_738.0)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", clock.iso(clock.now()))
    assert clock.now_dt().tzinfo is UTC


def test_rejects_bad_speed() -> None:
    with pytest.raises(ValueError, match="positive"):
        SimClock(speed=0)


def test_thread_safe_advance() -> None:
    clock = SimClock(speed=1.0, start=0.0)
    threads = [threading.Thread(target=lambda: [clock.advance(1) for _ in range(500)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 2000 <= clock.now() < 2010
