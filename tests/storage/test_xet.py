"""The storage paths against a Xet-backed Space (the Hub's default) and a legacy git-LFS one.

demo/repo-too-large is Xet-backed (`xet: true` in its scenario): the Hub lists a Xet hash for each
large file, says `xetEnabled`, and adds `X-Xet-Hash` to a download, while the bytes still come through
git-LFS and the resolve URL (the Hub's LFS bridge). Backup, verify and purge work from those; copy needs
the Xet hash. Flipping the repo to legacy storage takes the hashes away: copy must refuse before any
change, the rest still works. SAFETY.md, "Xet and legacy LFS", says which is which.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import HfApi

from remedybot.core.errors import RefusedError
from remedybot.hub import Hub
from remedybot.remedy.storage.backup import backup_dir, make_backup, object_path
from remedybot.remedy.storage.inventory import take_inventory
from remedybot.remedy.storage.move import check_copyable, copy_files, create_destination, verify_files
from remedybot.remedy.storage.selection import Destination, select
from remedybot.sandbox.server import Sandbox

SPACE = "demo/repo-too-large"


def _large_at_head(hub: Hub) -> list[dict]:
    return [{"path": f["path"], "oid": f["lfs"]["oid"], "size": f["size"], "xet_hash": f.get("xetHash")}
            for f in hub.list_tree(SPACE) if f.get("lfs")]


def _xet_enabled(sandbox: Sandbox) -> bool:
    answer = httpx2.get(f"{sandbox.endpoint}/api/spaces/{SPACE}/revision/main", params={"expand": "xetEnabled"},
                        headers={"Authorization": f"Bearer {sandbox.token}"})
    return answer.json()["xetEnabled"]


def test_a_xet_backed_space_answers_as_the_hub_does(sandbox: Sandbox, api: HfApi) -> None:
    assert _xet_enabled(sandbox) is True
    files = [f for f in api.list_repo_tree(SPACE, repo_type="space", recursive=True) if getattr(f, "lfs", None)]
    assert files and all(f.xet_hash for f in files)
    assert all(o.get("xetHash") for o in Hub().list_lfs_objects(SPACE))
    head = httpx2.head(f"{sandbox.endpoint}/spaces/{SPACE}/resolve/main/{files[0].path}",
                       headers={"Authorization": f"Bearer {sandbox.token}"})
    assert head.headers["X-Xet-Hash"] == files[0].xet_hash
    assert 'rel="xet-auth"' in head.headers["Link"]


def test_backup_copy_and_verify_work_on_a_xet_backed_space(sandbox: Sandbox, tmp_path: Path) -> None:
    hub = Hub()
    files = _large_at_head(hub)
    assert all(f["xet_hash"] for f in files)
    root = backup_dir(SPACE, "x" * 64)
    make_backup(hub, SPACE, [{"oid": files[0]["oid"], "size": files[0]["size"], "filename": ""}], root)
    assert hashlib.sha256(object_path(root, files[0]["oid"]).read_bytes()).hexdigest() == files[0]["oid"]
    dest = Destination("model", "demo/xet-weights")
    check_copyable(SPACE, dest, files)
    create_destination(hub, dest, private=True)
    copy_files(hub, SPACE, dest, files, revision="main", message="move")
    assert verify_files(hub, dest, files) == []


def test_a_legacy_lfs_space_is_backed_up_but_never_copied(sandbox: Sandbox, api: HfApi) -> None:
    sandbox.state.find("space", SPACE).xet = False
    hub = Hub()
    files = _large_at_head(hub)
    assert files and not any(f["xet_hash"] for f in files)
    assert _xet_enabled(sandbox) is False
    assert not any(o.get("xetHash") for o in hub.list_lfs_objects(SPACE))

    dest = Destination("model", "demo/legacy-weights")
    inventory = take_inventory(hub, SPACE)
    selection = select(inventory, destination=dest, now=datetime.now(UTC), move_over=1)
    assert selection.moves == []
    assert any("the Hub lists no Xet hash" in note for note in selection.notes)
    with pytest.raises(RefusedError) as err:
        check_copyable(SPACE, dest, files)
    assert str(err.value).startswith(f"Refusing to copy {len(files)} files of Space '{SPACE}' to ")
    assert str(err.value).endswith("Nothing was changed; re-plan once the Hub has migrated them to Xet, or move "
                                   "them by hand.")
    assert not api.repo_exists("demo/legacy-weights")

    root = backup_dir(SPACE, "l" * 64)
    make_backup(hub, SPACE, [{"oid": files[0]["oid"], "size": files[0]["size"], "filename": ""}], root)
    assert object_path(root, files[0]["oid"]).stat().st_size == files[0]["size"]
