"""restart: the cheapest thing to try — restart the Space as it is.

Clears transient failures (a capacity hiccup, a crashed process after a
platform blip). It cannot clear a wedged builder: that needs factory_rebuild.
"""

from __future__ import annotations

from remedybot.model.enums import Branch, Risk
from remedybot.model.plan import Step
from remedybot.remedy.playbook import ORDER_RESTART, Outcome, PlanContext, Playbook, RunContext, always, step

ID = "restart"


def plan(ctx: PlanContext) -> list[Step]:
    return [step(ID, action="restart the Space", risk="safe", reversible=True,
                 why="A restart is the cheapest fix: it clears transient scheduler and process failures.",
                 calls=[f"POST /api/spaces/{ctx.space_id}/restart"])]


def apply(s: Step, run: RunContext) -> Outcome:
    space = run.plan.space_id
    runtime = run.call(f"POST /api/spaces/{space}/restart", run.hub.restart, space)
    run.ledger.record(space, ID, fingerprint=run.plan.fingerprint, step=s.number)
    return Outcome("done", f"restart requested; stage {runtime.get('stage')}")


def done(s: Step, run: RunContext) -> bool:
    return any(e.get("fingerprint") == run.plan.fingerprint and e.get("step") == s.number
               for e in run.ledger.entries(run.plan.space_id, ID))


PLAYBOOK = Playbook(id=ID, risk=always(Risk.SAFE),
                    branches=frozenset({Branch.WEDGED_SPACE, Branch.CAPACITY, Branch.STARTUP_CRASH}),
                    order=ORDER_RESTART, plan=plan, apply=apply, done=done)
