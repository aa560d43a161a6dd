"""The guards before every deletion, and squash / rewrite / force-push against the sandbox Hub."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import Lab
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi

from remedybot.core.errors import HubError, RefusedError
from remedybot.hub import Hub
from remedybot.remedy.storage import gitio
from remedybot.remedy.storage.backup import make_backup
from remedybot.remedy.storage.slim import force_push, purge, purge_refusals, rewrite, squash
from remedybot.sandbox.server import Sandbox


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored(sandbox: Sandbox, space: str) -> set[str]:
    return set(sandbox.state.find("space", space).lfs)


def obj(data: bytes, name: str) -> dict:
    return {"oid": sha(data), "size": len(data), "filename": name}


def test_every_refusal_reason(tmp_path: Path) -> None:
    doomed = [{"oid": "a" * 64, "size": 1, "filename": "in-use.bin"},
              {"oid": "b" * 64, "size": 1, "filename": "new.bin"}]
    live = {"a" * 64: {"pushedAt": "2020-01-01T00:00:00Z"}, "b" * 64: {"pushedAt": datetime.now(UTC).isoformat()}}
    reasons = purge_refusals(doomed=doomed, live=live, referenced={"a" * 64},
                             listing_reasons=["refs/heads/main lists no files, so what it references cannot be told"],
                             keep_recent_minutes=30, backup=tmp_path, unverified=["models/x.pt"],
                             now=datetime.now(UTC))
    assert reasons[0].startswith("refs/heads/main lists no files")
    assert reasons[1] == "moved files not verified in the destination by sha256: models/x.pt"
    assert reasons[2] == "a ref still references in-use.bin"
    assert reasons[3] == "pushed in the last 30 minutes: new.bin"
    assert reasons[4] == f"no complete backup at {tmp_path}"


def test_purge_never_deletes_what_a_ref_uses_and_needs_the_backup(lab: Lab, api: HfApi, tmp_path: Path,
                                                                  sandbox: Sandbox) -> None:
    hub, old = Hub(), obj(lab.old, "old.bin")
    backup = tmp_path / "backup"
    with pytest.raises(RefusedError, match=r"Refusing to delete 1 LFS objects of 'demo/storage-lab': .*a ref still "
                                           r"references old.bin.*no complete backup.*Nothing was deleted"):
        purge(hub, lab.space, [old], keep_recent_minutes=60, backup=backup, unverified=[], calls=[])
    api.delete_branch(lab.space, repo_type="space", branch="dev")
    with pytest.raises(RefusedError, match="no complete backup"):
        purge(hub, lab.space, [old], keep_recent_minutes=60, backup=backup, unverified=[], calls=[])
    assert sha(lab.old) in stored(sandbox, lab.space)
    make_backup(hub, lab.space, [old], backup)
    record = sandbox.state.find("space", lab.space).lfs[sha(lab.old)]
    record.pushed_at = sandbox.state.clock.now()  # the Hub's clock: ahead of ours, so "in the future"
    with pytest.raises(RefusedError, match=r"pushed in the last 0 minutes: old\.bin"):
        purge(hub, lab.space, [old], keep_recent_minutes=0, backup=backup, unverified=[], calls=[])
    record.pushed_at -= 2 * 86400
    calls: list = []
    assert purge(hub, lab.space, [old], keep_recent_minutes=60, backup=backup, unverified=[], calls=calls) == \
        [sha(lab.old)]
    assert sha(lab.old) not in stored(sandbox, lab.space) and calls[0]["deletions"] == [sha(lab.old)]
    assert purge(hub, lab.space, [old], keep_recent_minutes=60, backup=backup, unverified=[], calls=[]) == []


def test_an_empty_head_listing_stops_the_purge(lab: Lab, api: HfApi, tmp_path: Path, sandbox: Sandbox) -> None:
    files = api.list_repo_files(lab.space, repo_type="space")
    api.create_commit(lab.space, repo_type="space", commit_message="empty it",
                      operations=[CommitOperationDelete(f) for f in files])
    api.delete_branch(lab.space, repo_type="space", branch="dev")
    model = obj(lab.model, "model.bin")
    make_backup(Hub(), lab.space, [model], tmp_path / "b")
    with pytest.raises(RefusedError, match="refs/heads/main lists no files, so what it references cannot be told"):
        purge(Hub(), lab.space, [model], keep_recent_minutes=0, backup=tmp_path / "b", unverified=[], calls=[])
    assert sha(lab.model) in stored(sandbox, lab.space)


def test_squash_refuses_to_free_what_the_plan_did_not_approve(lab: Lab, api: HfApi, tmp_path: Path,
                                                              sandbox: Sandbox) -> None:
    api.delete_branch(lab.space, repo_type="space", branch="dev")  # old.bin now only in history
    hub = Hub()
    with pytest.raises(RefusedError, match=r"would also free objects this plan did not approve: old\.bin"):
        squash(hub, lab.space, message="squash", approved=[], keep_recent_minutes=0, backup=tmp_path,
               unverified=[])
    make_backup(hub, lab.space, [obj(lab.old, "old.bin")], tmp_path / "b")
    squash(hub, lab.space, message="squash", approved=[obj(lab.old, "old.bin")], keep_recent_minutes=0,
           backup=tmp_path / "b", unverified=[])
    assert len(api.list_repo_commits(lab.space, repo_type="space")) == 1
    assert stored(sandbox, lab.space) == {sha(lab.model)}


def test_rewrite_strips_history_blobs_then_pushes_with_a_lease(lab: Lab, api: HfApi, tmp_path: Path,
                                                               sandbox: Sandbox) -> None:
    hub, repo = Hub(), sandbox.state.find("space", lab.space)
    blobs = {p: gitio.tree_blobs(sandbox.state.git(repo).path, lab.c1)[p] for p in ("data.csv",)}
    with pytest.raises(RefusedError, match="still used at a ref tip"):
        rewrite(hub, lab.space, tmp_path / "w", strip_oids=[], strip_blobs=[blobs["data.csv"]])
    with pytest.raises(RefusedError, match="still used at a ref tip"):  # old.bin's pointer is at the tip of 'dev'
        rewrite(hub, lab.space, tmp_path / "w", strip_oids=[sha(lab.old)], strip_blobs=[])
    junk = hashlib.sha1(b"blob %d\0" % len(lab.junk) + lab.junk).hexdigest()
    marker = rewrite(hub, lab.space, tmp_path / "w", strip_oids=[], strip_blobs=[junk])
    assert junk in marker["stripped"] and marker["based_on"] == sandbox.state.git(repo).head()
    assert sandbox.state.git(repo).head() == marker["based_on"]  # nothing pushed yet
    force_push(hub, lab.space, tmp_path / "w")
    history = sandbox.state.git(repo).git("rev-list", "--objects", "refs/heads/main").decode()
    assert junk not in history and sandbox.state.git(repo).head() == marker["new_head"]
    assert sha(lab.old) in sandbox.state.git(repo).all_lfs_oids()  # still at the tip of 'dev' (not rewritten)
    assert api.list_repo_files(lab.space, repo_type="space") == sorted(["app.py", "model.bin", ".gitattributes",
                                                                         "README.md"])


def test_force_push_lease_refuses_after_a_concurrent_push(lab: Lab, api: HfApi, tmp_path: Path,
                                                          sandbox: Sandbox) -> None:
    hub = Hub()
    junk = hashlib.sha1(b"blob %d\0" % len(lab.junk) + lab.junk).hexdigest()
    assert rewrite(hub, lab.space, tmp_path / "w", strip_oids=[], strip_blobs=[junk])["refs"]
    theirs = api.create_commit(lab.space, repo_type="space", commit_message="someone else",
                               operations=[CommitOperationAdd("notes.txt", io.BytesIO(b"hi\n"))]).oid
    with pytest.raises(HubError, match="Cannot force-push the rewritten history to Space 'demo/storage-lab'"):
        force_push(hub, lab.space, tmp_path / "w")
    assert sandbox.state.git(sandbox.state.find("space", lab.space)).head() == theirs
