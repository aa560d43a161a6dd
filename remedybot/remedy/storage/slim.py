"""The destructive half of the storage engine: purge, squash, rewrite and force-push, behind one guard.

Every deletion is re-checked against the live Hub just before it happens, in
`purge_refusals` (git-filter-repo's pattern: all the conditions in one place,
each a short reason inside one refusal frame):

- the file listing of HEAD (and of every other ref) must be readable and not empty;
- no object still referenced by any ref tip is deleted (fail closed);
- no object pushed in the last N minutes is deleted (a push may be in flight);
- every object deleted is in this plan's backup, byte for byte;
- every moved file was verified in its destination by sha256 (the caller passes that proof).

What each way of slimming keeps and loses (the plan says it too):
- purge (`lfs-files/batch`): keeps every commit; old versions of the purged files become unreadable.
- squash (`super-squash`): keeps the files at HEAD; loses every past commit (the bundle has them).
- rewrite (git filter-repo in a fresh clone, force-push, purge): keeps commits that still change
  something, with new ids; drops the purged pointers and big plain-git blobs from history.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remedybot.core.errors import HubError, RefusedError, refusal
from remedybot.core.progress import progress_bar
from remedybot.remedy.storage import gitio
from remedybot.remedy.storage.backup import check_backup
from remedybot.remedy.storage.selection import is_recent

if TYPE_CHECKING:
    from remedybot.hub import Hub

MARKER = "remedybot-rewrite.json"


def referenced_now(hub: Hub, space_id: str) -> tuple[set[str], list[str]]:
    """LFS oids referenced by the tip of every ref on the Hub now, and the reasons to stop (fail closed)."""
    refs = hub.list_refs(space_id)
    reasons = [] if "refs/heads/main" in refs else ["the Space has no main branch to read"]
    oids: set[str] = set()
    for ref, sha in sorted(refs.items()):
        files = hub.list_tree(space_id, revision=sha)
        if not files:
            reasons.append(f"{ref} lists no files, so what it references cannot be told")
        oids |= {str(f["lfs"]["oid"]) for f in files if (f.get("lfs") or {}).get("oid")}
    return oids, reasons


def purge_refusals(*, doomed: list[dict[str, Any]], live: dict[str, dict[str, Any]], referenced: set[str],
                   listing_reasons: list[str], keep_recent_minutes: float, backup: Path,
                   unverified: list[str], now: datetime) -> list[str]:
    """Every reason not to delete `doomed` now (empty: go ahead)."""
    reasons = list(listing_reasons)
    if unverified:
        reasons.append("moved files not verified in the destination by sha256: " + ", ".join(unverified[:5]))
    in_use = [o for o in doomed if o["oid"] in referenced]
    if in_use:
        reasons.append("a ref still references " + ", ".join(f"{o['filename'] or o['oid'][:12]}" for o in in_use))
    recent = [o for o in doomed if o["oid"] in live and is_recent(live[o["oid"]].get("pushedAt"), now,
                                                                   keep_recent_minutes)]
    if recent:
        reasons.append(f"pushed in the last {keep_recent_minutes:g} minutes: "
                       + ", ".join(o["filename"] or o["oid"][:12] for o in recent))
    reasons += check_backup(backup, [o["oid"] for o in doomed if o["oid"] in live])
    return reasons


def purge(hub: Hub, space_id: str, objects: list[dict[str, Any]], *, keep_recent_minutes: float, backup: Path,
          unverified: list[str], calls: list[dict[str, Any]]) -> list[str]:
    """Permanently delete the approved LFS objects still stored; returns the oids deleted.

    Raises:
        RefusedError: a guard failed; nothing was deleted. Re-plan.
    """
    referenced, listing_reasons = referenced_now(hub, space_id)
    live = {o["fileOid"]: o for o in hub.list_lfs_objects(space_id)}
    reasons = purge_refusals(doomed=objects, live=live, referenced=referenced, listing_reasons=listing_reasons,
                             keep_recent_minutes=keep_recent_minutes, backup=backup, unverified=unverified,
                             now=datetime.now(UTC))
    if reasons:
        raise _refuse(f"delete {len(objects)} LFS objects of '{space_id}'", reasons, space_id)
    todo = [o["oid"] for o in objects if o["oid"] in live]
    if todo:
        calls.append({"call": f"POST /api/spaces/{space_id}/lfs-files/batch", "deletions": todo})
        hub.delete_lfs_objects(space_id, todo)
    return todo


def squash(hub: Hub, space_id: str, *, message: str, approved: list[dict[str, Any]], keep_recent_minutes: float,
           backup: Path, unverified: list[str]) -> None:
    """super_squash main, after checking that it frees nothing the plan did not back up.

    A squash frees every object no ref references, so it runs only when those are exactly
    objects this plan approved (backed up and not recent).
    """
    referenced, listing_reasons = referenced_now(hub, space_id)
    live = {o["fileOid"]: o for o in hub.list_lfs_objects(space_id)}
    approved_oids = {o["oid"] for o in approved}
    freed = [{"oid": oid, "filename": o.get("filename") or ""} for oid, o in live.items() if oid not in referenced]
    reasons = purge_refusals(doomed=freed, live=live, referenced=referenced, listing_reasons=listing_reasons,
                             keep_recent_minutes=keep_recent_minutes, backup=backup, unverified=unverified,
                             now=datetime.now(UTC))
    stray = [o["filename"] or o["oid"][:12] for o in freed if o["oid"] not in approved_oids]
    if stray:
        reasons.append("the squash would also free objects this plan did not approve: " + ", ".join(stray[:5]))
    if reasons:
        raise _refuse(f"squash the history of '{space_id}'", reasons, space_id)
    hub.super_squash(space_id, message)


def rewrite(hub: Hub, space_id: str, workdir: Path, *, strip_oids: list[str], strip_blobs: list[str]) -> dict[str, Any]:
    """Rewrite history in a fresh mirror clone with git filter-repo; nothing is pushed. Returns the marker."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    repo = gitio.mirror_clone(hub.web_url(space_id, "space"), workdir / "rewrite.git", token=hub.token,
                              what=f"Space '{space_id}' for the rewrite")
    before = gitio.refs(repo)
    ids = strip_history(repo, strip_oids=strip_oids, strip_blobs=strip_blobs, label=f"'{space_id}'")
    after = gitio.refs(repo)
    marker = {"based_on": before.get("refs/heads/main"), "new_head": after.get("refs/heads/main"),
              "refs": {ref: {"old": before.get(ref), "new": sha} for ref, sha in after.items()
                       if ref.startswith(("refs/heads/", "refs/tags/")) and before.get(ref) != sha},
              "stripped": ids}
    (workdir / MARKER).write_text(json.dumps(marker, indent=1))
    return marker


