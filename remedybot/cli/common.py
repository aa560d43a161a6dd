"""Options and helpers shared by several command groups."""

from __future__ import annotations

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
