"""Scan a fleet: every Space of one owner, diagnosed concurrently, correlated, sorted by severity.

Owns the fleet-wide view (`scan_fleet` -> `FleetScan`) and nothing that acts on a
Space: `watch.py` decides what to do with a scan. What it spends, measured on
the sandbox Hub (bench/bench_scan.py):

* one listing request per page, asking for the runtimes (`Hub.list_spaces`);
* one status page request for the whole scan, shared by every Space;
* nothing more for a Space the listing alone shows healthy: its info and runtime
  from the listing plus the shared status page go through `classify`, and only if
  that says `healthy` is the Space settled. A RUNNING Space whose trouble shows
  only in its run log is missed this way; `deep=True` (`scan --deep`) collects
  everything for every Space;
* the full evidence (`collect_evidence`) for every other Space, minus the runtime
  and status page it already has.

Correlation: when many failing Spaces fail the same way in one scan (the same
branch and deciding signature, or the same error line once times, hashes and
the Space's own name are masked), that is the platform, not each Space. A group
of at least `min_spaces` Spaces that is also at least `min_fraction` of the
failing ones is re-classified with `evidence.fleet` filled in, which the
classifier turns into `platform_incident`, and reported as one `Incident`. The
denominator is the failing Spaces, not the whole fleet: an incident hits what
was (re)built during it, while the rest of a large fleet keeps running and says
nothing about failure modes. Failures whose cause the evidence places in the
Space's own files (a missing module, an apt package, a port, a storage limit)
or in a block by Hugging Face are never correlated: twenty forks of one broken
template are twenty Spaces to fix, not an incident to wait out. "At the same
time" means within one scan; the Hub does not say when a Space started failing.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from remedybot.core import output
from remedybot.core.errors import NotFoundError, RemedyError, UsageError
from remedybot.core.progress import count_bar
from remedybot.diagnose.classify import classify
from remedybot.diagnose.collect import collect_evidence
from remedybot.hub import budget as budgets
from remedybot.model.evidence import Evidence

if TYPE_CHECKING:
    from remedybot.hub import Hub
    from remedybot.model.diagnosis import Diagnosis

DEFAULT_CONCURRENCY = 8
MIN_SPACES = 3  # an incident needs at least this many Spaces failing the same way ...
MIN_FRACTION = 0.3  # ... that are also at least this share of the failing Spaces
# Branches whose evidence names a cause inside the Space (or a block on it): never an incident.
OWN_CAUSE = frozenset({"dependency", "apt_package", "config_error", "port_mismatch", "repo_too_large",
                       "secret_detected", "policy_block", "healthy"})
# Severity, most urgent first: many Spaces down, a block only Hugging Face lifts, a cause nobody knows,
# then every other failure (by confidence), Spaces that could not be read, and healthy ones last.
_RANK = {"platform_incident": 0, "policy_block": 1, "unknown": 2}
_RANK_FAILING, _RANK_ERROR, _RANK_HEALTHY = 3, 4, 5
_SKIPPED = "not collected: the listing shows the Space healthy (scan --deep collects it)"


@dataclass
class SpaceResult:
    """One Space of the scan: its diagnosis (or why it could not be read) and how it was collected."""

    space_id: str
    diagnosis: Diagnosis | None = None
    evidence: Evidence | None = None
    error: str | None = None
    collected: str = "full"  # "listing": settled from the listing alone; "full": collect_evidence
    incident: int | None = None  # the Incident.number this Space belongs to

    @property
    def known(self) -> Diagnosis:
        """The diagnosis of a Space that was read; `failing` and `healthy` hold only such results."""
        if self.diagnosis is None:
            raise RuntimeError(f"{self.space_id} was not read: {self.error}")
        return self.diagnosis

    @property
    def read(self) -> Evidence:
        """The evidence of a Space that was read."""
        if self.evidence is None:
            raise RuntimeError(f"{self.space_id} was not read: {self.error}")
        return self.evidence
    was_branch: str | None = None  # its own branch before correlation made it platform_incident

    @property
    def failing(self) -> bool:
        return self.diagnosis is not None and self.diagnosis.branch != "healthy"

    def to_dict(self) -> dict[str, Any]:
        """The `scan --json` item: the `diagnose --json` object plus where it came from and its incident."""
        if self.diagnosis is None:
            return {"space_id": self.space_id, "branch": None, "error": self.error}
        data = self.diagnosis.to_dict()
        data.update(evidence_collected=self.collected, incident=self.incident)
        if self.was_branch:
            data["own_branch"] = self.was_branch
        return data


@dataclass
class Incident:
    """Spaces of one fleet failing the same way at once, reported as one platform_incident."""

    number: int
    key: str  # "signature:<branch>/<signature id>" or "line:<masked error line>"
    label: str  # what they share, for people
    spaces: list[str]
    failing: int  # failing Spaces in the scan (the denominator)

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "key": self.key, "label": self.label, "spaces": list(self.spaces),
                "failing": self.failing}


@dataclass
class FleetScan:
    """The result of one scan, results sorted by severity."""

    owner: str
    results: list[SpaceResult]
    incidents: list[Incident] = field(default_factory=list)
    scanned_at: str = ""
    seconds: float = 0.0  # wall time of the whole scan
    listing_seconds: float = 0.0  # of which the listing request(s)

    @property
    def failing(self) -> list[SpaceResult]:
        return [r for r in self.results if r.failing]

    @property
    def errors(self) -> list[SpaceResult]:
        return [r for r in self.results if r.diagnosis is None]

    def summary(self) -> str:
        healthy = sum(1 for r in self.results if r.diagnosis is not None and not r.failing)
        parts = [f"{len(self.failing)} failing", f"{healthy} healthy"]
        if self.errors:
            parts.append(f"{len(self.errors)} unreadable")
        text = f"{len(self.results)} Spaces of '{self.owner}': " + ", ".join(parts)
        if self.incidents:
            covered = sum(len(i.spaces) for i in self.incidents)
            text += f"; {len(self.incidents)} platform incident(s) covering {covered} of them"
        return text


class _ScanHub:
    """The Hub as `collect_evidence` sees it during a scan: runtimes from the listing, one shared status page.

    Everything else goes to the real Hub (and its retry policy) untouched.
    """

    def __init__(self, hub: Hub, runtimes: dict[str, dict[str, Any]]) -> None:
        self._hub = hub
        self._runtimes = runtimes
        self._lock = threading.Lock()
        self._status: tuple[Any, BaseException | None] | None = None

    def runtime(self, space_id: str) -> dict[str, Any]:
        cached = self._runtimes.get(space_id)
        return dict(cached) if cached is not None else self._hub.runtime(space_id)

    def status_page(self, url: str | None = None) -> dict[str, Any]:
        """Fetched once per scan; a failure is remembered too, so every Space records the same reason."""
        with self._lock:
            if self._status is None:
                try:
                    self._status = (self._hub.status_page(url), None)
                except Exception as exc:  # kept and re-raised to every Space: one failure, one reason
                    self._status = (None, exc)
        doc, error = self._status
        if error is not None:
            raise error
        return doc or {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hub, name)


def as_hub(scan_hub: _ScanHub) -> Hub:
    """`scan_hub` where a Hub is expected: it answers every Hub call, two of them from the scan's own data."""
    return cast("Hub", scan_hub)


