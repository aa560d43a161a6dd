"""What a Space ran with when it last worked, and what has moved since: the data of "it worked yesterday".

Three values, passed from the diagnose stage to the plan and the ticket:

- `LastGood`: the best evidence of when, and at which revision, the Space last ran, with its source
  (remedybot's own records, the commit history, or the Hub showing it RUNNING now) and how sure it is.
- `Change`: one build-relevant file that differs between that revision and HEAD, with the log lines
  that name what changed (the module of an ImportError, the package apt cannot install).
- `Drift`: one requirement that resolves to another release today than when the Space last ran,
  from the package index's release dates.

`History` holds all three and the verdict (`cause`: change, drift or unknown). This module also owns
the one small file of sightings (`SeenRecord`, `$REMEDYBOT_HOME/seen.jsonl`): appended atomically, one
line per sighting, and compacted to the newest records when it grows past its bound. It reads and writes
only the file it is handed; where that file lives is the caller's business (remedybot/remedy/lastseen.py).
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SEEN_KEEP = 400  # records kept when the file is compacted (the newest; at most a few per Space matter)
SEEN_MAX_LINES = 2 * SEEN_KEEP  # compact once the file holds this many
SEEN_MAX_BYTES = 1_000_000  # a file larger than this is not ours to read whole: it is ignored


@dataclass(frozen=True)
class SeenRecord:
    """remedybot saw `space_id` RUNNING at revision `sha` at `at` (ISO 8601 UTC), during `by` (a command)."""

    space_id: str
    sha: str
    at: str
    by: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> SeenRecord | None:
        """The record, or None for a line that is not one (a torn or foreign line is skipped, not fatal)."""
        if not isinstance(data, dict):
            return None
        values = [data.get(k) for k in ("space_id", "sha", "at", "by")]
        texts = [v for v in values if isinstance(v, str) and v]
        if len(texts) != len(values):
            return None
        return cls(*texts)


def load_seen(path: Path, space_id: str | None = None) -> list[SeenRecord]:
    """Every readable record of `path` (of `space_id` only when given), oldest first; [] when there is no file."""
    try:
        if path.stat().st_size > SEEN_MAX_BYTES:
            return []
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    records: list[SeenRecord] = []
    for line in lines:
        try:
            record = SeenRecord.from_dict(json.loads(line))
        except ValueError:
            continue
        if record is not None and (space_id is None or record.space_id == space_id):
            records.append(record)
    return records


def append_seen(path: Path, record: SeenRecord) -> None:
    """Append one record: a single O_APPEND write under a lock, then compaction when the file is full.

    Compaction keeps the newest SEEN_KEEP records, written to a temporary file and renamed over the old
    one, so a reader sees either the old file or the new one. Raises OSError when the folder cannot be
    written; callers treat a lost sighting as a warning, never as a failure of the command.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record.to_dict(), sort_keys=True) + "\n").encode()
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if path.stat().st_size > SEEN_MAX_BYTES or _count_lines(path) > SEEN_MAX_LINES:
            kept = load_seen(path)[-SEEN_KEEP:] if path.stat().st_size <= SEEN_MAX_BYTES else [record]
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text("".join(json.dumps(r.to_dict(), sort_keys=True) + "\n" for r in kept), encoding="utf-8")
            os.replace(tmp, path)


def _count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(65536), b""))


@dataclass(frozen=True)
class LastGood:
    """When and at which revision the Space last ran, as far as the evidence shows.

    `source`: "remedybot" (our own records), "hub" (it is RUNNING now), "history" (the commit history).
    `date` is ISO 8601; `by` names the command that saw it (records only).
    """

    sha: str
    date: str
    source: str
    confidence: float
    by: str = ""
    why: str = ""

    def line(self) -> str:
        """One line for people: "last seen RUNNING at 3f2a1c0 on 2026-10-02, by remedybot watch"."""
        day = self.date[:10]
        if self.source == "remedybot":
            return f"last seen RUNNING at {self.sha[:7]} on {day}, by {self.by}"
        if self.source == "hub":
            return f"RUNNING now at {self.sha[:7]} (the Hub shows it)"
        return f"last known good: {self.sha[:7]} of {day}, from the commit history ({self.why})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> LastGood | None:
        if not isinstance(data, dict) or not isinstance(data.get("sha"), str) or not isinstance(data.get("date"), str):
            return None
        try:
            confidence = float(data.get("confidence", 0.0))
        except (TypeError, ValueError):
            confidence = 0.0
        return cls(sha=data["sha"], date=data["date"], source=str(data.get("source", "history")),
                   confidence=confidence, by=str(data.get("by") or ""), why=str(data.get("why") or ""))


