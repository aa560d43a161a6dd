"""The fix engine under injected faults and SIGKILL: same final state, no side effect done twice."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clirun import run
from sandboxes import subprocess_env

from remedybot.sandbox.server import Sandbox

FAULTS = "rate=0.3;kinds=429,500,502,503,reset;routes=/api/*;retry_after=0"


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_VERIFY_TIMEOUT", "2.5")
    monkeypatch.setenv("REMEDYBOT_VERIFY_POLL", "0.05")
    monkeypatch.setenv("REMEDYBOT_RETRY_MAX_ATTEMPTS", "12")


def faulty_sandbox(template: Path, tmp: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    state_dir = tmp / f"hub-{seed}"
    shutil.copytree(template, state_dir)
    sb = Sandbox(state_dir=state_dir, faults=FAULTS, seed=seed).start()
    for key, value in sb.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HF_HOME", str(tmp / f"hf-{seed}"))
    monkeypatch.setenv("REMEDYBOT_HOME", str(tmp / f"rb-{seed}"))
    return sb


def our_commits(sb: Sandbox, space: str) -> int:
    repo = sb.state.find("space", space)
    return sum(1 for c in sb.state.git(repo).log("main") if c.title.startswith("remedybot:"))


@pytest.mark.parametrize("seed", range(6))
def test_fix_under_faults_ends_the_same_with_no_double_side_effects(
        sandbox_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    sb = faulty_sandbox(sandbox_template, tmp_path, seed, monkeypatch)
    try:
        plan_file = tmp_path / "plan.json"
        assert run("fix", "demo/wedged-space", "--dry-run", "--out", str(plan_file)).code == 0
        steps = {s["playbook"]: s["number"] for s in json.loads(plan_file.read_text())["steps"]}
        # Approve the rebuild, the empty commit and the duplicate, skipping the plain restart:
        # the factory rebuild is what clears the wedge, so the commit and duplicate never run.
        assert run("approve", str(plan_file), "--steps", str(steps["factory_rebuild"])).code == 0
        result = run("apply", str(plan_file))
        assert result.code == 0, result.err
        space = sb.state.find("space", "demo/wedged-space").space
        assert space.factory_restarts == 1 and space.restarts == 0
        assert sb.state.runtime(sb.state.find("space", "demo/wedged-space"))["stage"] == "RUNNING"
        assert sb.injector is not None and sb.injector.stats()["injected"] > 0
    finally:
        sb.stop()


@pytest.mark.parametrize("seed", range(4))
def test_commit_and_duplicate_under_faults_happen_once(
        sandbox_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    sb = faulty_sandbox(sandbox_template, tmp_path, 100 + seed, monkeypatch)
    try:
        plan_file = tmp_path / "plan.json"
        assert run("fix", "demo/wedged-space", "--dry-run", "--out", str(plan_file)).code == 0
        steps = {s["playbook"]: s["number"] for s in json.loads(plan_file.read_text())["steps"]}
        approve = f"{steps['noop_commit']},{steps['duplicate']}"
        assert run("approve", str(plan_file), "--steps", approve).code == 0
        result = run("apply", str(plan_file))
        assert result.code == 0, result.err
        assert our_commits(sb, "demo/wedged-space") == 1
        copies = [rid for (t, rid) in sb.state.repos if t == "space" and rid.startswith("demo/wedged-space-")]
        assert copies == ["demo/wedged-space-2"]
        assert sb.state.runtime(sb.state.find("space", "demo/wedged-space-2"))["stage"] == "RUNNING"
        assert sb.state.find("space", "demo/wedged-space").space.factory_restarts == 0
    finally:
        sb.stop()


def _apply_subprocess(sb: Sandbox, plan_file: Path, audit: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "remedybot", "apply", str(plan_file), "--audit-log", str(audit)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=subprocess_env(sb))


def _wait_for_event(audit: Path, event: str, step: int, proc: subprocess.Popen, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if audit.exists():
            for line in audit.read_text().splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if record.get("event") == event and record.get("step") == step:
                    return True
        time.sleep(0.005)
    return False


@pytest.mark.parametrize("boundary", [("step-start", "noop_commit"), ("step-end", "noop_commit"),
                                      ("verify", "noop_commit"), ("step-start", "duplicate"),
                                      ("step-end", "duplicate")])
def test_sigkill_at_step_boundaries_then_resume(sandbox: Sandbox, tmp_path: Path, boundary: tuple[str, str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_VERIFY_TIMEOUT", "2.5")  # for this test only (it leaked into later tests)
    plan_file = tmp_path / "plan.json"
    assert run("fix", "demo/wedged-space", "--dry-run", "--out", str(plan_file)).code == 0
    steps = {s["playbook"]: s["number"] for s in json.loads(plan_file.read_text())["steps"]}
    assert run("approve", str(plan_file), "--steps", f"{steps['noop_commit']},{steps['duplicate']}").code == 0
    audit = tmp_path / "audit.jsonl"
    proc = _apply_subprocess(sandbox, plan_file, audit)
    event, playbook = boundary
    if _wait_for_event(audit, event, steps[playbook], proc):
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    resumed = run("apply", str(plan_file), "--audit-log", str(audit))
    assert resumed.code == 0, resumed.err
    assert our_commits(sandbox, "demo/wedged-space") == 1
    copies = [rid for (t, rid) in sandbox.state.repos if t == "space" and rid.startswith("demo/wedged-space-")]
    assert copies == ["demo/wedged-space-2"]
    assert sandbox.state.runtime(sandbox.state.find("space", "demo/wedged-space-2"))["stage"] == "RUNNING"
