"""'It worked yesterday' end to end on the sandbox Hub (issue 16).

demo/upstream-drift changed nothing since 2025-09-05; a rebuild resolves its unpinned gradio and
huggingface_hub to new major releases (the sandbox's package index) and it fails at start. demo/bad-push
ran until a push yesterday dropped a requirement. Each is diagnosed with its cause (drift vs change) and
brought back to RUNNING through plan -> approve -> apply: the time-travel pin, and the rollback. With the
package index unreachable, everything but the drift still works.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import run

from remedybot.model.plan import Plan
from remedybot.sandbox.server import Sandbox


@pytest.fixture(autouse=True)
def fast_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_VERIFY_TIMEOUT", "6")
    monkeypatch.setenv("REMEDYBOT_VERIFY_POLL", "0.05")


def stage(sandbox: Sandbox, space: str) -> str:
    return sandbox.state.runtime(sandbox.state.find("space", space))["stage"]


def head_file(sandbox: Sandbox, space: str, path: str, rev: str = "main") -> str:
    return sandbox.state.git(sandbox.state.find("space", space)).files_at(rev)[path].decode()


def commits(sandbox: Sandbox, space: str) -> list[str]:
    return [c.oid for c in sandbox.state.git(sandbox.state.find("space", space)).log("main", 20)]


def plan_approve_apply(tmp_path: Path, space: str, playbook: str) -> tuple[Plan, int]:
    """fix --dry-run --out, approve only the step of `playbook`, apply; (the plan, apply's exit code)."""
    plan_file = tmp_path / "plan.json"
    assert run("fix", space, "--dry-run", "--out", str(plan_file)).code == 0
    plan = Plan.load(plan_file)
    number = next(s.number for s in plan.steps if s.playbook == playbook and s.diff)
    assert run("approve", str(plan_file), "--by", "tester", "--steps", str(number)).code == 0
    return plan, run("apply", str(plan_file)).code


def test_upstream_drift_is_diagnosed_as_drift_with_the_versions_and_dates(sandbox: Sandbox) -> None:
    result = run("diagnose", "demo/upstream-drift")
    assert result.code == 7
    sha = commits(sandbox, "demo/upstream-drift")[0]
    assert f"  last known good: {sha[:7]} of 2025-09-05, from the commit history (nothing pushed between it " \
           "and the rebuild of " in result.out
    assert ("  cause: upstream drift: nothing build-relevant changed since it last ran; huggingface-hub was "
            "unpinned; it resolved to 2.4.0 (released 2026-10-29) instead of 0.34.4, which it got when it last "
            "ran") in result.out.splitlines()
    history = json.loads(run("diagnose", "demo/upstream-drift", "--json").out)["history"]
    assert history["cause"] == "drift" and history["changes"] == [] and history["drift_checked"]
    assert history["last_good"]["source"] == "history" and history["last_good"]["sha"] == sha
    moved = {d["package"]: (d["good_version"], d["now_version"], d["major"], d["linked"]) for d in history["drift"]}
    assert moved == {"huggingface-hub": ("0.34.4", "2.4.0", True, True), "gradio": ("5.44.1", "6.31.0", True, False)}


def test_time_travel_pin_brings_the_drifted_space_back(sandbox: Sandbox, tmp_path: Path) -> None:
    before = commits(sandbox, "demo/upstream-drift")
    plan, code = plan_approve_apply(tmp_path, "demo/upstream-drift", "time_travel_pin")
    assert code == 0 and stage(sandbox, "demo/upstream-drift") == "RUNNING"
    pin = next(s for s in plan.steps if s.playbook == "time_travel_pin" and s.diff)
    assert pin.reversible and pin.risk == "disruptive"
    assert pin.diff is not None and {"+gradio==5.44.1", "+huggingface_hub==0.34.4", "-gradio",
                                     "-huggingface_hub"} <= set(pin.diff.splitlines())
    assert head_file(sandbox, "demo/upstream-drift", "requirements.txt") == "gradio==5.44.1\nhuggingface_hub==0.34.4\n"
    assert commits(sandbox, "demo/upstream-drift")[1:] == before  # one commit on top, nothing rewritten
    upgrade = next(s for s in plan.steps if s.playbook == "time_travel_pin" and not s.diff)
    assert upgrade.action == "alternative: upgrade the code instead of pinning" and "get_token()" in upgrade.why
    assert not any(s.playbook == "rollback" for s in plan.steps)  # nothing of the Space changed to roll back


def test_bad_push_is_diagnosed_as_a_change_named_by_the_log(sandbox: Sandbox) -> None:
    history = json.loads(run("diagnose", "demo/bad-push", "--json").out)["history"]
    shas = commits(sandbox, "demo/bad-push")
    assert history["cause"] == "change" and history["last_good"]["sha"] == shas[1]
    [change] = history["changes"]
    assert change["path"] == "requirements.txt" and change["status"] == "changed"
    assert change["names"] == ["opencv-python-headless", "pillow"]
    assert change["linked"] == ["ModuleNotFoundError: No module named 'cv2'"]
    assert "-opencv-python-headless" in change["diff"].splitlines()
    out = run("diagnose", "demo/bad-push").out
    assert "  changed since: requirements.txt (changed) (named in the log)" in out.splitlines()


def test_rollback_restores_the_last_good_requirements_and_the_space_runs(sandbox: Sandbox, tmp_path: Path) -> None:
    shas = commits(sandbox, "demo/bad-push")
    good = head_file(sandbox, "demo/bad-push", "requirements.txt", shas[1])
    plan, code = plan_approve_apply(tmp_path, "demo/bad-push", "rollback")
    assert code == 0 and stage(sandbox, "demo/bad-push") == "RUNNING"
    orders = [s.playbook for s in plan.steps]
    assert orders.index("dependency_fix") < orders.index("rollback") < orders.index("escalate")
    assert head_file(sandbox, "demo/bad-push", "requirements.txt") == good
    after = commits(sandbox, "demo/bad-push")
    assert after[1:] == shas
    # Reversible: reverting the rollback commit gives back exactly the files of the push it undid.
    repo = sandbox.state.git(sandbox.state.find("space", "demo/bad-push"))
    assert repo.files_at(after[0]).keys() == repo.files_at(shas[0]).keys()
    assert {p for p, b in repo.files_at(after[0]).items() if repo.files_at(shas[0])[p] != b} == {"requirements.txt"}


def test_rollback_is_never_planned_for_platform_policy_or_capacity() -> None:
    from remedybot.playbooks import rollback

    assert not {"platform_incident", "policy_block", "capacity"} & {str(b) for b in rollback.PLAYBOOK.branches}
    assert rollback.PLAYBOOK.order < 50  # before hardware (50) and duplicate (60), after restarts


def test_with_the_index_unreachable_drift_is_not_checked_and_the_rest_works(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_PYPI_URL", "http://127.0.0.1:9")
    result = run("diagnose", "demo/upstream-drift")
    assert result.code == 7 and "Python dependency problem (dependency)" in result.out
    lines = result.out.splitlines()
    assert any(line.startswith("  last known good: ") for line in lines)
    assert any(line.startswith("  drift could not be checked: ") and "package index" in line for line in lines)
    history = json.loads(run("diagnose", "demo/upstream-drift", "--json").out)["history"]
    assert history["drift_checked"] is False and history["suspects"] == ["huggingface-hub"]
    # The change analysis does not need the index: the bad push is still found and rolled back.
    _, code = plan_approve_apply(tmp_path, "demo/bad-push", "rollback")
    assert code == 0 and stage(sandbox, "demo/bad-push") == "RUNNING"
    drift_plan = tmp_path / "drift.json"
    assert run("fix", "demo/upstream-drift", "--dry-run", "--out", str(drift_plan)).code == 0
    assert not any(s.playbook == "time_travel_pin" for s in Plan.load(drift_plan).steps)


def test_remedybot_records_what_it_saw_running_and_names_it_later(sandbox: Sandbox, api, tmp_path: Path) -> None:
    assert run("diagnose", "demo/healthy").code == 0
    sha = commits(sandbox, "demo/healthy")[0]
    home = Path(__import__("os").environ["REMEDYBOT_HOME"])
    record = json.loads((home / "seen.jsonl").read_text().splitlines()[-1])
    assert record["space_id"] == "demo/healthy" and record["sha"] == sha and record["by"] == "remedybot diagnose"
    api.upload_file(path_or_fileobj=b"import cv2\n", path_in_repo="app.py", repo_id="demo/healthy",
                    repo_type="space", commit_message="Use OpenCV")
    sandbox.state.clock.advance(3600)
    out = run("diagnose", "demo/healthy").out
    assert f"  last seen RUNNING at {sha[:7]} on {record['at'][:10]}, by remedybot diagnose" in out.splitlines()


def _planned(evidence: dict, branch: str = "config_error") -> list:
    from remedybot.diagnose.classify import classify
    from remedybot.model.evidence import Evidence
    from remedybot.playbooks import rollback
    from remedybot.remedy.playbook import PlanContext, PlanOptions

    ev = Evidence.from_dict(evidence)
    diagnosis = classify(ev)
    return rollback.plan(PlanContext("alice/app", diagnosis, ev, [], PlanOptions()))


BASE = {"space_id": "alice/app", "info": {"sha": "b" * 40, "sdk": "gradio"}, "runtime": {"stage": "RUNTIME_ERROR"},
        "run_log": ["ModuleNotFoundError: No module named 'cv2'"]}
LAST_GOOD = {"sha": "a" * 40, "date": "2026-10-01T00:00:00Z", "source": "remedybot", "confidence": 0.9,
             "by": "remedybot watch"}


def test_rollback_of_the_readme_restores_only_its_front_matter() -> None:
    then = "---\ntitle: App\nsdk: gradio\nsdk_version: 5.9.1\n---\n\nOld words.\n"
    now = "---\ntitle: App\nsdk: gradio\nsdk_version: 9.9.9\n---\n\nNew words the owner wrote since.\n"
    [step] = _planned({**BASE, "files": {"README.md": now},
                       "history": {"last_good": LAST_GOOD, "files_at_last_good": {"README.md": then}}})
    assert step.params["files"]["README.md"]["after"] == ("---\ntitle: App\nsdk: gradio\nsdk_version: 5.9.1\n---\n"
                                                          "\nNew words the owner wrote since.\n")
    assert step.diff is not None and "-sdk_version: 9.9.9" in step.diff.splitlines()


def test_rollback_follows_requirement_includes_and_leaves_new_files_to_the_owner() -> None:
    then = {"requirements.txt": "-r base.txt\n", "base.txt": "opencv-python-headless\n", "packages.txt": None}
    now = {"requirements.txt": "-r base.txt\n", "base.txt": "pillow\n", "packages.txt": "ffmpeg\n"}
    [step] = _planned({**BASE, "files": now, "history": {"last_good": LAST_GOOD, "files_at_last_good": then,
                                                         "files_at_head": {"base.txt": "pillow\n"}}})
    assert set(step.params["files"]) == {"base.txt"}
    assert step.params["files"]["base.txt"]["after"] == "opencv-python-headless\n"
    assert "packages.txt did not exist then; delete it by hand" in step.why


def test_scan_records_what_it_saw_running_and_tickets_say_what_changed(sandbox: Sandbox) -> None:
    from remedybot.remedy.lastseen import seen_records

    assert run("scan", "demo").code == 7
    seen = {r.space_id: r for r in seen_records()}
    healthy = seen["demo/healthy"]
    assert healthy.by == "remedybot scan" and healthy.sha == commits(sandbox, "demo/healthy")[0]
    assert "demo/bad-push" not in seen
    ticket = run("report", "demo/bad-push", "--format", "markdown")
    assert ticket.code == 0
    lines = ticket.out.splitlines()
    assert "Since it last ran:" in lines
    assert "- changed since: requirements.txt (changed) (named in the log)" in lines


def test_the_whole_tree_is_the_second_option_and_brings_the_space_back(sandbox: Sandbox, api, tmp_path: Path) -> None:
    from huggingface_hub import CommitOperationAdd

    from remedybot.remedy.lastseen import record_running

    shas = commits(sandbox, "demo/bad-push")
    repo = sandbox.state.git(sandbox.state.find("space", "demo/bad-push"))
    good_tree = repo.files_at(shas[1])
    assert record_running([("demo/bad-push", shas[1])], "remedybot watch")  # watch saw it RUNNING there
    api.create_commit("demo/bad-push", [CommitOperationAdd("notes.md", b"todo\n"),
                                        CommitOperationAdd("app.py", good_tree["app.py"] + b"# tidy\n")],
                      commit_message="More tidying", repo_type="space")
    plan_file = tmp_path / "plan.json"
    assert run("fix", "demo/bad-push", "--dry-run", "--out", str(plan_file)).code == 0
    plan = Plan.load(plan_file)
    [files_step, tree_step] = [s for s in plan.steps if s.playbook == "rollback"]
    assert set(files_step.params["files"]) == {"requirements.txt"}
    assert set(tree_step.params["files"]) == {"requirements.txt", "app.py"}
    assert set(tree_step.params["delete"]) == {"notes.md"} and tree_step.risk == "disruptive"
    assert tree_step.diff is not None and "+++ /dev/null" in tree_step.diff.splitlines()
    assert run("approve", str(plan_file), "--by", "tester", "--steps", str(tree_step.number)).code == 0
    assert run("apply", str(plan_file)).code == 0
    assert stage(sandbox, "demo/bad-push") == "RUNNING"
    assert repo.files_at("main") == good_tree


def test_no_rollback_to_a_guessed_revision_when_the_failure_names_nothing_that_changed(sandbox: Sandbox) -> None:
    before = commits(sandbox, "demo/unknown")
    result = run("fix", "demo/unknown", "--dry-run", "--json")
    assert not any(s["playbook"] == "rollback" for s in json.loads(result.out)["steps"])
    assert commits(sandbox, "demo/unknown") == before
