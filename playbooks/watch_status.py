"""watch_status: during a platform incident, change nothing — wait and watch the status page.

When Hugging Face's own components are degraded, restarts and rebuilds only
add load and queue more failing builds. This step polls the status page
(read-only) until it is operational again or the watch times out, then says
whether the Space came back on its own.
"""

from __future__ import annotations

from remedybot.core import clock as clocks
from remedybot.core.env import setting
from remedybot.hub import aggregate_state
from remedybot.hub.status import status_url
from remedybot.model.enums import Branch, Risk
from remedybot.model.plan import Step
from remedybot.remedy.playbook import ORDER_WAIT, Outcome, PlanContext, Playbook, RunContext, always, step

ID = "watch_status"


def watch_timeout() -> float:
    """Seconds to watch the status page at most (REMEDYBOT_WATCH_TIMEOUT, default one hour)."""
    return setting("REMEDYBOT_WATCH_TIMEOUT")


def watch_poll() -> float:
    """Seconds between two reads of the status page (REMEDYBOT_WATCH_POLL, default 30)."""
    return setting("REMEDYBOT_WATCH_POLL")


def plan(ctx: PlanContext) -> list[Step]:
    return [step(ID, action="wait for the platform incident to end, watching the status page", risk="read-only",
                 reversible=True, fixes=False,
                 why="Hugging Face's platform is degraded: changing the Space now cannot help and may queue "
                     "more failing builds. Wait, then re-check.",
                 calls=[f"GET {status_url()} (every {watch_poll():g} s, up to {watch_timeout() / 60:g} min)"])]


def apply(s: Step, run: RunContext) -> Outcome:
    clock = clocks.current()
    deadline = clock.monotonic() + watch_timeout()
    poll = watch_poll()
    state = "unknown"
    while True:
        doc = run.call("GET status page", run.hub.status_page)
        state = aggregate_state(doc)
        if state == "operational" or clock.monotonic() >= deadline:
            break
        clock.sleep(min(poll, max(0.0, deadline - clock.monotonic())))
    stage = run.hub.runtime(run.plan.space_id).get("stage")
    if state == "operational":
        return Outcome("done", f"status page operational again; the Space is {stage}", data={"status": state})
    return Outcome("done", f"status page still {state} after {watch_timeout():g}s; the Space is {stage}",
                   data={"status": state})


PLAYBOOK = Playbook(id=ID, risk=always(Risk.READ_ONLY), branches=frozenset({Branch.PLATFORM_INCIDENT}),
                    order=ORDER_WAIT, plan=plan, apply=apply)
