"""Every non-idempotent Hub call survives a lost answer without acting twice (SAFETY.md, "Retries").

A proxy between remedybot and the sandbox Hub forwards the request, lets the Hub act, and then
closes the connection without the answer. remedybot must find out from the Hub whether the action
took effect before sending it again: each test counts the requests that reached the Hub and checks
the Hub's state, and each action must have happened exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import run
from dropping_proxy import DroppingProxy
from huggingface_hub import CommitOperationAdd

from remedybot.hub import Hub
from remedybot.sandbox.server import Sandbox

WEDGED, LARGE = "demo/wedged-space", "demo/repo-too-large"


@pytest.fixture
def proxy(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[DroppingProxy]:
    with DroppingProxy(sandbox.endpoint) as p:
        monkeypatch.setenv("HF_ENDPOINT", p.url)
        yield p


@pytest.fixture
def hub(sandbox: Sandbox, proxy: DroppingProxy) -> Hub:
    return Hub(sandbox.token, endpoint=proxy.url)


def space_of(sandbox: Sandbox, space_id: str) -> Any:
    return sandbox.state.find("space", space_id)


def test_a_restart_whose_answer_is_lost_is_not_sent_again(sandbox: Sandbox, proxy: DroppingProxy,
                                                           hub: Hub) -> None:
    proxy.drop("POST", f"/api/spaces/{WEDGED}/restart")
    hub.restart(WEDGED)
    assert proxy.dropped() == [("POST", f"/api/spaces/{WEDGED}/restart")]
    assert proxy.forwarded("POST", "*/restart") == 1
    assert space_of(sandbox, WEDGED).space.restarts == 1


def test_a_factory_rebuild_whose_answer_is_lost_is_not_sent_again(sandbox: Sandbox, proxy: DroppingProxy,
                                                                   hub: Hub) -> None:
    proxy.drop("POST", f"/api/spaces/{WEDGED}/restart")
    hub.restart(WEDGED, factory=True)
    assert proxy.forwarded("POST", "*/restart") == 1
    assert space_of(sandbox, WEDGED).space.factory_restarts == 1


def test_a_hardware_request_whose_answer_is_lost_is_not_sent_again(sandbox: Sandbox, proxy: DroppingProxy,
                                                                    hub: Hub) -> None:
    proxy.drop("POST", f"/api/spaces/{WEDGED}/hardware")
    hub.request_hardware(WEDGED, "cpu-upgrade")
    assert proxy.forwarded("POST", "*/hardware") == 1
    assert space_of(sandbox, WEDGED).space.requested_hardware == "cpu-upgrade"


def test_a_duplicate_whose_answer_is_lost_is_not_sent_again(sandbox: Sandbox, proxy: DroppingProxy,
                                                             hub: Hub) -> None:
    proxy.drop("POST", f"/api/spaces/{WEDGED}/duplicate")
    url = hub.duplicate(WEDGED, "demo/wedged-copy")
    assert url.endswith("/spaces/demo/wedged-copy")
    assert proxy.forwarded("POST", "*/duplicate") == 1
    assert space_of(sandbox, "demo/wedged-copy") is not None


def test_a_commit_whose_answer_is_lost_is_not_sent_again(sandbox: Sandbox, proxy: DroppingProxy, hub: Hub) -> None:
    repo = space_of(sandbox, WEDGED)
    before = len(sandbox.state.git(repo).log("main"))
    proxy.drop("POST", f"/api/spaces/{WEDGED}/commit/main")
    hub.create_commit(WEDGED, [CommitOperationAdd("notes.txt", b"hello")], "remedybot: add notes")
    assert proxy.forwarded("POST", "*/commit/main") == 1
    assert len(sandbox.state.git(repo).log("main")) == before + 1


def test_an_lfs_deletion_whose_answer_is_lost_is_not_sent_again(sandbox: Sandbox, proxy: DroppingProxy,
                                                                 hub: Hub) -> None:
    repo = space_of(sandbox, LARGE)
    oids = sorted(repo.lfs)[:2]
    proxy.drop("POST", f"/api/spaces/{LARGE}/lfs-files/batch")
    hub.delete_lfs_objects(LARGE, oids)
    assert proxy.forwarded("POST", "*/lfs-files/batch") == 1
    assert not set(oids) & set(repo.lfs)


def test_a_super_squash_whose_answer_is_lost_is_not_sent_again(sandbox: Sandbox, proxy: DroppingProxy,
                                                                hub: Hub) -> None:
    repo = space_of(sandbox, LARGE)
    proxy.drop("POST", f"/api/spaces/{LARGE}/super-squash/main")
    hub.super_squash(LARGE, "remedybot: squash history")
    assert proxy.forwarded("POST", "*/super-squash/main") == 1
    assert len(sandbox.state.git(repo).log("main")) == 1


def test_an_empty_commit_push_whose_answer_is_lost_is_done_and_pushed_once(
        sandbox: Sandbox, proxy: DroppingProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan_file = tmp_path / "plan.json"
    assert run("fix", WEDGED, "--dry-run", "--out", str(plan_file)).code == 0
    steps = {s["playbook"]: s["number"] for s in json.loads(plan_file.read_text())["steps"]}
    assert run("approve", str(plan_file), "--steps", str(steps["noop_commit"])).code == 0
    proxy.drop("POST", f"/spaces/{WEDGED}/git-receive-pack")
    result = run("apply", str(plan_file), "--audit-log", str(tmp_path / "audit.jsonl"))
    assert proxy.forwarded("POST", "*/git-receive-pack") == 1
    repo = space_of(sandbox, WEDGED)
    titles = [c.title for c in sandbox.state.git(repo).log("main")]
    assert titles.count("remedybot: empty commit to trigger a rebuild") == 1
    ends = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    noop_end = [r for r in ends if r.get("event") == "step-end" and r.get("step") == steps["noop_commit"]]
    assert noop_end and noop_end[-1]["status"] == "done", result.err
    assert "the push went through" in result.err  # (the wedge itself needs a factory rebuild: exit 4)
