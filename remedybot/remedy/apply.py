"""Apply a plan: safety checks, then each step with audit records, then verification.

All the refusals live in `check_plan` (one place, each a condition and a
reason inside the one refusal frame). The run is resumable: the audit log
says which steps finished and what the Space looked like after them, so a
re-run skips finished steps and compares the Space with the last state we
left it in (our own commits do not make our own plan stale).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from remedybot.core import output
from remedybot.core.errors import ExitCode, refusal
from remedybot.model.plan import Plan, Serial, Step
from remedybot.remedy.audit import AuditLog
from remedybot.remedy.ledger import Ledger
from remedybot.remedy.playbook import RunContext
from remedybot.remedy.verify import HEALTHY, verify_space

Gate = Callable[[Step], str]  # "run" | "skip" or "skip:<why>" | "ask" | a refusal reason
Confirm = Callable[[Step], bool]


@dataclass
class ApplyResult:
    exit_code: ExitCode
    outcome: str  # fixed | unverified | same-failure | refused | nothing-to-do | healthy | proposed | declined
    message: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    space_id: str | None = None  # the Space that ended up RUNNING (a duplicate's id, say)


def current_serial(hub: Any, space_id: str) -> tuple[str | None, Serial]:
    """The Space's lineage (created_at) and serial as the Hub shows them now."""
    info = hub.space_info(space_id, expand=["sha", "createdAt", "usedStorage"])
    runtime = hub.runtime(space_id)
    created = info.created_at.isoformat() if info.created_at else None
    serial = Serial(sha=info.sha, hardware=(runtime.get("hardware") or {}).get("requested"),
                    used_storage=info.used_storage, failing=runtime.get("stage") not in HEALTHY)
    return created, serial


def serial_changes(expected: Serial, now: Serial) -> list[str]:
    changes = []
    if expected.sha != now.sha:
        changes.append(f"its revision moved from {str(expected.sha)[:7]} to {str(now.sha)[:7]}")
    if expected.hardware != now.hardware:
        changes.append(f"its hardware changed from {expected.hardware} to {now.hardware}")
    if expected.used_storage != now.used_storage:
        changes.append(f"its storage changed from {expected.used_storage} to {now.used_storage} bytes")
    if expected.failing != now.failing:
        changes.append("it is now healthy" if not now.failing else "it is failing again")
    return changes


def check_plan(plan: Plan, hub: Any, *, expect_space: str | None, progress: dict[str, Any],
               now: datetime | None = None) -> Serial:
    """Every reason to refuse a plan before touching the Space; returns the Space's serial now.

    Raises:
        RefusedError: tampered, for another Space, expired, or stale. Re-plan with `fix --dry-run`.
    """
    replan = f"Run 'remedybot fix {plan.space_id} --dry-run --out PLAN' to make a new plan"
    action = f"apply plan {plan.fingerprint[:12]} to '{plan.space_id}'"
    if plan.compute_fingerprint() != plan.fingerprint:
        raise refusal(action, "the plan file was modified after it was made (fingerprint mismatch: tampered)",
                      replan)
    if expect_space is not None and expect_space != plan.space_id:
        raise refusal(f"apply plan {plan.fingerprint[:12]} to '{expect_space}'",
                      f"the plan is for another Space ('{plan.space_id}')", replan)
    if progress.get("outcome") is None and plan.is_expired(now):
        raise refusal(action, f"the plan expired at {plan.expires_at[:19]}Z", replan)
    created, serial = current_serial(hub, plan.space_id)
    if plan.created_at and created and created != plan.created_at:
        raise refusal(action, f"the plan is for another Space of that name (created {plan.created_at[:19]}, "
                              f"this one {created[:19]})", replan)
    expected = Serial(**progress["serial"]) if progress.get("serial") else plan.serial
    changes = serial_changes(expected, serial)
    if changes:
        raise refusal(action, "the plan is stale: the Space changed since planning (" + "; ".join(changes) + ")",
                      replan)
    return serial


