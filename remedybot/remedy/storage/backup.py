"""The backup taken before any storage step changes a Space, and the check that it is whole.

One folder per plan: `$REMEDYBOT_HOME/backups/<owner>--<space>/<plan fingerprint[:12]>/`

    repo.bundle     `git bundle --all` of a fresh mirror clone: every ref, every commit, every pointer
    lfs/objects/    the bytes of every LFS object the plan deletes, in git-lfs's own layout
                    (oid[0:2]/oid[2:4]/oid), each checked against its sha256 while downloading
    manifest.json   every LFS object the Space stored (sha256, size, path, push date, stored here
                    or not), the bundle's sha256 and refs, and how to restore; written last

The folder is built under a `.partial` name and renamed when complete, so a run
killed half-way never leaves something that looks like a backup. Restoring
(SAFETY.md, "Storage", and `restore` in the manifest): clone the bundle, copy
lfs/objects into the clone's .git/lfs, `git lfs checkout`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remedybot.core.errors import HubError
from remedybot.core.progress import progress_bar
from remedybot.remedy.audit import state_home
from remedybot.remedy.storage import gitio
from remedybot.remedy.storage.inventory import format_size

if TYPE_CHECKING:
    from remedybot.hub import Hub

MANIFEST = "manifest.json"


def backup_dir(space_id: str, fingerprint: str) -> Path:
    return state_home() / "backups" / space_id.replace("/", "--") / fingerprint[:12]


def object_path(root: Path, oid: str) -> Path:
    return root / "lfs" / "objects" / oid[:2] / oid[2:4] / oid


def restore_steps(space_id: str, root: Path) -> list[str]:
    """How to get everything back: look at any old version, or push the whole history to a repo."""
    return [f"GIT_LFS_SKIP_SMUDGE=1 git clone {root / 'repo.bundle'} restored && cd restored",
            f"mkdir -p .git/lfs && cp -r {root / 'lfs' / 'objects'} .git/lfs/",
            "git checkout <any commit> && git lfs checkout   # the files of that commit, bytes included",
            f"to put it all back: git clone --mirror {root / 'repo.bundle'} restored.git, copy lfs/objects into "
            f"restored.git/lfs/, then git push --mirror and git lfs push --all to a new or emptied repo for "
            f"{space_id}"]


def make_backup(hub: Hub, space_id: str, store: list[dict[str, Any]], root: Path) -> dict[str, Any]:
    """Take the backup (or return the complete one already there). Returns the manifest.

    Raises:
        HubError: the clone, the bundle or a download failed, or a download did not match its sha256;
            nothing was changed on the Hub, and the partial folder is removed on the next attempt.
    """
    existing = read_manifest(root)
    if existing is not None and not check_backup(root, [o["oid"] for o in store]):
        return existing
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    mirror = gitio.mirror_clone(hub.web_url(space_id, "space"), partial / "mirror.git", token=hub.token,
                                what=f"Space '{space_id}' for the backup")
    bundle = partial / "repo.bundle"
    gitio.run_git(["bundle", "create", str(bundle), "--all"], cwd=mirror, what="write the git bundle")
    gitio.run_git(["bundle", "verify", str(bundle)], cwd=mirror, what="verify the git bundle")
    refs = gitio.refs(mirror)
    shutil.rmtree(mirror)
    listing = hub.list_lfs_objects(space_id)
    wanted = {o["oid"] for o in store}
    total = sum(int(o["size"]) for o in listing if o["fileOid"] in wanted)
    with progress_bar(f"Backing up {len(wanted)} LFS objects ({format_size(total)})", total, in_bytes=True) as bar:
        for obj in listing:
            if obj["fileOid"] in wanted:
                _download(hub, space_id, obj["fileOid"], int(obj["size"]), object_path(partial, obj["fileOid"]),
                          bar.advance)
    missing = wanted - {o["fileOid"] for o in listing}
    manifest = {
        "space_id": space_id,
        "created_at": datetime.now(UTC).isoformat(),
        "bundle": {"file": "repo.bundle", "sha256": _sha256(bundle), "refs": refs},
        "lfs": [{"oid": o["fileOid"], "sha256": o["fileOid"], "size": int(o["size"]),
                 "filename": o.get("filename") or "", "pushed_at": o.get("pushedAt"),
                 "stored": o["fileOid"] in wanted} for o in listing],
        "not_in_space": sorted(missing),  # already gone from the Hub when the backup was taken
        "restore": restore_steps(space_id, root),
    }
    _write_json(partial / MANIFEST, manifest)
    if root.exists():
        shutil.rmtree(root)
    partial.rename(root)
    return manifest


def _download(hub: Hub, space_id: str, oid: str, size: int, target: Path, advance: Any) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    href, headers = hub.lfs_download_action(space_id, "space", oid, size)
    digest, got = hub.stream_sha256(href, what=f"back up LFS object {oid[:12]} of", repo_id=space_id,
                                   sink=target, progress=advance, headers=headers)
    if digest != oid or got != size:
        target.unlink(missing_ok=True)
        raise HubError(f"Cannot back up LFS object {oid[:12]} of Space '{space_id}': the download's sha256 is "
                       f"{digest[:12]} ({got} bytes), not the object's.")


def read_manifest(root: Path) -> dict[str, Any] | None:
    try:
        return json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def check_backup(root: Path, oids: list[str]) -> list[str]:
    """Why the backup at `root` cannot stand in for `oids` (empty: it can). Re-hashes every stored object."""
    manifest = read_manifest(root)
    if manifest is None:
        return [f"no complete backup at {root}"]
    reasons = []
    if _sha256(root / manifest["bundle"]["file"]) != manifest["bundle"]["sha256"]:
        reasons.append(f"the git bundle in {root} does not match its manifest")
    for oid in oids:
        path = object_path(root, oid)
        if not path.exists():
            reasons.append(f"LFS object {oid[:12]} is not in the backup")
        elif _sha256(path) != oid:
            reasons.append(f"LFS object {oid[:12]} in the backup does not match its sha256")
    return reasons


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)
