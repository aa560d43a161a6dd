"""Verification waits for progress, not for the clock (issue 13.8, SAFETY.md "Verification").

The sandbox here runs its clock at real pace (speed 1), so its builds take the tens of seconds
they take on the Hub; the product's waits jump that clock (tests/conftest.py), so no test waits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from clirun import run
from sandboxes import copy_state, point_at

from remedybot.hub import Hub
from remedybot.remedy.verify import verify_space
from remedybot.sandbox.server import Sandbox


@pytest.fixture
def slow_sandbox(sandbox_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    copy_state(sandbox_template, tmp_path / "hub")
    with Sandbox(state_dir=tmp_path / "hub", clock_speed=1.0) as sb:
        point_at(sb, tmp_path, monkeypatch)
        monkeypatch.setenv("REMEDYBOT_VERIFY_POLL", "1")
        yield sb


def test_a_wedged_build_is_given_up_after_the_no_progress_window_not_the_timeout(
        slow_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_VERIFY_NO_PROGRESS", "120")
    clock = slow_sandbox.state.clock
    hub = Hub()
    hub.restart("demo/wedged-space")  # a plain restart does not clear the wedge
    started = clock.now()
    check = verify_space(hub, "demo/wedged-space")
    waited = clock.now() - started
    assert not check.ok and check.stage == "BUILDING" and check.stalled_for is not None
    assert 120 <= waited < 200  # the window, not REMEDYBOT_VERIFY_TIMEOUT's 30 minutes
    assert check.describe().startswith("still BUILDING, with no progress for 12")


def test_a_build_that_keeps_printing_may_outlast_the_window(slow_sandbox: Sandbox,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # The build waits 20 s in the queue, then prints with pauses of up to 27 s and fails after 52 s.
    monkeypatch.setenv("REMEDYBOT_VERIFY_NO_PROGRESS", "30")
    clock = slow_sandbox.state.clock
    hub = Hub()
    hub.restart("demo/dependency")
    started = clock.now()
    check = verify_space(hub, "demo/dependency")
    assert check.stalled_for is None and check.stage == "RUNTIME_ERROR", check.describe()
    assert clock.now() - started > 30  # longer than the window


def test_apply_moves_on_to_the_next_step_once_a_restart_makes_no_progress(
        slow_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_VERIFY_NO_PROGRESS", "120")
    plan_file, audit = tmp_path / "plan.json", tmp_path / "audit.jsonl"
    assert run("fix", "demo/wedged-space", "--dry-run", "--out", str(plan_file)).code == 0
    steps = {s["playbook"]: s["number"] for s in json.loads(plan_file.read_text())["steps"]}
    approve = f"{steps['restart']},{steps['factory_rebuild']}"
    assert run("approve", str(plan_file), "--steps", approve).code == 0
    result = run("apply", str(plan_file), "--audit-log", str(audit))
    assert result.code == 0, result.err
    assert "still BUILDING, with no progress for 12" in result.err
    space = slow_sandbox.state.find("space", "demo/wedged-space").space
    assert space.restarts == 1 and space.factory_restarts == 1


@pytest.mark.parametrize(("name", "value"), [("REMEDYBOT_VERIFY_NO_PROGRESS", "abc"),
                                             ("REMEDYBOT_VERIFY_NO_PROGRESS", "0"),
                                             ("REMEDYBOT_VERIFY_NO_PROGRESS", "-5"),
                                             ("REMEDYBOT_VERIFY_TIMEOUT", "nan"),
                                             ("REMEDYBOT_VERIFY_TIMEOUT", "abc"),
                                             ("REMEDYBOT_VERIFY_POLL", "inf")])
def test_a_bad_verification_setting_is_a_usage_error_before_any_step(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str) -> None:
    plan_file = tmp_path / "plan.json"
    assert run("fix", "demo/wedged-space", "--dry-run", "--out", str(plan_file)).code == 0
    assert run("approve", str(plan_file), "--steps", "1").code == 0
    monkeypatch.setenv(name, value)
    result = run("apply", str(plan_file))
    assert result.code == 2
    assert result.err_lines[-1].startswith(f"Error: {name} must be a positive number of seconds, not")
    assert sandbox.state.find("space", "demo/wedged-space").space.restarts == 0  # checked before any step ran
