"""Rendering support tickets: the formats, their templates, and where automatic tickets are written.

The context comes from `remedybot.escalate.context`; this module only lays it out. Each
format is one Jinja template in templates/ (a user's `--templates DIR` overrides
any of them by file name), except JSON, which is the redacted context itself so
nothing can be lost in a layout. A variable a template uses but the context lacks
is an error naming the template and the variable, never an empty string: a ticket
with a silent hole is worse than no ticket. The rendered text is scrubbed again.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from remedybot.core.errors import UsageError
from remedybot.core.redact import clean, scrub
from remedybot.core.templating import environment as shared
from remedybot.remedy.audit import state_home

FORMATS = {"email": "ticket_email.txt.j2", "forum": "ticket_forum.md.j2", "github": "ticket_github.md.j2",
           "markdown": "ticket_markdown.md.j2", "json": None}
EXTENSIONS = {"email": "txt", "forum": "md", "github": "md", "markdown": "md", "json": "json"}


@lru_cache(maxsize=8)
def environment(user_dir: str | None) -> Any:
    """The shared Jinja environment (StrictUndefined, user overrides) plus the Markdown filters, one per
    template directory so compiled templates are cached across a fleet's tickets. Autoescaping is on
    for any HTML template (a user's own `*.html`)."""
    env = shared(Path(user_dir) if user_dir else None, html=True)
    env.filters.update(code=inline_code, fence=fence)
    return env


def inline_code(value: Any) -> str:
    """Markdown inline code that survives backticks in the value (CommonMark: a longer backtick run)."""
    text = " ".join(str(value).split())
    runs = [len(r) for r in re.findall(r"`+", text)]
    ticks = "`" * (max(runs) + 1 if runs else 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(value: Any) -> str:
    """A code fence longer than any backtick run in `value` (lines or text), so a log line cannot close it."""
    if isinstance(value, list):
        value = "\n".join(str(v.get("text", "")) if isinstance(v, dict) else str(v) for v in value)
    runs = [len(r) for r in re.findall(r"`{3,}", str(value or ""))]
    return "`" * max(3, max(runs) + 1 if runs else 3)


def render_ticket(context: dict[str, Any], fmt: str, user_dir: Path | None = None) -> str:
    """The ticket text in one format.

    Raises:
        UsageError: unknown format, a missing templates directory, or a template that uses an undefined
            variable or is not valid Jinja (the message names the template, its line and the variable).
    """
    if fmt not in FORMATS:
        raise UsageError(f"Unknown ticket format '{fmt}'. Use one of: {', '.join(FORMATS)}.")
    if user_dir is not None and not user_dir.is_dir():
        raise UsageError(f"Templates directory '{user_dir}' does not exist. Point --templates at a folder "
                         "holding your ticket_*.j2 files.")
    context = clean(context)
    if fmt == "json":
        return scrub(json.dumps(context, indent=2, ensure_ascii=False)) + "\n"
    name = FORMATS[fmt]
    try:
        text = environment(str(user_dir) if user_dir else None).get_template(name).render(**context)
    except Exception as exc:
        raise template_error(exc, str(name)) from None
    return scrub(text)


def template_error(exc: Exception, name: str) -> Exception:
    """A one-line UsageError naming the template (and line) and what is wrong; other errors pass through."""
    import jinja2

    if isinstance(exc, jinja2.UndefinedError):
        where = name
        tb = exc.__traceback__
        while tb is not None:  # Jinja rewrites frames to point at the template file and line
            filename = tb.tb_frame.f_code.co_filename
            if not filename.endswith(".py") and not filename.startswith("<"):
                where = f"{Path(filename).name} line {tb.tb_lineno}"
            tb = tb.tb_next
        return UsageError(f"Template {where} uses an undefined variable: {exc.message}. Run 'remedybot report "
                          "OWNER/SPACE --format json' to see every variable a ticket has.")
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return UsageError(f"Template {exc.name or name} line {exc.lineno} is not valid Jinja: {exc.message}.")
    if isinstance(exc, jinja2.TemplateError):
        return UsageError(f"Cannot render template {name}: {exc}.")
    return exc


def ticket_path(space_id: str, fmt: str, now: datetime | None = None) -> Path:
    """Where an automatic ticket goes: the state home's tickets/ folder, one file per Space and moment."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return state_home() / "tickets" / f"{space_id.replace('/', '--')}-{stamp}.{EXTENSIONS[fmt]}"


def write_ticket(text: str, path: Path) -> Path:
    """Write a rendered ticket (UTF-8), creating its folder; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
