"""The request budget against the sandbox Hub's rate limits: remedybot slows down before the quota,
keeps the user's reserve, and never meets a 429. The sandbox's clock runs at real pace here and the
product's waits jump it (SimWaits), so a 5-minute window passes in no real time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from clirun import run

from remedybot.core import clock as clocks
from remedybot.core.errors import ExitCode
from remedybot.hub import Hub
from remedybot.hub import budget as budgets
from remedybot.sandbox.clock import SimWaits
from remedybot.sandbox.server import Sandbox

QUOTA = 20  # api requests per window for the free tier in these tests


@pytest.fixture
def paced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(state_dir=tmp_path / "hub", load_default_scenarios=False, clock_speed=1.0,
                 quotas={"free": {"api": QUOTA}}) as sb:
        sb.state.create_repo("space", "demo/s", sdk="gradio", initial_files={"app.py": b"print(1)\n"})
        for key, value in sb.env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("REMEDYBOT_HOME", str(tmp_path / "remedybot-home"))
        previous = clocks.set_clock(SimWaits(sb.state.clock))
        try:
            yield sb
        finally:
            clocks.set_clock(previous)
            budgets.configure()


def _waits() -> list[tuple[str, float]]:
    heard: list[tuple[str, float]] = []
    budgets.current().on_wait(lambda bucket, seconds: heard.append((bucket, seconds)))
    return heard


def test_half_of_each_window_is_left_for_other_tools(paced: Sandbox) -> None:
    budget = budgets.configure(0.5)
    heard = _waits()
    hub = Hub()
    for _ in range(15):  # more than half a window: the budget must wait for the next one
        hub.space_info("demo/s")
    assert paced.app.limiter.refused == 0
    assert [s for _, _, s in paced.app.request_log if s == 429] == []
    assert budget.lowest["api"] >= QUOTA // 2  # the reserve was never touched
    assert len(heard) == 1 and heard[0][0] == "api" and 0 < heard[0][1] <= 300


def test_a_budget_of_one_still_stops_before_the_quota(paced: Sandbox) -> None:
    budget = budgets.configure(1.0)
    heard = _waits()
    hub = Hub()
    for _ in range(2 * QUOTA + 5):
        hub.space_info("demo/s")
    assert paced.app.limiter.refused == 0
    assert budget.lowest["api"] >= 0 and len(heard) == 2


def test_what_other_tools_spent_counts_too(paced: Sandbox) -> None:
    budgets.configure(0.5)
    heard = _waits()
    hub = Hub()
    hub.space_info("demo/s")  # the budget learns the window
    other = {"Authorization": f"Bearer {paced.token}"}
    for _ in range(12):  # the user's other tools, on the same token
        assert httpx2.get(f"{paced.endpoint}/api/spaces/demo/s", headers=other).status_code == 200
    started = paced.state.clock.now()
    hub.space_info("demo/s")  # sees the last answer's remaining (19) but not the 12 others: spends, learns
    hub.space_info("demo/s")  # 7 left < reserve 10: waits for the next window first
    assert heard and paced.state.clock.now() - started >= heard[0][1]
    assert paced.app.limiter.refused == 0


@pytest.mark.parametrize("value", ["0", "1.5", "-1", "nan", "abc", ""])
@pytest.mark.parametrize("command", [["diagnose", "demo/s"], ["scan", "demo"], ["watch", "demo", "--once"]])
def test_a_bad_budget_is_one_usage_error_line(paced: Sandbox, command: list[str], value: str) -> None:
    result = run(*command, "--budget", value)
    assert result.code == 2
    assert result.err_lines == [f"Error: --budget must be a share of the rate limit above 0 and at most 1 (0.5 "
                                f"leaves half for your other tools), not {value!r}."]


def test_a_bad_request_budget_in_the_policy_file_is_refused(paced: Sandbox, tmp_path: Path) -> None:
    policy = tmp_path / "remedybot.toml"
    policy.write_text("request_budget = 2\n")
    result = run("watch", "demo", "--once", "--policy", str(policy))
    assert result.code == 2
    assert result.err_lines == [f"Error: Policy file '{policy}': 'request_budget' must be a share of the rate "
                                "limit above 0 and at most 1, not 2."]


def test_watch_stretches_its_interval_when_a_round_does_not_fit(paced: Sandbox,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from remedybot.fleet.policy import Policy
    from remedybot.fleet.watch import Watcher

    budgets.configure(0.5)
    watcher = Watcher("demo", policy=Policy(), json_out=True)
    watcher.interval = 60.0  # a round every minute, but only 10 API requests per 5 minutes are ours
    watcher.cycle()
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    [stretched] = [e for e in line["events"] if e["event"] == "interval-stretched"]
    sent = budgets.current().sent["api"]
    assert stretched["was"] == 60.0 and stretched["interval"] == watcher.interval == float(-(-sent * 300 // 10))
    assert paced.app.limiter.refused == 0


def _more_spaces(sb: Sandbox, count: int) -> None:
    for number in range(count):
        sb.state.create_repo("space", f"demo/s{number}", sdk="gradio", initial_files={"app.py": b"print(1)\n"})


def test_scan_says_on_stderr_when_it_waits_for_the_next_window(paced: Sandbox) -> None:
    """Issue 14: a scan that outgrows its share of the window says why it pauses, in words on stderr."""
    _more_spaces(paced, 7)  # 8 Spaces: more requests than the 10 of each window that are ours
    result = run("scan", "demo", "--budget", "0.5", "--concurrency", "1")
    assert result.code == ExitCode.UNHEALTHY, result.err  # Spaces with no README: failing, and all read
    waits = [line for line in result.err_lines if line.startswith("waiting ")]
    assert waits and all("for the Hub's next rate-limit window ('api')" in line and "(--budget)" in line
                          for line in waits)
    assert "demo/s6" in result.out  # and the scan went on to the end
    assert paced.app.limiter.refused == 0


def test_scan_json_reports_each_wait_as_a_json_line_on_stderr(paced: Sandbox) -> None:
    import json

    _more_spaces(paced, 7)
    result = run("scan", "demo", "--json", "--budget", "0.5", "--concurrency", "1")
    assert result.code == ExitCode.UNHEALTHY, result.err
    events = [json.loads(line) for line in result.err_lines if line.startswith("{")]
    assert events and {e["event"] for e in events} == {"rate-limit-wait"}
    assert all(e["bucket"] == "api" and 0 < e["seconds"] <= 300 for e in events)
    assert len(json.loads(result.out)) == 8  # stdout is still only the result


def test_watch_json_lists_the_waits_among_its_round_events(paced: Sandbox) -> None:
    import json

    _more_spaces(paced, 7)
    result = run("watch", "demo", "--once", "--json", "--budget", "0.5")
    assert result.code == ExitCode.UNHEALTHY, result.err
    [round_line] = [json.loads(x) for x in result.out.splitlines() if x.startswith("{")]
    waits = [e for e in round_line["events"] if e["event"] == "rate-limit-wait"]
    assert waits and all(e["bucket"] == "api" for e in waits)
    assert paced.app.limiter.refused == 0
