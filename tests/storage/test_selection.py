"""What moves and what is purged: the pure rules of remedybot/storage/selection.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from remedybot.core.errors import UsageError
from remedybot.remedy.storage.inventory import Inventory, format_size, limit_from_evidence, parse_size
from remedybot.remedy.storage.selection import Destination, is_recent, parse_destination, select

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OLD = (NOW - timedelta(days=30)).isoformat().replace("+00:00", "Z")
MODEL = Destination("model", "alice/demo-assets")


def oid(n: int) -> str:
    return f"{n:064x}"


def inventory(**over: object) -> Inventory:
    """A Space with ckpt-v1 (history only), ckpt-v2 and a small icon at HEAD, and a 'dev' branch."""
    data: dict = {
        "space_id": "alice/demo", "sha": "a" * 40, "used_storage": 9_000_000, "limit": 8_000_000,
        "limit_source": "build log", "private": False,
        "lfs": [{"oid": oid(1), "size": 4_000_000, "filename": "models/ckpt-v1.pt", "pushed_at": OLD, "xet_hash": "x1"},
                {"oid": oid(2), "size": 4_000_000, "filename": "models/ckpt-v2.pt", "pushed_at": OLD, "xet_hash": "x2"},
                {"oid": oid(3), "size": 500_000, "filename": "icon.png", "pushed_at": OLD, "xet_hash": "x3"}],
        "head": [{"path": "app.py", "size": 300, "blob_id": "b0", "lfs_oid": None, "xet_hash": None},
                 {"path": "models/ckpt-v2.pt", "size": 4_000_000, "blob_id": "b2", "lfs_oid": oid(2), "xet_hash": "x2"},
                 {"path": "icon.png", "size": 500_000, "blob_id": "b3", "lfs_oid": oid(3), "xet_hash": "x3"}],
        "ref_oids": {"HEAD": [oid(2), oid(3)], "refs/heads/main": [oid(2), oid(3)]},
    }
    data.update(over)
    return Inventory.from_dict(data)


def test_default_moves_large_lfs_files_at_head_and_purges_history() -> None:
    sel = select(inventory(), destination=MODEL, now=NOW)
    assert [m["path"] for m in sel.moves] == ["models/ckpt-v2.pt"]  # icon.png is under 1 MB
    assert [o["filename"] for o in sel.purge_history] == ["models/ckpt-v1.pt"]
    assert [o["filename"] for o in sel.purge_moved] == ["models/ckpt-v2.pt"]
    assert sel.projected(inventory()) == 1_000_000 and not sel.notes


def test_patterns_override_the_size_threshold() -> None:
    sel = select(inventory(), destination=MODEL, now=NOW, patterns=["*.png"])
    assert [m["path"] for m in sel.moves] == ["icon.png"]
    assert [o["filename"] for o in sel.purge_moved] == ["icon.png"]


def test_objects_pushed_recently_are_left_alone() -> None:
    recent = (NOW - timedelta(minutes=5)).isoformat()
    future = (NOW + timedelta(hours=1)).isoformat()  # a clock ahead of ours: cannot tell, so recent
    lfs = inventory().lfs
    lfs[0]["pushed_at"], lfs[1]["pushed_at"] = recent, future
    sel = select(inventory(lfs=lfs), destination=MODEL, now=NOW, keep_recent_minutes=60)
    assert not sel.purge_history and not sel.purge_moved
    assert {o["filename"] for o in sel.left_alone} == {"models/ckpt-v1.pt", "models/ckpt-v2.pt"}
    assert all("last 60 minutes" in o["reason"] for o in sel.left_alone)
    assert is_recent(None, NOW, 1) and is_recent("not a date", NOW, 1) and not is_recent(OLD, NOW, 60)


def test_an_object_another_ref_references_is_never_purged() -> None:
    refs = {**inventory().ref_oids, "refs/heads/dev": [oid(1)], "refs/pr/1": [oid(2)]}
    sel = select(inventory(ref_oids=refs), destination=MODEL, now=NOW)
    assert not sel.purge_history  # ckpt-v1 is at the tip of 'dev'
    assert [m["path"] for m in sel.moves] == ["models/ckpt-v2.pt"]
    assert not sel.purge_moved and "another path or ref" in sel.left_alone[0]["reason"]


def test_a_moved_object_still_used_by_another_path_stays() -> None:
    head = [*inventory().head, {"path": "backup/ckpt.pt", "size": 4_000_000, "blob_id": "b9", "lfs_oid": oid(2),
                                "xet_hash": "x2"}]
    sel = select(inventory(head=head), destination=MODEL, now=NOW, patterns=["models/*"])
    assert [m["path"] for m in sel.moves] == ["models/ckpt-v2.pt"] and not sel.purge_moved


def test_empty_head_listing_moves_and_deletes_nothing() -> None:
    sel = select(inventory(head=[]), destination=MODEL, now=NOW)
    assert not sel.moves and not sel.purged
    assert "fail closed" in sel.notes[0]


def test_bucket_needs_a_xet_hash_and_notes_what_stays() -> None:
    head = inventory().head
    head[1]["xet_hash"] = None
    sel = select(inventory(head=head), destination=Destination("bucket", "alice/b"), now=NOW)
    assert not sel.moves and "no Xet hash" in sel.notes[0]


def test_still_over_the_limit_is_said() -> None:
    sel = select(inventory(limit=500_000), destination=MODEL, now=NOW)
    assert any("would still use" in n for n in sel.notes)


def test_plain_git_blobs_only_history_holds_are_stripped_by_a_rewrite() -> None:
    blobs = [{"blob_id": "c1", "size": 3_000_000, "packed": 2_900_000, "paths": ["data.csv"], "at_tip": False},
             {"blob_id": "c2", "size": 3_000_000, "packed": 2_900_000, "paths": ["live.csv"], "at_tip": True}]
    sel = select(inventory(history_blobs=blobs), destination=MODEL, now=NOW)
    assert [b["blob_id"] for b in sel.strip_blobs] == ["c1"]


@pytest.mark.parametrize(("text", "expected"), [
    (None, Destination("model", "alice/demo-assets")),
    ("alice/weights", Destination("model", "alice/weights")),
    ("weights", Destination("model", "alice/weights")),
    ("dataset:alice/data", Destination("dataset", "alice/data")),
    ("bucket:org/store", Destination("bucket", "org/store")),
])
def test_parse_destination(text: str | None, expected: Destination) -> None:
    assert parse_destination(text, "alice/demo") == expected


@pytest.mark.parametrize("text", ["space:alice/other", "model:", "bucket:a/b/c"])
def test_parse_destination_refuses(text: str) -> None:
    with pytest.raises(UsageError, match="--to"):
        parse_destination(text, "alice/demo")


def test_sizes_and_the_limit_the_hub_names() -> None:
    assert parse_size("12 MB") == 12_000_000 and parse_size("1.5GiB") == int(1.5 * 2**30)
    assert parse_size("500k") == 500_000 and parse_size("42") == 42
    with pytest.raises(ValueError):
        parse_size("big")
    assert format_size(14_131_072) == "14.1 MB"

    from remedybot.model.evidence import Evidence

    evidence = Evidence(space_id="alice/demo", runtime={"errorMessage": "Error while cloning repository"},
                        build_log=["Cloning into '/app'...",
                                   "batch response: Repository storage limit reached (Max: 1 GB)"])
    assert limit_from_evidence(evidence) == (1_000_000_000, "build log: storage limit reached (Max: 1 GB)")
