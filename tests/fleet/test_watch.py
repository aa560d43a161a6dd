"""`remedybot watch`: policy limits, cooldowns and budgets that survive a restart, notifications, tickets.

Each "restart of watch" is a second `watch --once` run in the same state home, the way a
cron job or a scheduled CI workflow runs it. Outcomes are read from the sandbox (restart
counters, stages, hardware), the audit log, the ticket folder and a local webhook server.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from clirun import CliResult, run
from conftest import rewedge, settle

from remedybot.core.errors import UsageError
from remedybot.fleet.policy import Policy, PolicyGate, load_policy, parse_policy
from remedybot.model.plan import Step
from remedybot.remedy.audit import AuditLog
from remedybot.remedy.ledger import Ledger
from remedybot.sandbox.server import Sandbox

EXIT_OK, EXIT_USAGE, EXIT_REFUSED, EXIT_UNHEALTHY = 0, 2, 3, 7


@pytest.fixture(autouse=True)
def fast_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    # The sandbox clock runs 1000x; a restart of a wedged Space is given up on after 1 real second.
    monkeypatch.setenv("REMEDYBOT_VERIFY_TIMEOUT", "1")
    monkeypatch.setenv("REMEDYBOT_VERIFY_POLL", "0.05")


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body.decode()))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[ThreadingHTTPServer]:
    """A local webhook receiver: `.url`, and `.received` holds (headers, body) of every POST."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_port}/hook"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def events(hook: Any, since: int = 0) -> list[dict[str, Any]]:
    return [json.loads(body) for _, body in hook.received[since:]]


def watch(*args: str, policy: Path | None = None) -> CliResult:
    return run("watch", "demo", "--once", *args, *(("--policy", str(policy)) if policy else ()))


def write_policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / f"policy-{len(list(tmp_path.glob('policy-*')))}.toml"
    path.write_text(text)
    return path


def space(sb: Sandbox, space_id: str) -> Any:
    repo = sb.state.find("space", space_id)
    assert repo is not None and repo.space is not None
    return repo.space


def home() -> Path:
    return Path(os.environ["REMEDYBOT_HOME"])


def policy_skips() -> list[dict[str, Any]]:
    return [r for r in AuditLog(home() / "audit.jsonl").records() if r["event"] == "policy-skip"]


# -- cooldowns and budgets survive a restart of watch --------------------------------------------------
def test_cooldown_survives_a_restart_of_watch(fleet: Callable[..., Sandbox], tmp_path: Path) -> None:
    sb = fleet(wedged=1)
    policy = write_policy(tmp_path, 'allow = ["factory_rebuild"]\n')
    first = watch("--auto", "safe", policy=policy)
    assert first.code == EXIT_OK, first.err
    assert space(sb, "demo/wedged-0").factory_restarts == 1
    assert sb.state.runtime(sb.state.find("space", "demo/wedged-0"))["stage"] == "RUNNING"
    assert "action: demo/wedged-0 — factory_rebuild → fixed" in first.out

    rewedge(sb, "demo/wedged-0")  # the builder loses it again right away
    second = watch("--auto", "safe", policy=policy)
    assert second.code == EXIT_UNHEALTHY
    assert space(sb, "demo/wedged-0").factory_restarts == 1  # not repeated
    assert ("- demo/wedged-0: step 2 (factory_rebuild) not applied: cooldown: factory_rebuild ran on this Space "
            "less than 30m ago") in second.err
    logged = [r for r in policy_skips() if r["playbook"] == "factory_rebuild"]
    assert len(logged) == 1 and logged[0]["reason"].startswith("cooldown: factory_rebuild")


