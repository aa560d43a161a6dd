"""`remedybot fix`, `approve` and `apply` end to end against the sandbox Hub (issue: the fix engine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import run
from huggingface_hub import HfApi

from remedybot.model.plan import Plan
from remedybot.remedy.keys import plan_key
from remedybot.sandbox.server import Sandbox


@pytest.fixture(autouse=True)
def fast_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    # The sandbox's clock runs 1000x: 30 simulated minutes of "Building" pass in 1.8 s.
    monkeypatch.setenv("REMEDYBOT_VERIFY_TIMEOUT", "4")
    monkeypatch.setenv("REMEDYBOT_VERIFY_POLL", "0.05")
    monkeypatch.setenv("REMEDYBOT_WATCH_TIMEOUT", "0.3")
    monkeypatch.setenv("REMEDYBOT_WATCH_POLL", "0.05")


def stage(sandbox: Sandbox, space: str) -> str:
    return sandbox.state.runtime(sandbox.state.find("space", space))["stage"]


def test_dry_run_changes_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    before = sandbox.state.snapshot()
    for space in ("demo/wedged-space", "demo/capacity", "demo/resource-limit", "demo/policy-block",
                  "demo/platform-incident", "demo/dependency", "demo/repo-too-large", "demo/healthy"):
        result = run("fix", space, "--dry-run", "--out", str(tmp_path / f"{space.split('/')[1]}.json"))
        assert result.code == 0, result.err
    after = sandbox.state.snapshot()
    for key in before:  # the simulated build clock moves on its own; everything else must not
        assert before[key] == after[key], key


@pytest.mark.parametrize("space", ["demo/wedged-space", "demo/capacity", "demo/resource-limit"])
def test_fix_yes_brings_space_back(sandbox: Sandbox, space: str) -> None:
    result = run("fix", space, "--yes")
    assert result.code == 0, result.err
    assert stage(sandbox, space) == "RUNNING"


@pytest.mark.parametrize("space", ["demo/wedged-space", "demo/capacity", "demo/resource-limit"])
def test_plan_approve_apply(sandbox: Sandbox, tmp_path: Path, space: str) -> None:
    plan_file = tmp_path / "plan.json"
    assert run("fix", space, "--dry-run", "--out", str(plan_file)).code == 0
    approved = run("approve", str(plan_file), "--by", "tester")
    assert approved.code == 0 and "Approved steps" in approved.out
    result = run("apply", str(plan_file))
    assert result.code == 0, result.err
    assert stage(sandbox, space) == "RUNNING"
    again = run("apply", str(plan_file))  # idempotent: nothing more happens
    assert again.code == 0 and "already applied" in again.err


def test_platform_incident_gets_a_wait_only_plan(sandbox: Sandbox, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    assert run("fix", "demo/platform-incident", "--dry-run", "--out", str(plan_file)).code == 0
    plan = Plan.load(plan_file)
    assert plan.branch == "platform_incident"
    assert plan.steps and all(s.risk == "read-only" for s in plan.steps)
    assert [s.playbook for s in plan.steps] == ["watch_status", "escalate"]


def test_policy_block_is_left_unchanged(sandbox: Sandbox, tmp_path: Path) -> None:
    before = sandbox.state.snapshot()["space:demo/policy-block"]
    result = run("fix", "demo/policy-block", "--yes")
    assert result.code == 4
    plan_file = tmp_path / "plan.json"
    run("fix", "demo/policy-block", "--dry-run", "--out", str(plan_file))
    assert [s.playbook for s in Plan.load(plan_file).steps] == ["escalate"]
    after = sandbox.state.snapshot()["space:demo/policy-block"]
    before.pop("build_started"), after.pop("build_started")
    assert before == after


def test_healthy_space_has_nothing_to_fix(sandbox: Sandbox) -> None:
    result = run("fix", "demo/healthy", "--yes")
    assert result.code == 0
    assert "healthy" in result.out


# -- refusals -----------------------------------------------------------------
def _approved_plan(tmp_path: Path, space: str = "demo/wedged-space") -> Path:
    plan_file = tmp_path / "plan.json"
    assert run("fix", space, "--dry-run", "--out", str(plan_file)).code == 0
    assert run("approve", str(plan_file)).code == 0
    return plan_file


def test_refuses_stale_plan(sandbox: Sandbox, tmp_path: Path, api: HfApi) -> None:
    plan_file = _approved_plan(tmp_path)
    api.upload_file(path_or_fileobj=b"x\n", path_in_repo="NOTES.md", repo_id="demo/wedged-space", repo_type="space")
    before = sandbox.state.snapshot()["space:demo/wedged-space"]
    result = run("apply", str(plan_file))
    assert result.code == 3
    assert len(result.err_lines) == 1 and "stale" in result.err_lines[0] and "dry-run" in result.err_lines[0]
    after = sandbox.state.snapshot()["space:demo/wedged-space"]
    assert (before["restarts"], before["factory_restarts"]) == (after["restarts"], after["factory_restarts"])


def test_refuses_stale_plan_after_hardware_change(sandbox: Sandbox, tmp_path: Path, api: HfApi) -> None:
    plan_file = _approved_plan(tmp_path, "demo/capacity")
    api.request_space_hardware("demo/capacity", "a10g-small")
    result = run("apply", str(plan_file))
    assert result.code == 3 and "stale" in result.err and "hardware" in result.err


def test_refuses_tampered_plan(sandbox: Sandbox, tmp_path: Path) -> None:
    plan_file = _approved_plan(tmp_path)
    data = json.loads(plan_file.read_text())
    data["steps"][0]["params"]["sneaky"] = True
    plan_file.write_text(json.dumps(data))
    result = run("apply", str(plan_file))
    assert result.code == 3 and "tampered" in result.err_lines[0]


def test_refuses_expired_plan(sandbox: Sandbox, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    run("fix", "demo/wedged-space", "--dry-run", "--out", str(plan_file))
    plan = Plan.load(plan_file)
    plan.planned_at, plan.expires_at = "2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00"
    plan.seal(plan_key()).save(plan_file)  # resealed by this installation: only the expiry is wrong
    run("approve", str(plan_file))
    result = run("apply", str(plan_file))
    assert result.code == 3 and "expired" in result.err_lines[0]


def test_refuses_plan_for_another_space(sandbox: Sandbox, tmp_path: Path) -> None:
    plan_file = _approved_plan(tmp_path)
    result = run("apply", str(plan_file), "--space", "demo/capacity")
    assert result.code == 3 and "another Space" in result.err_lines[0]


def test_refuses_plan_for_a_recreated_space(sandbox: Sandbox, tmp_path: Path, api: HfApi) -> None:
    plan_file = _approved_plan(tmp_path, "demo/capacity")
    api.delete_repo("demo/capacity", repo_type="space")
    api.create_repo("demo/capacity", repo_type="space", space_sdk="gradio")
    result = run("apply", str(plan_file))
    assert result.code == 3 and "another Space" in result.err_lines[0]


def test_refuses_unapproved_plan(sandbox: Sandbox, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    run("fix", "demo/wedged-space", "--dry-run", "--out", str(plan_file))
    result = run("apply", str(plan_file))
    assert result.code == 3 and "approve" in result.err_lines[0]
    assert sandbox.state.find("space", "demo/wedged-space").space.restarts == 0


def test_fix_without_terminal_refuses_disruptive_steps(sandbox: Sandbox) -> None:
    result = run("fix", "demo/wedged-space")
    assert result.code == 3
    assert "no terminal" in result.err
    space = sandbox.state.find("space", "demo/wedged-space").space
    assert space.factory_restarts == 0  # the safe restart ran; the disruptive rebuild did not


def test_factory_rebuild_cooldown(sandbox: Sandbox, tmp_path: Path) -> None:
    assert run("fix", "demo/wedged-space", "--yes").code == 0
    sandbox.state.find("space", "demo/wedged-space").space.conditions["wedged"] = True
    sandbox.state.start_build(sandbox.state.find("space", "demo/wedged-space"), "restart")
    result = run("fix", "demo/wedged-space", "--yes")
    assert result.code == 3 and "cooldown" in result.err
    assert run("fix", "demo/wedged-space", "--yes", "--force").code == 0


def test_bad_input_one_line_errors(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = run("fix", "not a space id", "--dry-run")
    assert bad.code == 2 and bad.err_lines == [bad.err_lines[0]] and "OWNER/SPACE" in bad.err
    missing = run("fix", "demo/nope", "--dry-run")
    assert missing.code == 1 and "not found" in missing.err_lines[0]
    assert run("apply", str(tmp_path / "missing.json")).code == 2
    (tmp_path / "junk.json").write_text("{not json")
    junk = run("apply", str(tmp_path / "junk.json"))
    assert junk.code == 2 and "malformed" in junk.err_lines[0]
    monkeypatch.setenv("HF_TOKEN", "hf_thisisnotavalidtokenatallxxxxxx")  # a fake, deliberately wrong token
    wrong = run("fix", "demo/wedged-space", "--dry-run")
    assert wrong.code == 1 and len(wrong.err_lines) <= 2
    assert "hf_thisisnotavalidtoken" not in wrong.err + wrong.out


def test_token_never_in_any_artifact(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("REMEDYBOT_HOME", str(home))
    plan_file = tmp_path / "plan.json"
    outputs = [run("fix", "demo/wedged-space", "--dry-run", "--out", str(plan_file)),
               run("approve", str(plan_file)),
               run("apply", str(plan_file), "--audit-log", str(home / "custom-audit.jsonl")),
               run("fix", "demo/capacity", "--yes", "--json")]
    assert outputs[2].code == 0
    texts = [o.out + o.err for o in outputs]
    texts += [p.read_text(errors="replace") for p in [*home.rglob("*"), plan_file] if p.is_file()]
    assert any("fingerprint" in t for t in texts)
    for text in texts:
        assert sandbox.token not in text


def test_hardware_switch_honours_max_cost(sandbox: Sandbox, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    cheap = run("fix", "demo/resource-limit", "--dry-run", "--out", str(plan_file), "--max-cost-per-hour", "0.01")
    assert cheap.code == 0
    step = Plan.load(plan_file).steps[0]
    assert step.playbook == "hardware_switch" and step.risk == "read-only" and "max-cost-per-hour" in step.why
    assert run("fix", "demo/resource-limit", "--dry-run", "--out", str(plan_file)).code == 0
    step = Plan.load(plan_file).steps[0]
    assert (step.params["flavor"], step.params["previous"]) == ("cpu-upgrade", "cpu-basic")
    assert step.costs_money and "$" in step.action


def test_duplicate_copies_variables_lists_secrets_and_keeps_the_original(
        sandbox: Sandbox, tmp_path: Path, api: HfApi) -> None:
    api.add_space_variable("demo/wedged-space", "MODEL_ID", "gpt2")
    api.add_space_secret("demo/wedged-space", "OPENAI_API_KEY", "sk-secret-value")
    original = sandbox.state.snapshot()["space:demo/wedged-space"]
    plan_file = tmp_path / "plan.json"
    assert run("fix", "demo/wedged-space", "--dry-run", "--out", str(plan_file), "--to", "rescued").code == 0
    number = next(s.number for s in Plan.load(plan_file).steps if s.playbook == "duplicate")
    assert run("approve", str(plan_file), "--steps", str(number)).code == 0
    result = run("apply", str(plan_file))
    assert result.code == 0, result.err
    assert "OPENAI_API_KEY" in result.err and "sk-secret-value" not in result.out + result.err
    assert api.get_space_variables("demo/rescued")["MODEL_ID"].value == "gpt2"
    assert "OPENAI_API_KEY" not in api.get_space_secrets("demo/rescued")
    assert stage(sandbox, "demo/rescued") == "RUNNING"
    after = sandbox.state.snapshot()["space:demo/wedged-space"]
    for key in ("sha", "files", "commits", "restarts", "factory_restarts", "hardware"):
        assert original[key] == after[key]