def scan_fleet(hub: Hub, owner: str, *, concurrency: int = DEFAULT_CONCURRENCY, deep: bool = False,
               on_result: Callable[[SpaceResult], None] | None = None, on_total: Callable[[int], None] | None = None,
               min_spaces: int = MIN_SPACES, min_fraction: float = MIN_FRACTION) -> FleetScan:
    """List `owner`'s Spaces with their runtimes, diagnose each (at most `concurrency` at once), correlate.

    Args:
        on_total / on_result: progress callbacks (the number of Spaces; each finished Space).
    Raises:
        UsageError: concurrency below 1; pass a positive number.
        NotFoundError: no user or organisation has that name (exit 1); check the name.
        HubError: the listing itself failed (auth, Hub down); a single Space that cannot be read is
            reported in its result instead, so one bad Space never hides the rest of the fleet.
    """
    if concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1, not {concurrency}.")
    started = time.monotonic()
    scanned_at = datetime.now(UTC).isoformat()
    spaces = hub.list_spaces(owner, expand_runtime=True)
    if not spaces and not hub.owner_exists(owner):  # the Hub lists nothing for a name that does not exist either
        raise NotFoundError(f"No user or organisation '{owner}' on the Hub. Check the name.")
    listed = time.monotonic()
    if on_total is not None:
        on_total(len(spaces))
    runtimes = {s.id: s.runtime.raw for s in spaces if s.runtime is not None}
    scan_hub = _ScanHub(hub, runtimes)
    results: list[SpaceResult] = []
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="scan") as pool:
        futures = [pool.submit(_diagnose_one, scan_hub, info, runtimes.get(info.id), deep) for info in spaces]
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            if on_result is not None:
                on_result(result)
    incidents = correlate(results, min_spaces=min_spaces, min_fraction=min_fraction)
    results.sort(key=severity_key)
    return FleetScan(owner=owner, results=results, incidents=incidents, scanned_at=scanned_at,
                     seconds=time.monotonic() - started, listing_seconds=listed - started)


