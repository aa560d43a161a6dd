"""Options and helpers shared by several command groups."""

from __future__ import annotations

import typer

JSON_OPT = typer.Option(False, "--json", help="Print machine-readable JSON on stdout.")
AUDIT_LOG_OPT = typer.Option(None, "--audit-log", help="Append audit records to this JSONL file.",
                             dir_okay=False)

BUDGET_OPT = typer.Option(None, "--budget", metavar="SHARE",
                          help="Share of the Hub's rate limit (per 5-minute window) remedybot may use, above 0 "
                               "and at most 1; the rest is kept for your other tools [default: 0.5].")


def apply_budget(raw: str | None, default: float | None = None) -> float:
    """Set this run's request budget from --budget (else `default`, else 0.5); exits 2 on a bad value."""
    from remedybot.hub.budget import DEFAULT_SHARE, configure, parse_share

    share = parse_share(raw) if raw is not None else (default if default is not None else DEFAULT_SHARE)
    configure(share)
    return share