def apply_plan(plan: Plan, hub: Any, registry: dict[str, Any], *, audit: AuditLog, ledger: Ledger,
               gate: Gate, confirm: Confirm | None = None, expect_space: str | None = None,
               force: bool = False) -> ApplyResult:
    """Run the plan's steps that `gate` lets through, verify after each fix step, audit everything."""
    fp = plan.fingerprint
    progress = audit.progress(fp)
    if progress.get("outcome") == "fixed":
        return ApplyResult(ExitCode.OK, "fixed", f"Plan {fp[:12]} was already applied and verified; nothing to do.")
    run = RunContext(hub=hub, plan=plan, audit=audit, ledger=ledger, force=force)
    _finish_interrupted(plan, registry, run, progress)
    from remedybot.remedy.proposal import proposed_result, settle_proposals

    pending = settle_proposals(plan, run, audit.progress(fp))  # a proposed fix: open, merged or declined PR
    if pending is not None:
        return pending
    progress = audit.progress(fp)
    try:
        check_plan(plan, hub, expect_space=expect_space, progress=progress)
    except Exception as exc:
        audit.write("refused", fingerprint=fp, space_id=plan.space_id, reason=str(exc))
        raise
    decisions = {s.number: ("done" if s.number in progress["finished"] else gate(s)) for s in plan.steps}
    acting = [s for s in plan.steps if s.risk != "read-only"]
    if acting and not any(decisions[s.number] in ("run", "done", "ask") for s in acting):
        first = acting[0]
        reason = decisions[first.number]
        reason = (reason.partition(":")[2] or "it is not approved") if _is_skip(reason) else reason
        raise refusal(f"apply plan {fp[:12]} to '{plan.space_id}'", f"step {first.number} ({first.playbook}) "
                      f"cannot run: {reason}", f"Run 'remedybot approve PLAN --steps {first.number}' first")
    audit.write("run-start", fingerprint=fp, space_id=plan.space_id, branch=plan.branch)
    failures: list[str] = list(progress["failures"])
    ran_fix = False
    for step in plan.steps:
        decision = decisions[step.number]
        if decision == "ask":
            decision = "run" if confirm is not None and confirm(step) else "declined"
            if decision == "declined":
                audit.write("step-skip", fingerprint=fp, space_id=plan.space_id, step=step.number,
                            playbook=step.playbook, reason="declined at the prompt")
                output.info(f"- step {step.number} ({step.playbook}) skipped: declined")
                continue
        if _is_skip(decision):
            why = decision.partition(":")[2] or "not approved"
            audit.write("step-skip", fingerprint=fp, space_id=plan.space_id, step=step.number,
                        playbook=step.playbook, reason=why)
            output.info(f"- step {step.number} ({step.playbook}) skipped: {why}")
            continue
        if decision not in ("run", "done"):
            audit.write("refused", fingerprint=fp, space_id=plan.space_id, step=step.number, reason=decision)
            raise refusal(f"run step {step.number} ({step.playbook}) on '{plan.space_id}'", decision,
                          "Re-run with --yes for disruptive steps, or approve a saved plan with 'remedybot approve'")
        if decision == "run":
            outcome = _run_step(step, registry, run)
            if outcome.status == "failed":
                audit.write("run-end", fingerprint=fp, space_id=plan.space_id, outcome="failed")
                return ApplyResult(ExitCode.FAILED, "failed",
                                   f"Step {step.number} ({step.playbook}) failed: {outcome.detail}")
            if outcome.status == "proposed":  # nothing changed on the Space until the owner merges
                audit.write("run-end", fingerprint=fp, space_id=plan.space_id, outcome="proposed")
                return proposed_result(plan, step.number, outcome.data)
            target = outcome.verify_space or plan.space_id
        else:
            target = progress["finished"][step.number].get("verify_space") or plan.space_id
            if step.number in _verified_steps(audit, fp):
                continue
        if not step.fixes:
            continue
        ran_fix = True
        check = verify_space(hub, target)
        serial_after = current_serial(hub, plan.space_id)[1] if target == plan.space_id else None
        audit.write("verify", fingerprint=fp, space_id=plan.space_id, step=step.number, target=target,
                    ok=check.ok, stage=check.stage, probe=check.probe, failure=check.failure,
                    serial_after=serial_after.model_dump() if serial_after else None)
        if check.ok:
            output.info(f"✓ '{target}' is {check.describe()}")
            audit.write("run-end", fingerprint=fp, space_id=plan.space_id, outcome="fixed", target=target)
            return ApplyResult(ExitCode.OK, "fixed", f"'{target}' is RUNNING after step {step.number} "
                               f"({step.playbook}).", space_id=target)
        output.info(f"✗ after step {step.number}: {check.describe()}")
        if failures and failures[-1] == check.failure:
            audit.write("run-end", fingerprint=fp, space_id=plan.space_id, outcome="same-failure")
            return ApplyResult(ExitCode.UNVERIFIED, "same-failure",
                               f"'{plan.space_id}' failed the same way twice ({check.failure}); stopping.")
        if check.failure:
            failures.append(check.failure)
    runtime = hub.runtime(plan.space_id)
    healthy = runtime.get("stage") in HEALTHY
    audit.write("run-end", fingerprint=fp, space_id=plan.space_id, outcome="fixed" if healthy else "unverified")
    if healthy:
        return ApplyResult(ExitCode.OK, "fixed", f"'{plan.space_id}' is RUNNING.", space_id=plan.space_id)
    what = "the plan's steps did not bring it back" if ran_fix else "the plan held no fix that could run"
    return ApplyResult(ExitCode.UNVERIFIED, "unverified", f"'{plan.space_id}' is still {runtime.get('stage')}: {what}.")