def running_sightings(scan: FleetScan) -> list[tuple[str, str]]:
    """(space_id, sha) of every Space the scan saw RUNNING, for remedybot's records (remedy/lastseen.py)."""
    out: list[tuple[str, str]] = []
    for result in scan.results:
        evidence = result.evidence
        if result.diagnosis is not None and result.diagnosis.healthy and evidence is not None \
                and evidence.stage == "RUNNING" and (evidence.info or {}).get("sha"):
            out.append((result.space_id, str(evidence.info["sha"])))  # type: ignore[index]
    return out


def _diagnose_one(hub: _ScanHub, info: Any, runtime: dict[str, Any] | None, deep: bool) -> SpaceResult:
    try:
        if not deep and runtime is not None:
            quick = listing_evidence(info, runtime, as_hub(hub))
            diagnosis = classify(quick)
            if diagnosis.branch == "healthy":
                return SpaceResult(info.id, diagnosis, quick, collected="listing")
        evidence = collect_evidence(as_hub(hub), info.id)
        return SpaceResult(info.id, classify(evidence), evidence)
    except RemedyError as exc:
        return SpaceResult(info.id, error=exc.message)
    except Exception as exc:  # one Space must not sink the fleet's report; the row names what broke
        return SpaceResult(info.id, error=f"unexpected {type(exc).__name__}: {exc}")


def listing_evidence(info: Any, runtime: dict[str, Any], hub: Hub) -> Any:
    """Evidence from the listing alone (info fields, runtime) plus the scan's shared status page."""
    missing = {name: _SKIPPED for name in ("build_log", "run_log", "files", "commits")}
    try:
        status = hub.status_page()
    except Exception as exc:  # as collect.py: a missing source is recorded, never fatal
        status, missing["status_page"] = None, getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"

    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    data = {"id": info.id, "author": info.author, "sha": info.sha, "sdk": info.sdk, "private": info.private,
            "disabled": info.disabled, "createdAt": iso(info.created_at), "lastModified": iso(info.last_modified)}
    return Evidence(space_id=info.id, info=data, runtime=dict(runtime), status_page=status,
                    collected_at=datetime.now(UTC).isoformat(), missing=missing)


# -- correlation ------------------------------------------------------------------------------------
_MASKS = [
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?"), "<time>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<uuid>"),
    (re.compile(r"\b[0-9a-f]{7,64}\b", re.I), "<hash>"),
    (re.compile(r"\b\d{5,}\b"), "<n>"),
]


def masked_line(text: str, space_id: str) -> str:
    """An error line with what differs between Spaces hit by the same failure masked out."""
    out = text
    for name in (space_id, space_id.split("/")[-1]):
        out = re.sub(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", "<space>", out)
    for pattern, mark in _MASKS:
        out = pattern.sub(mark, out)
    return " ".join(out.split())


def _keys(result: SpaceResult) -> list[tuple[str, str]]:
    d = result.known
    top = d.evidence[0] if d.evidence else None
    keys = [(f"signature:{d.branch}/{top.signature if top else 'stage-' + str(d.stage)}",
             f"{d.branch}: {d.summary or d.title or d.stage}")]
    line = top.text if top else (result.evidence.error_message if result.evidence is not None else None)
    if line and line.strip():
        masked = masked_line(line, result.space_id)
        keys.append((f"line:{masked}", masked))
    return keys


def correlate(results: list[SpaceResult], *, min_spaces: int = MIN_SPACES,
              min_fraction: float = MIN_FRACTION) -> list[Incident]:
    """Find groups failing the same way, re-classify their members with fleet evidence, number them.

    Mutates the members' `diagnosis` (now platform_incident), `incident` and `was_branch`.
    Pure apart from that: no Hub calls.
    """
    failing = [r for r in results if r.failing]
    groups: dict[str, list[SpaceResult]] = {}
    labels: dict[str, str] = {}
    for result in failing:
        if result.known.branch in OWN_CAUSE or result.evidence is None:
            continue
        for key, label in _keys(result):
            groups.setdefault(key, []).append(result)
            labels[key] = label
    needed = max(min_spaces, min_fraction * len(failing))
    incidents: list[Incident] = []
    taken: set[str] = set()
    # Largest first; on a tie the signature (branch + what decided it) names the incident better than a line.
    for key, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), not kv[0].startswith("signature:"),
                                                               kv[0])):
        members = [m for m in members if m.space_id not in taken]
        if len(members) < needed:
            continue
        fleet = {"spaces_checked": len(failing), "spaces_failing_same_way": len(members),
                 "spaces_scanned": len(results)}
        verdicts = []
        for member in members:
            member.read.fleet = fleet
            verdicts.append(classify(member.read))
        agreed = [(m, v) for m, v in zip(members, verdicts, strict=True) if v.branch == "platform_incident"]
        if len(agreed) < needed:
            for member in members:
                member.read.fleet = None
            continue
        number = len(incidents) + 1
        for member, verdict in agreed:
            if member.known.branch != "platform_incident":
                member.was_branch = member.known.branch
            member.diagnosis, member.incident = verdict, number
            taken.add(member.space_id)
        incidents.append(Incident(number, key, labels[key], sorted(m.space_id for m, _ in agreed), len(failing)))
    return incidents


