"""Options and helpers shared by several command groups."""

from __future__ import annotations

from pathlib import Path

import typer

from remedybot.core.errors import NotImplementedYetError

JSON_OPT = typer.Option(False, "--json", help="Print machine-readable JSON on stdout.")
AUDIT_LOG_OPT = typer.Option(None, "--audit-log", help="Append audit records to this JSONL file.",
                             dir_okay=False, path_type=Path)


def not_built(command: str, issue: str) -> NotImplementedYetError:
    """The one-line answer of a registered command that is not built yet."""
    return NotImplementedYetError(f"'remedybot {command}' is not built yet (planned: {issue}).")