def test_budget_survives_a_restart_of_watch(fleet: Callable[..., Sandbox], tmp_path: Path) -> None:
    sb = fleet(wedged=2)
    policy = write_policy(tmp_path, 'allow = ["factory_rebuild"]\n[budgets]\nmax_actions_per_hour = 1\n')
    first = watch("--auto", "safe", policy=policy)
    rebuilt = [s for s in ("demo/wedged-0", "demo/wedged-1") if space(sb, s).factory_restarts]
    assert len(rebuilt) == 1, first.err
    assert "not applied: budget: 1 action(s) in the last hour (max_actions_per_hour = 1)" in first.err

    rewedge(sb, rebuilt[0])
    second = watch("--auto", "safe", policy=policy)
    assert second.code == EXIT_UNHEALTHY
    assert sum(space(sb, s).factory_restarts for s in ("demo/wedged-0", "demo/wedged-1")) == 1
    other = ({"demo/wedged-0", "demo/wedged-1"} - set(rebuilt)).pop()
    assert f"- {rebuilt[0]}: step 2 (factory_rebuild) not applied: cooldown" in second.err
    assert f"- {other}: step 2 (factory_rebuild) not applied: budget: 1 action(s) in the last hour" in second.err


def test_global_cap_on_duplicates(fleet: Callable[..., Sandbox], tmp_path: Path) -> None:
    sb = fleet(wedged=2)
    policy = write_policy(tmp_path, 'allow = ["duplicate"]\n[budgets]\nmax_duplicates_per_hour = 1\n')
    first = watch("--auto", "safe", policy=policy)
    second = watch("--auto", "safe", policy=policy)
    spaces = sorted(rid for (kind, rid) in sb.state.repos if kind == "space")
    assert len(spaces) == 3, (first.err, second.err)  # one duplicate, in two runs
    assert "→ replaced" in first.out  # a copy runs; the original stays down and watched
    assert "max_duplicates_per_hour = 1" in first.err + second.err


# -- policy limits -----------------------------------------------------------------------------------
def test_policy_limits_hold_steps_back_and_log_why(fleet: Callable[..., Sandbox], tmp_path: Path) -> None:
    sb = fleet(no_capacity=1, wedged=1)
    paid = write_policy(tmp_path, 'allow = ["hardware_switch"]\nmax_cost_per_hour = 0\n')
    result = watch("--auto", "safe", policy=paid)
    assert result.code == EXIT_UNHEALTHY
    assert space(sb, "demo/no-capacity-0").requested_hardware == "cpu-basic"
    assert "- demo/no-capacity-0: step 1 (restart) not applied: playbook restart is not in the policy's allow list" \
        in result.err
    assert "above the policy's max_cost_per_hour ($0/h)" in result.err
    assert "action:" not in result.out

    cautious = write_policy(tmp_path, 'allow = ["factory_rebuild"]\nmax_risk = "safe"\n')
    result = watch("--auto", "safe", policy=cautious)
    assert space(sb, "demo/wedged-0").factory_restarts == 0
    assert "step 2 (factory_rebuild) not applied: its risk (disruptive) is above the policy's max_risk (safe)" \
        in result.err
    reasons = [(r["space_id"], r["playbook"], r["reason"].split(" ")[:2]) for r in policy_skips()]
    assert ("demo/no-capacity-0", "hardware_switch", ["it", "costs"]) in reasons  # run 1, in the audit log
    assert ("demo/wedged-0", "factory_rebuild", ["its", "risk"]) in reasons  # run 2


def test_without_auto_nothing_is_changed(fleet: Callable[..., Sandbox]) -> None:
    sb = fleet(wedged=1, no_capacity=1)
    result = watch()
    assert result.code == EXIT_UNHEALTHY
    assert space(sb, "demo/wedged-0").restarts == space(sb, "demo/wedged-0").factory_restarts == 0
    assert space(sb, "demo/no-capacity-0").restarts == 0


