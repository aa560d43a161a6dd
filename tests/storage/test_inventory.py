"""The inventory: usedStorage vs limit, LFS objects, HEAD, every ref tip, large blobs in history."""

from __future__ import annotations

import hashlib

from conftest import Lab

from remedybot.hub import Hub
from remedybot.model.evidence import Evidence
from remedybot.remedy.storage.inventory import Inventory, take_inventory
from remedybot.remedy.storage.selection import Destination
from remedybot.sandbox.server import Sandbox


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_inventory_of_the_scenario_space(sandbox: Sandbox) -> None:
    repo = sandbox.state.find("space", "demo/repo-too-large")
    evidence = Evidence(space_id="demo/repo-too-large",
                        build_log=["batch response: Repository storage limit reached (Max: 12 MB)"])
    inv = take_inventory(Hub(), "demo/repo-too-large", evidence=evidence,
                         destination=Destination("model", "demo/repo-too-large-assets"))
    assert inv.limit == 12_000_000 and "build log" in inv.limit_source
    assert inv.used_storage == sandbox.state.used_storage(repo) and inv.sha == sandbox.state.git(repo).head()
    assert {o["oid"] for o in inv.lfs} == set(repo.lfs)
    top = inv.top_consumers()
    assert [r["size"] for r in top] == sorted((r["size"] for r in top), reverse=True)
    at_head = {r["what"] for r in top if r["at_head"]}
    assert at_head == {"models/ckpt-v3.pt", "examples/drawings.zip"}
    assert "model = torch.load(\"models/ckpt-v3.pt\"" in inv.files["app.py"] and "README.md" in inv.files
    assert inv.destination == {"kind": "model", "id": "demo/repo-too-large-assets", "exists": False,
                               "private": None}
    assert Inventory.from_dict(inv.to_dict()) == inv


def test_every_ref_tip_is_protected_and_history_blobs_are_found(lab: Lab) -> None:
    inv = take_inventory(Hub(), lab.space, limit=5_000_000)
    assert inv.limit == 5_000_000 and "given" in inv.limit_source
    assert inv.ref_oids["refs/heads/dev"] == [sha(lab.old)]
    assert inv.ref_oids["HEAD"] == [sha(lab.model)] == inv.ref_oids["refs/heads/main"]
    assert inv.protected_oids == {sha(lab.old), sha(lab.model)}
    blobs = {b["paths"][0]: b for b in inv.history_blobs}
    assert blobs["junk.csv"]["at_tip"] is False and blobs["junk.csv"]["size"] == len(lab.junk)
    assert blobs["data.csv"]["at_tip"] is True  # still at the tip of 'dev'
    assert inv.analysis == "ok"
