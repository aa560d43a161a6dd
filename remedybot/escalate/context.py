"""Escalation: the support ticket for a Space only Hugging Face can help, complete on the first read.

This module owns the ticket *context*: one plain, JSON-safe dict built from the
evidence, the diagnosis, the audit records of what was tried and the status page
as it was collected. Templates (templates/ticket_*.j2, or a user's `--templates
DIR`) only lay it out, and what the ticket asks for per branch is data
(catalog/escalation.yaml). `build_context` is pure; `collect_context` is the one
function that talks to the Hub (through `workflow.diagnose_space`).

Redaction happens twice, on purpose: every input is redacted *before* it is cut
into bounded excerpts (a log line cut in the middle of a token would leave a
half-token `redact` no longer recognises), and the rendered text is redacted
again. On top of `redact`, tickets scrub token shapes glued to other text and
dict values under secret-looking keys, because a ticket leaves the machine.

The context (what `--format json` prints, and what a user template may use):
    generated_at, subject, space{id, owner, name, url, app_url, sha, sha_short, created_at,
    last_modified, private, disabled, stage, error_message, hardware{requested, current},
    used_storage, commits[]}, sdk{sdk, sdk_version, python_version, app_file, app_port,
    startup_timeout, base_image}, status_page{state, url, components, non_operational[],
    missing}, diagnosis{branch, title, confidence, confidence_label, meaning, summary,
    next_step, evidence[], alternatives[], culprit, history[] (since it last ran: last known good, cause,
    changed files, drifted packages; one line each)}, logs{build, run}{available, missing,
    total, shown, omitted, lines[{n, text, match}]}, user_errors{push_error, restart_error},
    plans[{fingerprint, branch, started_at, ended_at, outcome, refusals[], steps[{number, playbook,
    action, risk, at, ended_at, status, detail, calls[{call, at, result}], verify}]}],
    request_ids[], plan_fingerprint, missing{}, facts{}, request{branch, subject, ask,
    details[], channels{}}.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from remedybot.core import output
from remedybot.core.errors import RemedyError, UsageError
from remedybot.core.redact import clean
from remedybot.core.yamldata import load_data
from remedybot.diagnose.catalog.schema import load_branches
from remedybot.diagnose.classify import classify
from remedybot.diagnose.collect import collect_evidence
from remedybot.escalate.tickets import render_ticket, template_error, ticket_path, write_ticket
from remedybot.hub import Hub
from remedybot.hub.status import aggregate_state, status_components
from remedybot.model.diagnosis import Diagnosis
from remedybot.model.evidence import Evidence, front_matter
from remedybot.remedy.attempts import attempts, cap, utc
from remedybot.remedy.lastseen import seen_records

if TYPE_CHECKING:
    from remedybot.remedy.audit import AuditLog

REQUESTS_FILE = "escalation.yaml"
LOG_LINES = 40  # lines of each log shown at most: the tail, where the failure is
LOG_BYTES = 6_000  # and at most this much text, so a ticket fits in an email or a forum post
LINE_CHARS = 400
MAX_PLANS = 5
MAX_REQUEST_IDS = 20
DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_STATUS_PAGE = "https://status.huggingface.co"

_REQUEST_ID = re.compile(r"Root=1-[0-9a-fA-F]{8}-[0-9a-fA-F]{8,32}")


# -- small helpers ------------------------------------------------------------------------------
def _size(n: Any) -> str | None:
    if not isinstance(n, int | float):
        return None
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} B"


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


# -- the context ------------------------------------------------------------------------------------
def build_context(evidence: Evidence | dict[str, Any], diagnosis: Diagnosis | dict[str, Any], *,
                  records: list[dict[str, Any]] | None = None,
                  now: datetime | None = None, endpoint: str | None = None, plan_fingerprint: str | None = None,
                  status_url: str | None = None, user_dir: Path | None = None) -> dict[str, Any]:
    """The ticket context for one Space (pure: no Hub calls; `now` fixes the clock for tests).

    Args:
        evidence: an `Evidence` (or its evidence-file dict).
        diagnosis: a `Diagnosis` (or its `to_dict()` form).
        records: the audit records of this Space, oldest first (`AuditLog.records(space_id=...)`).
        endpoint: the Hub the Space lives on (the Space URL follows it); default https://huggingface.co.
        plan_fingerprint: the plan the ticket follows; default the last one in `records`.
        status_url: the status page people should look at; default the public one.
        user_dir: a `--templates DIR` that may hold its own escalation.yaml.

    Raises:
        UsageError: escalation.yaml is unreadable or one of its strings uses an undefined variable.
    """
    raw = evidence.to_dict() if isinstance(evidence, Evidence) else dict(evidence)
    ev = Evidence.from_dict(clean(raw))
    diag = clean(diagnosis.to_dict() if isinstance(diagnosis, Diagnosis) else dict(diagnosis))
    records = clean(list(records or []))
    now = now or datetime.now(UTC)
    base = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
    info, runtime = ev.info or {}, ev.runtime or {}
    meta = front_matter(ev)["meta"]
    hardware: dict[str, Any] = runtime["hardware"] if isinstance(runtime.get("hardware"), dict) else {}
    sha = info.get("sha") or next((c.get("id") for c in ev.commits or [] if c.get("id")), None)
    owner, _, name = ev.space_id.partition("/")
    space = {
        "id": ev.space_id, "owner": owner, "name": name, "url": f"{base}/spaces/{ev.space_id}",
        "app_url": _text(info.get("host")), "sha": _text(sha), "sha_short": str(sha)[:7] if sha else None,
        "created_at": utc(info.get("createdAt")), "last_modified": utc(info.get("lastModified")),
        "private": info.get("private"), "disabled": bool(info.get("disabled")),
        "stage": ev.stage or "UNKNOWN", "error_message": cap(ev.error_message),
        "hardware": {"requested": _text(hardware.get("requested")), "current": _text(hardware.get("current"))},
        "used_storage": _size(info.get("usedStorage")),
        "commits": [{"id": str(c.get("id", ""))[:7], "title": cap(c.get("title"), 120), "date": utc(c.get("date"))}
                    for c in (ev.commits or [])[:5]],
    }
    dockerfile = (ev.files or {}).get("Dockerfile") or ""
    base_image = next((line.split(None, 1)[1].strip() for line in dockerfile.splitlines()
                       if line.strip().upper().startswith("FROM ") and len(line.split()) > 1), None)
    sdk = {"sdk": ev.sdk, "sdk_version": _text(meta.get("sdk_version")),
           "python_version": _text(meta.get("python_version")), "app_file": _text(meta.get("app_file")),
           "app_port": _text(meta.get("app_port")), "startup_timeout": _text(meta.get("startup_duration_timeout")),
           "base_image": cap(base_image, 200)}
    diagnosis_ctx = _diagnosis(diag, str(space["stage"]))
    plans = attempts(records, limit=MAX_PLANS)
    context: dict[str, Any] = {
        "subject": "",  # filled from the request below; first in the JSON because people read it first
        "generated_at": utc(now),
        "space": space,
        "sdk": sdk,
        "status_page": _status(ev, status_url),
        "diagnosis": diagnosis_ctx,
        "logs": {"build": _excerpt(ev.build_log, "build_log", diagnosis_ctx, ev.missing),
                 "run": _excerpt(ev.run_log, "run_log", diagnosis_ctx, ev.missing)},
        "user_errors": {"push_error": cap(ev.push_error), "restart_error": cap(ev.restart_error)},
        "plans": plans,
        "request_ids": _request_ids(raw, diag, records),
        "plan_fingerprint": plan_fingerprint or next((r["fingerprint"] for r in reversed(records)
                                                      if r.get("fingerprint")), None),
        "missing": dict(ev.missing),
    }
    context["facts"] = _facts(context, diag)
    context["request"] = _request(context, user_dir)
    context["subject"] = context["request"]["subject"]
    return clean(context)


def _diagnosis(diag: dict[str, Any], stage: str) -> dict[str, Any]:
    branch = str(diag.get("branch") or "unknown")
    title = diag.get("title")
    if not title:
        try:
            title = load_branches()[branch].title
        except Exception:  # a branch the table does not know: its id is title enough
            title = branch
    confidence = diag.get("confidence")
    evidence = [{"source": str(e.get("source", "?")), "line": e.get("line"), "text": cap(e.get("text"), LINE_CHARS),
                 "signature": _text(e.get("signature"))} for e in diag.get("evidence") or [] if isinstance(e, dict)]
    alternatives = []
    for alt in diag.get("alternatives") or []:
        if isinstance(alt, dict):
            alternatives.append({"branch": str(alt.get("branch")), "confidence": alt.get("confidence")})
        else:
            alternatives.append({"branch": str(alt), "confidence": None})
    culprit: dict[str, Any] = diag["culprit"] if isinstance(diag.get("culprit"), dict) else {}
    return {"branch": branch, "title": str(title), "stage": diag.get("stage") or stage,
            "confidence": round(float(confidence), 2) if isinstance(confidence, int | float) else None,
            "confidence_label": _text(diag.get("confidence_label")) or "low",
            "meaning": cap(diag.get("meaning")) or "", "summary": cap(diag.get("summary")) or "",
            "next_step": cap(diag.get("next_step")) or "", "evidence": evidence[:12],
            "alternatives": alternatives[:5],
            "culprit": {str(k): ", ".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in culprit.items()},
            "history": _history_lines(diag.get("history"))}


def _history_lines(history: Any) -> list[str]:
    """Since it last ran: the last known good, the cause, the changed files and drifted packages (no contents)."""
    if not isinstance(history, dict) or not isinstance(history.get("lines"), list):
        return []
    return [cap(str(line), LINE_CHARS) or "" for line in history["lines"][:12]]


def _status(ev: Any, status_url: str | None) -> dict[str, Any]:
    """The status page as it was when the evidence was collected: the moment the ticket describes."""
    import os

    url = status_url or os.environ.get("REMEDYBOT_STATUS_URL") or DEFAULT_STATUS_PAGE
    url = url.removesuffix("/index.json")
    doc = ev.status_page
    if doc is None:
        return {"state": "unknown", "url": url, "components": 0, "non_operational": [],
                "missing": ev.missing.get("status_page", "not collected")}
    components = status_components(doc)
    return {"state": aggregate_state(doc), "url": url, "components": len(components),
            "non_operational": [c for c in components if c["status"] != "operational"], "missing": None}


def _excerpt(lines: list[str] | None, source: str, diagnosis: dict[str, Any],
             missing: dict[str, str]) -> dict[str, Any]:
    """The tail of one log, bounded in lines and bytes; lines the diagnosis matched are marked."""
    if lines is None:
        return {"available": False, "missing": missing.get(source, "not collected"), "total": 0, "shown": 0,
                "omitted": 0, "lines": []}
    matched = {e["line"] for e in diagnosis["evidence"] if e["source"] == source}
    tail: list[dict[str, Any]] = []
    size = 0
    for index in range(len(lines) - 1, -1, -1):
        text = lines[index].rstrip("\n")
        if len(text) > LINE_CHARS:
            text = text[:LINE_CHARS] + "…"
        size += len(text.encode()) + 1
        if len(tail) >= LOG_LINES or (tail and size > LOG_BYTES):
            break
        tail.append({"n": index + 1, "text": text, "match": index + 1 in matched})
    tail.reverse()
    return {"available": True, "missing": None, "total": len(lines), "shown": len(tail),
            "omitted": len(lines) - len(tail), "lines": tail}


def _request_ids(*sources: Any) -> list[str]:
    """Every `Root=...` trace id seen in the evidence, the diagnosis and the audit log, first seen first."""
    text = json.dumps(sources, default=str)
    found: list[str] = []
    for rid in _REQUEST_ID.findall(text):
        if rid not in found:
            found.append(rid)
    for record in sources[-1]:
        rid = record.get("request_id") if isinstance(record, dict) else None
        if rid and str(rid) not in found:
            found.append(str(rid))
    return found[:MAX_REQUEST_IDS]


def _facts(context: dict[str, Any], diag: dict[str, Any]) -> dict[str, Any]:
    """Derived values the per-branch requests use, so escalation.yaml stays free of logic."""
    space, sdk = context["space"], context["sdk"]
    culprit = context["diagnosis"]["culprit"]
    error = space["error_message"] or ""
    rule = culprit.get("rule") or (m.group(1).strip() if (m := re.search(r"rule:\s*(.+)", error)) else None)
    incident = ", ".join(f"{c['name']} ({c['status']})" for c in context["status_page"]["non_operational"])
    tried = [f"{s['playbook']} ({s['status']}" + (f", then {s['verify']['stage']}" if s["verify"] and not
                                                  s["verify"]["ok"] else "") + ")"
             for p in context["plans"] for s in p["steps"] if s["status"] != "skipped" and s["playbook"] != "escalate"]
    first_line = next((line.strip() for line in error.splitlines() if line.strip()), None)
    return {"flavor": space["hardware"]["requested"] or "the requested hardware",
            "block_rule": rule, "incident": incident or None,
            "tried": ", ".join(tried) if tried else "no remedybot run is recorded for this Space yet",
            "request_ids": ", ".join(context["request_ids"]) or "none seen",
            "error_line": cap(first_line, 200), "used_storage": space["used_storage"] or "size unknown",
            **{k: sdk[k] for k in ("sdk", "sdk_version", "python_version", "app_port", "startup_timeout",
                                   "base_image")},
            "culprit": ", ".join(f"{k}: {v}" for k, v in culprit.items()) or None}


def _request(context: dict[str, Any], user_dir: Path | None) -> dict[str, Any]:
    data, where = _requests_data(user_dir)
    branch = context["diagnosis"]["branch"]
    entry = data["requests"].get(branch) or data["requests"]["unknown"]

    def fill(template: str, part: str) -> str:
        try:
            return " ".join(_request_template(template).render(**context).split())
        except Exception as exc:
            raise template_error(exc, f"{where} ({branch}.{part})") from None

    return {"branch": branch, "subject": fill(entry["subject"], "subject"), "ask": fill(entry["ask"], "ask"),
            "details": [fill(d, "details") for d in entry.get("details") or []],
            "channels": dict(data.get("channels") or {})}


@lru_cache(maxsize=256)
def _request_template(source: str) -> Any:
    """The compiled Jinja template of one escalation.yaml line, compiled once: a fleet's tickets (and
    every format of one ticket) share the same few lines, and compiling is most of their cost."""
    import jinja2

    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False).from_string(source)


def _requests_data(user_dir: Path | None) -> tuple[dict[str, Any], str]:
    path = user_dir / REQUESTS_FILE if user_dir is not None else None
    if path is not None and path.is_file():
        text, where = path.read_text(encoding="utf-8"), str(path)
    else:
        from importlib import resources

        text, where = (resources.files("remedybot.diagnose.catalog")
                       .joinpath(REQUESTS_FILE).read_text("utf-8"), REQUESTS_FILE)
    return _parse_requests(text, where), where


@lru_cache(maxsize=4)
def _parse_requests(text: str, where: str) -> dict[str, Any]:
    """Parse and check escalation.yaml once per content (a fleet's tickets share it; callers never mutate it)."""
    try:
        data = load_data(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"Cannot read {where}: not valid YAML ({str(exc).splitlines()[0]}).") from None
    requests = data.get("requests") if isinstance(data, dict) else None
    if not isinstance(requests, dict) or not isinstance(requests.get("unknown"), dict):
        raise UsageError(f"Cannot read {where}: it needs a 'requests' mapping with at least an 'unknown' entry.")
    for branch, entry in requests.items():
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("subject", "ask")):
            raise UsageError(f"Cannot read {where}: requests.{branch} needs a 'subject' and an 'ask' string.")
    return data