def test_gate_decisions(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.jsonl")
    now = datetime.now(UTC)

    def step(playbook: str, risk: str = "disruptive", **params: Any) -> Step:
        return Step(playbook=playbook, action="a", risk=risk, reversible=True, why="w", params=params,  # type: ignore[arg-type]
                    costs_money=bool(params))

    gate = PolicyGate(Policy(allow=("restart", "hardware_switch", "duplicate"), max_cost_per_hour=0.5), ledger, "o/s")
    assert not gate.decide(step("escalate", "read-only")).runs
    assert "not in the policy's allow list" in gate.decide(step("noop_commit")).reason
    assert "above the policy's max_cost_per_hour ($0.5/h)" in gate.decide(step("hardware_switch",
                                                                               cost_per_hour=0.6)).reason
    assert gate.decide(step("hardware_switch", cost_per_hour=0.4)).runs
    assert "cost per hour is unknown" in gate.decide(
        Step(playbook="duplicate", action="a", risk="disruptive", reversible=True, why="w", costs_money=True)).reason
    assert "max_risk" in PolicyGate(Policy(allow=("restart",), max_risk="read-only"), ledger, "o/s").decide(
        step("restart", "safe")).reason
    ledger.record("o/s", "restart")
    assert gate.decide(step("restart", "safe")).reason.startswith("cooldown: restart")
    later = PolicyGate(Policy(allow=("restart",)), ledger, "o/s", now=now + timedelta(minutes=11))
    assert later.decide(step("restart", "safe")).runs
    for n in range(2):
        ledger.record("o/s", "noop_commit", step=n)
    later = PolicyGate(Policy(allow=("restart",)), ledger, "o/s", now=now + timedelta(minutes=11))
    assert later.decide(step("restart", "safe")).reason.startswith("budget: 3 action(s) on this Space")
    ledger.record("o/other", "duplicate")
    dup = PolicyGate(Policy(allow=("duplicate",)), ledger, "o/third").decide(step("duplicate", "disruptive"))
    assert dup.reason.startswith("budget: 1 duplicate(s) in the last hour")


# -- the policy file -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, phrase", [
    ('alow = ["restart"]', "'alow' is not a policy setting"),
    ('auto = "all"', "'auto' must be one of none, safe"),
    ('allow = ["restart", "reboot"]', "'allow' names an unknown playbook 'reboot'"),
    ('max_risk = "destructive"', "destructive steps never run unattended"),
    ("max_cost_per_hour = -1", "'max_cost_per_hour' must be a number of USD per hour"),
    ('[cooldowns]\nrestart = "soon"', "'cooldowns.restart' must be a duration like"),
    ('[cooldowns]\nfactory_rebuild = "5m"', "'cooldowns.factory_rebuild' must be at least 30m"),
    ("[budgets]\nmax_actions_per_day = 3", "'budgets.max_actions_per_day' is not a policy setting"),
    ('[budgets]\nmax_actions_per_hour = "many"', "'budgets.max_actions_per_hour' must be a whole number"),
    ("allow = [", "is not valid TOML"),
])
def test_bad_policy_files_are_refused_naming_the_key(tmp_path: Path, text: str, phrase: str) -> None:
    path = write_policy(tmp_path, text)
    with pytest.raises(UsageError) as info:
        load_policy(path)
    assert phrase in info.value.message and str(path) in info.value.message


def test_policy_defaults_and_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    default = load_policy()
    assert (default.auto, default.allow, default.max_risk, default.max_cost_per_hour) == (
        "none", ("restart", "factory_rebuild"), "disruptive", 0.0)
    assert default.cooldown("factory_rebuild") == timedelta(minutes=30)
    (tmp_path / "remedybot.toml").write_text('auto = "safe"\n[cooldowns]\nrestart = "2h"\nnoop_commit = 90\n')
    found = load_policy()
    assert found.auto == "safe" and found.source == "remedybot.toml"
    assert found.cooldown("restart") == timedelta(hours=2) and found.cooldown("noop_commit") == timedelta(minutes=90)
    assert parse_policy({"budgets": {"max_duplicates_per_hour": 0}}).budgets.max_duplicates_per_hour == 0


