"""Apply a plan: safety checks, then each step with audit records, then verification.

All the refusals live in `check_plan` (one place, each a condition and a
reason inside the one refusal frame). The run is resumable: the audit log
says which steps finished and what the Space looked like after them, so a
re-run skips finished steps and compares the Space with the last state we
left it in (our own commits do not make our own plan stale).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from remedybot.core.errors import ExitCode, PlanFileError, RemedyError, refusal
from remedybot.model.enums import Risk, is_healthy
from remedybot.model.plan import Plan, Serial, Step
from remedybot.remedy.audit import AuditLog
from remedybot.remedy.events import ApplyEvent, EventKind, EventSink, discard
from remedybot.remedy.gates import Decision, Gate, Verdict
from remedybot.remedy.keys import plan_key
from remedybot.remedy.lastseen import record_running
from remedybot.remedy.ledger import Ledger
from remedybot.remedy.locks import space_lock
from remedybot.remedy.playbook import Outcome, Playbook, Registry, RunContext
from remedybot.remedy.proposal import proposed_result, settle_proposals
from remedybot.remedy.state import ApplyResult, current_serial
from remedybot.remedy.verify import check_settings, verify_space

if TYPE_CHECKING:
    from remedybot.hub import Hub

Confirm = Callable[[Step], bool]


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


def check_plan(plan: Plan, hub: Hub, *, expect_space: str | None, progress: dict[str, Any],
               now: datetime | None = None) -> Serial:
    """Every reason to refuse a plan before touching the Space; returns the Space's serial now.

    Raises:
        RefusedError: tampered, for another Space, expired, or stale. Re-plan with `fix --dry-run`.
    """
    replan = f"Run 'remedybot fix {plan.space_id} --dry-run --out PLAN' to make a new plan"
    action = f"apply plan {plan.fingerprint[:12]} to '{plan.space_id}'"
    if not plan.is_sealed_with(plan_key()):
        raise refusal(action, "the plan file was modified after it was made, or made by another installation "
                              "(fingerprint mismatch: tampered)", replan)
    if expect_space is not None and expect_space != plan.space_id:
        raise refusal(f"apply plan {plan.fingerprint[:12]} to '{expect_space}'",
                      f"the plan is for another Space ('{plan.space_id}')", replan)
    if plan.is_expired(now):  # also after a first run: an expired plan never runs another step
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


def apply_plan(plan: Plan, hub: Hub, registry: Registry, *, audit: AuditLog, ledger: Ledger,
               gate: Gate, confirm: Confirm | None = None, expect_space: str | None = None,
               force: bool = False, on_event: EventSink = discard) -> ApplyResult:
    """Run the plan's steps that `gate` lets through, verify after each fix step, audit everything.

    One apply per Space at a time (remedybot/remedy/locks.py): a second one is refused, naming the first.

    Raises:
        UsageError: a REMEDYBOT_VERIFY_* setting is not a positive number; checked before any step runs.
    """
    check_settings()
    with space_lock(plan.space_id, fingerprint=plan.fingerprint):
        return _apply_locked(plan, hub, registry, audit=audit, ledger=ledger, gate=gate, confirm=confirm,
                             expect_space=expect_space, force=force, on_event=on_event)


def _apply_locked(plan: Plan, hub: Hub, registry: Registry, *, audit: AuditLog, ledger: Ledger, gate: Gate,
                  confirm: Confirm | None, expect_space: str | None, force: bool, on_event: EventSink) -> ApplyResult:
    fp = plan.fingerprint
    if audit.progress(fp).get("outcome") == "fixed":
        return ApplyResult(ExitCode.OK, "fixed", f"Plan {fp[:12]} was already applied and verified; nothing to do.")
    run = RunContext(hub=hub, plan=plan, audit=audit, ledger=ledger, force=force, emit=on_event)
    _finish_interrupted(plan, registry, run, audit.progress(fp))
    pending = settle_proposals(plan, run, audit.progress(fp))  # a proposed fix: open, merged or declined PR
    if pending is not None:
        return pending
    progress = audit.progress(fp)
    _check_or_audit(plan, hub, audit, expect_space, progress)
    trust_steps(plan, registry)
    decisions = {s.number: gate(s) for s in plan.steps if s.number not in progress["finished"]}
    _refuse_if_nothing_acts(plan, decisions)
    audit.write("run-start", fingerprint=fp, space_id=plan.space_id, branch=plan.branch)
    walk = _Walk(plan, registry, run, progress, confirm)
    for step in plan.steps:
        result = walk.step(step, decisions.get(step.number))
        if result is not None:
            return result
    if walk.declined and not walk.ran_fix:  # a person said no before any fix ran: a refusal, not a failed fix
        audit.write("run-end", fingerprint=fp, space_id=plan.space_id, outcome="declined")
        return ApplyResult(ExitCode.REFUSED, "declined", f"Declined at the prompt: {', '.join(sorted(walk.declined))}"
                           f"; no fix ran on '{plan.space_id}'.")
    return _final(plan, hub, audit, walk.ran_fix)


def trust_steps(plan: Plan, registry: Registry) -> None:
    """Refuse a step whose playbook does not accept it as the file states it: the risk that approval rules
    rest on comes from the playbook (re-derived from the params), never from the plan file.

    Raises:
        PlanFileError: a step names a playbook this installation does not have (exit 2).
        RefusedError: a step's params are not its playbook's, or its stated risk is not the playbook's.
    """
    action = f"apply plan {plan.fingerprint[:12]} to '{plan.space_id}'"
    replan = f"Run 'remedybot fix {plan.space_id} --dry-run --out PLAN' to make a new plan"
    for step in plan.steps:
        playbook = registry.get(step.playbook)
        if playbook is None:
            raise PlanFileError(f"Step {step.number} of the plan names an unknown playbook {step.playbook!r} "
                                f"(known: {', '.join(sorted(registry))}).")
        try:
            playbook.params.model_validate(step.params)
            trusted = playbook.risk(step)
        except (ValidationError, KeyError) as exc:
            raise refusal(action, f"step {step.number} ({step.playbook}) has params its playbook does not accept "
                                  f"({_first_error(exc)})", replan) from None
        if trusted != step.risk:
            raise refusal(action, f"step {step.number} ({step.playbook}) is marked {step.risk} in the plan file, "
                                  f"but its playbook rates it {trusted}", replan)


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first.get('loc', ())) or 'params'}: {first.get('msg')}"
    return f"missing {exc}"


def _check_or_audit(plan: Plan, hub: Hub, audit: AuditLog, expect_space: str | None,
                    progress: dict[str, Any]) -> None:
    """`check_plan`, with a refusal written to the audit log before it is raised."""
    try:
        check_plan(plan, hub, expect_space=expect_space, progress=progress)
    except Exception as exc:
        audit.write("refused", fingerprint=plan.fingerprint, space_id=plan.space_id, reason=str(exc))
        raise


def _refuse_if_nothing_acts(plan: Plan, decisions: dict[int, Decision]) -> None:
    """Refuse a run in which no step that changes anything may run (and none already ran)."""
    acting = [s for s in plan.steps if s.risk != Risk.READ_ONLY]
    if not acting or any(s.number not in decisions or decisions[s.number].verdict in (Verdict.RUN, Verdict.ASK)
                         for s in acting):
        return
    first = acting[0]
    decision = decisions[first.number]
    reason = decision.reason or "it is not approved"
    if decision.verdict is Verdict.SKIP and reason == "not approved":
        reason = "it is not approved"
    # A refusal's reason already says what to do (fix's gate: --yes, or save a plan); an unapproved step of a
    # saved plan needs its approval.
    remedy = "Nothing was changed" if decision.verdict is Verdict.REFUSE else \
        f"Run 'remedybot approve PLAN --steps {first.number}' first"
    raise refusal(f"apply plan {plan.fingerprint[:12]} to '{plan.space_id}'", f"step {first.number} "
                  f"({first.playbook}) cannot run: {reason}", remedy)


class _Walk:
    """One pass over a plan's steps: run or skip each, verify after each fix, stop on success or a repeat."""

    def __init__(self, plan: Plan, registry: Registry, run: RunContext, progress: dict[str, Any],
                 confirm: Confirm | None) -> None:
        self.plan, self.registry, self.run, self.progress, self.confirm = plan, registry, run, progress, confirm
        self.failures: list[str] = list(progress["failures"])
        self.verified = _verified_steps(run.audit, plan.fingerprint)
        self.ran_fix = False
        self.declined: set[str] = set()  # playbooks a person said no to in this run

    def step(self, step: Step, decision: Decision | None) -> ApplyResult | None:
        """Handle one step; an ApplyResult when the run ends here."""
        if decision is None:  # finished in an earlier run
            if step.number in self.verified:
                return None
            target = self.progress["finished"][step.number].get("verify_space") or self.plan.space_id
            return self._verify(step, target)
        if step.playbook in self.declined:  # its later steps build on the declined one (storage, file fixes)
            decision = Decision(Verdict.SKIP, f"an earlier {step.playbook} step was declined")
        decision = self._ask(step, decision)
        if decision.reason == "declined at the prompt":
            self.declined.add(step.playbook)
        if decision.verdict is Verdict.SKIP:
            self._skip(step, decision.reason or "not approved")
            return None
        if decision.verdict is Verdict.REFUSE:
            self.run.audit.write("refused", fingerprint=self.plan.fingerprint, space_id=self.plan.space_id,
                                 step=step.number, reason=decision.reason)
            raise refusal(f"run step {step.number} ({step.playbook}) on '{self.plan.space_id}'", decision.reason,
                          "Approve a saved plan with 'remedybot approve' and run 'remedybot apply'")
        outcome = _run_step(step, self.registry, self.run)
        if outcome.status == "failed":
            self._end("failed")
            return ApplyResult(ExitCode.FAILED, "failed", f"Step {step.number} ({step.playbook}) failed: "
                               f"{outcome.detail}")
        if outcome.status == "proposed":  # nothing changed on the Space until the owner merges
            self._end("proposed")
            return proposed_result(self.plan, step.number, outcome.data)
        return self._verify(step, outcome.verify_space or self.plan.space_id)

    def _ask(self, step: Step, decision: Decision) -> Decision:
        if decision.verdict is not Verdict.ASK:
            return decision
        if self.confirm is not None and self.confirm(step):
            return Decision(Verdict.RUN)
        return Decision(Verdict.SKIP, "declined at the prompt")

    def _skip(self, step: Step, why: str) -> None:
        self.run.audit.write("step-skip", fingerprint=self.plan.fingerprint, space_id=self.plan.space_id,
                             step=step.number, playbook=step.playbook, reason=why)
        shown = "declined" if why == "declined at the prompt" else why
        self.run.emit(ApplyEvent(EventKind.STEP_SKIPPED, f"- step {step.number} ({step.playbook}) skipped: {shown}",
                                 step=step.number, data={"reason": why}))

    def _end(self, outcome: str) -> None:
        self.run.audit.write("run-end", fingerprint=self.plan.fingerprint, space_id=self.plan.space_id,
                             outcome=outcome)

    def _verify(self, step: Step, target: str) -> ApplyResult | None:
        """Verify after a fix step: RUNNING ends the run; the same failure twice stops it."""
        if not step.fixes:
            return None
        self.ran_fix = True
        plan, run = self.plan, self.run
        check = verify_space(run.hub, target)
        serial_after = current_serial(run.hub, plan.space_id)[1] if target == plan.space_id else None
        run.audit.write("verify", fingerprint=plan.fingerprint, space_id=plan.space_id, step=step.number,
                        target=target, ok=check.ok, stage=check.stage, probe=check.probe, failure=check.failure,
                        serial_after=serial_after.model_dump() if serial_after else None)
        if check.ok:
            run.emit(ApplyEvent(EventKind.VERIFIED, f"✓ '{target}' is {check.describe()}", step=step.number,
                                data={"target": target}))
            run.audit.write("run-end", fingerprint=plan.fingerprint, space_id=plan.space_id, outcome="fixed",
                            target=target)
            if serial_after is not None and serial_after.sha:
                record_running([(target, serial_after.sha)], "remedybot apply")
            return ApplyResult(ExitCode.OK, "fixed", f"'{target}' is RUNNING after step {step.number} "
                               f"({step.playbook}).", space_id=target)
        run.emit(ApplyEvent(EventKind.NOT_VERIFIED, f"✗ after step {step.number}: {check.describe()}",
                            step=step.number, data={"failure": check.failure}))
        if self.failures and self.failures[-1] == check.failure:
            self._end("same-failure")
            return ApplyResult(ExitCode.UNVERIFIED, "same-failure",
                               f"'{plan.space_id}' failed the same way twice ({check.failure}); stopping.")
        if check.failure:
            self.failures.append(check.failure)
        return None


