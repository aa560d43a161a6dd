"""`remedybot mcp` and `remedybot skill`: the doors for AI assistants.

`mcp` serves the pipeline's tools over MCP on stdio (remedybot/mcp_server.py; needs the `mcp` extra, imported
only when the command runs). `skill` prints or installs an Agent Skill, a `SKILL.md` in the layout `hf skills add`
installs (`<skills dir>/<name>/SKILL.md`, YAML front matter with `name` and `description`, then Markdown). The
skill is generated from this Typer app (every command, argument and option, and the exit codes of
remedybot/core/errors.py), so it cannot drift from the command line; `skills/remedybot/SKILL.md` is the
committed copy, and a test checks that it matches.
"""

# No `from __future__ import annotations`: see diagnose.py (Typer reads these commands' annotations).
from pathlib import Path
from typing import Any

import typer

from remedybot import __version__
from remedybot.cli.root import app
from remedybot.core import output
from remedybot.core.errors import EXIT_CODE_HELP, UsageError

SKILL_NAME = "remedybot"
SKILL_DESCRIPTION = (
    "Diagnose and fix stuck Hugging Face Spaces with the remedybot CLI. Use when a Space is stuck on Building or "
    "Preparing, fails its build, crashes at start with a Runtime error, is over its storage limit, or had a push "
    "refused; when the user asks why a Space is down, how to fix it, or to write a support ticket to Hugging Face; "
    "to check a Space checkout before pushing; or to watch every Space of a user or organisation."
)
SKILL_INTRO = """\
# remedybot

`remedybot` (also `hf remedy` when installed as an hf extension) collects a Space's evidence, classifies the
failure with the exact log lines that prove it, plans fixes cheapest first, applies only what a person approved,
verifies the Space came back, and writes a support ticket when only Hugging Face can help.

Install: `pip install remedybot`. It reads the usual token (`HF_TOKEN` or `hf auth login`).

## How to use it safely

1. `remedybot diagnose OWNER/SPACE --json`: read the branch, the evidence lines and `next_step`. Read-only.
2. `remedybot fix OWNER/SPACE --dry-run --out plan.json`: the plan; changes nothing. Show it to the user.
3. Only the user approves: ask them to run `remedybot approve plan.json` (optionally `--steps 1,2`).
   Never approve on their behalf, never use `--yes`, and never edit a plan file.
4. `remedybot apply plan.json`: runs the approved steps, verifies the Space, writes the audit log.
5. If it is still failing, or the cause is Hugging Face's (`platform_incident`, `policy_block`, `capacity`):
   `remedybot report OWNER/SPACE --format email` drafts the ticket; the user sends it.

stdout carries results only (`--json` where offered); `Error:`, `Warning:` and `Hint:` lines go to stderr.
"""


def _param(param: Any) -> str:
    """One argument or option as the usage line shows it."""
    if param.param_type_name == "argument":
        name = param.metavar or param.name.upper()
        return name if param.required else f"[{name}]"
    flag = param.opts[0]
    return flag if param.is_flag else f"{flag} {param.metavar or param.name.upper()}"


def _command_lines(path: str, command: Any) -> list[str]:
    """A command's entry: its usage, first help line, then each option with its help; groups recurse."""
    if command.hidden:
        return []
    if hasattr(command, "commands"):
        lines: list[str] = []
        for name, sub in sorted(command.commands.items()):
            lines += _command_lines(f"{path} {name}", sub)
        return lines
    params = [p for p in command.params if not getattr(p, "hidden", False)]
    usage = " ".join([path] + [_param(p) for p in params if p.param_type_name == "argument"])
    summary = (command.help or "").strip().split("\n")[0].strip()
    lines = [f"### `{usage}`", "", summary]
    details = " ".join(line.strip() for line in (command.help or "").strip().split("\n")[1:] if line.strip())
    if details:
        lines += ["", details]
    if command.epilog:
        lines += ["", command.epilog.strip()]
    options = [p for p in params if p.param_type_name == "option"]
    if options:
        lines.append("")
        lines += [f"- `{_param(p)}`: {' '.join((p.help or '').split())}" for p in options]
    return [*lines, ""]


def build_skill_md() -> str:
    """The SKILL.md text, generated from the Typer app and the exit codes."""
    group = typer.main.get_command(app)
    lines = ["---", f"name: {SKILL_NAME}", f'description: "{SKILL_DESCRIPTION}"', "---", "", SKILL_INTRO,
             f"Generated from remedybot {__version__} by `remedybot skill`; regenerate it after changing the CLI.",
             "", "## Commands", ""]
    for name, command in sorted(group.commands.items()):  # type: ignore[attr-defined]  # import order varies
        lines += _command_lines(f"remedybot {name}", command)
    lines += ["## Exit codes", "", "| code | name | meaning |", "|---|---|---|"]
    for entry in EXIT_CODE_HELP.removeprefix("Exit codes: ").split(" · "):
        code, name, meaning = entry.split(" ", 2)
        lines.append(f"| {code} | {name} | {meaning.strip('()')} |")
    return "\n".join(lines) + "\n"


@app.command("skill")
def assistant_skill(
    install: Path = typer.Option(None, "--install", metavar="DIR", file_okay=False,
                                 help="Write DIR/remedybot/SKILL.md (a skills folder such as .agents/skills or "
                                      "~/.claude/skills) instead of printing it."),
) -> None:
    """Print the agent skill (SKILL.md) that teaches an AI assistant to use remedybot, or install it."""
    text = build_skill_md()
    if install is None:
        output.result(text)
        return
    target = install / SKILL_NAME / "SKILL.md"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"Cannot install the skill into '{install}': {exc.strerror or exc}.") from None
    output.info(f"✓ Skill installed: {target}")


@app.command("mcp")
def assistant_mcp() -> None:
    """Serve remedybot's tools to an AI assistant over MCP on stdio (needs the 'mcp' extra).

    Tools: diagnose, show_evidence, plan (dry run), explain_plan, draft_ticket, and apply, which runs only a plan
    a person approved with 'remedybot approve'; the server never approves.
    """
    try:
        from remedybot.mcp_server import serve
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("mcp"):
            raise
        raise UsageError("'remedybot mcp' needs the mcp package: pip install 'remedybot[mcp]'.") from None
    serve()
