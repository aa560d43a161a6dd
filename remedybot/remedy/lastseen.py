"""remedybot's own records of seeing a Space RUNNING: `$REMEDYBOT_HOME/seen.jsonl`.

`diagnose`, `scan`, `watch` and `apply` (after a verified fix) each append one record per Space they see
RUNNING: its revision, when, and which command saw it. The newest record is the strongest evidence of the
last known good revision when the Space fails later (remedybot/diagnose/history.py). The file is small,
append-only and bounded (remedybot/model/history.py owns its format); losing a record is harmless, so
writing one never fails the command that saw the Space.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from remedybot.model.history import SeenRecord, append_seen, load_seen
from remedybot.remedy.audit import state_home


def seen_path() -> Path:
    return state_home() / "seen.jsonl"


def seen_records(space_id: str | None = None) -> list[SeenRecord]:
    """The records of `space_id` (every Space's when None), oldest first; [] when there are none."""
    return load_seen(seen_path(), space_id)


def record_running(sightings: Iterable[tuple[str, str]], by: str) -> bool:
    """Append a record for each (space_id, sha) seen RUNNING now by the command `by` ("remedybot scan").

    Returns False when the records could not be written (the folder is not writable); nothing else changes.
    """
    at = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        for space_id, sha in sightings:
            if space_id and sha:
                append_seen(seen_path(), SeenRecord(space_id=space_id, sha=sha, at=at, by=by))
    except OSError:
        return False
    return True
