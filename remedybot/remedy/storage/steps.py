"""What each history_slim step does when applied, and how it tells that it already took effect.

`OPS[op](step, run)` performs one step (the playbook's `apply` dispatches here);
`DONE[op](step, run)` answers "did this already happen?" from the Hub or the
backup folder, which is what lets a run killed at any point resume, and a failed
step be run again without doing anything twice. Side effects go through `Hub`
(retried, translated) and the engine modules; every Hub call is recorded with
`run.call` for the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from remedybot.core.errors import HubError, NotFoundError, refusal
from remedybot.model.plan import Step
from remedybot.remedy.audit import state_home
from remedybot.remedy.playbook import Outcome, RunContext
from remedybot.remedy.storage import move
from remedybot.remedy.storage.backup import backup_dir, check_backup, make_backup
from remedybot.remedy.storage.inventory import format_size
from remedybot.remedy.storage.selection import Destination
from remedybot.remedy.storage.slim import force_push, purge, read_marker, rewrite, squash
from remedybot.remedy.verify import verify_poll, wait_for_space


# -- helpers -----------------------------------------------------------------------------
def _backup_root(run: RunContext) -> Path:
    return backup_dir(run.plan.space_id, run.plan.fingerprint)


def _workdir(run: RunContext) -> Path:
    return state_home() / "work" / run.plan.space_id.replace("/", "--") / run.plan.fingerprint[:12]


def _dest(s: Step) -> Destination:
    d = s.params["destination"]
    return Destination(d["kind"], d["repo_id"])


def _unverified(run: RunContext) -> list[str]:
    """Moved files of this plan without a passing sha256 verification in the audit log (fail closed)."""
    moved = [f["path"] for st in run.plan.steps if st.params.get("op") == "copy" for f in st.params["files"]]
    verified: set[str] = set()
    for record in run.audit.records(run.plan.fingerprint):
        data = record.get("data") or {}
        if record.get("event") == "step-end" and record.get("status") == "done" and data.get("op") == "verify":
            verified |= set(data.get("verified") or [])
    return [p for p in moved if p not in verified]


def _settle(run: RunContext) -> str:
    """Wait (bounded) for the rebuild a change started, so the recorded serial is the settled one."""
    return str(wait_for_space(run.hub, run.plan.space_id, settle_first=min(2.0, verify_poll())).get("stage"))


# -- the operations ----------------------------------------------------------------------
def _report(s: Step, run: RunContext) -> Outcome:
    for line in s.params["lines"]:
        run.note(line)
    return Outcome("done", "reported the storage inventory")


def _backup(s: Step, run: RunContext) -> Outcome:
    root = _backup_root(run)
    manifest = make_backup(run.hub, run.plan.space_id, s.params["store"], root)
    run.note(f"Backup of '{run.plan.space_id}': {root}")
    return Outcome("done", f"backup written to {root}", data={
        "backup": str(root), "bundle_sha256": manifest["bundle"]["sha256"],
        "stored": [o["oid"] for o in manifest["lfs"] if o["stored"]]})


def _copy(s: Step, run: RunContext) -> Outcome:
    dest, space, files = _dest(s), run.plan.space_id, s.params["files"]
    move.check_copyable(space, dest, files)
    run.call(f"create {dest.label} if missing", move.create_destination, run.hub, dest,
             private=s.params["destination"]["private"])
    run.call(f"copy {len(files)} files from '{space}' to {dest.label}", move.copy_files, run.hub, space, dest,
             files, revision=s.params["revision"], message=f"Large files moved from Space {space} by remedybot")
    missing = move.missing_in_destination(run.hub, dest, files)
    if missing:
        raise HubError(f"Cannot copy to {dest.label}: after the copy it still lacks {', '.join(missing[:5])}.")
    return Outcome("done", f"copied {len(files)} files to {dest.label}", data={"copied": [f["path"] for f in files]})


def _verify(s: Step, run: RunContext) -> Outcome:
    dest, files = _dest(s), s.params["files"]
    problems = run.call(f"verify {len(files)} files in {dest.label}", move.verify_files, run.hub, dest, files)
    if problems:
        return Outcome("failed", f"copies in {dest.label} do not match: {'; '.join(problems[:3])}")
    return Outcome("done", f"all {len(files)} copies in {dest.label} match by sha256",
                   data={"verified": [f["path"] for f in files]})


def _purge(s: Step, run: RunContext) -> Outcome:
    deleted = purge(run.hub, run.plan.space_id, s.params["objects"], keep_recent_minutes=s.params[
        "keep_recent_minutes"], backup=_backup_root(run), unverified=_unverified(run), calls=run.calls)
    return Outcome("done", f"deleted {len(deleted)} LFS objects ({s.params['phase']})", data={"deleted": deleted})


def _commit(s: Step, run: RunContext) -> Outcome:
    space, dest = run.plan.space_id, _dest(s)
    files = [f for st in run.plan.steps if st.params.get("op") == "copy" for f in st.params["files"]]
    unverified = _unverified(run) or move.missing_in_destination(run.hub, dest, files)
    if unverified:
        raise refusal(f"remove moved files from '{space}'", "not verified in the destination by sha256: "
                      + ", ".join(unverified[:5]), f"Nothing was deleted. Re-run 'remedybot apply' to copy and verify "
                                                   f"them, or 'remedybot fix {space} --dry-run' for a new plan")
    if s.params["volumes"]:
        run.call(f"PUT /api/spaces/{space}/volumes", run.hub.set_space_volumes, space, s.params["volumes"])
    sha = run.call(f"POST /api/spaces/{space}/commit/main", move.commit_space, run.hub, space,
                   delete=s.params["delete"], readme=s.params["readme"], code=s.params.get("code"),
                   parent=s.params["parent"],
                   message=s.params["title"], body=f"Plan {run.plan.fingerprint[:12]}: moved to {dest.label}.")
    for ref in s.params["references"]:
        run.warn(f"{ref['file']}:{ref['line']} still names '{ref['moved']}', now in {dest.label}: "
                       f"use {ref['use']}")
    stage = _settle(run)
    return Outcome("done", f"committed {sha[:7]}: removed {len(s.params['delete'])} moved files; Space {stage}",
                   data={"commit": sha, "references": s.params["references"]})


def _squash(s: Step, run: RunContext) -> Outcome:
    squash(run.hub, run.plan.space_id, message=s.params["message"], approved=s.params["approved"],
           keep_recent_minutes=s.params["keep_recent_minutes"], backup=_backup_root(run), unverified=_unverified(run))
    return Outcome("done", f"squashed the history of '{run.plan.space_id}'; Space {_settle(run)}")


def _rewrite(s: Step, run: RunContext) -> Outcome:
    marker = rewrite(run.hub, run.plan.space_id, _workdir(run), strip_oids=s.params["strip_oids"],
                     strip_blobs=s.params["strip_blobs"])
    return Outcome("done", f"rewrote history locally ({len(marker['stripped'])} blobs stripped); main "
                           f"{str(marker['based_on'])[:7]} -> {str(marker['new_head'])[:7]}",
                   data={"workdir": str(_workdir(run)), **marker})


def _push(s: Step, run: RunContext) -> Outcome:
    marker = force_push(run.hub, run.plan.space_id, _workdir(run))
    return Outcome("done", f"force-pushed {len(marker['refs'])} rewritten refs; Space {_settle(run)}",
                   data={"refs": marker["refs"]})


def _rebuild(s: Step, run: RunContext) -> Outcome:
    space, before, limit = run.plan.space_id, s.params["before"], s.params["limit"]
    used = run.call(f"GET /api/spaces/{space}?expand=usedStorage", run.hub.used_storage, space)
    figures = f"usedStorage {format_size(before)} -> {format_size(used)} (limit {format_size(limit)})"
    run.note(f"'{space}': {figures}")
    data = {"used_before": before, "used_after": used, "limit": limit}
    if used is None or before is None or used >= before:
        return Outcome("failed", f"{figures}: usedStorage did not fall, so this is not a success. The Hub can take "
                                 f"up to 36 h to count deletions; check later with 'remedybot diagnose {space}'", data)
    if used > limit:
        return Outcome("failed", f"{figures}: still over the limit; make a new plan that moves more", data)
    if run.hub.runtime(space).get("stage") == "RUNNING":
        return Outcome("done", f"{figures}; the Space is already RUNNING", data)
    run.call(f"POST /api/spaces/{space}/restart", run.hub.restart, space)
    return Outcome("done", f"{figures}; restarted the Space to rebuild", data)


OPS: dict[str, Callable[[Step, RunContext], Outcome]] = {
    "report": _report, "backup": _backup, "copy": _copy, "verify": _verify, "purge": _purge, "commit": _commit,
    "squash": _squash, "rewrite": _rewrite, "push": _push, "rebuild": _rebuild}


# -- took effect? (resume after a kill or a failure) ---------------------------------------------
def _backup_done(s: Step, run: RunContext) -> bool:
    return not check_backup(_backup_root(run), [o["oid"] for o in s.params["store"]])


def _copy_done(s: Step, run: RunContext) -> bool:
    try:
        return not move.missing_in_destination(run.hub, _dest(s), s.params["files"])
    except NotFoundError:
        return False


def _purge_done(s: Step, run: RunContext) -> bool:
    live = {o["fileOid"] for o in run.hub.list_lfs_objects(run.plan.space_id)}
    return not live & {o["oid"] for o in s.params["objects"]}


def _commit_done(s: Step, run: RunContext) -> bool:
    head = {f["path"] for f in run.hub.list_tree(run.plan.space_id)}
    if not head or head & set(s.params["delete"]):
        return False
    expected = {**({"README.md": s.params["readme"]} if s.params["readme"] is not None else {}),
                **(s.params.get("code") or {})}
    return all(run.hub.read_file(run.plan.space_id, path) == text for path, text in expected.items())


def _squash_done(s: Step, run: RunContext) -> bool:
    commits = run.hub.list_commits(run.plan.space_id, limit=2)
    return len(commits) == 1 and commits[0].get("title") == s.params["message"]


def _rewrite_done(s: Step, run: RunContext) -> bool:
    marker = read_marker(_workdir(run))
    main = run.hub.list_refs(run.plan.space_id).get("refs/heads/main")
    return marker is not None and main in (marker["based_on"], marker["new_head"])


def _push_done(s: Step, run: RunContext) -> bool:
    marker = read_marker(_workdir(run))
    return marker is not None and run.hub.list_refs(run.plan.space_id).get("refs/heads/main") == \
        marker["new_head"]


DONE: dict[str, Callable[[Step, RunContext], bool]] = {
    "backup": _backup_done, "copy": _copy_done, "purge": _purge_done, "commit": _commit_done,
    "squash": _squash_done, "rewrite": _rewrite_done, "push": _push_done}
