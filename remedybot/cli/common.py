"""Options and helpers shared by several command groups."""

# No `from __future__ import annotations`: Typer reads the option callbacks' annotations at every start-up
# (see diagnose.py).
import math
from collections.abc import Callable

import typer

JSON_OPT = typer.Option(False, "--json", help="Print machine-readable JSON on stdout.")
AUDIT_LOG_OPT = typer.Option(None, "--audit-log", help="Append audit records to this JSONL file.",
                             dir_okay=False)



def _number_check(problem: str, ok: Callable[[float], bool]) -> Callable[[float | None], float | None]:
    def check(value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and ok(value)):
            raise typer.BadParameter(f"{value:g} is not {problem}.")
        return value

    return check


# Callbacks for numeric options: click's own ranges let nan and inf through (every comparison with nan is false).
positive = _number_check("a positive number", lambda v: v > 0)
zero_or_more = _number_check("a number of 0 or more", lambda v: v >= 0)
MAX_CONCURRENCY = 64  # Spaces diagnosed at once; each already runs a few requests in parallel
concurrency_range = _number_check(f"between 1 and {MAX_CONCURRENCY}", lambda v: 1 <= v <= MAX_CONCURRENCY)
BUDGET_OPT = typer.Option(None, "--budget", metavar="SHARE",
                          help="Share of the Hub's rate limit (per 5-minute window) remedybot may use, above 0 "
                               "and at most 1; the rest is kept for your other tools [default: 0.5].")


def apply_budget(raw: str | None, default: float | None = None) -> float:
    """Set this run's request budget from --budget (else `default`, else 0.5); exits 2 on a bad value."""
    from remedybot.hub.budget import DEFAULT_SHARE, configure, parse_share

    share = parse_share(raw) if raw is not None else (default if default is not None else DEFAULT_SHARE)
    configure(share)
    return share
