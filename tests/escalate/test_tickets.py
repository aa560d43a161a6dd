"""Tickets end to end on the sandbox Hub: a Space remedybot could not bring back gets a complete ticket.

Four Spaces only Hugging Face can help: a policy block, a platform incident, an unknown
failure, and a wedged Space that survived a factory rebuild. Each runs the real commands
(`fix`/`apply` write the ticket automatically and print its path; `report` renders it on
demand), and every format is checked for every field support needs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from clirun import CliResult, run

from remedybot.escalate.context import LOG_BYTES, LOG_LINES
from remedybot.escalate.tickets import FORMATS, render_ticket
from remedybot.model.plan import Plan
from remedybot.sandbox.server import Sandbox

ROOT_ID = "Root=1-6aa840f5-0f7ab0a30227e2f4360b22d9"


@pytest.fixture(autouse=True)
def fast_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    # The sandbox clock runs 1000x: a second of verification is 16 simulated minutes.
    monkeypatch.setenv("REMEDYBOT_VERIFY_TIMEOUT", "1")
    monkeypatch.setenv("REMEDYBOT_VERIFY_POLL", "0.05")
    monkeypatch.setenv("REMEDYBOT_WATCH_TIMEOUT", "0.3")
    monkeypatch.setenv("REMEDYBOT_WATCH_POLL", "0.05")


def auto_ticket(result: CliResult) -> Path:
    """The ticket `fix`/`apply` wrote when the Space stayed down (its path is printed on stderr)."""
    match = re.search(r"Support ticket written to (\S+)", result.err)
    assert match, result.err
    path = Path(match.group(1))
    assert path.is_file()
    return path


def report(space: str, audit: Path, *extra: str) -> tuple[dict, dict[str, str]]:
    """`remedybot report --format json` (the context) and every format rendered from it."""
    result = run("report", space, "--format", "json", "--audit-log", str(audit), *extra)
    assert result.code == 0, result.err
    context = json.loads(result.out)
    return context, {fmt: render_ticket(context, fmt) for fmt in FORMATS}


def assert_complete(context: dict, texts: dict[str, str], sandbox: Sandbox, space: str) -> None:
    """Every field support needs is in the context and in every format."""
    runtime = sandbox.state.runtime(sandbox.state.find("space", space))
    s = context["space"]
    assert s["url"] == f"{sandbox.endpoint}/spaces/{space}"  # follows the endpoint, not huggingface.co
    assert s["stage"] == runtime["stage"]
    assert s["hardware"]["requested"] == runtime["hardware"]["requested"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", context["generated_at"])
    assert context["sdk"]["sdk"] in ("gradio", "docker")
    assert context["status_page"]["state"] in ("operational", "degraded")
    assert context["diagnosis"]["evidence"], "the diagnosis must show its evidence lines"
    for log in context["logs"].values():
        assert log["shown"] <= LOG_LINES and sum(len(line["text"]) + 1 for line in log["lines"]) <= LOG_BYTES
    for fmt, text in texts.items():
        needles = [s["url"], context["generated_at"], s["stage"], s["hardware"]["requested"],
                   s["hardware"]["current"] or ("none" if fmt != "json" else '"current": null'),
                   context["sdk"]["sdk"], context["status_page"]["state"],
                   context["diagnosis"]["branch"], context["request"]["ask"][:60]]
        needles += [c["name"] for c in context["status_page"]["non_operational"]]
        needles += [str(e["text"])[:50] for e in context["diagnosis"]["evidence"]]
        needles += [line["text"] for log in context["logs"].values() for line in log["lines"][-3:] if line["text"]]
        needles += context["request_ids"] or ["none seen"]
        if fmt != "json":
            needles += [context["sdk"]["sdk_version"] or "", context["sdk"]["python_version"] or "default 3.10"]
        if s["error_message"]:
            needles.append(s["error_message"].splitlines()[0])
        if context["plan_fingerprint"]:
            needles.append(context["plan_fingerprint"])
        for plan in context["plans"]:
            for step in plan["steps"]:
                needles += [step["playbook"], step["status"], step["at"]]
        flat = " ".join(text.split())  # inline code in the Markdown formats folds whitespace
        missing = [n for n in needles if " ".join(n.split()) not in flat]
        assert not missing, f"{fmt} ticket for {space} lacks {missing}"


def test_policy_block(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.state.end_incident()
    audit = tmp_path / "audit.jsonl"
    result = run("fix", "demo/policy-block", "--yes", "--audit-log", str(audit))
    assert result.code == 4, result.err
    written = auto_ticket(result).read_text()
    assert "VNC Server" in written and "lift the block" in written
    context, texts = report("demo/policy-block", audit)
    assert context["diagnosis"]["branch"] == "policy_block"
    assert context["space"]["error_message"] == "Blocked by abuse-handler by rule: VNC Server"
    assert context["facts"]["block_rule"] == "VNC Server"
    assert "explain why demo/policy-block was blocked (rule: VNC Server)" in context["request"]["ask"]
    assert [s["playbook"] for p in context["plans"] for s in p["steps"]] == ["escalate"]
    assert context["sdk"]["base_image"] == "debian:bookworm-slim"
    assert_complete(context, texts, sandbox, "demo/policy-block")


def test_platform_incident(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.state.start_incident("Spaces", "degraded")
    audit = tmp_path / "audit.jsonl"
    result = run("fix", "demo/platform-incident", "--yes", "--audit-log", str(audit))
    assert result.code == 4, result.err
    auto_ticket(result)
    context, texts = report("demo/platform-incident", audit)
    assert context["diagnosis"]["branch"] == "platform_incident"
    assert context["status_page"]["state"] == "degraded"
    assert {"name": "Spaces", "status": "degraded", "section": "Spaces"} in context["status_page"]["non_operational"]
    assert "Spaces (degraded)" in context["request"]["ask"] and "expected to end" in context["request"]["ask"]
    assert context["sdk"]["sdk_version"] == "5.9.1"
    assert any("401 Unauthorized" in line["text"] for line in context["logs"]["build"]["lines"])
    assert [s["playbook"] for p in context["plans"] for s in p["steps"]] == ["watch_status", "escalate"]
    assert_complete(context, texts, sandbox, "demo/platform-incident")


def test_unknown(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.state.end_incident()
    audit = tmp_path / "audit.jsonl"
    result = run("fix", "demo/unknown", "--yes", "--audit-log", str(audit))
    assert result.code == 4, result.err
    auto_ticket(result)
    context, texts = report("demo/unknown", audit)
    assert context["diagnosis"]["branch"] == "unknown"
    assert context["space"]["error_message"].startswith("Exit code: ?")
    assert "platform-side logs" in context["request"]["ask"]
    assert "Failed to retrieve error logs: SSE is not enabled" in texts["markdown"]
    assert_complete(context, texts, sandbox, "demo/unknown")


def test_wedged_space_that_survived_a_factory_rebuild(sandbox: Sandbox, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.state.end_incident()
    # The builder keeps losing this Space: a factory rebuild clears `wedged` in the sandbox, so put it
    # back right after, the way a real Space stays wedged when the problem is on Hugging Face's side.
    start_build = sandbox.state.start_build

    def still_wedged(repo, trigger, **kwargs):
        start_build(repo, trigger, **kwargs)
        if trigger == "factory" and repo.repo_id == "demo/wedged-space":
            repo.space.conditions["wedged"] = True
            start_build(repo, "restart", **kwargs)
            repo.space.build_trigger = "factory"

    monkeypatch.setattr(sandbox.state, "start_build", still_wedged)
    audit, plan_file = tmp_path / "audit.jsonl", tmp_path / "plan.json"
    assert run("fix", "demo/wedged-space", "--dry-run", "--out", str(plan_file)).code == 0
    steps = {s.playbook: s.number for s in Plan.load(plan_file).steps}
    approve = run("approve", str(plan_file), "--steps", f"{steps['restart']},{steps['factory_rebuild']}")
    assert approve.code == 0, approve.err
    result = run("apply", str(plan_file), "--audit-log", str(audit))
    assert result.code == 4, result.err
    assert sandbox.state.find("space", "demo/wedged-space").space.factory_restarts == 1
    written = auto_ticket(result).read_text()
    assert "factory_rebuild" in written and "reset" in written

    restart_error = f"503 — Something went wrong when restarting this Space.\nRequest ID: {ROOT_ID}"
    context, texts = report("demo/wedged-space", audit, "--restart-error", restart_error)
    assert context["diagnosis"]["branch"] == "wedged_space"
    tried = [(s["playbook"], s["status"], s["verify"]["ok"] if s["verify"] else None)
             for p in context["plans"] for s in p["steps"]]
    assert ("restart", "done", False) in tried and ("factory_rebuild", "done", False) in tried
    assert context["plan_fingerprint"] == Plan.load(plan_file).fingerprint
    assert context["request_ids"] == [ROOT_ID]
    assert "reset the stuck build state of the Space slug demo/wedged-space" in context["request"]["ask"]
    assert "factory_rebuild (done, then BUILDING)" in context["request"]["ask"]
    assert_complete(context, texts, sandbox, "demo/wedged-space")
