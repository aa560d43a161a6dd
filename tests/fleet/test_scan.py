"""`remedybot scan`: every Space of an owner, diagnosed, correlated, sorted by severity (issue 8).

End to end against the sandbox Hub, plus the correlation rule on hand-made evidence
(pure, so its thresholds can be pinned exactly without building a large fleet).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from clirun import run

from remedybot.diagnose.classify import classify
from remedybot.fleet.scan import SpaceResult, correlate, masked_line, severity_key
from remedybot.model.evidence import Evidence
from remedybot.sandbox.scenario import load_scenarios
from remedybot.sandbox.server import Sandbox

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNHEALTHY = 0, 1, 2, 7


def test_scan_demo_lists_every_demo_space_with_its_branch(sandbox: Sandbox) -> None:
    result = run("scan", "demo")
    assert result.code == EXIT_UNHEALTHY, result.err
    rows = {line.split()[0]: line.split() for line in result.out.splitlines() if line.startswith("demo/")}
    expected = {s.space: s.branch for s in load_scenarios()}
    assert set(rows) == set(expected)
    for space, branch in expected.items():
        assert rows[space][2] == branch, rows[space]
    assert f"{len(expected)} Spaces of 'demo': {len(expected) - 1} failing, 1 healthy" in result.out
    assert result.out.splitlines()[0].split()[:3] == ["SPACE", "STAGE", "BRANCH"]
    # the hints send the block to support and the first Space a plan can act on to `fix`
    assert "remedybot report demo/policy-block" in result.err
    assert "remedybot fix demo/policy-block" not in result.err
    assert "remedybot fix demo/unknown --dry-run" in result.err


def test_scan_json_is_a_list_of_diagnoses_sorted_by_severity(sandbox: Sandbox) -> None:
    result = run("scan", "demo", "--json")
    assert result.code == EXIT_UNHEALTHY, result.err
    items = json.loads(result.out)
    assert {i["space_id"]: i["branch"] for i in items} == {s.space: s.branch for s in load_scenarios()}
    assert items[0]["branch"] == "platform_incident" and items[-1]["branch"] == "healthy"
    assert [i["branch"] for i in items[1:3]] == ["policy_block", "unknown"]
    for item in items:
        assert {"confidence", "evidence", "alternatives", "evidence_collected", "incident"} <= set(item)
    assert items[-1]["evidence_collected"] == "listing"  # settled from the listing, no extra request
    assert all(i["evidence_collected"] == "full" for i in items[:-1])
    assert sandbox.token not in result.out + result.err


def test_healthy_fleet_exits_0_after_two_requests(fleet: Callable[..., Sandbox]) -> None:
    sb = fleet(healthy=6)
    before = len(sb.app.request_log)
    result = run("scan", "demo", "--json")
    assert result.code == EXIT_OK, result.err
    assert [i["branch"] for i in json.loads(result.out)] == ["healthy"] * 6
    paths = [path for _, path, _ in sb.app.request_log[before:]]
    assert paths == ["/api/spaces", "/_sandbox/status/index.json"]  # no request per Space


def test_deep_scan_collects_everything(fleet: Callable[..., Sandbox]) -> None:
    sb = fleet(healthy=2)
    before = len(sb.app.request_log)
    result = run("scan", "demo", "--json", "--deep", "--concurrency", "1")
    assert result.code == EXIT_OK, result.err
    assert {i["evidence_collected"] for i in json.loads(result.out)} == {"full"}
    assert len(sb.app.request_log) - before > 2 + 2 * 5


def test_many_spaces_failing_the_same_way_are_one_platform_incident(fleet: Callable[..., Sandbox]) -> None:
    fleet(healthy=3, wedged=4, no_capacity=1)
    result = run("scan", "demo", "--json")
    assert result.code == EXIT_UNHEALTHY, result.err
    items = {i["space_id"]: i for i in json.loads(result.out)}
    wedged = [f"demo/wedged-{n}" for n in range(4)]
    for space in wedged:
        assert items[space]["branch"] == "platform_incident"
        assert items[space]["incident"] == 1 and items[space]["own_branch"] == "wedged_space"
    assert items["demo/no-capacity-0"]["branch"] == "capacity" and items["demo/no-capacity-0"]["incident"] is None
    assert [i["space_id"] for i in json.loads(result.out)][:4] == wedged  # the incident first, together

    table = run("scan", "demo")
    assert "Incident 1: 4 of 5 failing Spaces fail the same way (wedged_space" in table.out
    assert "1 platform incident(s) covering 4 of them" in table.out


def test_two_spaces_failing_alike_stay_separate_problems(fleet: Callable[..., Sandbox]) -> None:
    fleet(healthy=1, wedged=2)
    items = json.loads(run("scan", "demo", "--json").out)
    assert sorted(i["branch"] for i in items) == ["healthy", "wedged_space", "wedged_space"]


@pytest.mark.parametrize("args, phrase", [
    (("scan", "demo/healthy"), "looks like a Space id"),
    (("scan", "no good"), "is not a user or organisation name"),
    (("scan", "demo", "--concurrency", "0"), "'--concurrency': 0 is not between 1 and 64"),
    (("scan", "demo", "--concurrency", "65"), "'--concurrency': 65 is not between 1 and 64"),
    (("scan", "demo", "--concurrency", "nan"), "'--concurrency'"),
])
def test_scan_refuses_bad_arguments(args: tuple[str, ...], phrase: str) -> None:
    result = run(*args)
    assert result.code == EXIT_USAGE
    error = next(line for line in result.err_lines if line.startswith("Error: "))
    assert phrase in error


def test_owner_without_spaces_warns(empty_sandbox: Sandbox) -> None:
    result = run("scan", "demo")
    assert result.code == EXIT_OK
    assert "Warning: 'demo' has no Spaces visible with this token." in result.err_lines


@pytest.mark.parametrize("command", [("scan",), ("watch", "--once")])
def test_an_owner_that_does_not_exist_is_an_error(empty_sandbox: Sandbox, command: tuple[str, ...]) -> None:
    result = run(command[0], "nobodyhere", *command[1:])
    assert result.code == 1
    assert result.err_lines[-1] == "Error: No user or organisation 'nobodyhere' on the Hub. Check the name."


# -- the correlation rule, on hand-made evidence -------------------------------------------------------
def _wedged(n: int) -> SpaceResult:
    ev = Evidence(space_id=f"o/w{n}", runtime={"stage": "BUILDING"},
                  build_log=[f"===== Build Queued at 2026-01-2{n % 10} 09:45:3{n % 10} / Commit SHA: "
                             f"{n:07x}abc ====="])
    return SpaceResult(ev.space_id, classify(ev), ev)


def _dependency(n: int, module: str = "torch") -> SpaceResult:
    ev = Evidence(space_id=f"o/d{n}", runtime={"stage": "RUNTIME_ERROR"},
                  run_log=["Traceback (most recent call last):", '  File "/home/user/app/app.py", line 1, in <module>',
                           f"ModuleNotFoundError: No module named '{module}'"])
    return SpaceResult(ev.space_id, classify(ev), ev)


def _other(n: int) -> SpaceResult:
    ev = Evidence(space_id=f"o/c{n}", runtime={"stage": "RUNTIME_ERROR",
                                               "errorMessage": "Scheduling failure: not enough hardware capacity"})
    return SpaceResult(ev.space_id, classify(ev), ev)


def test_correlation_threshold_is_three_spaces_and_30_percent_of_the_failing() -> None:
    assert _wedged(0).diagnosis.branch == "wedged_space" and _dependency(0).diagnosis.branch == "dependency"
    others = [_dependency(n, f"mod{n}") for n in range(8)]  # failing too, each its own way
    at = [_wedged(n) for n in range(3)] + others[:7]  # 3 of 10 failing
    incidents = correlate(at)
    assert len(incidents) == 1 and incidents[0].spaces == ["o/w0", "o/w1", "o/w2"]
    assert all(r.diagnosis.branch == "platform_incident" for r in at[:3])
    assert at[0].evidence.fleet == {"spaces_checked": 10, "spaces_failing_same_way": 3, "spaces_scanned": 10}

    below = [_wedged(n) for n in range(3)] + others  # 3 of 11 failing: 27 %
    assert correlate(below) == []
    assert all(r.diagnosis.branch == "wedged_space" and r.evidence.fleet is None for r in below[:3])
    assert correlate([_wedged(0), _wedged(1)]) == []


def test_a_shared_cause_in_the_spaces_own_files_is_never_an_incident() -> None:
    results = [_dependency(n) for n in range(5)]
    assert results[0].diagnosis.branch == "dependency"
    assert correlate(results) == []
    assert {r.diagnosis.branch for r in results} == {"dependency"}


def test_masked_lines_ignore_times_hashes_and_the_space_name() -> None:
    a = masked_line("===== Build Queued at 2026-01-21 09:45:38 / Commit SHA: f414995 =====", "o/a")
    b = masked_line("===== Build Queued at 2026-02-02 11:00:01 / Commit SHA: 0c0ffee =====", "o/b")
    assert a == b
    assert masked_line("cannot clone o/alpha", "o/alpha") == masked_line("cannot clone o/beta", "o/beta")


def test_severity_order() -> None:
    results = [_other(0), _wedged(0), SpaceResult("o/x", error="gone")]
    healthy = Evidence(space_id="o/h", runtime={"stage": "RUNNING"}, run_log=["Running on local URL:  http://0.0.0.0:7860"])
    results.append(SpaceResult("o/h", classify(healthy), healthy))
    ordered = [r.space_id for r in sorted(results, key=severity_key)]
    assert ordered == ["o/c0", "o/w0", "o/x", "o/h"]  # failing by confidence, unreadable, healthy last