def test_watch_refuses_bad_input_before_scanning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_HOME", str(tmp_path / "home"))
    bad = write_policy(tmp_path, 'max_risk = "destructive"')
    result = watch(policy=bad)
    assert result.code == EXIT_USAGE and result.err_lines[0].startswith(f"Error: Policy file '{bad}': 'max_risk'")
    assert watch("--notify", "hooks.example.com").err_lines[0].startswith("Error: --notify expects an http(s) URL")
    assert watch("--auto", "yes").code == EXIT_USAGE
    assert watch("--interval", "0").code == EXIT_USAGE

    import fcntl

    lock = home() / "watch" / "demo.lock"
    lock.parent.mkdir(parents=True)
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        second = watch()
    assert second.code == EXIT_REFUSED
    assert second.err_lines[-1].startswith("Error: Refusing to watch 'demo': another watch of it is running")


# -- notifications and tickets --------------------------------------------------------------------------
def test_new_problems_and_recoveries_are_notified_once(sandbox: Sandbox, webhook: Any) -> None:
    first = watch("--notify", webhook.url)
    assert first.code == EXIT_UNHEALTHY, first.err
    sent = events(webhook)
    assert {e["event"] for e in sent} == {"problem"}
    assert sorted(e["space_id"] for e in sent) == sorted(
        f"demo/{n}" for n in ("apt-package", "bad-push", "capacity", "config-error", "dependency",
                              "platform-incident", "policy-block", "port-mismatch", "repo-too-large", "resource-limit",
                              "startup-crash", "unhealthy-startup", "unknown", "upstream-drift", "wedged-space"))
    for headers, body in webhook.received:
        assert headers["Content-Type"] == "application/json" and "Authorization" not in headers
        assert sandbox.token not in body and "hf_" not in json.loads(body)["text"]
    # What remedybot cannot fix gets a ticket, once.
    tickets = sorted(p.name.split("-2")[0] for p in (home() / "tickets").iterdir())
    assert tickets == ["demo--policy-block", "demo--unknown"]
    assert next(e for e in sent if e["space_id"] == "demo/policy-block")["ticket"].endswith(".md")

    assert watch("--notify", webhook.url).code == EXIT_UNHEALTHY
    assert events(webhook, len(sent)) == []  # nothing new: nothing sent
    assert len(list((home() / "tickets").iterdir())) == 2

    sb = sandbox
    sb.state.restart(sb.state.find("space", "demo/wedged-space"), factory=True)  # someone else fixed it
    settle(sb)
    third = watch("--notify", webhook.url)
    recovered = events(webhook, len(sent))
    assert [(e["event"], e["space_id"], e["was"]) for e in recovered] == [
        ("recovered", "demo/wedged-space", "wedged_space")], third.err
    assert "recovered: demo/wedged-space is RUNNING again (was wedged_space)" in third.out


def test_actions_are_notified(fleet: Callable[..., Sandbox], webhook: Any, tmp_path: Path) -> None:
    fleet(healthy=1, wedged=1)
    policy = write_policy(tmp_path, 'allow = ["factory_rebuild"]\n')
    result = watch("--auto", "safe", "--notify", webhook.url, policy=policy)
    assert result.code == EXIT_OK, result.err
    sent = events(webhook)
    assert [e["event"] for e in sent] == ["problem", "action"]
    action = sent[1]
    assert (action["space_id"], action["outcome"]) == ("demo/wedged-0", "fixed")
    assert [s["playbook"] for s in action["steps"]] == ["factory_rebuild"]
    assert watch("--auto", "safe", "--notify", webhook.url, policy=policy).code == EXIT_OK
    assert len(webhook.received) == 2  # fixed and still healthy: nothing new


def test_an_incident_is_one_notification_and_is_waited_out(fleet: Callable[..., Sandbox], webhook: Any) -> None:
    sb = fleet(healthy=1, wedged=4)
    result = watch("--auto", "safe", "--notify", webhook.url, "--json")
    assert result.code == EXIT_UNHEALTHY, result.err
    sent = events(webhook)
    assert [e["event"] for e in sent] == ["incident"]
    assert sent[0]["spaces"] == [f"demo/wedged-{n}" for n in range(4)]
    assert Path(sent[0]["ticket"]).is_file()  # Hugging Face may not know yet: a ticket is ready
    for n in range(4):  # waiting is the fix: nothing was restarted
        assert space(sb, f"demo/wedged-{n}").restarts == space(sb, f"demo/wedged-{n}").factory_restarts == 0
    cycle = json.loads(result.out)
    assert cycle["incidents"][0]["spaces"] == sent[0]["spaces"] and cycle["events"][0]["event"] == "incident"


