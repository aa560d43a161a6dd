"""`remedybot mcp`: the pipeline as tools for an AI assistant, over MCP on stdio (the `mcp` extra).

The assistant may diagnose a Space, read its evidence, make a dry-run plan, explain a plan and draft a support
ticket: all read-only on the Hub. It may apply a plan only once a person has approved it with
`remedybot approve`; there is no tool that approves, and `apply` refuses a plan without a person's approval for
its fingerprint before anything else (then the engine's own checks: stale, tampered, expired, approved steps
only; SAFETY.md). Every tool's text passes through the one redaction (remedybot/core/redact.py), as the
command line's output does. Tools call the Python API (remedybot/api.py) and print nothing: stdout is the
protocol's, and the engine's own lines go to stderr.

This module imports `mcp` at the top: only `remedybot mcp` imports it (inside the command), so the extra is
needed only there and `remedybot --help` does not load it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from remedybot import __version__, api
from remedybot.core.errors import RemedyError, refusal
from remedybot.core.redact import clean, redact
from remedybot.model.plan import Plan, render_plan
from remedybot.remedy.audit import state_home
from remedybot.remedy.events import ApplyEvent

P = ParamSpec("P")

INSTRUCTIONS = (
    "remedybot diagnoses stuck Hugging Face Spaces and plans safe fixes. Start with `diagnose`; `show_evidence` "
    "shows the lines behind it. `plan` makes a dry-run plan and saves it; `explain_plan` reads it. Nothing changes "
    "a Space until a person approves the plan in a terminal with `remedybot approve PLAN_FILE`: you cannot "
    "approve, and `apply` refuses a plan no person approved. `draft_ticket` writes the support request for what "
    "only Hugging Face can fix."
)
TOOLS = ("diagnose", "show_evidence", "plan", "explain_plan", "draft_ticket", "apply")


def _text(value: Any) -> str:
    """What a tool returns: text as is, anything else as indented JSON; redacted either way."""
    if isinstance(value, str):
        return redact(value)
    return json.dumps(clean(value), indent=2, ensure_ascii=False, default=str)


def tool(fn: Callable[P, Any]) -> Callable[P, str]:
    """Wrap a tool: its result redacted into text, a RemedyError into a tool error with its (redacted) line."""

    @wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> str:
        try:
            return _text(fn(*args, **kwargs))
        except RemedyError as exc:
            message = exc.message + (f" Hint: {exc.hint}" if exc.hint else "")
            raise ToolError(redact(message)) from None

    return run


def diagnose(space: str) -> Any:
    """Diagnose a Hugging Face Space (OWNER/NAME): the failure's branch, confidence, the log lines that prove it
    and the next step. Read-only."""
    return api.diagnose_space(space).to_dict()


def show_evidence(space: str) -> Any:
    """The evidence remedybot reads for a Space: runtime, tails of the build and run logs, status page, config
    files, recent commits, storage, and what could not be read. Read-only; secrets are redacted."""
    return api.collect(space).to_dict()


def plan(space: str) -> Any:
    """Make a dry-run plan of fixes for a Space (cheapest first) and save it; nothing is changed. Returns the plan
    file's path, its steps and the command a person runs to approve it."""
    made = api.plan(space)
    path = state_home() / "plans" / f"{made.fingerprint[:12]}.json"
    if made.steps:
        made.save(path)
    return {"space_id": made.space_id, "branch": made.branch, "plan_file": str(path) if made.steps else None,
            "fingerprint": made.fingerprint, "expires_at": made.expires_at,
            "steps": [{"number": s.number, "playbook": s.playbook, "action": s.action, "risk": s.risk, "why": s.why}
                      for s in made.steps],
            "to_approve": f"remedybot approve {path}" if made.steps else None,
            "explanation": render_plan(made) if made.steps else "Nothing to fix: the Space is healthy."}


def explain_plan(plan_file: str) -> str:
    """Explain a saved plan: each step's risk, whether it can be undone, why, the exact calls, and which steps a
    person has approved."""
    loaded = Plan.load(Path(plan_file))
    approved = sorted(loaded.approved_steps())
    state = f"approved steps: {', '.join(map(str, approved))}" if approved else "not approved by anyone yet"
    return f"Plan {loaded.fingerprint[:12]} for {loaded.space_id} ({loaded.branch}; {state}).\n\n{render_plan(loaded)}"


def draft_ticket(space: str, format: str = "markdown") -> str:
    """Draft the support ticket for a Space only Hugging Face can fix (format: email, forum, github, markdown or
    json), with the evidence and what remedybot already tried. Nothing is sent."""
    return api.ticket(space, format=format)


def apply(plan_file: str) -> Any:
    """Apply the steps of a plan that a person approved with `remedybot approve`, then verify the Space. A plan
    no person approved is refused: this server never approves."""
    path = Path(plan_file)
    loaded = Plan.load(path)
    if not loaded.approved_steps():
        raise refusal(f"apply plan {loaded.fingerprint[:12]} for {loaded.space_id} from an assistant",
                      "no person has approved it", f"A person reviews it and runs 'remedybot approve {path}' in a "
                      "terminal; this server never approves")
    events: list[ApplyEvent] = []
    result = api.apply(loaded, on_event=events.append)
    return {"outcome": result.outcome, "exit_code": int(result.exit_code), "message": result.message,
            "space_id": result.space_id or loaded.space_id,
            "events": [{"kind": str(e.kind), "step": e.step, "text": e.text} for e in events]}


def build_server() -> MCPServer[Any]:
    """The MCP server with remedybot's tools (read-only ones annotated so)."""
    from mcp.types import ToolAnnotations

    server: MCPServer[Any] = MCPServer(name="remedybot", version=__version__, instructions=INSTRUCTIONS)
    read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=True)
    for fn in (diagnose, show_evidence, plan, explain_plan, draft_ticket):
        server.add_tool(tool(fn), name=fn.__name__, annotations=read_only, structured_output=False)
    server.add_tool(tool(apply), name="apply", structured_output=False,
                    annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=True))
    return server


def serve() -> None:
    """Serve the tools over stdio until the client closes the connection."""
    build_server().run("stdio")
