"""A Space that says RUNNING while its app never answers ("Preparing Space" forever).

The runtime cannot show it, so `diagnose` probes the app URL once when the stage is RUNNING.
End to end against the sandbox, whose `app_hung` condition makes the app URL time out (504)
until a new container starts.
"""

from __future__ import annotations

import json

from clirun import run

from remedybot.sandbox.server import Sandbox

EXIT_OK, EXIT_UNHEALTHY = 0, 7


def hang(sb: Sandbox, space_id: str) -> None:
    repo = sb.state.find("space", space_id)
    assert repo is not None and repo.space is not None
    repo.space.conditions["app_hung"] = True


def test_running_space_whose_app_does_not_answer_is_wedged_and_a_restart_brings_it_back(sandbox: Sandbox) -> None:
    hang(sandbox, "demo/healthy")
    before = run("diagnose", "demo/healthy", "--json")
    assert before.code == EXIT_UNHEALTHY, before.err
    diagnosis = json.loads(before.out)
    assert diagnosis["branch"] == "wedged_space" and diagnosis["stage"] == "RUNNING"
    assert diagnosis["evidence"][0]["source"] == "app_probe"
    assert diagnosis["evidence"][0]["text"].endswith("-> 504")

    fixed = run("fix", "demo/healthy", "--yes")
    assert fixed.code == EXIT_OK, fixed.err
    shown = fixed.out + fixed.err
    assert "RUNNING after step 1 (restart)" in shown and "→ step 2" not in shown  # the cheapest step did it
    repo = sandbox.state.find("space", "demo/healthy")
    assert repo is not None and repo.space is not None and repo.space.restarts == 1
    assert repo.space.factory_restarts == 0

    after = run("diagnose", "demo/healthy", "--json")
    assert after.code == EXIT_OK, after.err
    assert json.loads(after.out)["branch"] == "healthy"


def test_the_probe_is_saved_with_the_evidence_and_only_for_a_running_space(sandbox: Sandbox, tmp_path) -> None:
    running, failing = tmp_path / "running.json", tmp_path / "failing.json"
    assert run("diagnose", "demo/healthy", "--save-evidence", str(running)).code == EXIT_OK
    probe = json.loads(running.read_text(encoding="utf-8"))["app_probe"]
    assert probe["status"] == "200" and probe["url"].endswith("/demo/healthy")
    assert run("diagnose", "demo/dependency", "--save-evidence", str(failing)).code == EXIT_UNHEALTHY
    assert "app_probe" not in json.loads(failing.read_text(encoding="utf-8"))
    # offline, the saved probe decides the same way
    hang(sandbox, "demo/healthy")
    assert run("diagnose", "demo/healthy", "--save-evidence", str(running)).code == EXIT_UNHEALTHY
    offline = run("diagnose", "--evidence", str(running), "--json")
    assert json.loads(offline.out)["branch"] == "wedged_space"
