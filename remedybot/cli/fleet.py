"""`remedybot scan` and `watch`: a whole fleet of Spaces."""

from __future__ import annotations

import typer

from remedybot.cli.app import app
from remedybot.cli.common import JSON_OPT, not_built


@app.command("scan")
def fleet_scan(owner: str = typer.Argument(..., metavar="OWNER"), json_out: bool = JSON_OPT) -> None:
    """Diagnose every Space of a user or organisation."""
    raise not_built("scan", "issue 8")


@app.command("watch")
def fleet_watch(
    owner: str = typer.Argument(..., metavar="OWNER"),
    interval: float = typer.Option(300.0, "--interval"),
    once: bool = typer.Option(False, "--once"),
    auto: str = typer.Option("none", "--auto", help="none or safe."),
    notify: str = typer.Option(None, "--notify", help="Webhook URL for notifications."),
) -> None:
    """Keep watching a fleet and apply what the policy allows."""
    raise not_built("watch", "issue 8")
