"""Approve and apply from the console: per-step approval by the signed-in user, destructive confirmation,
the stale-plan refusal, and the run's events streamed (server-sent events) from the start on every load."""

from __future__ import annotations

import json
import re

import httpx2 as httpx
from huggingface_hub import HfApi

from remedybot.model.plan import Plan
from tests.serve.conftest import World, csrf_of, signed_in


def _events(client: httpx.Client, run_id: str) -> list[dict]:
    records = []
    with client.stream("GET", f"/runs/{run_id}/events", timeout=120) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        for line in answer.iter_lines():
            if line.startswith("data: "):
                records.append(json.loads(line[6:]))
    return records


def _post(client: httpx.Client, path: str, space: str, **data: object) -> httpx.Response:
    answer = client.post(path, data={"csrf": csrf_of(client, f"/spaces/{space}"), **data})
    assert answer.status_code == 303, answer.text
    return answer


def test_approve_and_apply_stream_the_run_and_show_running(world: World) -> None:
    space = "demo/resource-limit"
    with signed_in(world.running) as client:
        _post(client, f"/spaces/{space}/plan", space)
        plan = Plan.load(world.home / "serve" / "plans" / "demo--resource-limit.json")
        acting = [s.number for s in plan.steps if s.risk != "read-only"]
        assert acting
        _post(client, f"/spaces/{space}/approve", space, steps=acting[:1])
        approved = Plan.load(world.home / "serve" / "plans" / "demo--resource-limit.json")
        assert [(a.by, a.steps) for a in approved.approvals] == [("demo", acting[:1])]
        page = client.get(f"/spaces/{space}").text
        assert "Approved by <strong>demo</strong>" in page
        _post(client, f"/spaces/{space}/apply", space)
        run_id = re.search(r'data-stream="/runs/([0-9a-f]+)/events"', client.get(f"/spaces/{space}").text).group(1)
        records = _events(client, run_id)
        assert records[0]["kind"] == "run-started" and records[0]["by"] == "demo"
        assert records[-1]["kind"] == "run-ended" and records[-1]["outcome"] == "fixed", records[-1]
        assert any(r["kind"] == "verified" for r in records)
        assert _events(client, run_id) == records  # a reload replays the whole run
        page = client.get(f"/spaces/{space}").text
        assert 'id="stage">RUNNING<' in page
        assert "run → fixed" in client.get("/").text
        events = [r["event"] for r in world.console.audit.records(space_id=space)]
        assert events[0] == "run-start" and events[-1] == "run-end"


def test_a_stale_plan_is_refused_with_the_clis_message(world: World) -> None:
    space = "demo/capacity"
    with signed_in(world.running) as client:
        _post(client, f"/spaces/{space}/plan", space)
        plan = Plan.load(world.home / "serve" / "plans" / "demo--capacity.json")
        _post(client, f"/spaces/{space}/approve", space, steps=[s.number for s in plan.steps if s.risk != "read-only"])
        api = HfApi(endpoint=world.sandbox.endpoint, token=world.sandbox.token)
        api.upload_file(path_or_fileobj=b"changed\n", path_in_repo="NOTES.md", repo_id=space, repo_type="space")
        _post(client, f"/spaces/{space}/apply", space)
        run_id = re.search(r'data-stream="/runs/([0-9a-f]+)/events"', client.get(f"/spaces/{space}").text).group(1)
        end = _events(client, run_id)[-1]
        assert end["outcome"] == "refused"
        assert end["text"].startswith(f"Refusing to apply plan {plan.fingerprint[:12]}")
        assert "the plan is stale: the Space changed since planning" in end["text"]


def test_destructive_steps_need_the_space_typed(world: World) -> None:
    space = "demo/repo-too-large"
    with signed_in(world.running) as client:
        _post(client, f"/spaces/{space}/plan", space)
        path = world.home / "serve" / "plans" / "demo--repo-too-large.json"
        plan = Plan.load(path)
        destructive = [s.number for s in plan.steps if s.risk == "destructive"]
        assert destructive
        page = client.get(f"/spaces/{space}").text
        assert "This is lost if you apply it." in page
        _post(client, f"/spaces/{space}/approve", space, steps=destructive[:1], confirm="yes")
        assert Plan.load(path).approvals == []
        page = client.get(f"/spaces/{space}").text
        assert f"Refusing to approve step {destructive[0]} of the plan for &#39;{space}&#39;: it is destructive" in page
        _post(client, f"/spaces/{space}/approve", space, steps=destructive[:1], confirm=space)
        assert Plan.load(path).approved_steps() == {destructive[0]}
