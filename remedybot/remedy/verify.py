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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from remedybot.core import clock as clocks
from remedybot.core.clock import Clock
from remedybot.core.env import setting
from remedybot.core.errors import RemedyError
from remedybot.hub.logs import log_tail
from remedybot.model.enums import HEALTHY_STAGES, INTERMEDIATE_STAGES

if TYPE_CHECKING:
    from remedybot.hub import Hub


LOG_EVERY = 60.0  # seconds between two reads of the log while waiting (a log read is a streamed request)
STALLED_KEY = "_stalled_for"  # set on wait_for_space's answer when it ended for want of progress


def verify_timeout() -> float:
    """Seconds to wait at most for a Space to settle (REMEDYBOT_VERIFY_TIMEOUT, default 30 minutes)."""
    return setting("REMEDYBOT_VERIFY_TIMEOUT")


def verify_poll() -> float:
    """Seconds between two reads of the runtime (REMEDYBOT_VERIFY_POLL, default 10)."""
    return setting("REMEDYBOT_VERIFY_POLL")


def no_progress_window() -> float:
    """Seconds without any sign of progress after which a step is given up (REMEDYBOT_VERIFY_NO_PROGRESS,
    default 5 minutes): no stage change and no new line in the log of the stage the Space is in."""
    return setting("REMEDYBOT_VERIFY_NO_PROGRESS")


def check_settings() -> None:
    """Read every verification setting now, so a bad one stops a run before its first step, not after it."""
    verify_timeout(), verify_poll(), no_progress_window()


@dataclass
class Verification:
    ok: bool
    stage: str
    error_message: str | None
    probe: str | None  # "200", "503", "no app URL", ...
    timed_out: bool = False
    stalled_for: float | None = None  # seconds without progress, when that is why the wait ended

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
        if self.stalled_for is not None:
            return (f"still {self.stage}, with no progress for {self.stalled_for:g}s "
                    "(no stage change and no new log line)")
        if self.timed_out:
            return f"still {self.stage} after {verify_timeout():g}s"
        return self.failure or self.stage


@dataclass
class _Progress:
    """The last sign of life of a Space that is building or starting: its stage and its log's end."""

    since: float
    stage: str | None = None
    log_end: tuple[int, str] | None = None

    def saw(self, now: float, stage: str | None, log_end: tuple[int, str] | None) -> None:
        if stage != self.stage or (log_end is not None and log_end != self.log_end):
            self.since = now
        self.stage = stage
        if log_end is not None:
            self.log_end = log_end


def _log_end(hub: Hub, space_id: str, stage: str | None) -> tuple[int, str] | None:
    """(lines, last line) of the log of the stage the Space is in; None when it cannot be read."""
    try:
        lines = log_tail(hub, space_id, build=stage in ("BUILDING", "RUNNING_BUILDING"), max_lines=50)
    except RemedyError:
        return None
    return len(lines), (lines[-1] if lines else "")


def wait_for_space(hub: Hub, space_id: str, *, timeout: float | None = None, poll: float | None = None,
                   settle_first: float = 0.0, clock: Clock | None = None,
                   no_progress: float | None = None) -> dict[str, Any]:
    """Poll the runtime until it leaves the intermediate stages, stops making progress, or the deadline passes.

    Progress is a stage change or a new line at the end of the log of the stage the Space is in
    (build log while building, run log while starting); the log is read at most once a minute, so
    a build that keeps printing can take as long as builds take, and one that prints nothing for
    `no_progress` seconds ends the wait early. The answer is the last runtime read; the caller
    tells the three endings apart with `stalled` (set on the answer as `_stalled_for`).

    `clock` defaults to `remedybot.core.clock.current()`: real time unless a test installed another.
    """
    clock = clocks.current() if clock is None else clock
    timeout = verify_timeout() if timeout is None else timeout
    poll = verify_poll() if poll is None else poll
    window = no_progress_window() if no_progress is None else no_progress
    deadline = clock.monotonic() + timeout
    if settle_first:
        clock.sleep(settle_first)
    progress = _Progress(since=clock.monotonic())
    next_log_read = clock.monotonic() + min(LOG_EVERY, window / 2)
    while True:
        runtime = hub.runtime(space_id)
        now = clock.monotonic()
        stage = runtime.get("stage")
        if stage not in INTERMEDIATE_STAGES or now >= deadline:
            return runtime
        if now < next_log_read:
            progress.saw(now, stage, None)
        else:  # a stall is declared only on a fresh read of the log, so a quiet spell shorter than the window
            # (reads come every half window) always shows its next line first
            next_log_read = now + min(LOG_EVERY, window / 2)
            log_end = _log_end(hub, space_id, stage)
            progress.saw(now, stage, log_end)
            if log_end is not None and now - progress.since >= window:  # an unread log proves nothing
                return {**runtime, STALLED_KEY: round(now - progress.since)}
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
        return Verification(False, stage, error, None, timed_out=True, stalled_for=runtime.get(STALLED_KEY))
    if stage not in HEALTHY_STAGES:
        return Verification(False, stage, error, None)
    probe = probe_app(hub, space_id)
    ok = probe is None or probe.startswith("2") or probe.startswith("3")
    return Verification(ok, stage, error, probe)
