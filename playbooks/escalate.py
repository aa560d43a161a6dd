"""escalate: when only Hugging Face can help, say so and hand over a complete support ticket.

Read-only. It ends every plan for a failing Space, so a run that could not
bring the Space back always leaves the person with the next thing to do. For
a policy block it is the whole plan: remedybot never works around a block.
"""

from __future__ import annotations

from remedybot.model.enums import Branch, Risk
from remedybot.model.plan import Step
from remedybot.remedy.playbook import ORDER_ESCALATE, Outcome, PlanContext, Playbook, RunContext, always, step

ID = "escalate"

WHY = {
    "policy_block": "Hugging Face blocked this Space by policy. Only Hugging Face can review or lift a block; "
                    "working around it (a new slug, a rename) would break their rules and can get the account "
                    "restricted.",
    "platform_incident": "If the incident outlasts the watch, support can say when it will be resolved.",
    "unknown": "No known cause matched the evidence; support can read the platform-side logs.",
}


def plan(ctx: PlanContext) -> list[Step]:
    why = WHY.get(ctx.diagnosis.branch, "If the steps above do not bring the Space back, support needs the "
                                         "evidence and what was tried.")
    return [step(ID, action="write a support ticket for Hugging Face (email, forum or GitHub)", risk="read-only",
                 reversible=True, fixes=False, why=why,
                 calls=[f"remedybot report {ctx.space_id} --format email"])]


def apply(s: Step, run: RunContext) -> Outcome:
    return Outcome("done", f"escalate: run 'remedybot report {run.plan.space_id}' to write the ticket",
                   data={"report": f"remedybot report {run.plan.space_id}"})


PLAYBOOK = Playbook(id=ID, risk=always(Risk.READ_ONLY), branches=frozenset(Branch) - {Branch.HEALTHY},
                    order=ORDER_ESCALATE, plan=plan, apply=apply)