def _final(plan: Plan, hub: Hub, audit: AuditLog, ran_fix: bool) -> ApplyResult:
    """Every step is behind us: the run ends fixed if the Space is healthy now, else unverified."""
    runtime = hub.runtime(plan.space_id)
    healthy = is_healthy(runtime.get("stage"))
    audit.write("run-end", fingerprint=plan.fingerprint, space_id=plan.space_id,
                outcome="fixed" if healthy else "unverified")
    if healthy:
        return ApplyResult(ExitCode.OK, "fixed", f"'{plan.space_id}' is RUNNING.", space_id=plan.space_id)
    what = "the plan's steps did not bring it back" if ran_fix else "the plan held no fix that could run"
    return ApplyResult(ExitCode.UNVERIFIED, "unverified", f"'{plan.space_id}' is still {runtime.get('stage')}: {what}.")


def _run_step(step: Step, registry: Registry, run: RunContext) -> Outcome:
    playbook = registry[step.playbook]
    fp, space = run.plan.fingerprint, run.plan.space_id
    reasons = playbook.preflight(step, run)
    if reasons:
        run.audit.write("refused", fingerprint=fp, space_id=space, step=step.number, reasons=reasons)
        raise refusal(f"run step {step.number} ({step.playbook}) on '{space}'", "; ".join(reasons),
                      "Wait, or re-run with --force if you accept the risk")
    run.audit.write("step-start", fingerprint=fp, space_id=space, step=step.number, playbook=step.playbook,
                    action=step.action, risk=step.risk, params=step.params)
    run.emit(ApplyEvent(EventKind.STEP_STARTED, f"→ step {step.number}: {step.playbook} — {step.action}",
                        step=step.number))
    run.calls = []
    outcome = _outcome(step, playbook, run)
    run.emit(ApplyEvent(EventKind.STEP_ENDED, f"  {outcome.status}: {outcome.detail}", step=step.number,
                        data={"status": outcome.status}))
    serial = None
    if outcome.status != "failed" and outcome.verify_space is None:
        serial = current_serial(run.hub, space)[1].model_dump()
    run.audit.write("step-end", fingerprint=fp, space_id=space, step=step.number, status=outcome.status,
                    detail=outcome.detail, data=outcome.data, calls=run.calls, serial_after=serial,
                    verify_space=outcome.verify_space, at=datetime.now(UTC).isoformat())
    return outcome


