"""What moves, what is purged, and what is left alone: pure decisions over an Inventory.

No Hub calls and no clock of its own (`now` is passed in), so a plan can be
re-derived and tested offline. The rules, each written once here:

- Move: LFS files at HEAD matching the user's patterns, else at least `move_over` bytes.
- Purge: LFS objects no ref tip references (branches, tags and PR refs are all
  protected, not only HEAD); after the move, the moved objects too, unless another
  path or ref still uses them.
- Left alone: objects pushed in the last `keep_recent_minutes` (a push may be in
  flight; an unknown or future push date counts as recent), and anything a ref uses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from remedybot.core.errors import UsageError
from remedybot.remedy.storage.inventory import Inventory, format_size

KINDS = ("model", "dataset", "bucket")
DEFAULT_MOVE_OVER = 1_000_000
DEFAULT_KEEP_RECENT = 60
MAIN_REFS = ("refs/heads/main", "HEAD")


@dataclass(frozen=True)
class Destination:
    """Where moved files go: a model or dataset repo, or a Storage Bucket."""

    kind: str
    repo_id: str

    @property
    def label(self) -> str:
        return f"{self.kind} '{self.repo_id}'"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def parse_destination(text: str | None, space_id: str) -> Destination:
    """`--to`: model:|dataset:|bucket:OWNER/NAME, or OWNER/NAME (a model); default model:OWNER/SPACE-assets.

    Raises:
        UsageError: an unknown kind, a Space as destination, or a malformed id.
    """
    owner, name = space_id.split("/", 1)
    if not text:
        return Destination("model", f"{owner}/{name}-assets")
    kind, sep, rest = text.partition(":")
    if not sep:
        kind, rest = "model", text
    if kind not in KINDS:
        raise UsageError(f"--to '{text}': the destination must be model:, dataset: or bucket:OWNER/NAME "
                         "(large files cannot go into another Space: it has the same limit).")
    repo_id = rest if "/" in rest else f"{owner}/{rest}"
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts):
        raise UsageError(f"--to '{text}': expected OWNER/NAME after '{kind}:'.")
    return Destination(kind, repo_id)


@dataclass
class Selection:
    moves: list[dict[str, Any]] = field(default_factory=list)  # {path, oid, size, xet_hash}
    purge_history: list[dict[str, Any]] = field(default_factory=list)  # {oid, size, filename}
    purge_moved: list[dict[str, Any]] = field(default_factory=list)
    left_alone: list[dict[str, Any]] = field(default_factory=list)  # {oid, size, filename, reason}
    strip_blobs: list[dict[str, Any]] = field(default_factory=list)  # plain-git blobs only history holds
    notes: list[str] = field(default_factory=list)

    @property
    def purged(self) -> list[dict[str, Any]]:
        return self.purge_history + self.purge_moved

    def projected(self, inventory: Inventory) -> int | None:
        if inventory.used_storage is None:
            return None
        return inventory.used_storage - sum(o["size"] for o in self.purged)


def is_recent(pushed_at: str | None, now: datetime, minutes: float) -> bool:
    """Pushed within the window, in the future (clock skew) or at an unknown time: leave it alone."""
    if not pushed_at:
        return True
    try:
        when = datetime.fromisoformat(pushed_at.replace("Z", "+00:00"))
    except ValueError:
        return True
    return when >= now - timedelta(minutes=minutes)


def select(inventory: Inventory, *, destination: Destination, now: datetime, move_over: int = DEFAULT_MOVE_OVER,
           patterns: list[str] | None = None, keep_recent_minutes: float = DEFAULT_KEEP_RECENT) -> Selection:
    sel = Selection()
    if not inventory.head:
        sel.notes.append("HEAD lists no files: what HEAD references cannot be told, so nothing is moved or "
                         "deleted (fail closed)")
        return sel
    objects = {o["oid"]: o for o in inventory.lfs}
    for f in inventory.head:
        if not f["lfs_oid"]:
            continue
        wanted = any(fnmatchcase(f["path"], p) or fnmatchcase(f["path"].rsplit("/", 1)[-1], p)
                     for p in patterns) if patterns else f["size"] >= move_over
        if not wanted:
            continue
        if not f["xet_hash"]:  # the Hub copies between repos and into buckets only by Xet hash
            sel.notes.append(f"{f['path']} is not moved: the Hub lists no Xet hash for it (legacy git-LFS "
                             "storage), and it copies files on the server only by Xet hash")
            continue
        sel.moves.append({"path": f["path"], "oid": f["lfs_oid"], "size": f["size"], "xet_hash": f["xet_hash"]})
    sel.moves.sort(key=lambda m: (-m["size"], m["path"]))
    moved_paths = {m["path"] for m in sel.moves}
    protected_now = inventory.protected_oids
    protected_after = {o for ref, oids in inventory.ref_oids.items() if ref not in MAIN_REFS for o in oids}
    protected_after |= {f["lfs_oid"] for f in inventory.head if f["lfs_oid"] and f["path"] not in moved_paths}
    for oid, obj in sorted(objects.items(), key=lambda kv: -kv[1]["size"]):
        row = {"oid": oid, "size": obj["size"], "filename": obj["filename"]}
        moved = any(m["oid"] == oid for m in sel.moves)
        if oid in protected_now and not moved:
            continue  # in use: kept, and not worth listing
        if moved and oid in protected_after:
            sel.left_alone.append({**row, "reason": "moved, but another path or ref still uses it"})
        elif is_recent(obj.get("pushed_at"), now, keep_recent_minutes):
            sel.left_alone.append({**row, "reason": f"pushed in the last {keep_recent_minutes:g} minutes "
                                                    f"({obj.get('pushed_at') or 'unknown time'})"})
        elif moved:
            sel.purge_moved.append(row)
        else:
            sel.purge_history.append(row)
    sel.strip_blobs = [{"blob_id": b["blob_id"], "size": b["size"], "paths": b["paths"]}
                       for b in inventory.history_blobs if not b["at_tip"] and b["size"] >= move_over]
    projected = sel.projected(inventory)
    if projected is not None and projected > inventory.limit:
        sel.notes.append(f"after these steps the Space would still use about {format_size(projected)} of "
                         f"{format_size(inventory.limit)}: move more (--move-over, --move)")
    return sel
