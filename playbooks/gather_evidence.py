"""gather_evidence: for an unknown failure, read more before changing anything.

Fetches longer tails of the build and run logs than diagnosis does, saves
them beside the audit log, and suggests Dev Mode (a shell in the running
container, PRO/Team plans) to see what the logs cannot show.
"""

from __future__ import annotations

import json

from remedybot.core.redact import redact_data
from remedybot.hub import log_tail
from remedybot.model.enums import Branch, Risk
from remedybot.model.plan import Step
from remedybot.remedy.playbook import ORDER_WAIT, Outcome, PlanContext, Playbook, RunContext, always, step

ID = "gather_evidence"
LINES = 5000


def plan(ctx: PlanContext) -> list[Step]:
    return [step(ID, action=f"read the last {LINES} lines of the build and run logs and save them",
                 risk="read-only", reversible=True, fixes=False,
                 why="The evidence does not name a cause. Longer logs often do; if not, enable Dev Mode "
                     "(Space settings, PRO/Team) and run the app by hand in the container to see the error.",
                 calls=[f"GET /api/spaces/{ctx.space_id}/logs/build", f"GET /api/spaces/{ctx.space_id}/logs/run"])]


def apply(s: Step, run: RunContext) -> Outcome:
    space = run.plan.space_id
    logs = {which: run.call(f"GET /api/spaces/{space}/logs/{which}", log_tail, run.hub, space,
                            build=which == "build", max_lines=LINES, max_bytes=4_000_000)
            for which in ("build", "run")}
    path = run.audit.path.parent / f"logs-{space.replace('/', '--')}-{run.plan.fingerprint[:12]}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(redact_data(logs), indent=1))
    return Outcome("done", f"saved {sum(len(v) for v in logs.values())} log lines to {path}",
                   data={"path": str(path)})


PLAYBOOK = Playbook(id=ID, risk=always(Risk.READ_ONLY), branches=frozenset({Branch.UNKNOWN, Branch.STARTUP_CRASH}),
                    order=ORDER_WAIT + 1, plan=plan, apply=apply)