def _outcome(step: Step, playbook: Playbook, run: RunContext) -> Outcome:
    """Apply the step unless it already took effect; a RemedyError is audited as the step's failure."""
    if playbook.done(step, run):
        return Outcome("skipped", "already in effect", verify_space=playbook.verify_target(step))
    try:
        return playbook.apply(step, run)
    except RemedyError as exc:
        recovered = _took_effect_anyway(step, playbook, run, exc)
        if recovered is not None:
            return recovered
        run.audit.write("step-end", fingerprint=run.plan.fingerprint, space_id=run.plan.space_id, step=step.number,
                        status="failed", detail=exc.message, calls=run.calls)
        raise


def _took_effect_anyway(step: Step, playbook: Playbook, run: RunContext, exc: RemedyError) -> Outcome | None:
    """A step that failed may have acted anyway (the Hub's answer was lost): ask the Hub before calling it failed.

    `done` was false before the step ran, so true now means this attempt took effect.
    """
    try:
        took_effect = playbook.done(step, run)
    except RemedyError:
        return None  # cannot tell: the step stays failed, and a re-run asks again before acting
    if not took_effect:
        return None
    run.ledger.record(run.plan.space_id, step.playbook, fingerprint=run.plan.fingerprint, step=step.number)
    run.note(f"step {step.number} reported '{exc.message}', but the Space shows it took effect", step=step.number)
    return Outcome("done", "took effect (the Hub's answer was lost)", verify_space=playbook.verify_target(step))


def _finish_interrupted(plan: Plan, registry: Registry, run: RunContext, progress: dict[str, Any]) -> None:
    """A step started but never finished (the run was killed): ask its playbook whether it took effect."""
    for number in sorted(progress["started"] - set(progress["finished"])):
        step = next((s for s in plan.steps if s.number == number), None)
        if step is None:
            continue
        playbook = registry[step.playbook]
        if playbook.done(step, run):
            target = playbook.verify_target(step)
            serial = None if target else current_serial(run.hub, plan.space_id)[1].model_dump()
            run.audit.write("step-end", fingerprint=plan.fingerprint, space_id=plan.space_id, step=number,
                            status="done", detail="took effect before the interruption", calls=[],
                            serial_after=serial, resumed=True, verify_space=target)


def _verified_steps(audit: AuditLog, fingerprint: str) -> set[int]:
    return {r["step"] for r in audit.records(fingerprint) if r.get("event") == "verify"}
