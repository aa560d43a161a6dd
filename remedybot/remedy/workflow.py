"""The steps the commands share: diagnose a Space, plan its fix, decide which steps may run.

Commands stay thin by calling these; each is one obvious sequence of engine calls.
"""

from __future__ import annotations

from typing import Any

from remedybot.model.plan import Plan, Step
from remedybot.remedy.playbook import PlanOptions


def diagnose_space(hub: Any, space_id: str) -> tuple[Any, Any]:
    """Collect the evidence and classify it: (evidence, diagnosis)."""
    from remedybot.diagnose.classify import classify
    from remedybot.diagnose.collect import collect_evidence

    evidence = collect_evidence(hub, space_id)
    return evidence, classify(evidence)


def plan_space(hub: Any, space_id: str, options: PlanOptions) -> tuple[Plan, Any, Any]:
    """Diagnose, fetch what planning needs (flavors, taken names), and plan: (plan, diagnosis, evidence)."""
    from remedybot.remedy.planner import build_plan

    evidence, diagnosis = diagnose_space(hub, space_id)
    flavors: list[dict[str, Any]] = []
    existing: set[str] = set()
    if diagnosis.branch in ("capacity", "resource_limit"):
        flavors = hub.list_hardware()
    if diagnosis.branch == "wedged_space":
        if options.to:
            target = options.to if "/" in options.to else f"{space_id.split('/')[0]}/{options.to}"
            if hub.repo_exists(target):
                from remedybot.core.errors import UsageError

                raise UsageError(f"--to '{target}' already exists. Pick a free name for the duplicate.")
        else:
            for n in range(2, 12):
                candidate = f"{space_id}-{n}"
                if not hub.repo_exists(candidate):
                    break
                existing.add(candidate)
    if diagnosis.branch == "repo_too_large":
        from remedybot.remedy.storage.inventory import attach_inventory

        attach_inventory(hub, evidence, options)
    from remedybot.remedy import sources  # issue 5: file fixes also read the app's code

    if diagnosis.branch in sources.BRANCHES:
        evidence.files = {**(evidence.files or {}), **sources.fetch_sources(hub, space_id, evidence)}
    plan = build_plan(diagnosis=diagnosis, evidence=evidence, flavors=flavors, options=options,
                      existing_repos=existing)
    return plan, diagnosis, evidence


def approved_gate(plan: Plan):
    """`apply`: read-only steps run; others only when approved for this fingerprint."""
    approved = plan.approved_steps()

    def gate(step: Step) -> str:
        return "run" if step.risk == "read-only" or step.number in approved else "skip"

    return gate


def fix_gate(*, yes: bool, interactive: bool):
    """`fix`: read-only and safe steps run; disruptive ones need --yes or a yes at the prompt;
    destructive ones need an answer at the prompt (never --yes) or an approved plan."""

    def gate(step: Step) -> str:
        if step.risk in ("read-only", "safe"):
            return "run"
        if step.risk == "disruptive":
            if yes:
                return "run"
            return "ask" if interactive else ("it is disruptive and there is no terminal to ask; re-run with "
                                              "--yes, or save, approve and apply a plan")
        if interactive:
            return "ask"
        return ("it is destructive; --yes never covers destructive steps: save the plan with --dry-run --out, "
                "approve it with 'remedybot approve', then 'remedybot apply'")

    return gate
