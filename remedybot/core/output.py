"""Where text goes: results to stdout, Error/Warning/Hint lines and progress to stderr.

stdout carries results only (safe to pipe); everything meant for the person
at the terminal goes to stderr. Every line passes through `redact` so a token
can never be printed by accident.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from remedybot.core.redact import redact

# Log text is the Space's output, not ours: its colour codes and control characters must not reach
# the terminal (they could hide or rewrite lines). Escape sequences go; other controls show as U+FFFD.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")


def strip_ansi(text: str) -> str:
    """`text` without terminal escape sequences (colour, cursor moves, titles)."""
    return _ANSI.sub("", text)


def terminal_safe(text: str) -> str:
    """`text` without escape sequences or control characters (tabs kept)."""
    return _CONTROL.sub("\ufffd", _ANSI.sub("", text))


def result(text: str) -> None:
    """Print a result line (stdout)."""
    sys.stdout.write(redact(text) + ("" if text.endswith("\n") else "\n"))
    sys.stdout.flush()


def result_json(data: Any) -> None:
    """Print a JSON result (stdout)."""
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
