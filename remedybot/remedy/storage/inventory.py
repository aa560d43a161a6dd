"""The storage inventory of a Space: what takes its storage, and what HEAD still references.

Read-only. Taken while planning (so the plan can name the exact objects it
will move and delete) from four sources: the Space's info (usedStorage; the
limit comes from the Hub's own error text, "Repository storage limit reached
(Max: 1 GB)", or the user), the LFS listing (every stored object with size and
push date), the file tree at the planned revision, and a fresh mirror clone:
the LFS pointers at every ref tip (branches, tags, PR refs: all protected) and
`git filter-repo --analyze` for large blobs anywhere in history. The clone
lives in a temporary folder and is gone when the inventory is done.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remedybot.core.errors import NotFoundError
from remedybot.core.progress import progress_bar
from remedybot.remedy.storage import gitio

if TYPE_CHECKING:
    from remedybot.hub import Hub
    from remedybot.model.evidence import Evidence

DEFAULT_LIMIT = 1_000_000_000  # the Hub's Space repo limit, "(Max: 1 GB)"
HISTORY_BLOB_MIN = 100_000  # non-LFS blobs from this size up are reported as history consumers
TEXT_SUFFIXES = (".py", ".ipynb", ".js", ".ts", ".sh", ".toml", ".yaml", ".yml", ".json", ".cfg", ".md", ".txt")
TEXT_MAX = 200_000
TEXT_FILES_MAX = 80
_LIMIT = re.compile(r"storage limit reached \(Max:\s*([\d.]+\s*[KMGT]i?B)\)", re.IGNORECASE)
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(text: str) -> int:
    """'12 MB' -> 12000000, '1.5GiB', '500k' and plain byte counts too.

    Raises:
        ValueError: not a size; the caller reports it as a usage error.
    """
    match = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?I?B?)\s*", text.upper())
    if not match or match.group(1).count(".") > 1:
        raise ValueError(f"not a size: {text!r} (examples: 10MB, 1.5GB, 500KB)")
    unit = match.group(2) or "B"
    unit = unit if unit.endswith("B") else unit + "B"
    return int(float(match.group(1)) * _UNITS[unit])


def format_size(size: int | None) -> str:
    if size is None:
        return "?"
    for unit, value in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if abs(size) >= value:
            return f"{size / value:.1f} {unit}"
    return f"{size} B"


def limit_from_evidence(evidence: Evidence) -> tuple[int, str] | None:
    """The limit the Hub named in a build log, error message or push error, with where it was read."""
    sources: list[tuple[str, list[str]]] = [
        ("push error", [getattr(evidence, "push_error", None) or ""]),
        ("runtime error", [(getattr(evidence, "runtime", None) or {}).get("errorMessage") or ""]),
        ("build log", list(getattr(evidence, "build_log", None) or [])),
    ]
    for name, lines in sources:
        for line in lines:
            match = _LIMIT.search(line or "")
            if match:
                return parse_size(match.group(1)), f"{name}: {match.group(0)}"
    return None


@dataclass
class Inventory:
    """Plain data (JSON round trip), so a plan can be reviewed and re-derived offline."""

    space_id: str
    sha: str
    used_storage: int | None
    limit: int
    limit_source: str
    private: bool
    lfs: list[dict[str, Any]]  # {oid, size, filename, pushed_at, xet_hash}
    head: list[dict[str, Any]]  # {path, size, blob_id, lfs_oid, xet_hash}
    ref_oids: dict[str, list[str]]  # ref -> LFS oids its tip references
    history_blobs: list[dict[str, Any]] = field(default_factory=list)  # {blob_id, size, packed, paths, at_tip}
    files: dict[str, str] = field(default_factory=dict)  # small text files at HEAD: code, README
    destination: dict[str, Any] = field(default_factory=dict)  # {kind, id, exists, private}
    analysis: str = "ok"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Inventory:
        return cls(**data)

    @property
    def protected_oids(self) -> set[str]:
        """LFS objects some ref tip references: never deleted."""
        return {oid for oids in self.ref_oids.values() for oid in oids}

    def top_consumers(self, n: int = 10) -> list[dict[str, Any]]:
        """The largest stored objects, LFS and plain git blobs, with whether a ref tip references them."""
        protected = self.protected_oids
        rows = [{"what": o["filename"] or o["oid"][:12], "size": o["size"], "kind": "lfs", "id": o["oid"],
                 "at_head": o["oid"] in protected} for o in self.lfs]
        rows += [{"what": ", ".join(b["paths"]), "size": b["size"], "kind": "git blob", "id": b["blob_id"],
                  "at_head": b["at_tip"]} for b in self.history_blobs]
        return sorted(rows, key=lambda r: -r["size"])[:n]


def take_inventory(hub: Hub, space_id: str, *, evidence: Evidence | None = None, destination: Any = None,
                   limit: int | None = None) -> Inventory:
    """Read everything planning needs about the Space's storage. Makes no changes.

    Raises:
        HubError: a listing could not be read (a plan must not be made from half an inventory).
    """
    info = (getattr(evidence, "info", None) or {}) if evidence is not None else {}
    if not info.get("sha"):
        space = hub.space_info(space_id, expand=["sha", "usedStorage", "private"])
        info = {"sha": space.sha, "usedStorage": space.used_storage, "private": space.private}
    found = limit_from_evidence(evidence) if evidence is not None and limit is None else None
    limit_value, source = (limit, "given with --storage-limit") if limit else \
        found or (DEFAULT_LIMIT, "default: the Hub's 1 GB Space limit")
    sha = info["sha"]
    lfs = [{"oid": o["fileOid"], "size": int(o["size"]), "filename": o.get("filename") or "",
            "pushed_at": o.get("pushedAt"), "xet_hash": o.get("xetHash")}
           for o in hub.list_lfs_objects(space_id)]
    head = [{"path": f["path"], "size": int(f.get("size") or 0), "blob_id": f.get("oid"),
             "lfs_oid": (f.get("lfs") or {}).get("oid"), "xet_hash": f.get("xetHash")}
            for f in hub.list_tree(space_id, revision=sha)]
    inventory = Inventory(space_id=space_id, sha=sha, used_storage=info.get("usedStorage"), limit=limit_value,
                          limit_source=source, private=bool(info.get("private")), lfs=lfs, head=head, ref_oids={})
    with tempfile.TemporaryDirectory(prefix="remedybot-inventory-") as tmp:
        repo = gitio.mirror_clone(hub.web_url(space_id, "space"), Path(tmp) / "mirror.git",
                                  token=hub.token, what=f"Space '{space_id}'")
        _read_clone(inventory, repo)
    if destination is not None:
        inventory.destination = describe_destination(hub, destination)
    return inventory


def _read_clone(inventory: Inventory, repo: Path) -> None:
    tips = gitio.refs(repo)
    blobs_by_ref = {ref: gitio.tree_blobs(repo, sha) for ref, sha in tips.items()}
    all_blobs = sorted({b for blobs in blobs_by_ref.values() for b in blobs.values()})
    pointers = gitio.read_pointers(repo, all_blobs)
    inventory.ref_oids = {ref: sorted({pointers[b][0] for b in blobs.values() if b in pointers})
                          for ref, blobs in blobs_by_ref.items()}
    head_blobs = gitio.tree_blobs(repo, inventory.sha)
    checked = set(all_blobs)
    pointers.update(gitio.read_pointers(repo, [b for b in head_blobs.values() if b not in checked]))
    inventory.ref_oids["HEAD"] = sorted({pointers[b][0] for b in head_blobs.values() if b in pointers})
    texts = [(p, b) for p, b in head_blobs.items()
             if p.endswith(TEXT_SUFFIXES) or p.rsplit("/", 1)[-1] == "Dockerfile"][:TEXT_FILES_MAX]
    for path, blob in texts:
        data = gitio.run_git(["cat-file", "blob", blob], cwd=repo, what=f"read {path}")
        if len(data) <= TEXT_MAX and b"\0" not in data[:8000] and gitio.parse_pointer(data) is None:
            inventory.files[path] = data.decode("utf-8", "replace")
    tip_blobs = {b for blobs in blobs_by_ref.values() for b in blobs.values()} | set(head_blobs.values())
    try:
        inventory.history_blobs = analyze(repo, tip_blobs)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        inventory.analysis = f"git filter-repo --analyze failed: {exc}"


def analyze(repo: Path, tip_blobs: set[str]) -> list[dict[str, Any]]:
    """Large plain-git blobs anywhere in history, from `git filter-repo --analyze` (LFS pointers skipped)."""
    with progress_bar("Analysing history (git filter-repo --analyze)"):
        proc = subprocess.run([sys.executable, "-m", "git_filter_repo", "--analyze"], cwd=repo,
                              capture_output=True, env={**os.environ, **gitio.git_env(None)})
    if proc.returncode != 0:
        raise ValueError(proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or "failed")
    report = repo / "filter-repo" / "analysis" / "blob-shas-and-paths.txt"
    rows = []
    for line in report.read_text().splitlines()[2:]:
        parts = line.split(None, 3)
        if len(parts) < 4 or int(parts[1]) < HISTORY_BLOB_MIN:
            continue
        paths = parts[3][1:-1].split(", ") if parts[3].startswith("[") else [parts[3]]
        rows.append({"blob_id": parts[0], "size": int(parts[1]), "packed": int(parts[2]), "paths": paths,
                     "at_tip": parts[0] in tip_blobs})
    return rows


def describe_destination(hub: Hub, destination: Any) -> dict[str, Any]:
    """Whether the destination exists and is private (creating it later keeps the Space's privacy)."""
    out: dict[str, Any] = {"kind": destination.kind, "id": destination.repo_id}
    if destination.kind == "bucket":
        data = hub.bucket_info(destination.repo_id)
    else:
        try:
            data = hub.get_json(f"{hub.endpoint}/api/{destination.kind}s/{destination.repo_id}",
                                what="read", repo_id=destination.repo_id, repo_type=destination.kind)
        except NotFoundError:
            data = None
    out["exists"] = data is not None
    out["private"] = bool(data.get("private")) if data else None
    return out