@dataclass(frozen=True)
class Change:
    """A build-relevant file that differs between the last good revision and HEAD.

    `status`: changed, added or removed. `linked`: the failure's log lines that name something this
    change touched (empty when the log does not name it).
    """

    path: str
    status: str
    diff: str
    linked: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # what the change touched: packages, modules, apt names

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Drift:
    """A requirement that resolves to another release now than when the Space last ran.

    `spec` is the requirement as written ("" when unpinned); `good_*` is what it got at the last good date,
    `now_*` what it gets today (versions and release dates, ISO days). `major`: the two differ in the major
    version (for 0.x releases, the minor). `linked`: the failure names this package or a module of it.
    """

    package: str
    spec: str
    good_version: str
    good_released: str
    now_version: str
    now_released: str
    major: bool
    linked: bool
    via: str = ""  # the requirement that brings it in, when it is not a requirement itself

    def sentence(self) -> str:
        """"gradio was unpinned; it resolved to 6.2.0 (released 2026-09-14) instead of 5.49.1, which it got
        when it last ran"."""
        how = "unpinned" if not self.spec else f"loosely pinned ({self.spec})"
        if self.via:
            how = f"not pinned (it comes with {self.via})"
        return (f"{self.package} was {how}; it resolved to {self.now_version} (released {self.now_released}) "
                f"instead of {self.good_version}, which it got when it last ran")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class History:
    """Last known good, what changed since, what drifted since, and which of them the failure points at.

    `cause`: "change" (a build-relevant file changed and the failure names it, or nothing drifted),
    "drift" (nothing build-relevant changed and a package drifted across a major version, or the base image
    moved: `base_image`), "unknown".
    `drift_checked` is False when the package index could not be read (`drift_error` says why); the
    rest of the analysis still stands. `suspects` are the packages the failure names (from the log),
    in the order the evidence points at them, whether or not the index could be read.
    """

    last_good: LastGood | None = None
    changes: list[Change] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    suspects: list[str] = field(default_factory=list)
    drift_checked: bool = False
    drift_error: str = ""
    cause: str = "unknown"
    summary: str = ""
    base_image: str = ""  # the base image moved under the Space: an apt package its new Debian no longer has

    def to_dict(self) -> dict[str, Any]:
        return {"last_good": self.last_good.to_dict() if self.last_good else None,
                "changes": [c.to_dict() for c in self.changes], "drift": [d.to_dict() for d in self.drift],
                "suspects": list(self.suspects), "drift_checked": self.drift_checked,
                "drift_error": self.drift_error or None, "cause": self.cause, "summary": self.summary,
                "base_image": self.base_image or None,
                "lines": self.lines()}

    def lines(self) -> list[str]:
        """The text `diagnose` prints: the last known good line, then the cause and its evidence."""
        out = [self.last_good.line() if self.last_good else "last known good: not known (no record, no history)"]
        if self.summary:
            out.append(self.summary)
        for change in self.changes:
            mark = " (named in the log)" if change.linked else ""
            out.append(f"changed since: {change.path} ({change.status}){mark}")
        for drift in self.drift:
            if (drift.major or drift.linked) and drift.sentence() not in self.summary:
                out.append(f"drifted: {drift.sentence()}")
        if self.base_image and self.cause != "drift":
            out.append(f"drifted: {self.base_image}")
        if not self.drift_checked and self.drift_error:
            out.append(f"drift could not be checked: {self.drift_error}")
        return out
