"""Gather what "it worked yesterday" needs: the last known good revision, its files, the index's releases.

Read-only, like the rest of diagnose: a few file reads at one older revision, and one GET per package on
the package index (REMEDYBOT_PYPI_URL). Nothing here is fatal: a source that cannot be read leaves its
part out, and an index that does not answer is recorded as "drift could not be checked".

Which evidence decides the last known good (`last_good`, pure), best first:

1. the Space is RUNNING now: the Hub shows it (certain);
2. remedybot's own records of seeing it RUNNING (`$REMEDYBOT_HOME/seen.jsonl`, written by diagnose, scan,
   watch and apply): the newest one (high confidence: we saw it);
3. the commit history: when the failing build started long after the last push, nothing was pushed since
   it last built, so HEAD is the revision it ran, built when it was pushed (medium); when the failing build
   came with the last push, the revision before that push (medium-low: it may have failed too).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from remedybot.core.errors import RemedyError
from remedybot.diagnose.drift import BUILD_FILES, lookups, requirement_paths
from remedybot.model.enums import is_healthy
from remedybot.model.evidence import Evidence, front_matter
from remedybot.model.history import LastGood, SeenRecord

if TYPE_CHECKING:
    from remedybot.hub import Hub

RECORD_CONFIDENCE = 0.9
REBUILD_CONFIDENCE = 0.6  # nothing pushed since the last build: HEAD ran
PARENT_CONFIDENCE = 0.45  # the push started the failing build: the revision before it, which may have failed too
PUSH_WINDOW = timedelta(hours=1)  # a build this soon after the last push is that push's build
_QUEUED = re.compile(r"Build Queued at (?P<at>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)")


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def build_started(evidence: Evidence) -> datetime | None:
    """When the build the logs show was queued ("===== Build Queued at 2026-01-21 09:45:38 / ..."), UTC."""
    for line in evidence.build_log or []:
        match = _QUEUED.search(line)
        if match:
            return _parse(match["at"])
    return None


def last_good(evidence: Evidence, seen: Sequence[SeenRecord] = ()) -> LastGood | None:
    """The best evidence of when and at which revision the Space last ran (module docstring), or None."""
    sha = str((evidence.info or {}).get("sha") or "")
    if is_healthy(evidence.stage) and sha:
        return LastGood(sha=sha, date=evidence.collected_at or "", source="hub", confidence=1.0)
    mine = [r for r in seen if r.space_id == evidence.space_id]
    if mine:
        newest = max(mine, key=lambda r: r.at)
        return LastGood(sha=newest.sha, date=newest.at, source="remedybot", confidence=RECORD_CONFIDENCE,
                        by=newest.by, why="remedybot saw it RUNNING")
    commits = [c for c in evidence.commits or [] if isinstance(c.get("id"), str) and _parse(c.get("date"))]
    if not commits:
        return None
    head, head_at = commits[0], _parse(commits[0].get("date"))
    started = build_started(evidence)
    assert head_at is not None
    if started is not None and started - head_at > PUSH_WINDOW:
        return LastGood(sha=head["id"], date=str(head["date"]), source="history", confidence=REBUILD_CONFIDENCE,
                        why=f"nothing pushed between it and the rebuild of {started.date().isoformat()}")
    if len(commits) < 2:
        return None
    parent = commits[1]
    return LastGood(sha=parent["id"], date=str(parent["date"]), source="history", confidence=PARENT_CONFIDENCE,
                    why=f"the revision before the push of {head['id'][:7]} that started the failing build")


def app_file(evidence: Evidence) -> str:
    """The app's entry file as the README says (app_file), else app.py."""
    value = front_matter(evidence)["meta"].get("app_file")
    return str(value) if isinstance(value, str) and value.endswith(".py") else "app.py"


def gather_history(hub: Hub, evidence: Evidence, seen: Sequence[SeenRecord] = ()) -> None:
    """Fill `evidence.history`: the last known good and the build-relevant files at it (and the app at HEAD)."""
    if is_healthy(evidence.stage):
        good = last_good(evidence, seen)
        evidence.history = {"last_good": good.to_dict() if good else None}
        return
    good = last_good(evidence, seen)
    history: dict[str, Any] = {"last_good": good.to_dict() if good else None}
    evidence.history = history
    if good is None:
        return
    head = str((evidence.info or {}).get("sha") or "main")
    if good.sha == head:  # it last ran at HEAD: nothing of the Space changed, nothing to read
        history["files_at_last_good"] = {}
        return
    app = app_file(evidence)
    includes = [p for p in requirement_paths(dict(evidence.files or {})) if p not in BUILD_FILES]
    at_head = [app, *includes]  # not among the collected config files
    paths = [*BUILD_FILES, *at_head]
    try:
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="history") as pool:
            then = list(pool.map(lambda p: hub.read_file(evidence.space_id, p, revision=good.sha), paths))
            now_extra = list(pool.map(lambda p: hub.read_file(evidence.space_id, p, revision=head), at_head))
    except RemedyError as exc:
        evidence.missing["history"] = f"the files at {good.sha[:7]} could not be read: {exc.message}"
        return
    extra = dict(zip(at_head, now_extra, strict=True))
    now = {**(evidence.files or {}), **extra}
    history["files_at_last_good"] = {p: t for p, t in zip(paths, then, strict=True)
                                     if t is not None or now.get(p) is not None}
    history["files_at_head"] = extra


def gather_index(hub: Hub, evidence: Evidence) -> None:
    """Fill `evidence.index` with the releases of the packages the drift analysis needs.

    An index that cannot be reached leaves `checked` False with the reason: diagnosis says the drift could
    not be checked, and everything else goes on.
    """
    if is_healthy(evidence.stage):
        return
    wanted = lookups(evidence)
    index: dict[str, Any] = {"checked": False, "error": None, "releases": {},
                             "checked_at": datetime.now(UTC).isoformat()}
    evidence.index = index
    if not wanted:
        index["checked"] = True
        return
    try:
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="index") as pool:
            answers = list(pool.map(hub.package_releases, wanted))
    except RemedyError as exc:
        index["error"] = exc.message
        return
    index["checked"] = True
    index["releases"] = {name: dates for name, dates in zip(wanted, answers, strict=True) if dates}
