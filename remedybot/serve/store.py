"""What the console shows, kept in memory: the latest scan of each watched owner, and the loop refreshing it.

Page views read only this store; they never call the Hub. `Refresher` rescans the owners in a background
thread and, after a round ends, waits as long as the request budget needs between the starts of two such
rounds (`RequestBudget.interval_for`, remedybot/hub/budget.py), never less than the configured interval:
idle traffic stays below the budget's share, leaving room for what people start from the console
(bench/bench_serve.py measures it). A Space's
row also says since when it has had its current branch (as seen by this console), what changed since the
scan before, and the last action on it with its outcome (from the audit log). Notices (a webhook's
diagnosis, a run's end) are kept for the banner. Nothing here acts on a Space.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from remedybot.core import output
from remedybot.core.errors import RemedyError
from remedybot.core.redact import redact
from remedybot.fleet.scan import FleetScan, Incident, SpaceResult, scan_fleet, severity_key
from remedybot.hub import budget as budgets
from remedybot.model.diagnosis import EvidenceLine
from remedybot.remedy.audit import AuditLog

if TYPE_CHECKING:
    from remedybot.hub import Hub

ACTION_EVENTS = ("run-end", "proposal-open", "policy-skip", "ticket")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Entry:
    """One Space as the console knows it."""

    result: SpaceResult
    since: str  # when this console first saw it with its current branch
    changes: list[str] = field(default_factory=list)  # what differs from the scan before
    last_action: dict[str, Any] | None = None

    @property
    def space_id(self) -> str:
        return self.result.space_id


def redacted(result: SpaceResult) -> SpaceResult:
    """The result with the text pages show passed through the one redaction, once, as it enters the store.

    Pages then need no redaction of their own (a whole page through `redact` costs more than rendering it);
    an evidence line whose text redaction changed loses its highlighted span.
    """
    evidence, diagnosis = result.evidence, result.diagnosis
    if evidence is not None:
        for name in ("build_log", "run_log"):
            lines = getattr(evidence, name, None)
            if lines:
                setattr(evidence, name, [redact(str(line)) for line in lines])
    if diagnosis is not None:
        diagnosis.evidence = [_clean_line(line) for line in diagnosis.evidence]
        diagnosis.summary, diagnosis.title = redact(diagnosis.summary), redact(diagnosis.title)
        diagnosis.meaning, diagnosis.next_step = redact(diagnosis.meaning), redact(diagnosis.next_step)
        diagnosis.alternatives = [replace(a, evidence=[_clean_line(e) for e in a.evidence])
                                  for a in diagnosis.alternatives]
    if result.error:
        result.error = redact(result.error)
    return result


def _clean_line(line: EvidenceLine) -> EvidenceLine:
    text = redact(line.text)
    return line if text == line.text else replace(line, text=text, span=None)


def changes_between(before: SpaceResult | None, after: SpaceResult) -> list[str]:
    """What differs between two readings of one Space: stage, branch, confidence, commit."""
    if before is None or before.diagnosis is None or after.diagnosis is None:
        return []
    old, new = before.diagnosis, after.diagnosis
    found = []
    if old.stage != new.stage:
        found.append(f"stage {old.stage} → {new.stage}")
    if old.branch != new.branch:
        found.append(f"branch {old.branch} → {new.branch}")
    elif abs(old.confidence - new.confidence) >= 0.05:
        found.append(f"confidence {old.confidence:.2f} → {new.confidence:.2f}")
    old_sha = (before.evidence.info or {}).get("sha") if before.evidence else None
    new_sha = (after.evidence.info or {}).get("sha") if after.evidence else None
    if old_sha and new_sha and old_sha != new_sha:
        found.append(f"commit {old_sha[:7]} → {new_sha[:7]}")
    return found


class FleetStore:
    """The latest reading of every watched Space; safe to share between the request threads and the loop."""

    def __init__(self, owners: list[str], audit: AuditLog) -> None:
        self.owners = owners
        self.audit = audit
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._incidents: dict[str, list[Incident]] = {}
        self.scanned_at: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self.notices: deque[dict[str, Any]] = deque(maxlen=50)

    # -- writing --------------------------------------------------------------------------------------
    def put_scan(self, scan: FleetScan) -> None:
        actions = self._last_actions()
        with self._lock:
            fresh = {r.space_id for r in scan.results}
            for space_id in [s for s, e in self._entries.items() if s.split("/")[0] == scan.owner]:
                if space_id not in fresh:
                    del self._entries[space_id]
            for result in scan.results:
                self._put(result, actions.get(result.space_id), at=scan.scanned_at[:19] + "+00:00")
            self._incidents[scan.owner] = scan.incidents
            self.scanned_at[scan.owner] = scan.scanned_at
            self.errors.pop(scan.owner, None)

    def put_result(self, result: SpaceResult) -> None:
        """One Space read again (after a run, or a webhook's build)."""
        actions = self._last_actions(result.space_id)
        with self._lock:
            self._put(result, actions.get(result.space_id))

    def _put(self, result: SpaceResult, action: dict[str, Any] | None, at: str | None = None) -> None:
        result = redacted(result)
        before = self._entries.get(result.space_id)
        old_branch = before.result.diagnosis.branch if before and before.result.diagnosis else None
        new_branch = result.diagnosis.branch if result.diagnosis else None
        since = before.since if before is not None and old_branch == new_branch else (at or now_iso())
        changes = changes_between(before.result if before else None, result)
        if before is not None and not changes:
            changes = before.changes
        self._entries[result.space_id] = Entry(result, since, changes, action)

    def note(self, kind: str, space_id: str, text: str) -> None:
        with self._lock:
            self.notices.appendleft({"kind": kind, "space_id": space_id, "text": text, "at": now_iso()})

    def _last_actions(self, space_id: str | None = None) -> dict[str, dict[str, Any]]:
        last: dict[str, dict[str, Any]] = {}
        for record in self.audit.records(space_id=space_id):
            if record.get("event") in ACTION_EVENTS and record.get("space_id"):
                last[record["space_id"]] = record
        return last

    # -- reading --------------------------------------------------------------------------------------
    def entry(self, space_id: str) -> Entry | None:
        with self._lock:
            return self._entries.get(space_id)

    def entries(self) -> list[Entry]:
        with self._lock:
            rows = list(self._entries.values())
        rows.sort(key=lambda e: severity_key(e.result))
        return rows

    def incidents(self) -> list[Incident]:
        with self._lock:
            return [i for owner in self.owners for i in self._incidents.get(owner, [])]

    def ready(self) -> bool:
        with self._lock:
            return all(o in self.scanned_at or o in self.errors for o in self.owners)


class Refresher:
    """Rescans every watched owner in a background thread, within the request budget."""

    def __init__(self, store: FleetStore, hub: Hub, *, interval: float, concurrency: int = 8) -> None:
        self.store, self.hub, self.interval, self.concurrency = store, hub, interval, concurrency
        self.rounds = 0
        self.wait = interval  # seconds before the next round: the interval, stretched to the budget
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> None:
        """One round: scan each owner and store it; a failed scan is kept as that owner's error."""
        sent_before = dict(budgets.current().sent)
        for owner in self.store.owners:
            try:
                self.store.put_scan(scan_fleet(self.hub, owner, concurrency=self.concurrency))
            except RemedyError as exc:
                self.store.errors[owner] = exc.message
                output.warning(f"could not scan '{owner}': {exc.message}")
        self.rounds += 1
        needed = budgets.current().interval_for(budgets.current().sent_since(sent_before))
        self.wait = max(self.interval, needed)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="serve-refresh", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self.wait)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
