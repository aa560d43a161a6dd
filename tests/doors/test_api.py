"""The Python API (remedybot/api.py, re-exported lazily by `remedybot`): one test per public function."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import remedybot
from remedybot.model.plan import Plan
from remedybot.sandbox.server import Sandbox

DATA = Path(__file__).resolve().parents[1] / "data" / "evidence"


@pytest.fixture(autouse=True)
def fast_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_VERIFY_TIMEOUT", "4")
    monkeypatch.setenv("REMEDYBOT_VERIFY_POLL", "0.05")


def test_import_is_light_and_names_resolve() -> None:
    code = ("import sys, remedybot; assert 'huggingface_hub' not in sys.modules and 'remedybot.api' not in sys.modules;"
            "import remedybot.diagnose.classify;"  # the stage package named like a verb must not shadow the API
            "print(remedybot.diagnose_space.__module__, remedybot.Plan.__name__, sorted(remedybot.__all__) == "
            "sorted(n for n in remedybot.__all__ if hasattr(remedybot, n)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["remedybot.api", "Plan", "True"]
    with pytest.raises(AttributeError):
        remedybot.no_such_name  # noqa: B018


def test_diagnose_space_from_the_hub_and_from_an_evidence_file(sandbox: Sandbox) -> None:
    live = remedybot.diagnose_space("demo/dependency")
    offline = remedybot.diagnose_space(evidence=DATA / "dependency.json")
    assert (live.branch, offline.branch) == ("dependency", "dependency")
    assert live.to_dict()["space_id"] == "demo/dependency"
    with pytest.raises(remedybot.UsageError, match="not both or neither"):
        remedybot.diagnose_space("demo/dependency", evidence=DATA / "dependency.json")


def test_collect_reads_the_evidence(sandbox: Sandbox) -> None:
    evidence = remedybot.collect("demo/wedged-space")
    assert evidence.space_id == "demo/wedged-space"
    assert evidence.runtime is not None and evidence.runtime["stage"] == "BUILDING"
    with pytest.raises(remedybot.UsageError):
        remedybot.collect("not a space id")


def test_plan_is_a_dry_run_saved_where_asked(sandbox: Sandbox, tmp_path: Path) -> None:
    before = sandbox.state.snapshot()["space:demo/wedged-space"]
    plan = remedybot.plan("demo/wedged-space", out=tmp_path / "plan.json")
    assert plan.branch == "wedged_space" and [s.playbook for s in plan.steps][:1] == ["restart"]
    assert Plan.load(tmp_path / "plan.json").fingerprint == plan.fingerprint
    after = sandbox.state.snapshot()["space:demo/wedged-space"]
    before.pop("build_started", None), after.pop("build_started", None)
    assert before == after


def test_approve_records_steps_and_refuses_a_tampered_plan(sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    remedybot.plan("demo/wedged-space", out=path)
    approved = remedybot.approve(path, steps=[1], by="alice")
    assert [(a.by, a.steps) for a in Plan.load(path).approvals] == [("alice", [1])] == \
        [(a.by, a.steps) for a in approved.approvals]
    with pytest.raises(remedybot.UsageError, match="has no step 99"):
        remedybot.approve(path, steps=[99])
    data = json.loads(path.read_text())
    data["steps"][0]["why"] = "edited"
    path.write_text(json.dumps(data))
    with pytest.raises(remedybot.RefusedError, match="tampered"):
        remedybot.approve(path)


def test_apply_reports_events_to_the_callback(sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    remedybot.plan("demo/wedged-space", out=path)
    remedybot.approve(path, by="alice")
    events: list[remedybot.ApplyEvent] = []
    result = remedybot.apply(path, on_event=events.append, audit_log=tmp_path / "audit.jsonl")
    assert (result.outcome, result.exit_code) == ("fixed", remedybot.ExitCode.OK)
    kinds = [e.kind for e in events]
    assert remedybot.EventKind.STEP_STARTED in kinds and kinds[-1] == remedybot.EventKind.VERIFIED
    assert sandbox.state.runtime(sandbox.state.find("space", "demo/wedged-space"))["stage"] == "RUNNING"
    assert (tmp_path / "audit.jsonl").read_text().count('"run-end"') == 1


def test_ticket_renders_a_format(sandbox: Sandbox) -> None:
    text = remedybot.ticket("demo/policy-block", format="email")
    assert "demo/policy-block" in text
    with pytest.raises(remedybot.UsageError, match="Unknown --format 'fax'"):
        remedybot.ticket("demo/policy-block", format="fax")


def test_ticket_context_is_what_a_template_reads(sandbox: Sandbox, tmp_path: Path) -> None:
    context = remedybot.ticket_context("demo/policy-block", push_error="remote: rejected")
    assert context["space"]["id"] == "demo/policy-block"
    assert context["request"]["channels"]["email"]
    with pytest.raises(remedybot.UsageError, match="Templates directory"):
        remedybot.ticket_context("demo/policy-block", templates=tmp_path / "missing")


def test_scan_lists_the_fleet_worst_first(sandbox: Sandbox) -> None:
    fleet = remedybot.scan("demo")
    ids = [r.space_id for r in fleet.results]
    assert "demo/healthy" in ids and "demo/wedged-space" in ids
    assert fleet.results[-1].to_dict()["branch"] == "healthy"
    assert {r.space_id for r in fleet.failing} == set(ids) - {"demo/healthy"}
