"""Where text goes: results to stdout, Error/Warning/Hint lines and progress to stderr.

stdout carries results only (safe to pipe); everything meant for the person
at the terminal goes to stderr. Every line passes through `redact` so a token
can never be printed by accident.
"""

from __future__ import annotations

import sys
from typing import Any

from remedybot.core.redact import redact, strip_ansi, terminal_safe

__all__ = ["error", "hint", "info", "result", "result_json", "strip_ansi", "terminal_safe", "warning"]

def result(text: str) -> None:
    """Print a result line (stdout)."""
    sys.stdout.write(redact(text) + ("" if text.endswith("\n") else "\n"))
    sys.stdout.flush()


def result_json(data: Any) -> None:
    """Print a JSON result (stdout)."""
    import json  # only JSON output pays for it; `--help` and plain text never do

    result(json.dumps(data, indent=2, sort_keys=False, default=str))


def _stderr(prefix: str, text: str) -> None:
    sys.stderr.write(f"{prefix}{redact(text)}\n")
    sys.stderr.flush()


def error(text: str) -> None:
    _stderr("Error: ", text)


def warning(text: str) -> None:
    _stderr("Warning: ", text)


def hint(text: str) -> None:
    _stderr("Hint: ", text)


def info(text: str) -> None:
    _stderr("", text)
