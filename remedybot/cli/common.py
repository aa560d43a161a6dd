"""Options and helpers shared by several command groups."""

from __future__ import annotations

import typer

JSON_OPT = typer.Option(False, "--json", help="Print machine-readable JSON on stdout.")
AUDIT_LOG_OPT = typer.Option(None, "--audit-log", help="Append audit records to this JSONL file.",
                             dir_okay=False)