def strip_history(repo: Path, *, strip_oids: list[str], strip_blobs: list[str], label: str) -> list[str]:
    """The local half of the rewrite (what bench/bench_history_rewrite.py times): in a fresh clone,
    strip the pointer blobs of `strip_oids` and the plain-git blobs `strip_blobs` from all history,
    but never a blob any ref tip still has (refused instead). Returns the blob ids stripped.
    """
    tips = set(gitio.refs(repo).values())
    pointers = gitio.history_pointers(repo) if strip_oids else {}
    wanted = set(strip_oids)
    ids = sorted({blob for blob, (oid, _size) in pointers.items() if oid in wanted} | set(strip_blobs))
    at_tips = {b for sha in tips for b in gitio.tree_blobs(repo, sha).values()} & set(ids)
    if at_tips:
        raise _refuse(f"rewrite the history of {label}", [f"{len(at_tips)} of the blobs to strip are still used "
                                                         "at a ref tip"], label.strip("'"))
    if not ids:
        return ids  # nothing to strip: leave history (and every commit id) as it is
    ids_file = repo.parent / f"{repo.name}.strip-ids.txt"
    ids_file.write_text("".join(f"{i}\n" for i in ids))
    with progress_bar(f"Rewriting history of {label} (git filter-repo, {len(ids)} blobs)"):
        run_filter_repo(repo, ["--strip-blobs-with-ids", str(ids_file)])
    return ids


def run_filter_repo(repo: Path, args: list[str]) -> None:
    """git filter-repo as a child process: its library form raises SystemExit and promises no API."""
    import os

    proc = subprocess.run([sys.executable, "-m", "git_filter_repo", *args], cwd=repo, capture_output=True,
                          env={**os.environ, **gitio.git_env(None)})
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise HubError(f"Cannot rewrite history: git filter-repo failed ({' '.join(tail) or proc.returncode}).")


def read_marker(workdir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((workdir / MARKER).read_text())
    except (OSError, ValueError):
        return None


def force_push(hub: Hub, space_id: str, workdir: Path) -> dict[str, Any]:
    """Push the rewritten refs, each with --force-with-lease on the sha it was rewritten from.

    Raises:
        HubError: the lease failed (someone pushed since the rewrite) or the Hub refused the push;
            the Space is unchanged; re-plan.
    """
    marker = read_marker(workdir)
    if marker is None or not marker.get("new_head"):
        raise _refuse(f"force-push the rewritten history of '{space_id}'", ["the rewrite step has not run"],
                      space_id)
    if not marker["refs"]:
        return marker  # the rewrite changed no branch or tag: nothing to push
    args = ["push", "--porcelain"]
    for ref, change in sorted(marker["refs"].items()):
        args.append(f"--force-with-lease={ref}:{change['old'] or ''}")
    args.append(hub.web_url(space_id, "space"))
    args += [f"{ref}:{ref}" for ref in sorted(marker["refs"])]  # no "+": it would override the lease
    with progress_bar(f"Force-pushing rewritten history to '{space_id}'"):
        gitio.run_git(args, cwd=workdir / "rewrite.git", env=gitio.git_env(hub.token),
                      what=f"force-push the rewritten history to Space '{space_id}'")
    shutil.rmtree(workdir / "rewrite.git", ignore_errors=True)  # pushed: the marker is all a resume needs
    return marker


def _refuse(action: str, reasons: list[str], space_id: str) -> RefusedError:
    return refusal(action, "; ".join(reasons), f"Nothing was deleted. Run 'remedybot fix {space_id} --dry-run' "
                                              "for a new plan")
