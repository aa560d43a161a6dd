"""What remedybot tried on a Space, read back from the audit log (for tickets and reports).

The audit log is a flat stream of records (run-start, step-start, step-end,
step-skip, verify, refused, run-end); people and support want it grouped: per
plan, each step with its action, result, times, Hub calls and verification.
This module only reads records it is given; it never opens or writes the log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

MAX_CALLS = 10


def utc(value: Any) -> str | None:
    """An ISO time (any offset) as 'YYYY-MM-DD HH:MM:SS UTC'; unparseable text is returned as it is."""
    if not value:
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def cap(text: Any, limit: int = 2_000) -> str | None:
    """`text` cut to `limit` characters, saying how much was left out (None stays None)."""
    if text is None:
        return None
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters]"


def attempts(records: list[dict[str, Any]], limit: int = 5) -> list[dict[str, Any]]:
    """What was tried, from the audit log: per plan fingerprint, each step with its result and times."""
    plans: dict[str, dict[str, Any]] = {}
    for record in records:
        fp = str(record.get("fingerprint") or "no-plan")
        plan = plans.setdefault(fp, {"fingerprint": fp, "branch": None, "started_at": None, "ended_at": None,
                                     "outcome": None, "refusals": [], "steps": {}})
        if not _plan_event(plan, record) and record.get("step") is not None:
            _step_event(plan, record)
    out = []
    for plan in list(plans.values())[-limit:]:
        plan["steps"] = sorted(plan["steps"].values(), key=lambda s: (s["at"] or "", s["number"]))
        for step in plan["steps"]:
            step["fingerprint"] = plan["fingerprint"]
        out.append(plan)
    return out


def _reason(record: dict[str, Any]) -> str:
    return record.get("reason") or "; ".join(map(str, record.get("reasons") or []))


def _plan_event(plan: dict[str, Any], record: dict[str, Any]) -> bool:
    """Apply a record about the whole run (start, end, a refusal before any step); True if it was one."""
    event, at = record.get("event"), utc(record.get("time"))
    if event == "run-start":
        plan["branch"] = record.get("branch") or plan["branch"]
        plan["started_at"] = plan["started_at"] or at
    elif event == "run-end":
        plan["ended_at"], plan["outcome"] = at, record.get("outcome")
    elif event == "refused" and record.get("step") is None:
        plan["refusals"].append({"at": at, "reason": cap(_reason(record), 600)})
    else:
        return False
    return True


def _step_event(plan: dict[str, Any], record: dict[str, Any]) -> None:
    """Apply a record about one step to that step's entry."""
    event, at, number = record.get("event"), utc(record.get("time")), record.get("step")
    step = plan["steps"].setdefault(number, {"number": number, "playbook": record.get("playbook"),
                                             "action": None, "risk": None, "at": at, "ended_at": None,
                                             "status": "started", "detail": None, "calls": [], "verify": None})
    step["playbook"] = step["playbook"] or record.get("playbook")
    if event == "step-start":
        step.update(action=record.get("action"), risk=record.get("risk"), at=step["at"] or at)
    elif event == "step-end":
        step.update(status=record.get("status") or "done", detail=cap(record.get("detail"), 600),
                    ended_at=utc(record.get("at")) or at, calls=_calls(record.get("calls")))
    elif event == "step-skip":
        step.update(status="skipped", detail=cap(record.get("reason"), 600), ended_at=at)
    elif event == "refused":
        step.update(status="refused", detail=cap(_reason(record), 600), ended_at=at)
    elif event == "verify":
        step["verify"] = {"ok": bool(record.get("ok")), "stage": record.get("stage"), "at": at,
                          "failure": cap(record.get("failure"), 600), "probe": cap(record.get("probe"), 300),
                          "target": record.get("target")}


def _calls(calls: Any) -> list[dict[str, Any]]:
    out = []
    for call in (calls or [])[:MAX_CALLS]:
        if isinstance(call, dict):
            result = "ok" if call.get("ok") else f"error: {cap(call.get('error'), 300)}" if call.get("error") else "?"
            out.append({"call": cap(call.get("call"), 200), "at": utc(call.get("at")), "result": result})
    return out
