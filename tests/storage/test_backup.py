"""The backup: a git bundle of every ref and the bytes of every object a plan deletes, restorable."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from remedybot.hub import Hub
from remedybot.remedy.storage.backup import backup_dir, check_backup, make_backup, object_path, read_manifest
from remedybot.sandbox.server import Sandbox

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is required")
needs_lfs = pytest.mark.skipif(
    shutil.which("git") is None or subprocess.run(["git", "lfs", "version"], capture_output=True).returncode != 0,
    reason="git-lfs is not installed (make git-lfs)")

SPACE = "demo/repo-too-large"


def lfs_of(sandbox: Sandbox) -> dict[str, bytes]:
    repo = sandbox.state.find("space", SPACE)
    return {oid: sandbox.state.lfs_store.path(oid).read_bytes() for oid in repo.lfs}


@needs_lfs
def test_backup_holds_history_and_the_objects_to_delete_and_restores(sandbox: Sandbox, tmp_path: Path) -> None:
    originals = lfs_of(sandbox)
    history_only = [o for o, data in originals.items() if len(data) == 4_000_000][:2]
    store = [{"oid": o, "size": len(originals[o]), "filename": ""} for o in history_only]
    root = backup_dir(SPACE, "f" * 64)
    assert str(root).startswith(os.environ["REMEDYBOT_HOME"])
    manifest = make_backup(Hub(), SPACE, store, root)

    assert {o["oid"] for o in manifest["lfs"]} == set(originals)  # every object listed, with its sha256
    assert {o["oid"] for o in manifest["lfs"] if o["stored"]} == set(history_only)
    for oid in history_only:
        assert hashlib.sha256(object_path(root, oid).read_bytes()).hexdigest() == oid
    assert check_backup(root, history_only) == []
    subprocess.run(["git", "bundle", "verify", str(root / "repo.bundle")], check=True, capture_output=True)
    assert not root.with_name(root.name + ".partial").exists()

    # Restore as the manifest says: clone the bundle, copy the objects, check out an old commit.
    env = {**os.environ, "GIT_LFS_SKIP_SMUDGE": "1"}
    restored = tmp_path / "restored"
    subprocess.run(["git", "clone", "-q", str(root / "repo.bundle"), str(restored)], check=True, env=env)
    shutil.copytree(root / "lfs" / "objects", restored / ".git" / "lfs" / "objects", dirs_exist_ok=True)
    first = subprocess.run(["git", "log", "--format=%H", "--", "models/ckpt-v1.pt"], cwd=restored, check=True,
                           capture_output=True, text=True).stdout.split()[-1]
    subprocess.run(["git", "checkout", "-q", first], cwd=restored, check=True, env=env)
    subprocess.run(["git", "lfs", "checkout"], cwd=restored, check=True, env=env, capture_output=True)
    data = (restored / "models" / "ckpt-v1.pt").read_bytes()
    assert hashlib.sha256(data).hexdigest() in history_only and data == originals[hashlib.sha256(data).hexdigest()]


def test_backup_is_reused_when_whole_and_retaken_when_damaged(sandbox: Sandbox) -> None:
    oid = next(iter(lfs_of(sandbox)))
    store = [{"oid": oid, "size": 0, "filename": ""}]
    root = backup_dir(SPACE, "e" * 64)
    first = make_backup(Hub(), SPACE, store, root)
    assert make_backup(Hub(), SPACE, store, root)["created_at"] == first["created_at"]  # nothing re-downloaded

    object_path(root, oid).write_bytes(b"bit rot")
    assert check_backup(root, [oid]) == [f"LFS object {oid[:12]} in the backup does not match its sha256"]
    again = make_backup(Hub(), SPACE, store, root)
    assert again["created_at"] != first["created_at"] and check_backup(root, [oid]) == []
    assert check_backup(root.with_name("missing"), [oid])[0].startswith("no complete backup")
    assert read_manifest(root) == again
