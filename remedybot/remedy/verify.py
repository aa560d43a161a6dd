"""Verification after a fix step: wait (never forever) for the Space to settle, then probe it.

huggingface_hub's `wait_for_space` waits forever without a timeout and is not
retried, so remedybot polls `/runtime` itself through the retry policy, with a
deadline. RUNNING is confirmed by an HTTP probe of the app URL when the Space
has one. The result names the failure in a stable form (stage + first line of
errorMessage), so the engine can tell "the same failure twice".

Every wait here reads and sleeps on `remedybot.core.clock`, so tests against the sandbox
Hub wait on its simulated clock instead of real seconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from remedybot.core import clock as clocks
from remedybot.core.clock import Clock
from remedybot.model.enums import HEALTHY_STAGES, INTERMEDIATE_STAGES

if TYPE_CHECKING:
    from remedybot.hub import Hub


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def verify_timeout() -> float:
    """Seconds to wait for a Space to settle (REMEDYBOT_VERIFY_TIMEOUT, default 30 minutes)."""
    return _env_float("REMEDYBOT_VERIFY_TIMEOUT", 1800.0)


def verify_poll() -> float:
    return _env_float("REMEDYBOT_VERIFY_POLL", 10.0)


@dataclass
class Verification:
    ok: bool
    stage: str
    error_message: str | None
    probe: str | None  # "200", "503", "no app URL", ...
    timed_out: bool = False

    @property
    def failure(self) -> str | None:
        """A stable name for what went wrong, for 'the same failure twice'."""
        if self.ok:
            return None
        first = (self.error_message or "").strip().splitlines()
        reason = first[-1][:160] if first else ""
        return f"{self.stage}{' (timed out)' if self.timed_out else ''}: {reason}".strip()

    def describe(self) -> str:
        if self.ok:
            return f"RUNNING{f', app answered {self.probe}' if self.probe else ''}"
        if self.timed_out:
            return f"still {self.stage} after {verify_timeout():g}s"
        return self.failure or self.stage


def wait_for_space(hub: Hub, space_id: str, *, timeout: float | None = None, poll: float | None = None,
                   settle_first: float = 0.0, clock: Clock | None = None) -> dict[str, Any]:
    """Poll the runtime until it leaves the intermediate stages or the deadline passes.

    `clock` defaults to `remedybot.core.clock.current()`: real time unless a test installed another.
    """
    clock = clocks.current() if clock is None else clock
    timeout = verify_timeout() if timeout is None else timeout
    poll = verify_poll() if poll is None else poll
    deadline = clock.monotonic() + timeout
    if settle_first:
        clock.sleep(settle_first)
    while True:
        runtime = hub.runtime(space_id)
        if runtime.get("stage") not in INTERMEDIATE_STAGES or clock.monotonic() >= deadline:
            return runtime
        clock.sleep(min(poll, max(0.0, deadline - clock.monotonic())))


def probe_app(hub: Hub, space_id: str) -> str | None:
    """GET the Space's app URL; None when the Space has no host to probe."""
    try:
        info = hub.space_info(space_id)  # "host" is in the default answer, not an expand field
    except Exception:
        return None
    host = getattr(info, "host", None)
    if not host:
        return None
    return hub.probe(host)


def verify_space(hub: Hub, space_id: str, *, timeout: float | None = None,
                 clock: Clock | None = None) -> Verification:
    runtime = wait_for_space(hub, space_id, timeout=timeout, clock=clock)
    stage = runtime.get("stage", "UNKNOWN")
    error = runtime.get("errorMessage")
    if stage in INTERMEDIATE_STAGES:
        return Verification(False, stage, error, None, timed_out=True)
    if stage not in HEALTHY_STAGES:
        return Verification(False, stage, error, None)
    probe = probe_app(hub, space_id)
    ok = probe is None or probe.startswith("2") or probe.startswith("3")
    return Verification(ok, stage, error, probe)
