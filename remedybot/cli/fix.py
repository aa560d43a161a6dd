"""`remedybot fix`, `approve` and `apply`: plans and their safe application."""

from __future__ import annotations

from pathlib import Path

import typer

from remedybot.cli.app import app
from remedybot.cli.common import AUDIT_LOG_OPT, not_built


@app.command("fix")
def fix_run(
    space: str = typer.Argument(..., metavar="OWNER/SPACE"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan and change nothing."),
    out: Path = typer.Option(None, "--out", help="Save the plan to this file."),
    yes: bool = typer.Option(False, "--yes", help="Approve disruptive steps (never destructive ones)."),
    audit_log: Path = AUDIT_LOG_OPT,
) -> None:
    """Diagnose, plan, ask, apply and verify."""
    raise not_built("fix", "issue 4")


@app.command("approve")
def plan_approve(
    plan: Path = typer.Argument(..., metavar="PLAN.json"),
    steps: str = typer.Option(None, "--steps", help="Comma-separated step numbers (default: all)."),
    by: str = typer.Option(None, "--by", help="Who approves (default: your user name)."),
) -> None:
    """Record approval of a plan's steps inside the plan file."""
    raise not_built("approve", "issue 4")


@app.command("apply")
def apply_run(
    plan: Path = typer.Argument(..., metavar="PLAN.json"),
    audit_log: Path = AUDIT_LOG_OPT,
) -> None:
    """Apply the approved steps of a plan that is not stale."""
    raise not_built("apply", "issue 4")
