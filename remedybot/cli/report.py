"""`remedybot report`: render the escalation ticket."""

from __future__ import annotations

from pathlib import Path

import typer

from remedybot.cli.app import app
from remedybot.cli.common import AUDIT_LOG_OPT, not_built


@app.command("report")
def ticket_report(
    space: str = typer.Argument(..., metavar="OWNER/SPACE"),
    fmt: str = typer.Option("markdown", "--format", help="email, forum, github, markdown or json."),
    out: Path = typer.Option(None, "--out", help="Write the ticket to this file."),
    audit_log: Path = AUDIT_LOG_OPT,
) -> None:
    """Render a support ticket for a Space only Hugging Face can fix."""
    raise not_built("report", "issue 7")
