"""Follow a fix that was proposed as a Hub pull request, from `apply` (and `fix --propose`).

A step applied with `--propose` ends with status "proposed" and the PR's
number and URL in its audit record; the run stops there (exit 8, PROPOSED),
since nothing changed on the Space yet. Each later `remedybot apply` of the
same plan first asks the Hub about that PR:

    open or draft   report its URL again and stop (exit 8)
    merged          record the step as done and verify the Space at once (its rebuild must not read
                    as "changed since planning"); RUNNING ends the run (exit 0), a failed check goes on
                    to the plan's next steps like any failed verification; a push on top of the merge
                    commit makes the plan stale (exit 3)
    closed          the owner declined the fix: refuse (RefusedError, exit 3); a new plan is needed

This module must not change the Space; it only reads the PR and the Space's state.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from remedybot.core.errors import ExitCode, refusal
from remedybot.remedy.audit import state_home
from remedybot.remedy.events import ApplyEvent, EventKind
from remedybot.remedy.state import ApplyResult, current_serial
from remedybot.remedy.verify import verify_space

if TYPE_CHECKING:
    from remedybot.model.plan import Plan
    from remedybot.remedy.playbook import RunContext


def plan_path(plan: Plan) -> Path:
    """Where `fix --propose` keeps a plan it was not told to save, so `apply` can follow its PR."""
    return state_home() / "plans" / f"{plan.fingerprint[:12]}.json"


def proposed_result(plan: Plan, step_number: int, data: dict[str, Any], *, again: bool = False) -> Any:
    """The ApplyResult of a run that stops at an open pull request."""
    num, url = data.get("pr_num"), data.get("pr_url")
    state = "is still open" if again else "is open"
    return ApplyResult(ExitCode.PROPOSED, "proposed",
                       f"Pull request #{num} for '{plan.space_id}' (step {step_number}) {state}: {url}. "
                       "Merging it applies the fix; nothing was changed on the Space until then.")


def settle_proposals(plan: Plan, run: RunContext, progress: dict[str, Any]) -> Any:
    """Bring the audit log up to date with each proposed step's PR; an ApplyResult when the run must stop."""
    space, fp, hub = plan.space_id, plan.fingerprint, run.hub
    for number, record in sorted(progress["finished"].items()):
        if record.get("status") != "proposed":
            continue
        data = record.get("data") or {}
        num = int(data["pr_num"])
        details = run.call(f"GET /api/spaces/{space}/discussions/{num}", hub.pull_request, space, num)
        if details.status in ("open", "draft"):
            run.audit.write("proposal-open", fingerprint=fp, space_id=space, step=number, **data)
            return proposed_result(plan, number, data, again=True)
        if details.status != "merged":
            run.audit.write("proposal-closed", fingerprint=fp, space_id=space, step=number, **data)
            raise refusal(f"go on with plan {fp[:12]} for '{space}'",
                          f"pull request #{num} was closed without merging, so its fix was declined",
                          f"Make a new plan with 'remedybot fix {space} --dry-run' if you want another one")
        merged = details.merge_commit_oid
        serial = current_serial(hub, space)[1]
        detail = f"pull request #{num} merged as {str(merged)[:7]}"
        if merged and serial.sha != merged:  # pushed after our merge: expect the merge, so check_plan says stale
            run.audit.write("step-end", fingerprint=fp, space_id=space, step=number, status="done", detail=detail,
                            data=data, calls=run.calls, serial_after=serial.model_copy(update={"sha": merged})
                            .model_dump(), verify_space=None)
            return None
        run.emit(ApplyEvent(EventKind.NOTE, f"✓ {detail}; verifying '{space}'",
                            step=number))
        run.audit.write("step-end", fingerprint=fp, space_id=space, step=number, status="done", detail=detail,
                        data=data, calls=run.calls, serial_after=serial.model_dump(), verify_space=None)
        result = _verify_merged(plan, run, number)
        if result is not None:
            return result
    return None


def _verify_merged(plan: Plan, run: RunContext, number: int) -> Any:
    """Verify right after settling a merge, before the plan's checks: the Space rebuilding by itself must
    not read as "the Space changed since planning". RUNNING ends the run; a failure is recorded like any
    failed verification, and the plan's next steps follow."""
    space, fp = plan.space_id, plan.fingerprint
    check = verify_space(run.hub, space)
    serial = current_serial(run.hub, space)[1]
    run.audit.write("verify", fingerprint=fp, space_id=space, step=number, target=space, ok=check.ok,
                    stage=check.stage, probe=check.probe, failure=check.failure, serial_after=serial.model_dump())
    playbook = next((s.playbook for s in plan.steps if s.number == number), "?")
    if not check.ok:
        run.emit(ApplyEvent(EventKind.NOT_VERIFIED, f"✗ after step {number}: {check.describe()}", step=number))
        return None
    run.emit(ApplyEvent(EventKind.VERIFIED, f"✓ '{space}' is {check.describe()}", step=number))
    run.audit.write("run-end", fingerprint=fp, space_id=space, outcome="fixed", target=space)
    return ApplyResult(ExitCode.OK, "fixed", f"'{space}' is RUNNING after step {number} ({playbook}).", space_id=space)