def _run_step(step: Step, registry: dict[str, Any], run: RunContext) -> Any:
    from remedybot.remedy.playbook import Outcome

    playbook = registry[step.playbook]
    fp, space = run.plan.fingerprint, run.plan.space_id
    reasons = playbook.preflight(step, run) if hasattr(playbook, "preflight") else []
    if reasons:
        run.audit.write("refused", fingerprint=fp, space_id=space, step=step.number, reasons=reasons)
        raise refusal(f"run step {step.number} ({step.playbook}) on '{space}'", "; ".join(reasons),
                      "Wait, or re-run with --force if you accept the risk")
    run.audit.write("step-start", fingerprint=fp, space_id=space, step=step.number, playbook=step.playbook,
                    action=step.action, risk=step.risk, params=step.params)
    output.info(f"→ step {step.number}: {step.playbook} — {step.action}")
    run.calls = []
    if hasattr(playbook, "done") and playbook.done(step, run):
        outcome = Outcome("skipped", "already in effect", verify_space=_verify_target(playbook, step))
    else:
        try:
            outcome = playbook.apply(step, run)
        except Exception as exc:
            from remedybot.core.errors import RemedyError

            if not isinstance(exc, RemedyError):
                raise
            run.audit.write("step-end", fingerprint=fp, space_id=space, step=step.number, status="failed",
                            detail=exc.message, calls=run.calls)
            raise
    output.info(f"  {outcome.status}: {outcome.detail}")
    serial = None
    if outcome.status != "failed" and outcome.verify_space is None:
        serial = current_serial(run.hub, space)[1].model_dump()
    run.audit.write("step-end", fingerprint=fp, space_id=space, step=step.number, status=outcome.status,
                    detail=outcome.detail, data=outcome.data, calls=run.calls, serial_after=serial,
                    verify_space=outcome.verify_space, at=datetime.now(UTC).isoformat())
    return outcome


def _finish_interrupted(plan: Plan, registry: dict[str, Any], run: RunContext, progress: dict[str, Any]) -> None:
    """A step started but never finished (the run was killed): ask its playbook whether it took effect."""
    for number in sorted(progress["started"] - set(progress["finished"])):
        step = next((s for s in plan.steps if s.number == number), None)
        if step is None:
            continue
        playbook = registry[step.playbook]
        if hasattr(playbook, "done") and playbook.done(step, run):
            serial = current_serial(run.hub, plan.space_id)[1].model_dump()
            target = _verify_target(playbook, step)
            serial = None if target else serial
            run.audit.write("step-end", fingerprint=plan.fingerprint, space_id=plan.space_id, step=number,
                            status="done", detail="took effect before the interruption", calls=[],
                            serial_after=serial, resumed=True, verify_space=target)


def _verify_target(playbook: Any, step: Step) -> str | None:
    """The Space a step's result is verified on, when it is not the plan's own (a duplicate)."""
    return playbook.verify_target(step) if hasattr(playbook, "verify_target") else None


def _verified_steps(audit: AuditLog, fingerprint: str) -> set[int]:
    return {r["step"] for r in audit.records(fingerprint) if r.get("event") == "verify"}


def _is_skip(decision: str) -> bool:
    """A gate's "skip" or "skip:<why>" (watch says which policy limit held the step back)."""
    return decision == "skip" or decision.startswith("skip:")
