"""`remedybot report`: render the support ticket for a Space only Hugging Face can fix.

Read-only: it collects evidence, diagnoses, reads the audit log of what remedybot
tried, and renders one ticket format. The ticket goes to stdout (safe to pipe into
a mail client) or to `--out F`, whose path is then printed on stderr.

Engine modules are imported inside each command, never at module level: `remedybot --help` must not
load them (bench/bench_cli_startup.py keeps it under 0.2x of `hf --help`).
"""

# No `from __future__ import annotations` in a module of commands: Typer reads every command's annotations
# at each start-up, and a string annotation costs it a compile() (most of its time building the commands;
# tests/cli/test_startup.py). Names imported only for type checking are quoted instead.
from pathlib import Path

import typer

from remedybot.cli.root import app
from remedybot.core import output

FORMAT_HELP = "email (to website@huggingface.co), forum (Spaces category), github, markdown or json."


@app.command("report")
def ticket_report(
    space: str = typer.Argument(..., metavar="OWNER/SPACE"),
    fmt: str = typer.Option("markdown", "--format", help=FORMAT_HELP),
    out: Path = typer.Option(None, "--out", help="Write the ticket to this file instead of stdout.",
                             dir_okay=False),
    audit_log: Path = typer.Option(None, "--audit-log", help="Read what was tried from this audit JSONL file "
                                   "(default: remedybot's own).", dir_okay=False),
    templates: Path = typer.Option(None, "--templates", help="A folder of your own ticket templates "
                                   "(ticket_<format>.*.j2, escalation.yaml); they override the built-in ones "
                                   "by file name.", file_okay=False),
    restart_error: str = typer.Option(None, "--restart-error", help="The error the Space page showed when a "
                                      "restart failed (with its 'Root=...' request id), pasted as text."),
    push_error: str = typer.Option(None, "--push-error", help="The output of a rejected 'git push', pasted as "
                                   "text."),
) -> None:
    """Render a support ticket for a Space only Hugging Face can fix (what was tried included)."""
    from remedybot.api import ticket_context
    from remedybot.core.errors import UsageError
    from remedybot.escalate.tickets import EXTENSIONS, render_ticket, write_ticket

    if fmt not in EXTENSIONS:  # checked before any Hub call: a typo should not cost a diagnosis
        raise UsageError(f"Unknown --format '{fmt}'. Use one of: {', '.join(EXTENSIONS)}.")
    context = ticket_context(space, audit_log=audit_log, templates=templates, restart_error=restart_error,
                             push_error=push_error)
    text = render_ticket(context, fmt, templates)
    if out is None:
        output.result(text)
        return
    try:
        write_ticket(text, out)
    except OSError as exc:
        raise UsageError(f"Cannot write the ticket to '{out}': {exc.strerror or exc}.") from None
    output.info(f"✓ Ticket written to {out}")
    send_to = context["request"]["channels"].get(fmt if fmt in ("email", "forum", "github") else "")
    if send_to:
        output.hint(f"send it to {send_to}")
