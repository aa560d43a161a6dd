"""The history_slim plan: the ordered steps, each naming the exact files and objects it touches.

Pure (the inventory was read before planning). The order is the safety argument:

    report → backup → copy → verify → purge history-only objects → commit (drop moved files)
          → [squash | rewrite → force-push] → purge moved objects → rebuild

Nothing leaves the Space before the backup is complete and every moved file is
verified in its destination. History-only objects go first because a Space over
its limit refuses commits: purging them is what makes room for the commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from remedybot.core.errors import UsageError
from remedybot.edits.diff import unified_diff
from remedybot.model.plan import Step
from remedybot.remedy.playbook import PlanContext, step
from remedybot.remedy.storage.inventory import Inventory, format_size, parse_size
from remedybot.remedy.storage.move import code_references, preload_entry, readme_diff, readme_with_preload
from remedybot.remedy.storage.repoint import rewrite_code, unresolved
from remedybot.remedy.storage.selection import (
    DEFAULT_KEEP_RECENT,
    DEFAULT_MOVE_OVER,
    Destination,
    Selection,
    parse_destination,
    select,
)

ID = "history_slim"
MODES = ("purge", "squash", "rewrite")
ACCESS = ("preload", "volume", "report")
LISTED = 12  # objects named one by one in a step's calls; the plan file has them all
COMMIT_TITLE = "remedybot: move large files out of the Space"
SQUASH_TITLE = "remedybot: squash history to free storage"


def _options(ctx: PlanContext) -> dict[str, Any]:
    extra = ctx.options.extra
    mode = extra.get("slim") or "purge"
    access = extra.get("app_access")
    if mode not in MODES or (access and access not in ACCESS):
        raise UsageError(f"--slim must be one of {', '.join(MODES)}; --app-access one of {', '.join(ACCESS)}.")
    try:
        move_over = parse_size(str(extra["move_over"])) if extra.get("move_over") else DEFAULT_MOVE_OVER
    except ValueError as exc:
        raise UsageError(f"--move-over: {exc}.") from exc
    return {"mode": mode, "access": access, "move_over": move_over, "patterns": list(extra.get("move") or []),
            "keep": float(extra.get("keep_recent_minutes") or DEFAULT_KEEP_RECENT)}


def _listing(objects: list[dict[str, Any]], verb: str) -> list[str]:
    lines = [f"{verb} {o.get('filename') or o.get('path') or ''} ({format_size(o['size'])}, sha256 {o['oid'][:12]})"
             for o in objects[:LISTED]]
    if len(objects) > LISTED:
        lines.append(f"... and {len(objects) - LISTED} more (all listed in the plan file)")
    return lines


def _access(requested: str | None, dest: Destination, inv: Inventory) -> tuple[str, str | None]:
    """The app-access mode that can work, and why another one was not taken."""
    private = inv.destination.get("private") if inv.destination.get("exists") else inv.private
    if requested is None and dest.kind == "bucket":
        return "volume", None
    if requested in (None, "preload"):
        if dest.kind == "model" and not private:
            return "preload", None
        return "report", "preload_from_hub only loads public model repos"
    return requested, None


def build_steps(ctx: PlanContext) -> list[Step]:
    raw = (getattr(ctx.evidence, "storage", None) or {}).get("inventory") if ctx.evidence is not None else None
    if not raw:
        return []  # no inventory read (planned without a Hub): nothing can be named, so nothing is planned
    inv = Inventory.from_dict(raw)
    opts = _options(ctx)
    dest = parse_destination(ctx.options.to, ctx.space_id)
    sel = select(inv, destination=dest, now=datetime.now(UTC), move_over=opts["move_over"],
                 patterns=opts["patterns"], keep_recent_minutes=opts["keep"])
    space = ctx.space_id
    steps = [_report(inv, sel, dest)]
    if not sel.moves and not sel.purged:
        return steps
    steps.append(step(ID, action=f"back up the Space: git bundle of every ref + the {len(sel.purged)} LFS objects "
                                 "later steps delete", risk="safe", reversible=True, fixes=False,
                      why="Nothing is deleted without a local copy: the bundle holds the full history, lfs/ the "
                          "bytes of every object a later step deletes, each checked against its sha256.",
                      params={"op": "backup", "store": sel.purged},
                      calls=[f"git clone --mirror {space}", "git bundle create repo.bundle --all",
                             f"download {len(sel.purged)} LFS objects "
                             f"({format_size(sum(o['size'] for o in sel.purged))}) through the LFS batch API",
                             f"write $REMEDYBOT_HOME/backups/{space.replace('/', '--')}/<fingerprint>/manifest.json"]))
    mode, keep = opts["mode"], opts["keep"]
    access, access_note = _access(opts["access"], dest, inv)
    dest_info = {**dest.to_dict(), "private": inv.private if not inv.destination.get("exists")
                 else bool(inv.destination.get("private"))}
    if sel.moves:
        visibility = "private" if dest_info["private"] else "public"
        create = "" if inv.destination.get("exists") else f"create {dest.label} ({visibility}); "
        steps.append(step(ID, action=f"copy {len(sel.moves)} large files to {dest.label} (server-side)", risk="safe",
                          reversible=True, fixes=False,
                          why=f"{create}the Hub duplicates the objects itself, nothing is downloaded; the Space "
                              "is not touched yet.",
                          params={"op": "copy", "destination": dest_info, "files": sel.moves, "revision": inv.sha},
                          calls=_listing(sel.moves, "copy")))
        steps.append(step(ID, action=f"verify the {len(sel.moves)} copies in {dest.label} by sha256", risk="read-only",
                          reversible=True, fixes=False,
                          why="Each copy is downloaded back and hashed; nothing is deleted from the Space unless "
                              "every sha256 matches.",
                          params={"op": "verify", "destination": dest_info, "files": sel.moves},
                          calls=[f"GET {dest.repo_id}/resolve/main/<path> for each file, sha256"]))
    if sel.purge_history:
        steps.append(_purge(sel.purge_history, "history", keep, space,
                            why="These objects are only in past commits; purging them first brings the Space under "
                                "its limit, which the Hub needs before it accepts the commit that follows. Keeps: "
                                "every commit. Loses: the old versions of these files (they stay in the backup)."))
    if sel.moves:
        steps.append(_commit(inv, sel, dest, access, access_note))
    tail = _slim_tail(mode, sel, keep, space)
    steps += tail
    steps.append(step(ID, action="re-read usedStorage; if it fell under the limit, rebuild the Space", risk="safe",
                      reversible=True, fixes=True,
                      why="Success is the Hub's own storage figure falling, not our arithmetic: if it did not fall "
                          "the run says so and stops without claiming success.",
                      params={"op": "rebuild", "before": inv.used_storage, "limit": inv.limit},
                      calls=[f"GET /api/spaces/{space}?expand=usedStorage", f"POST /api/spaces/{space}/restart"],
                      verify=f"usedStorage below {format_size(inv.limit)}, then the Space RUNNING and its app "
                             "answering"))
    return steps


def _slim_tail(mode: str, sel: Selection, keep: float, space: str) -> list[Step]:
    steps = []
    if mode == "squash":
        steps.append(step(ID, action="squash the Space's history into one commit (super_squash_history)",
                          risk="destructive", reversible=False, fixes=False,
                          why="Keeps: the files at HEAD. Loses: every past commit and its messages (the backup's "
                              "bundle keeps them). Refused if it would free anything this plan did not back up.",
                          params={"op": "squash", "message": SQUASH_TITLE, "approved": sel.purged,
                                  "keep_recent_minutes": keep},
                          calls=[f"POST /api/spaces/{space}/super-squash/main"]))
    if mode == "rewrite":
        strip = [b["blob_id"] for b in sel.strip_blobs]
        steps.append(step(ID, action="rewrite history in a fresh clone with git filter-repo (local; nothing pushed)",
                          risk="safe", reversible=True, fixes=False,
                          why=f"Strips the pointers of the {len(sel.purged)} purged objects and {len(strip)} large "
                              "plain-git blobs only history holds. Keeps: every commit that still changes something "
                              "(with new ids). Loses: those blobs, and commits left empty.",
                          params={"op": "rewrite", "strip_oids": [o["oid"] for o in sel.purged], "strip_blobs": strip},
                          calls=[f"git clone --mirror {space}",
                                 "git filter-repo --strip-blobs-with-ids <ids>"]))
        steps.append(step(ID, action="force-push the rewritten history (--force-with-lease)", risk="destructive",
                          reversible=False, fixes=False,
                          why="Replaces the Space's history; the lease refuses if anyone pushed since the rewrite. "
                              "Clones made before it will not fast-forward (the backup keeps the old history).",
                          params={"op": "push"}, calls=[f"git push --force-with-lease {space} <rewritten refs>"]))
    if sel.purge_moved:
        steps.append(_purge(sel.purge_moved, "moved", keep, space,
                            why="HEAD no longer references these objects (they now live in the destination, "
                                "verified); purging them frees their storage in the Space."))
    return steps


def _purge(objects: list[dict[str, Any]], phase: str, keep: float, space: str, why: str) -> Step:
    return step(ID, action=f"permanently delete {len(objects)} LFS objects ({phase}: "
                           f"{format_size(sum(o['size'] for o in objects))})", risk="destructive",
                reversible=False, fixes=False, why=why,
                params={"op": "purge", "phase": phase, "objects": objects, "keep_recent_minutes": keep},
                calls=[*_listing(objects, "delete"),
                       f"POST /api/spaces/{space}/lfs-files/batch (rewriteHistory: false)"])


def _commit(inv: Inventory, sel: Selection, dest: Destination, access: str, note: str | None) -> Step:
    paths = [m["path"] for m in sel.moves]
    readme_before = inv.files.get("README.md")
    readme = readme_with_preload(readme_before, preload_entry(dest, paths)) if access == "preload" else None
    if access == "preload" and readme is None:
        access, note = "report", "the README has no front matter to add preload_from_hub to"
    code = rewrite_code(inv.files, paths, dest, access)
    refs = unresolved(code_references({**inv.files, **code}, sel.moves, dest, access), dest)
    diff = readme_diff(readme_before or "", readme) if readme and readme != readme_before else ""
    diff += "".join(unified_diff(name, inv.files[name], text) for name, text in sorted(code.items()))
    diff += "".join(f"{r['file']}:{r['line']}: {r['text']}\n    -> use {r['use']}\n" for r in refs)
    volumes = [{"type": dest.kind, "source": dest.repo_id, "mountPath": "/data", "readOnly": dest.kind != "bucket"}] \
        if access == "volume" else None
    how = {"preload": "preload_from_hub in the README downloads them at build time",
           "volume": f"{dest.label} is mounted at /data", "report": "the lines below must load them from the Hub"}
    return step(ID, action=f"commit to the Space: remove the {len(paths)} moved files"
                           + (", add preload_from_hub to README.md" if readme else "")
                           + (f", point {', '.join(sorted(code))} at the new location" if code else ""),
                risk="disruptive", reversible=True, fixes=False,
                why=f"The files now live in {dest.label}; {how[access]}"
                    + (f" ({note})" if note else "") + ". Only runs when every copy was verified by sha256.",
                params={"op": "commit", "delete": paths, "readme": readme, "code": code, "volumes": volumes,
                        "parent": inv.sha,
                        "destination": dest.to_dict(), "access": access, "references": refs,
                        "title": COMMIT_TITLE},
                calls=[*(f"delete {p}" for p in paths[:LISTED]),
                       *([f"PUT /api/spaces/{inv.space_id}/volumes {volumes}"] if volumes else []),
                       f"POST /api/spaces/{inv.space_id}/commit/main (parent {inv.sha[:7]})"],
                diff=diff or None)


def _report(inv: Inventory, sel: Selection, dest: Destination) -> Step:
    lines = [f"usedStorage {format_size(inv.used_storage)} of {format_size(inv.limit)} ({inv.limit_source})",
             "top consumers:"]
    lines += [f"  {format_size(r['size']):>9}  {r['kind']:8}  {r['what']}  "
              f"{'(referenced at HEAD/a ref)' if r['at_head'] else '(history only)'}" for r in inv.top_consumers()]
    lines += [f"left alone: {o['filename'] or o['oid'][:12]} — {o['reason']}" for o in sel.left_alone]
    lines += [f"note: {n}" for n in sel.notes]
    if inv.analysis != "ok":
        lines.append(f"note: {inv.analysis}")
    projected = sel.projected(inv)
    lines.append(f"after the plan: about {format_size(projected)} (moving {len(sel.moves)} files to {dest.label}, "
                 f"purging {len(sel.purged)} objects)")
    return step(ID, action="report what takes the Space's storage", risk="read-only", reversible=True, fixes=False,
                why="The inventory this plan was made from: sizes, push dates, and what HEAD still references.",
                params={"op": "report", "lines": lines}, calls=[], diff="\n".join(lines) + "\n")
