"""`remedybot fix`, `approve` and `apply`: plans and their safe application.

Engine modules are imported inside each command, never at module level: `remedybot --help` must not
load them (bench/bench_cli_startup.py keeps it under 0.2x of `hf --help`).
"""

# No `from __future__ import annotations` in a module of commands: Typer reads every command's annotations
# at each start-up, and a string annotation costs it a compile() (most of its time building the commands;
# tests/cli/test_startup.py). Names imported only for type checking are quoted instead.
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from remedybot.cli.common import AUDIT_LOG_OPT, JSON_OPT, zero_or_more
from remedybot.cli.root import app
from remedybot.core import output
from remedybot.core.errors import ExitCode, UsageError
from remedybot.model.space_id import parse_space_id

if TYPE_CHECKING:
    from remedybot.model.plan import Plan, Step
    from remedybot.remedy.audit import AuditLog
    from remedybot.remedy.ledger import Ledger
    from remedybot.remedy.state import ApplyResult

STORAGE = "Storage (a Space over its storage limit)"


def _engine(audit_log: Path | None) -> "tuple[AuditLog, Ledger]":
    from remedybot.remedy.audit import AuditLog, default_audit_path
    from remedybot.remedy.ledger import Ledger, default_ledger_path

    return AuditLog(audit_log or default_audit_path()), Ledger(default_ledger_path())


def _confirm(step: "Step") -> bool:
    if step.risk == "destructive":
        answer = typer.prompt(f"Step {step.number} is DESTRUCTIVE ({step.action}). Type 'yes' to run it",
                              default="no", err=True)
        return answer.strip().lower() == "yes"
    return typer.confirm(f"Run step {step.number}: {step.action}?", default=False, err=True)


def _finish(result: "ApplyResult", plan: "Plan", audit: "AuditLog | None" = None,
            plan_file: Path | None = None) -> None:
    if result.outcome == "proposed":  # issue 5: the owner merges the PR; apply then verifies
        output.info(f"⧗ {result.message}")
        output.hint(f"merge it on the Hub, then run 'remedybot apply {plan_file or 'PLAN.json'}' to verify the Space")
        raise typer.Exit(int(result.exit_code))
    if result.exit_code == ExitCode.OK:
        output.info(f"✓ {result.message}")
    else:
        output.error(result.message) if result.exit_code == ExitCode.FAILED else output.warning(result.message)
        ticket = None
        if result.exit_code in (ExitCode.UNVERIFIED, ExitCode.FAILED) and audit is not None:
            # The Space is still down: leave the person holding the ticket for Hugging Face (issue 7).
            from remedybot.escalate.context import escalate_after_run

            ticket = escalate_after_run(plan.space_id, audit=audit, plan_fingerprint=plan.fingerprint)
        output.hint(f"send the ticket to Hugging Face; 'remedybot report {plan.space_id} --format email' renders it "
                    "as an email" if ticket else f"run 'remedybot report {plan.space_id} --format email' for a "
                    "support ticket with what was tried")
    raise typer.Exit(int(result.exit_code))


