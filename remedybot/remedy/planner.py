"""Turn a diagnosis into a plan: the playbooks serving its branch, cheapest first.

Pure: everything the playbooks need (evidence, the Hub's flavor list, which
candidate repo names exist) is gathered before planning (`workflow.plan_space`
calls each playbook's `gather`), so `--dry-run` makes no changes and tests can
plan without a Hub. Every step's params are validated against its playbook's
params model here, so a playbook cannot plan a step it would not accept.
"""

from __future__ import annotations

from typing import Any

from remedybot.core.redact import redact_data
from remedybot.model.diagnosis import Diagnosis
from remedybot.model.enums import Branch, is_healthy
from remedybot.model.evidence import Evidence
from remedybot.model.plan import Plan, Serial, new_plan
from remedybot.remedy.playbook import PlanContext, PlanOptions, Playbook, Registry


def playbooks_for(branch: str, registry: Registry) -> list[Playbook]:
    """The playbooks serving `branch`, cheapest first (order, then id)."""
    return sorted((p for p in registry.values() if p.serves(branch)), key=lambda p: (p.order, p.id))


def serial_of(evidence: Evidence) -> tuple[str | None, Serial]:
    info = evidence.info or {}
    runtime = evidence.runtime or {}
    serial = Serial(sha=info.get("sha"), hardware=(runtime.get("hardware") or {}).get("requested"),
                    used_storage=info.get("usedStorage"), failing=not is_healthy(runtime.get("stage")))
    return info.get("createdAt"), serial


def build_plan(*, diagnosis: Diagnosis, evidence: Evidence, flavors: list[dict[str, Any]],
               options: PlanOptions | None = None, existing_repos: set[str] | None = None,
               registry: Registry, key: bytes) -> Plan:
    ctx = PlanContext(space_id=evidence.space_id, diagnosis=diagnosis, evidence=evidence, flavors=flavors,
                      options=options or PlanOptions(), existing_repos=existing_repos or set())
    steps = []
    if diagnosis.branch != Branch.HEALTHY:
        for playbook in playbooks_for(diagnosis.branch, registry):
            planned = playbook.plan(ctx)
            for step in planned:  # a step its own playbook would refuse at apply time is a bug: stop here
                playbook.params.model_validate(step.params)
                if playbook.risk(step) != step.risk:
                    raise RuntimeError(f"playbook {playbook.id} planned a {step.risk} step it rates "
                                       f"{playbook.risk(step)}")
            steps.extend(planned)
    created_at, serial = serial_of(evidence)
    return new_plan(space_id=evidence.space_id, created_at=created_at, serial=serial, branch=diagnosis.branch,
                    diagnosis=redact_data(diagnosis.to_dict()), steps=steps, key=key)