# -- collecting and writing ------------------------------------------------------------------------
def collect_context(hub: Hub, space_id: str, *, audit: AuditLog | None = None, plan_fingerprint: str | None = None,
                    user_dir: Path | None = None, now: datetime | None = None, push_error: str | None = None,
                    restart_error: str | None = None) -> dict[str, Any]:
    """Collect evidence, diagnose, read the audit log, and build the ticket context (read-only on the Hub).

    `push_error` / `restart_error` are what the person saw and pasted (a rejected push, the Space
    page's "Something went wrong when restarting" with its request id): no API returns them, and
    they are often the best evidence support gets.

    Raises:
        NotFoundError / AuthError: the Space cannot be read at all; check the id or the token.
    """
    evidence = collect_evidence(hub, space_id, seen=seen_records(space_id))
    evidence.push_error = push_error or evidence.push_error
    evidence.restart_error = restart_error or evidence.restart_error
    records = audit.records(space_id=space_id) if audit is not None else []
    return build_context(evidence, classify(evidence), records=records, now=now,
                         endpoint=getattr(hub, "endpoint", None), plan_fingerprint=plan_fingerprint,
                         user_dir=user_dir)


def escalate_after_run(space_id: str, *, audit: AuditLog, plan_fingerprint: str | None,
                       fmt: str = "markdown") -> Path | None:
    """Write the ticket for a run that could not bring the Space back, and say where it is.

    A run that ends unfixed should leave the person holding the next thing to do, so this is
    called by `fix`/`apply` themselves. It never changes the run's outcome: if the Space cannot be
    read or the file cannot be written, it warns, points at `remedybot report`, and returns None.
    """
    now = datetime.now(UTC)
    try:
        context = collect_context(Hub(), space_id, audit=audit, plan_fingerprint=plan_fingerprint, now=now)
        path = write_ticket(render_ticket(context, fmt), ticket_path(space_id, fmt, now))
    except (RemedyError, OSError) as exc:
        output.warning(f"could not write the support ticket for '{space_id}': {getattr(exc, 'message', exc)}")
        return None
    except Exception as exc:  # a bug here must not turn the run's exit code 4 into 1: report it, go on
        output.warning(f"could not write the support ticket for '{space_id}' (unexpected {type(exc).__name__}: "
                       f"{exc}); please report it")
        return None
    output.info(f"Support ticket written to {path}")
    return path
