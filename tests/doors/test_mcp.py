"""`remedybot mcp`: the MCP server, driven over stdio by the mcp package's own client against the sandbox Hub."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from clirun import run
from huggingface_hub import HfApi
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from remedybot.mcp_server import TOOLS
from remedybot.sandbox.server import Sandbox

FAKE_TOKEN = "hf_" + "Zq8xW2mN4vB6cD1eF3gH5jK7lP9rS0tU"  # not a real token: the redaction must remove its shape


def text_of(result: Any) -> str:
    return "".join(getattr(part, "text", "") for part in result.content)


Answers = list[tuple[bool, str]]
Call = tuple[str, dict[str, Any] | Callable[[Answers], dict[str, Any]]]


def run_session(tmp_path: Path, calls: list[Call]) -> tuple[list[str], Answers]:
    """Start `remedybot mcp` as an assistant would, list its tools, make `calls` (arguments may be made from the
    answers so far); (tool names, [(is_error, text)])."""
    env = {key: value for key, value in os.environ.items() if key.startswith(("HF_", "REMEDYBOT_"))}
    params = StdioServerParameters(command=str(Path(sys.executable).parent / "remedybot"), args=["mcp"], env=env)

    async def session() -> tuple[list[str], list[tuple[bool, str]]]:
        with (tmp_path / "server-stderr.txt").open("w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as client:
                await client.initialize()
                names = [tool.name for tool in (await client.list_tools()).tools]
                answers: Answers = []
                for name, arguments in calls:
                    result = await client.call_tool(name, arguments(answers) if callable(arguments) else arguments)
                    answers.append((bool(result.is_error), text_of(result)))
                return names, answers

    return anyio.run(session)


def test_tools_diagnose_redact_and_refuse_an_unapproved_apply(sandbox: Sandbox, tmp_path: Path) -> None:
    HfApi(endpoint=sandbox.endpoint, token=sandbox.token).upload_file(
        path_or_fileobj=f"gradio\nrequests  # token={FAKE_TOKEN}\n".encode(), path_in_repo="requirements.txt",
        repo_id="demo/dependency", repo_type="space")
    def saved(answers: Answers) -> dict[str, Any]:
        return {"plan_file": json.loads(answers[2][1])["plan_file"]}

    restarts = sandbox.state.snapshot()["space:demo/wedged-space"]
    names, answers = run_session(tmp_path, [
        ("diagnose", {"space": "demo/port-mismatch"}),
        ("show_evidence", {"space": "demo/dependency"}),
        ("plan", {"space": "demo/wedged-space"}),
        ("explain_plan", saved),
        ("apply", saved),
        ("diagnose", {"space": "not a space"}),
        ("draft_ticket", {"space": "demo/policy-block", "format": "github"}),
    ])
    assert sorted(names) == sorted(TOOLS)
    (d_err, diagnosis), (e_err, evidence), (p_err, planned), (x_err, explained), (a_err, applied), (bad, usage), \
        (t_err, ticket) = answers
    assert not (d_err or e_err or p_err or x_err or t_err)
    assert "demo/policy-block" in ticket
    assert json.loads(diagnosis)["branch"] == "port_mismatch"
    assert "requests  # token=" in evidence and FAKE_TOKEN not in evidence
    made = json.loads(planned)
    plan_file = Path(made["plan_file"])
    assert plan_file.parent == Path(os.environ["REMEDYBOT_HOME"]) / "plans"
    assert made["to_approve"] == f"remedybot approve {plan_file}" and made["steps"][0]["playbook"] == "restart"
    assert "not approved by anyone yet" in explained
    assert a_err and applied == (f"Error executing tool apply: Refusing to apply plan {made['fingerprint'][:12]} for "
                                 f"demo/wedged-space from an assistant: no person has approved it. A person reviews "
                                 f"it and runs 'remedybot approve {plan_file}' in a terminal; this server never "
                                 f"approves.")
    assert not json.loads(plan_file.read_text())["approvals"]
    after = sandbox.state.snapshot()["space:demo/wedged-space"]
    restarts.pop("build_started", None), after.pop("build_started", None)
    assert after == restarts  # nothing was restarted
    assert bad and "not a space" in usage



def test_mcp_without_the_extra_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "remedybot.mcp_server", raising=False)
    for name in ["mcp", *(n for n in sys.modules if n.startswith("mcp."))]:
        monkeypatch.setitem(sys.modules, name, None)  # as if the mcp package were not installed
    result = run("mcp")
    assert result.code == 2
    assert result.err_lines == ["Error: 'remedybot mcp' needs the mcp package: pip install 'remedybot[mcp]'."]
