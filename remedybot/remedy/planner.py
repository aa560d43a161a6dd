"""Turn a diagnosis into a plan: the playbooks serving its branch, cheapest first.

Pure: everything the playbooks need (evidence, the Hub's flavor list, which
candidate repo names exist) is fetched before planning, so `--dry-run` makes
no changes and tests can plan without a Hub.
"""

from __future__ import annotations

from typing import Any

from remedybot.model.plan import Plan, Serial, new_plan
from remedybot.remedy.playbook import PlanContext, PlanOptions
from remedybot.remedy.verify import HEALTHY


def playbooks_for(branch: str, registry: dict[str, Any]) -> list[Any]:
    return sorted((m for m in registry.values() if branch in m.BRANCHES), key=lambda m: (m.ORDER, m.ID))


def serial_of(evidence: Any) -> tuple[str | None, Serial]:
    info = evidence.info or {}
    runtime = evidence.runtime or {}
    serial = Serial(sha=info.get("sha"), hardware=(runtime.get("hardware") or {}).get("requested"),
                    used_storage=info.get("usedStorage"), failing=runtime.get("stage") not in HEALTHY)
    return info.get("createdAt"), serial


def build_plan(*, diagnosis: Any, evidence: Any, flavors: list[dict[str, Any]], options: PlanOptions | None = None,
               existing_repos: set[str] | None = None, registry: dict[str, Any] | None = None) -> Plan:
    if registry is None:
        from remedybot.playbooks import REGISTRY as registry
    ctx = PlanContext(space_id=evidence.space_id, diagnosis=diagnosis, evidence=evidence, flavors=flavors,
                      options=options or PlanOptions(), existing_repos=existing_repos or set())
    steps = []
    if diagnosis.branch != "healthy":
        for module in playbooks_for(diagnosis.branch, registry):
            steps.extend(module.plan(ctx))
    created_at, serial = serial_of(evidence)
    return new_plan(space_id=evidence.space_id, created_at=created_at, serial=serial, branch=diagnosis.branch,
                    diagnosis=diagnosis.to_dict(), steps=steps)
