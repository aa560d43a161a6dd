"""`remedybot lint`: the diagnosis checks on a local checkout, before a push."""

from __future__ import annotations

from pathlib import Path

import typer

from remedybot.cli.app import app
from remedybot.cli.common import JSON_OPT, not_built


@app.command("lint")
def lint_run(
    path: Path = typer.Argument(Path("."), help="A local checkout of a Space."),
    json_out: bool = JSON_OPT,
) -> None:
    """Check a Space checkout for problems that would break its build or start."""
    raise not_built("lint", "issue 5")