def severity_key(result: SpaceResult) -> tuple[int, int, float, str]:
    """Sort key, most urgent first; an incident's Spaces stay together."""
    if result.diagnosis is None:
        return (_RANK_ERROR, 0, 0.0, result.space_id)
    branch = result.diagnosis.branch
    rank = _RANK_HEALTHY if branch == "healthy" else _RANK.get(branch, _RANK_FAILING)
    return (rank, result.incident or 0, -result.diagnosis.confidence, result.space_id)


# -- presentation -----------------------------------------------------------------------------------
def table_rows(scan: FleetScan) -> list[tuple[str, str, str, str, str]]:
    """(space, stage, branch, confidence, why) per Space, in the scan's order."""
    rows = []
    for r in scan.results:
        if r.diagnosis is None:
            rows.append((r.space_id, "?", "-", "-", f"could not be read: {r.error}"))
            continue
        d = r.diagnosis
        why = d.summary or d.title
        if r.incident is not None:
            why = f"incident {r.incident}" + (f" (own diagnosis: {r.was_branch})" if r.was_branch else "")
        elif d.healthy:
            why = ""
        rows.append((r.space_id, d.stage or "?", d.branch, f"{d.confidence:.2f}", why))
    return rows


def incident_lines(scan: FleetScan) -> list[str]:
    """One sentence per platform incident of the scan."""
    return [f"Incident {incident.number}: {len(incident.spaces)} of {incident.failing} failing Spaces fail the same "
            f"way ({incident.label}). Wait and re-scan; changing them will not help." for incident in scan.incidents]


def render_table(scan: FleetScan) -> str:
    """The scan as a plain-text table for stdout (no colour, safe to pipe), incidents explained below."""
    rows = [("SPACE", "STAGE", "BRANCH", "CONF", "WHY"), *table_rows(scan)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4] for row in rows]
    lines = [line.rstrip() for line in lines]
    lines.append("")
    lines += incident_lines(scan)
    lines.append(scan.summary())
    return "\n".join(lines)


@contextmanager
def announce_waits(json_out: bool, events: list[dict[str, Any]] | None = None) -> Iterator[None]:
    """While the block runs, say on stderr when the request budget waits for the Hub's next window.

    A line for people, or with `json_out` a JSON line (`{"event": "rate-limit-wait", ...}`, since stdout
    holds the result); each wait is also appended to `events` when given (watch's --json events).
    """
    def heard(bucket: str, seconds: float) -> None:
        text = (f"waiting {seconds:.0f} s for the Hub's next rate-limit window ('{bucket}'): the rest of this one "
                "is kept for your other tools (--budget)")
        event = {"event": "rate-limit-wait", "bucket": bucket, "seconds": round(seconds, 1), "text": text}
        if events is not None:
            events.append(event)
        output.info(json.dumps(event) if json_out else text)

    remove = budgets.current().on_wait(heard)
    try:
        yield
    finally:
        remove()


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[tuple[Callable[[int], None], Callable[[SpaceResult], None]]]:
    """A progress bar on stderr (only when stderr is a terminal): yields (on_total, on_result)."""
    with count_bar("scanning", enabled=enabled) as bar:

        def on_total(total: int) -> None:
            bar.set(0, total)

        def on_result(result: SpaceResult) -> None:
            bar.advance()
            bar.note(result.space_id)

        yield on_total, on_result
