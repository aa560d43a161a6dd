"""factory_rebuild: restart with a clean build (no cache), for a wedged builder.

Hugging Face's "Factory rebuild" rebuilds the image from scratch; it is what
clears a Space stuck on Building with an empty log. It has a cooldown (not
twice within 30 minutes unless forced) because repeating it only queues more
builds on a struggling builder.
"""

from __future__ import annotations

from remedybot.model.enums import Branch, Risk
from remedybot.model.plan import Step
from remedybot.remedy.playbook import ORDER_FACTORY, Outcome, PlanContext, Playbook, RunContext, always, step

ID = "factory_rebuild"


def plan(ctx: PlanContext) -> list[Step]:
    return [step(ID, action="factory rebuild (rebuild the image without cache)", risk="disruptive",
                 reversible=True,
                 why="A wedged build survives a plain restart; a factory rebuild starts it from scratch.",
                 calls=[f"POST /api/spaces/{ctx.space_id}/restart?factory=true"])]


def preflight(s: Step, run: RunContext) -> list[str]:
    left = run.ledger.cooldown_left(run.plan.space_id, ID)
    if left and not run.force and not done(s, run):
        minutes = int(left.total_seconds() // 60) + 1
        return [f"a factory rebuild ran less than 30 minutes ago (cooldown: {minutes} min left)"]
    return []


def apply(s: Step, run: RunContext) -> Outcome:
    space = run.plan.space_id
    runtime = run.call(f"POST /api/spaces/{space}/restart?factory=true", run.hub.restart, space, factory=True)
    run.ledger.record(space, ID, fingerprint=run.plan.fingerprint, step=s.number)
    return Outcome("done", f"factory rebuild requested; stage {runtime.get('stage')}")


def done(s: Step, run: RunContext) -> bool:
    return any(e.get("fingerprint") == run.plan.fingerprint and e.get("step") == s.number
               for e in run.ledger.entries(run.plan.space_id, ID))


PLAYBOOK = Playbook(id=ID, risk=always(Risk.DISRUPTIVE), branches=frozenset({Branch.WEDGED_SPACE}), order=ORDER_FACTORY,
                    plan=plan, apply=apply, preflight=preflight, done=done)
