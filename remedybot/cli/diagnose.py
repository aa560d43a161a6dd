"""`remedybot diagnose`: collect evidence, classify, print the diagnosis."""

from __future__ import annotations

from pathlib import Path

import typer

from remedybot.cli.app import app
from remedybot.cli.common import JSON_OPT, not_built


@app.command("diagnose")
def diagnose_run(
    space: str = typer.Argument(None, metavar="OWNER/SPACE", help="The Space to diagnose."),
    json_out: bool = JSON_OPT,
    save_evidence: Path = typer.Option(None, "--save-evidence", help="Write the collected evidence here."),
    evidence: Path = typer.Option(None, "--evidence", help="Diagnose offline from a saved evidence file."),
) -> None:
    """Collect a Space's evidence, classify the failure and show the lines that prove it."""
    raise not_built("diagnose", "issue 3")
