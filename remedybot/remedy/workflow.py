"""The sequences the commands share: diagnose a Space, then gather what its playbooks need and plan.

Commands (CLI, watch, later the console) stay thin by calling these. Nothing
here knows a branch: each playbook's `gather` hook fetches what that playbook
needs before the pure planning step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from remedybot.diagnose.classify import classify
from remedybot.diagnose.collect import collect_evidence
from remedybot.model.diagnosis import Diagnosis
from remedybot.model.enums import Branch
from remedybot.model.evidence import Evidence
from remedybot.model.plan import Plan
from remedybot.remedy.keys import plan_key
from remedybot.remedy.lastseen import seen_records
from remedybot.remedy.planner import build_plan, playbooks_for
from remedybot.remedy.playbook import GatherContext, PlanOptions, Registry

if TYPE_CHECKING:
    from remedybot.hub import Hub


def diagnose_space(hub: Hub, space_id: str) -> tuple[Evidence, Diagnosis]:
    """Collect the evidence and classify it: (evidence, diagnosis)."""
    evidence = collect_evidence(hub, space_id, seen=seen_records(space_id))
    return evidence, classify(evidence)


def plan_space(hub: Hub, space_id: str, options: PlanOptions, registry: Registry) -> tuple[Plan, Diagnosis, Evidence]:
    """Diagnose, let each playbook of the branch gather what it needs, and plan: (plan, diagnosis, evidence)."""
    evidence, diagnosis = diagnose_space(hub, space_id)
    gathered = GatherContext(hub=hub, space_id=space_id, diagnosis=diagnosis, evidence=evidence, options=options)
    if diagnosis.branch != Branch.HEALTHY:
        for playbook in playbooks_for(diagnosis.branch, registry):
            playbook.gather(gathered)
    plan = build_plan(diagnosis=diagnosis, evidence=evidence, flavors=gathered.flavors, options=options,
                      existing_repos=gathered.existing_repos, registry=registry, key=plan_key())
    return plan, diagnosis, evidence
