"""Issue 13, finding 1: a plan file cannot grant itself permission.

The attack: load a plan, lower every step's risk to read-only (read-only steps
run without approval), reseal it and apply it. Resealing with a plain sha256
(anyone can) fails the keyed fingerprint; resealing with this installation's
key (someone who can read REMEDYBOT_HOME) still fails, because apply re-derives
each step's risk from its playbook. Either way nothing on the Space changes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from clirun import run

from remedybot.model.enums import Risk
from remedybot.model.plan import Plan
from remedybot.remedy.keys import plan_key
from remedybot.sandbox.server import Sandbox

EXIT_USAGE, EXIT_REFUSED = 2, 3


def _plan(tmp_path: Path, space: str) -> Path:
    plan_file = tmp_path / "plan.json"
    assert run("fix", space, "--dry-run", "--out", str(plan_file)).code == 0
    return plan_file


def _all_read_only(plan_file: Path) -> Plan:
    plan = Plan.load(plan_file)
    for step in plan.steps:
        step.risk = Risk.READ_ONLY
    return plan


def _untouched(sandbox: Sandbox, space: str) -> dict[str, object]:
    repo = sandbox.state.find("space", space)
    return {"sha": sandbox.state.snapshot()[f"space:{space}"], "lfs": sorted(repo.lfs)}


def test_a_plan_resealed_without_the_key_is_refused_and_nothing_is_deleted(sandbox: Sandbox, tmp_path: Path) -> None:
    space = "demo/repo-too-large"
    before = _untouched(sandbox, space)
    plan_file = _plan(tmp_path, space)
    plan = _all_read_only(plan_file)
    for i, step in enumerate(plan.steps, start=1):
        step.number = i
    plan.fingerprint = hashlib.sha256(plan.canonical()).hexdigest()  # what anyone could compute
    plan_file.write_text(plan.model_dump_json())
    result = run("apply", str(plan_file))
    assert result.code == EXIT_REFUSED and "tampered" in result.err_lines[0]
    assert _untouched(sandbox, space) == before


@pytest.mark.parametrize("space", ["demo/repo-too-large", "demo/dependency"])
def test_a_plan_resealed_with_the_key_cannot_lower_a_risk(sandbox: Sandbox, tmp_path: Path, space: str) -> None:
    before = _untouched(sandbox, space)
    plan_file = _plan(tmp_path, space)
    _all_read_only(plan_file).seal(plan_key()).save(plan_file)
    result = run("apply", str(plan_file))
    assert result.code == EXIT_REFUSED, result.err
    assert "is marked read-only in the plan file, but its playbook rates it" in result.err_lines[0]
    assert _untouched(sandbox, space) == before


def test_a_step_with_params_its_playbook_does_not_accept_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    plan_file = _plan(tmp_path, "demo/wedged-space")
    plan = Plan.load(plan_file)
    plan.steps[0].params["sneaky"] = True
    plan.seal(plan_key()).save(plan_file)
    assert run("approve", str(plan_file)).code == 0
    result = run("apply", str(plan_file))
    assert result.code == EXIT_REFUSED and "params its playbook does not accept" in result.err_lines[0]


def test_a_step_naming_an_unknown_playbook_is_a_usage_error(sandbox: Sandbox, tmp_path: Path) -> None:
    plan_file = _plan(tmp_path, "demo/wedged-space")
    data = json.loads(plan_file.read_text())
    data["steps"][0]["playbook"] = "rm_rf"
    plan = Plan.model_validate(data).seal(plan_key())
    plan.save(plan_file)
    result = run("apply", str(plan_file))
    assert result.code == EXIT_USAGE and "unknown playbook 'rm_rf'" in result.err_lines[0]


def test_a_plan_made_by_another_installation_is_refused(sandbox: Sandbox, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    plan_file = _plan(tmp_path, "demo/wedged-space")
    assert run("approve", str(plan_file)).code == 0
    monkeypatch.setenv("REMEDYBOT_HOME", str(tmp_path / "another-home"))
    result = run("apply", str(plan_file))
    assert result.code == EXIT_REFUSED and "another installation" in result.err_lines[0]


# -- finding 2: --steps takes explicit ASCII numbers and ranges; an empty selection is an error -------------
@pytest.mark.parametrize("steps", ["", ",", " ", "١", "1,,", "3-1", "0", "1;2", "x"])
def test_approve_refuses_a_selection_that_names_no_step(sandbox: Sandbox, tmp_path: Path, steps: str) -> None:
    plan_file = _plan(tmp_path, "demo/repo-too-large")
    before = plan_file.read_bytes()
    result = run("approve", str(plan_file), "--steps", steps)
    assert result.code == EXIT_USAGE and len(result.err_lines) <= 2, result.err
    assert plan_file.read_bytes() == before  # nothing approved, nothing lost


def test_approve_takes_ranges(sandbox: Sandbox, tmp_path: Path) -> None:
    plan_file = _plan(tmp_path, "demo/repo-too-large")
    assert run("approve", str(plan_file), "--steps", "1-2, 4").code == 0
    assert Plan.load(plan_file).approved_steps() == {1, 2, 4}


# -- finding 3: an expired plan never runs a step, also after a first run --------------------------------
def test_an_expired_plan_runs_nothing_after_a_first_unverified_run(sandbox: Sandbox, tmp_path: Path) -> None:
    from remedybot.remedy.audit import AuditLog, default_audit_path

    plan_file = _plan(tmp_path, "demo/capacity")
    plan = Plan.load(plan_file)
    plan.planned_at, plan.expires_at = "2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00"
    plan.seal(plan_key()).save(plan_file)
    assert run("approve", str(plan_file)).code == 0
    AuditLog(default_audit_path()).write("run-end", fingerprint=plan.fingerprint, space_id=plan.space_id,
                                         outcome="unverified")  # a first run that ended unverified
    before = _untouched(sandbox, "demo/capacity")
    result = run("apply", str(plan_file))
    assert result.code == EXIT_REFUSED and "expired" in result.err_lines[0]
    assert _untouched(sandbox, "demo/capacity") == before


# -- finding 12: ids by huggingface_hub's rules; URLs only of the configured Hub, and only Space URLs --------
@pytest.mark.parametrize("given", ["demo/a--b", "demo/-a", "demo/a.", "https://evil.example.com/spaces/demo/healthy",
                                   "https://huggingface.co/spaces/demo/healthy", "x" * 5000 + "/y", "demo/he\x1b[2Jy"])
def test_ids_the_hub_would_reject_are_usage_errors(sandbox: Sandbox, given: str) -> None:
    result = run("diagnose", given)
    assert result.code == EXIT_USAGE, result.err
    assert len(result.err) < 400 and "\x1b" not in result.err  # shortened and escaped, one line


def test_a_model_url_of_the_configured_hub_is_not_a_space(sandbox: Sandbox) -> None:
    endpoint = sandbox.env()["HF_ENDPOINT"]
    assert run("diagnose", f"{endpoint}/demo/healthy").code == EXIT_USAGE
    assert run("diagnose", f"{endpoint}/spaces/demo/healthy").code == 0


# -- finding 7: a Hub that cannot be reached is "could not collect" (exit 1), never "unknown" (exit 5) ---------
def test_diagnose_with_the_hub_unreachable_exits_1(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nothing listens once the socket closes
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed}")
    monkeypatch.setenv("REMEDYBOT_RETRY_MAX_ATTEMPTS", "2")
    result = run("diagnose", "demo/healthy")
    assert result.code == 1 and "Could not collect the evidence" in result.err_lines[0], result.err
    assert "unknown" not in result.out and "support ticket" not in result.err


def test_diagnose_with_the_hub_answering_503_exits_1(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from remedybot.sandbox.faults import FaultInjector, FaultSpec

    monkeypatch.setenv("REMEDYBOT_RETRY_MAX_ATTEMPTS", "2")
    sandbox.app.faults = FaultInjector(FaultSpec(rate=1.0, kinds=("503",)))
    result = run("diagnose", "demo/dependency", "--json")
    assert result.code == 1 and "Could not collect the evidence" in result.err_lines[0], result.err


# -- finding 4: concurrent approvals all land; a second apply of one Space is refused, naming the first -------
def test_sixteen_concurrent_approvals_all_survive(sandbox: Sandbox, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    plan_file = _plan(tmp_path, "demo/wedged-space")
    steps = len(Plan.load(plan_file).steps)
    script = "import sys; from remedybot.cli.app import main; main(sys.argv[1:])"
    procs = [subprocess.Popen([sys.executable, "-c", script, "approve", str(plan_file), "--steps",
                               str(1 + i % steps), "--by", f"user{i}"], env=dict(os.environ),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(16)]
    errors = [p.communicate(timeout=120)[1] for p in procs]  # waits, and closes the pipes
    assert [p.returncode for p in procs] == [0] * 16, errors
    approvals = Plan.load(plan_file).approvals
    assert sorted(a.by for a in approvals) == sorted(f"user{i}" for i in range(16))
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_a_second_apply_of_one_space_is_refused_and_names_the_first(sandbox: Sandbox, tmp_path: Path) -> None:
    from remedybot.remedy.locks import space_lock

    plan_file = _plan(tmp_path, "demo/wedged-space")
    assert run("approve", str(plan_file)).code == 0
    before = _untouched(sandbox, "demo/wedged-space")
    with space_lock("demo/wedged-space", fingerprint="f" * 64):  # the first apply, still running
        result = run("apply", str(plan_file))
    assert result.code == EXIT_REFUSED and "another apply holds this Space" in result.err_lines[0]
    assert "plan ffffffffffff" in result.err_lines[0]
    assert _untouched(sandbox, "demo/wedged-space") == before


# -- finding 9: declining the destructive steps is a refusal (exit 3), not a failed fix with a ticket ---------
def test_declining_every_destructive_step_is_reported_as_declined(sandbox: Sandbox, tmp_path: Path) -> None:
    from remedybot.core.errors import ExitCode
    from remedybot.hub import Hub
    from remedybot.playbooks import REGISTRY
    from remedybot.remedy.apply import apply_plan
    from remedybot.remedy.audit import AuditLog
    from remedybot.remedy.gates import fix_gate
    from remedybot.remedy.ledger import Ledger

    space = "demo/repo-too-large"
    before = _untouched(sandbox, space)
    plan = Plan.load(_plan(tmp_path, space))
    asked: list[int] = []
    result = apply_plan(plan, Hub(), REGISTRY, audit=AuditLog(tmp_path / "audit.jsonl"),
                        ledger=Ledger(tmp_path / "ledger.jsonl"), gate=fix_gate(yes=False, interactive=True),
                        confirm=lambda step: asked.append(step.number) is not None)  # "no" to every question
    assert asked and result.exit_code == ExitCode.REFUSED and result.outcome == "declined", result.message
    assert _untouched(sandbox, space)["lfs"] == before["lfs"] and _untouched(sandbox, space)["sha"] == before["sha"]
    assert not list((tmp_path / "remedybot-home").glob("tickets/*"))


# -- finding 15 (part): a port out of range is a usage error, not a random port -------------------------------
@pytest.mark.parametrize("port", ["99999", "-1"])
def test_sandbox_serve_refuses_a_port_out_of_range(port: str) -> None:
    result = run("sandbox", "serve", "--port", port)
    assert result.code == EXIT_USAGE and "--port" in result.err_lines[0]
