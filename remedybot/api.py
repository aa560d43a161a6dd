"""The Python API: the pipeline's stages as a few functions, for notebooks, scripts and the other front doors.

Each function returns the model the command line prints as JSON (`Diagnosis.to_dict()`, the `Plan`, an
`ApplyResult`, the ticket text, a `FleetScan`), and raises a `RemedyError` (remedybot/core/errors.py) where the
command would print one line and exit with its code. Nothing here prints: `apply` hands its `ApplyEvent`s to the
`on_event` callback it is given. The command line (`remedybot/cli/`) and the MCP server (`remedybot/mcp_server.py`)
call these functions; `remedybot/__init__.py` re-exports them lazily, so `import remedybot` stays light.

    >>> import remedybot
    >>> diagnosis = remedybot.diagnose_space("alice/my-space")
    >>> plan = remedybot.plan("alice/my-space", out="plan.json")
    >>> remedybot.approve("plan.json", steps=[1])
    >>> result = remedybot.apply("plan.json", on_event=print)

A `hub` argument is for tests and long-lived callers that already hold a `remedybot.hub.Hub`; by default one is
made from the usual huggingface_hub settings (HF_ENDPOINT, HF_TOKEN or the token file).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remedybot.core.errors import UsageError, refusal
from remedybot.model.evidence import Evidence
from remedybot.model.plan import Approval, Plan
from remedybot.model.space_id import parse_space_id
from remedybot.remedy.audit import AuditLog, default_audit_path
from remedybot.remedy.events import ApplyEvent, discard
from remedybot.remedy.keys import plan_key
from remedybot.remedy.locks import plan_file_lock

if TYPE_CHECKING:
    from remedybot.fleet.scan import FleetScan, SpaceResult
    from remedybot.hub import Hub
    from remedybot.model.diagnosis import Diagnosis
    from remedybot.remedy.playbook import PlanOptions
    from remedybot.remedy.state import ApplyResult

# The playbooks (GitPython), the ticket templates (Jinja) and the fleet (rich's progress bars) are imported inside
# the functions that use them, for start-up speed: `remedybot diagnose` calls this module and needs none of them.

__all__ = ["apply", "approve", "collect", "diagnose_space", "plan", "scan", "ticket"]

PathLike = str | Path


def _hub(hub: Hub | None) -> Hub:
    from remedybot.hub import Hub  # huggingface_hub: `approve` and offline diagnoses never load it

    return hub if hub is not None else Hub()


def collect(space: str, *, hub: Hub | None = None, seen_by: str = "remedybot diagnose") -> Evidence:
    """Collect a Space's evidence (runtime, logs, status page, config files, storage); read-only on the Hub.

    A Space seen RUNNING is recorded in remedybot's own records (`$REMEDYBOT_HOME/seen.jsonl`, as `seen_by`): the
    last known good revision a later failure is compared with.

    Raises:
        UsageError: `space` is not `owner/name`.
        NotFoundError / AuthError / HubUnavailableError: the Space cannot be read; check the id or the token.
    """
    from remedybot.diagnose.collect import collect_evidence
    from remedybot.remedy.lastseen import record_running, seen_records

    space_id = parse_space_id(space)
    evidence = collect_evidence(_hub(hub), space_id, seen=seen_records(space_id))
    sha = (evidence.info or {}).get("sha")
    if evidence.stage == "RUNNING" and sha:  # remedybot's own record of the last known good (issue 16)
        record_running([(space_id, str(sha))], seen_by)
    return evidence


def diagnose_space(space: str | None = None, *, evidence: PathLike | Evidence | None = None,
                   hub: Hub | None = None) -> Diagnosis:
    """Diagnose a Space on the Hub, or offline from an evidence file (`diagnose --save-evidence`).

    Returns the `Diagnosis`; `.to_dict()` is what `remedybot diagnose --json` prints.

    Raises:
        UsageError: neither or both of `space` and `evidence`, a malformed id, an unreadable evidence file.
    """
    if (space is None) == (evidence is None):
        raise UsageError("Give either a Space id or an evidence file, not both or neither.")
    from remedybot.diagnose.classify import classify  # the catalog: `approve` and `apply` never load it

    if evidence is not None:
        return classify(evidence if isinstance(evidence, Evidence) else Evidence.load(evidence))
    assert space is not None
    return classify(collect(space, hub=hub))


def plan(space: str, *, out: PathLike | None = None, options: PlanOptions | None = None,
         hub: Hub | None = None) -> Plan:
    """Diagnose a Space and plan its fixes (a dry run: nothing is changed); save it to `out` when given.

    The plan is sealed with this installation's key ($REMEDYBOT_HOME/plan.key), so approve and apply it here.
    `options` are `fix`'s options (`PlanOptions(to=..., max_cost_per_hour=..., propose=..., extra={...})`).
    """
    from remedybot.playbooks import REGISTRY
    from remedybot.remedy.playbook import PlanOptions
    from remedybot.remedy.workflow import plan_space

    made, _diagnosis, _evidence = plan_space(_hub(hub), parse_space_id(space), options or PlanOptions(),
                                             REGISTRY)
    if out is not None:
        made.save(Path(out))
    return made


def approve(plan_file: PathLike, *, steps: Iterable[int] | None = None, by: str | None = None) -> Plan:
    """Record a person's approval of some (`steps`) or all steps inside the plan file; returns the saved plan.

    Concurrent approvals all land (read, add and write under one lock beside the file).

    Raises:
        RefusedError: the plan file was modified after it was made (or made by another installation).
        UsageError: a step number the plan does not have; an empty `steps`.
    """
    path = Path(plan_file)
    with plan_file_lock(path):
        loaded = Plan.load(path)
        if not loaded.is_sealed_with(plan_key()):
            raise refusal(f"approve '{path}'", "the plan file was modified after it was made (tampered)",
                          f"Make a new plan with 'remedybot fix {loaded.space_id} --dry-run --out {path}'")
        numbers = {s.number for s in loaded.steps}
        chosen = sorted(numbers) if steps is None else sorted(set(steps))
        if not chosen:
            raise UsageError(f"No steps to approve in plan {loaded.fingerprint[:12]} (to approve every step, "
                             "leave the steps out).")
        unknown = [n for n in chosen if n not in numbers]
        if unknown:
            raise UsageError(f"Plan {loaded.fingerprint[:12]} has no step {unknown[0]} "
                             f"(it has steps 1-{len(numbers)}).")
        loaded.approvals.append(Approval(by=by or getpass.getuser(), at=datetime.now(UTC).isoformat(),
                                         steps=chosen, fingerprint=loaded.fingerprint))
        loaded.save(path)
    return loaded


def apply(plan_file: PathLike | Plan, *, on_event: Callable[[ApplyEvent], None] = discard,
          space: str | None = None, force: bool = False, audit_log: PathLike | None = None,
          hub: Hub | None = None) -> ApplyResult:
    """Apply the approved steps of a plan that is not stale, verify the Space, audit everything.

    Each `ApplyEvent` (step started, ended, verified, notes, warnings) goes to `on_event` as it happens. The
    `ApplyResult` holds the outcome and the exit code `remedybot apply` would exit with; a run whose steps ran
    but left the Space failing (unverified, failed, declined) is a result, not an exception.

    Raises:
        RefusedError: stale, tampered, expired, another Space than `space`, nothing approved, another apply
            holding the Space, a cooldown.
        PlanFileError: the plan file is missing or malformed.
    """
    from remedybot.playbooks import REGISTRY
    from remedybot.remedy.apply import apply_plan
    from remedybot.remedy.gates import approved_gate
    from remedybot.remedy.ledger import Ledger, default_ledger_path

    loaded = plan_file if isinstance(plan_file, Plan) else Plan.load(Path(plan_file))
    audit = AuditLog(Path(audit_log) if audit_log is not None else default_audit_path())
    return apply_plan(loaded, _hub(hub), REGISTRY, audit=audit, ledger=Ledger(default_ledger_path()),
                      gate=approved_gate(loaded), expect_space=parse_space_id(space) if space else None,
                      force=force, on_event=on_event)


def ticket_context(space: str, *, audit_log: PathLike | None = None, templates: PathLike | None = None,
                   push_error: str | None = None, restart_error: str | None = None,
                   hub: Hub | None = None) -> dict[str, Any]:
    """Collect what a support ticket says (the variables of a ticket template; `report --format json`); read-only.

    `push_error` / `restart_error` are what the person saw and pasted; `templates` a folder of your own ticket
    templates and escalation.yaml.

    Raises:
        UsageError: a templates folder that does not exist (checked before any Hub call), a malformed id.
    """
    from remedybot.escalate.context import collect_context

    user_dir = Path(templates) if templates is not None else None
    if user_dir is not None and not user_dir.is_dir():
        raise UsageError(f"Templates directory '{user_dir}' does not exist. Point --templates at a folder "
                         "holding your ticket_*.j2 files.")
    audit = AuditLog(Path(audit_log) if audit_log is not None else default_audit_path())
    return collect_context(_hub(hub), parse_space_id(space), audit=audit, user_dir=user_dir,
                           restart_error=restart_error, push_error=push_error)


def ticket(space: str, *, format: str = "markdown", audit_log: PathLike | None = None,
           templates: PathLike | None = None, push_error: str | None = None, restart_error: str | None = None,
           hub: Hub | None = None) -> str:
    """Render the support ticket for a Space (what was tried included, from the audit log); read-only.

    `format` is one of email, forum, github, markdown, json; the other arguments are `ticket_context`'s.

    Raises:
        UsageError: an unknown format or templates folder (checked before any Hub call).
    """
    from remedybot.escalate.tickets import EXTENSIONS, render_ticket

    if format not in EXTENSIONS:
        raise UsageError(f"Unknown --format '{format}'. Use one of: {', '.join(EXTENSIONS)}.")
    context = ticket_context(space, audit_log=audit_log, templates=templates, push_error=push_error,
                             restart_error=restart_error, hub=hub)
    return render_ticket(context, format, Path(templates) if templates is not None else None)


def scan(owner: str, *, concurrency: int = 8, deep: bool = False, hub: Hub | None = None,
         on_total: Callable[[int], None] | None = None,
         on_result: Callable[[SpaceResult], None] | None = None) -> FleetScan:
    """Diagnose every Space of a user or organisation, most urgent first, platform incidents correlated.

    `[r.to_dict() for r in scan.results]` is what `remedybot scan --json` prints. `on_total` is told the number of
    Spaces once they are listed, `on_result` each Space's result as it finishes (a progress bar).

    Raises:
        NotFoundError: no user or organisation has that name.
    """
    from remedybot.fleet.scan import running_sightings, scan_fleet
    from remedybot.remedy.lastseen import record_running

    found = scan_fleet(_hub(hub), owner, concurrency=concurrency, deep=deep, on_total=on_total, on_result=on_result)
    record_running(running_sightings(found), "remedybot scan")
    return found