# -- the loop and the example workflow ----------------------------------------------------------------
def test_the_loop_rescans_and_survives_a_hub_outage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from remedybot.core.errors import HubUnavailableError
    from remedybot.fleet.watch import Watcher

    monkeypatch.setenv("REMEDYBOT_HOME", str(tmp_path / "home"))
    calls: list[int] = []

    def cycle(self: Watcher) -> int:
        calls.append(1)
        if len(calls) == 2:
            raise HubUnavailableError("the Hub did not answer (503) after 5 attempts")
        if len(calls) == 3:
            raise KeyboardInterrupt
        return 0

    monkeypatch.setattr(Watcher, "cycle", cycle)
    with pytest.raises(KeyboardInterrupt):
        Watcher("demo", policy=Policy()).run(interval=0.01, once=False)
    assert len(calls) == 3  # the outage was reported and the next scan ran


def test_example_workflow_runs_watch_once_with_the_token_from_secrets() -> None:
    import yaml

    path = Path(__file__).parents[2] / "examples" / "github-actions-watch.yml"
    workflow = yaml.safe_load(path.read_text())
    assert workflow[True]["schedule"][0]["cron"]  # YAML reads the key `on` as True
    steps = workflow["jobs"]["watch"]["steps"]
    watch_step = next(s for s in steps if "remedybot watch" in s.get("run", ""))
    assert 'remedybot watch "$OWNER" --once --auto safe' in watch_step["run"]
    assert watch_step["env"]["HF_TOKEN"] == "${{ secrets.HF_TOKEN }}"
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/cache/restore@") for u in uses)
    assert any(u.startswith("actions/cache/save@") for u in uses)  # the ledger outlives the run


def test_read_only_steps_of_an_allowed_playbook_run_unattended(tmp_path: Path) -> None:
    """Issue 13.16: a storage plan's verify step is read-only; held back, the commit after it could never run."""
    from remedybot.fleet.policy import Policy, PolicyGate
    from remedybot.model.plan import Step
    from remedybot.remedy.ledger import Ledger

    gate = PolicyGate(Policy(allow=("history_slim",), max_risk="disruptive"), Ledger(tmp_path / "l.jsonl"), "o/s")
    verify = Step(playbook="history_slim", action="verify", risk="read-only", reversible=True, why="w",
                  params={"op": "verify"})
    ticket = Step(playbook="escalate", action="ticket", risk="read-only", reversible=True, why="w")
    assert gate.decide(verify).runs
    assert not gate.decide(ticket).runs
    assert gate.granted == []  # reading costs no budget


def test_the_loop_waits_out_its_interval_on_the_hub_clock_not_in_real_seconds(
        empty_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between rounds the watcher sleeps on remedybot.core.clock; here that is the sandbox's clock."""
    import itertools
    import time

    from remedybot.fleet.watch import Watcher

    rounds: list[float] = []

    def cycle(self: Watcher) -> int:
        rounds.append(empty_sandbox.state.clock.now())
        if len(rounds) == 3:
            raise KeyboardInterrupt
        return 0

    monkeypatch.setattr(Watcher, "cycle", cycle)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        Watcher("demo", policy=Policy()).run(interval=300, once=False)
    speed = empty_sandbox.state.clock.speed
    gaps = [(b - a) / speed for a, b in itertools.pairwise(rounds)]
    assert all(299 <= gap < 310 for gap in gaps), gaps  # five minutes of Hub time between rounds
    assert time.monotonic() - started < 5  # and no five real minutes
