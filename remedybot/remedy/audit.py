"""The audit log: an append-only JSON-lines record of every step, and where applies resume from.

One record before and one after each step (time, plan fingerprint, Space,
step, the Hub calls made and their results, the Space's serial after the
step). Records pass through `redact_data`, so no token can be written. The
file is only ever appended to and flushed with fsync, so a run killed at any
moment leaves every record it finished writing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from remedybot.core.errors import UsageError
from remedybot.core.redact import redact_data


def state_home() -> Path:
    """Where remedybot keeps plans, audit logs, backups and its ledger.

    Raises:
        UsageError: REMEDYBOT_HOME names a file; point it at a folder (created when missing).
    """
    env = os.environ.get("REMEDYBOT_HOME")
    if env:
        home = Path(env)
        if home.exists() and not home.is_dir():
            raise UsageError(f"REMEDYBOT_HOME '{home}' is a file, not a folder. Point it at a folder "
                             "(it is created when missing).")
        return home
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "remedybot"


def default_audit_path() -> Path:
    return state_home() / "audit.jsonl"


@dataclass
class AuditLog:
    path: Path

    def write(self, event: str, **fields: Any) -> dict[str, Any]:
        record = {"time": datetime.now(UTC).isoformat(), "event": event, **fields}
        record = redact_data(record)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, sort_keys=False, default=str) + "\n"
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        return record

    def records(self, fingerprint: str | None = None, space_id: str | None = None) -> list[dict[str, Any]]:
        """Every well-formed record (a torn last line from a kill is skipped), optionally filtered."""
        if not self.path.exists():
            return []
        out = []
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if fingerprint and record.get("fingerprint") != fingerprint:
                    continue
                if space_id and record.get("space_id") != space_id:
                    continue
                out.append(record)
        return out

    def progress(self, fingerprint: str) -> dict[str, Any]:
        """What an earlier run of this plan finished: completed steps, the last serial, failures seen."""
        finished: dict[int, dict[str, Any]] = {}
        started: set[int] = set()
        serial = None
        failures: list[str] = []
        outcome = None
        for record in self.records(fingerprint):
            event = record.get("event")
            number = record.get("step")
            if event == "step-start" and number is not None:
                started.add(number)
            elif event == "step-end" and number is not None:
                if record.get("status") == "failed":
                    finished.pop(number, None)  # a failed step is not finished: the next apply runs it again
                    continue
                finished[number] = record
                serial = record.get("serial_after") or serial
            elif event == "verify":
                if record.get("serial_after"):
                    serial = record["serial_after"]
                if not record.get("ok") and record.get("failure"):
                    failures.append(record["failure"])
            elif event == "run-end":
                outcome = record.get("outcome")
        return {"finished": finished, "started": started, "serial": serial, "failures": failures,
                "outcome": outcome}
