"""What the pages show, computed from the store, plans, runs and the audit log: pure data for the templates.

Filtering and sorting of the fleet, the evidence lines cut around their matched span (so the template
highlights it without ever marking up Space text itself), step costs, the audit timeline and tickets built
from the stored evidence (`build_context` is pure). No Hub call, no HTML.
"""

from __future__ import annotations

from typing import Any

from remedybot.escalate.context import build_context
from remedybot.escalate.tickets import EXTENSIONS, FORMATS, render_ticket
from remedybot.model.diagnosis import Diagnosis
from remedybot.model.plan import Plan
from remedybot.remedy.audit import AuditLog
from remedybot.serve.store import Entry

SORTS = {
    "severity": None,  # the store's own order (scan.severity_key)
    "space": lambda e: e.space_id,
    "stage": lambda e: (e.result.diagnosis.stage or "") if e.result.diagnosis else "~",
    "branch": lambda e: e.result.diagnosis.branch if e.result.diagnosis else "~",
    "confidence": lambda e: -(e.result.diagnosis.confidence if e.result.diagnosis else 0.0),
    "since": lambda e: e.since,
}
LOG_LINES = 40
TIMELINE_FIELDS = ("step", "playbook", "action", "status", "outcome", "reason", "detail", "pr_url", "by", "stage")


def fleet_rows(entries: list[Entry], *, q: str = "", branch: str = "", failing: bool = False,
               sort: str = "severity") -> list[Entry]:
    """The fleet page's rows: filtered by a substring of the id, a branch and failing-only, then sorted."""
    needle = q.strip().lower()
    rows = [e for e in entries
            if (not needle or needle in e.space_id.lower())
            and (not branch or (e.result.diagnosis is not None and e.result.diagnosis.branch == branch))
            and (not failing or e.result.failing or e.result.diagnosis is None)]
    key = SORTS.get(sort)
    if key is not None:
        rows.sort(key=key)
    return rows


def action_text(record: dict[str, Any] | None) -> str:
    if not record:
        return ""
    event = record.get("event")
    if event == "run-end":
        return f"run → {record.get('outcome')}"
    if event == "proposal-open":
        return f"pull request #{record.get('pr_num')} opened"
    if event == "policy-skip":
        return f"{record.get('playbook')} held back by policy"
    return "ticket written"


def evidence_lines(diagnosis: Diagnosis) -> list[dict[str, Any]]:
    """Each evidence line as (before, match, after) pieces, so the page marks the match up safely."""
    lines = []
    for e in diagnosis.evidence:
        text = e.text
        start, end = e.span if e.span else (0, 0)
        lines.append({"source": e.source, "line": e.line, "signature": e.signature, "before": text[:start],
                      "match": text[start:end], "after": text[end:] if e.span else text})
    return lines


def log_tails(evidence: Any) -> dict[str, list[str]]:
    out = {}
    for name in ("build_log", "run_log"):
        lines = getattr(evidence, name, None) or []
        if lines:
            out[name] = [str(line) for line in lines[-LOG_LINES:]]
    return out


def step_cost(step: Any) -> str:
    per_hour = step.params.get("cost_per_hour") if isinstance(step.params, dict) else None
    if per_hour is not None:
        return f"${per_hour:g}/h"
    return "costs money" if step.costs_money else "free"


def timeline(audit: AuditLog, space_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The Space's audit records, newest first, each with the fields worth a glance."""
    records = audit.records(space_id=space_id)[-limit:]
    out = []
    for r in reversed(records):
        fields = {k: r[k] for k in TIMELINE_FIELDS if r.get(k) not in (None, "", [])}
        out.append({"time": str(r.get("time", ""))[:19], "event": r.get("event"), "fields": fields,
                    "fingerprint": str(r.get("fingerprint") or "")[:12]})
    return out


def ticket(entry: Entry, audit: AuditLog, fmt: str, endpoint: str | None) -> tuple[str, str]:
    """(text, file name) of the Space's support ticket in `fmt`, from the stored evidence (no Hub call).

    Raises:
        UsageError: an unknown format.
    """
    result = entry.result
    context = build_context(result.read, result.known, records=audit.records(space_id=entry.space_id),
                            endpoint=endpoint)
    text = render_ticket(context, fmt)
    return text, f"{entry.space_id.replace('/', '--')}-ticket.{EXTENSIONS[fmt]}"


def ticket_formats() -> list[str]:
    return list(FORMATS)


def plan_view(plan: Plan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    approved = plan.approved_steps()
    approvals = [a for a in plan.approvals if a.fingerprint == plan.fingerprint]
    steps = [{"step": s, "cost": step_cost(s), "approved": s.number in approved} for s in plan.steps]
    return {"plan": plan, "steps": steps, "approvals": approvals, "expired": plan.is_expired(),
            "needs_approval": any(s.risk != "read-only" for s in plan.steps)}