@app.command("fix")
def fix_run(
    space: str = typer.Argument(..., metavar="OWNER/SPACE"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan and change nothing."),
    out: Path = typer.Option(None, "--out", help="Save the plan to this file."),
    yes: bool = typer.Option(False, "--yes", help="Run disruptive steps without asking (never destructive ones)."),
    force: bool = typer.Option(False, "--force", help="Ignore cooldowns (e.g. a second factory rebuild within "
                                                      "30 minutes)."),
    to: str = typer.Option(None, "--to", help="Name for a duplicate Space (default OWNER/SPACE-2); for a Space over "
                                              "its storage limit, where large files go: model:, dataset: or "
                                              "bucket:OWNER/NAME (default model:OWNER/SPACE-assets)."),
    max_cost: float = typer.Option(None, "--max-cost-per-hour",
                                   callback=zero_or_more, help="Never switch to hardware costing more "
                                                                     "(USD per hour)."),
    propose: bool = typer.Option(False, "--propose", help="Open Hub pull requests instead of committing."),
    move: list[str] = typer.Option(None, "--move", help="Move the files at HEAD matching this glob (repeatable) "
                                   "instead of every LFS file over --move-over.", rich_help_panel=STORAGE),
    move_over: str = typer.Option(None, "--move-over", help="Move LFS files at HEAD of at least this size "
                                  "(default 1MB).", rich_help_panel=STORAGE),
    slim: str = typer.Option(None, "--slim", help="How history is slimmed: purge (default: delete unreferenced LFS "
                             "objects, keep commits), squash (one commit), rewrite (git filter-repo + force-push + "
                             "purge).", rich_help_panel=STORAGE),
    app_access: str = typer.Option(None, "--app-access", help="How the app finds moved files: preload "
                                   "(preload_from_hub, public model repos), volume (mount at /data) or report "
                                   "(list the code lines to change).", rich_help_panel=STORAGE),
    keep_recent: float = typer.Option(None, "--keep-recent",
                                   callback=zero_or_more, help="Never delete LFS objects pushed in the last "
                                      "MINUTES (default 60).", rich_help_panel=STORAGE),
    storage_limit: str = typer.Option(None, "--storage-limit", help="The Space's storage limit when the Hub's "
                                      "error does not name it (default 1GB).", rich_help_panel=STORAGE),
    json_out: bool = JSON_OPT,
    audit_log: Path = AUDIT_LOG_OPT,
) -> None:
    """Diagnose, plan, ask, apply and verify."""
    from remedybot.hub import Hub
    from remedybot.model.plan import render_plan
    from remedybot.playbooks import REGISTRY
    from remedybot.remedy.gates import fix_gate
    from remedybot.remedy.playbook import PlanOptions
    from remedybot.remedy.workflow import plan_space

    space_id = parse_space_id(space)
    hub = Hub()
    storage = {"move": move, "move_over": move_over, "slim": slim, "app_access": app_access,
               "keep_recent_minutes": keep_recent, "storage_limit": storage_limit}
    options = PlanOptions(to=to, max_cost_per_hour=max_cost, propose=propose, force=force,
                          extra={k: v for k, v in storage.items() if v})
    plan, diagnosis, _evidence = plan_space(hub, space_id, options, REGISTRY)
    if out is not None:
        plan.save(out)
    if json_out:
        output.result_json(plan.model_dump(mode="json"))
    else:
        output.result(f"{space_id}: {diagnosis.branch} ({diagnosis.confidence_label} confidence)")
        output.result(render_plan(plan) if plan.steps else "Nothing to fix: the Space is healthy.")
    if not plan.steps:
        raise typer.Exit(int(ExitCode.OK))
    if dry_run:
        if out is not None:
            output.hint(f"plan saved to {out}; approve it with 'remedybot approve {out}', then "
                        f"'remedybot apply {out}'")
        else:
            output.hint(f"nothing was changed. Save the plan with 'remedybot fix {space_id} --dry-run --out plan.json'")
        raise typer.Exit(int(ExitCode.OK))
    from remedybot.remedy.apply import apply_plan
    from remedybot.remedy.events import to_terminal

    audit, ledger = _engine(audit_log)
    if propose and out is None:  # `apply` of the saved plan follows the pull request later
        from remedybot.remedy.proposal import plan_path

        out = plan_path(plan)
        plan.save(out)
    gate = fix_gate(yes=yes, interactive=sys.stdin.isatty() and sys.stderr.isatty())
    result = apply_plan(plan, hub, REGISTRY, audit=audit, ledger=ledger, gate=gate, confirm=_confirm, force=force,
                        on_event=to_terminal)
    _finish(result, plan, audit, out)


_STEPS = r"^[0-9]+(-[0-9]+)?$"  # compiled by `re` on first use, not at start-up


def parse_steps(text: str) -> list[int]:
    """`--steps`: ASCII step numbers and ranges ("1,3-5"); an empty selection is a usage error, never "all".

    Raises:
        UsageError: empty, a non-ASCII digit, a reversed range, or anything else.
    """
    chosen: set[int] = set()
    for part in text.split(","):
        item = part.strip()
        if not re.match(_STEPS, item):
            raise UsageError(f"--steps expects step numbers and ranges like 1,3-5, not {text!r} "
                             "(to approve every step, leave --steps out).")
        low, _, high = item.partition("-")
        first, last = int(low), int(high or low)
        if first < 1 or last < first:
            raise UsageError(f"--steps: {item!r} is not a range of steps (steps count from 1).")
        chosen.update(range(first, last + 1))
    return sorted(chosen)


@app.command("approve")
def plan_approve(
    plan_file: Path = typer.Argument(..., metavar="PLAN.json"),
    steps: str = typer.Option(None, "--steps", help="Step numbers and ranges, e.g. 1,3-5 (default: all)."),
    by: str = typer.Option(None, "--by", help="Who approves (default: your user name)."),
) -> None:
    """Record approval of a plan's steps inside the plan file."""
    from remedybot.api import approve

    plan = approve(plan_file, steps=None if steps is None else parse_steps(steps), by=by)
    output.result(f"Approved steps {','.join(map(str, plan.approvals[-1].steps))} of plan {plan.fingerprint[:12]} "
                  f"for {plan.space_id}.")
    output.hint(f"apply it with 'remedybot apply {plan_file}'")


@app.command("apply")
def apply_run(
    plan_file: Path = typer.Argument(..., metavar="PLAN.json"),
    space: str = typer.Option(None, "--space", help="Refuse unless the plan is for this Space."),
    force: bool = typer.Option(False, "--force", help="Ignore cooldowns."),
    audit_log: Path = AUDIT_LOG_OPT,
) -> None:
    """Apply the approved steps of a plan that is not stale."""
    from remedybot.api import apply
    from remedybot.model.plan import Plan
    from remedybot.remedy.events import to_terminal

    plan = Plan.load(plan_file)
    result = apply(plan, space=space, force=force, audit_log=audit_log, on_event=to_terminal)
    _finish(result, plan, _engine(audit_log)[0], plan_file)
