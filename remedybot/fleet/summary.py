"""The fleet as Markdown: the table of a scan for a GitHub job summary (`scan`/`watch --summary FILE`).

Presentation only, like `render_table` in scan.py, whose rows it shares; it never calls the Hub.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from remedybot.core.errors import UsageError
from remedybot.core.redact import redact
from remedybot.fleet.scan import FleetScan, incident_lines, table_rows


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|") or " "


def render_markdown(scan: FleetScan, fixed: Iterable[str] = ()) -> str:
    """The scan as a Markdown table (GitHub's job summary, `--summary FILE`), worst first; `fixed`: fixed just now."""
    done = set(fixed)
    lines = [f"### remedybot: Spaces of `{scan.owner}`", "", scan.summary(), "",
             "| Space | Stage | Branch | Confidence | Why |", "|---|---|---|---:|---|"]
    for space, stage, branch, confidence, why in table_rows(scan):
        if space in done:
            why = "fixed by this run" + (f"; was: {why}" if why else "")
        lines.append("| " + " | ".join(_cell(c) for c in (space, stage, branch, confidence, why)) + " |")
    incidents = incident_lines(scan)
    return "\n".join(lines + ([""] + [f"- {line}" for line in incidents] if incidents else [])) + "\n"


def append_summary(path: Path, text: str) -> None:
    """Append `text` (redacted) to a summary file such as $GITHUB_STEP_SUMMARY; "" only checks that it can.

    Raises:
        UsageError: the file cannot be written; give a writable path.
    """
    try:
        with path.open("a", encoding="utf-8") as handle:
            if text:
                handle.write(redact(text) + "\n")
    except OSError as exc:
        raise UsageError(f"Cannot write the summary to '{path}': {exc.strerror or exc}.") from None
