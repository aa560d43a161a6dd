"""`remedybot watch`: re-scan a fleet, say what is new, apply what the policy allows, ticket the rest.

Owns the watch loop, the last-seen state of each Space, webhook notifications and
the choice of what to act on. It decides nothing about single steps (policy.py
does) and performs no fix itself (apply.py and the playbooks do).

One cycle:

1. scan the fleet (scan.py), compare with the last-seen states kept on disk
   ($REMEDYBOT_HOME/watch/OWNER.json), and notify new problems (a platform
   incident as one event, not one per Space) and recoveries;
2. with auto "safe": for each failing Space outside an incident, most urgent
   first, plan its fix and apply only the steps `PolicyGate` lets through; every
   step it holds back is logged (stderr and the audit log, event "policy-skip")
   with its reason; notify the outcome;
3. write a support ticket for what remedybot cannot fix (a block or an unknown
   cause, a new platform incident, an automatic fix that did not bring the Space
   back), once per problem;
4. save the states, so a restarted watch neither repeats notifications nor, with
   the ledger behind the policy, actions.

Platform incidents are never acted on: waiting is the fix, and the next scan is
the wait. Plans' read-only steps (watch the status page, gather logs) are not
run for the same reason. A lock file keeps two watchers of one owner apart.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remedybot.core import clock as clocks
from remedybot.core import output
from remedybot.core.errors import AuthError, ExitCode, RefusedError, RemedyError, UsageError, refusal
from remedybot.core.redact import redact_data
from remedybot.escalate.context import escalate_after_run
from remedybot.fleet.policy import PolicyGate
from remedybot.fleet.scan import announce_waits, progress_bar, running_sightings, scan_fleet
from remedybot.fleet.summary import append_summary, render_markdown
from remedybot.hub import Hub
from remedybot.hub import budget as budgets
from remedybot.model.enums import Risk
from remedybot.model.plan import Step
from remedybot.playbooks import REGISTRY
from remedybot.remedy.apply import apply_plan
from remedybot.remedy.audit import AuditLog, default_audit_path, state_home
from remedybot.remedy.events import to_terminal
from remedybot.remedy.gates import Decision, Verdict
from remedybot.remedy.lastseen import record_running
from remedybot.remedy.ledger import Ledger, default_ledger_path
from remedybot.remedy.playbook import Outcome, PlanOptions, Playbook, RunContext
from remedybot.remedy.workflow import plan_space

if TYPE_CHECKING:
    from remedybot.fleet.policy import Policy
    from remedybot.fleet.scan import FleetScan, SpaceResult

NEEDS_HUGGING_FACE = ("policy_block", "unknown")  # no playbook fixes these; a ticket is the next step
NOT_ACTED_ON = ("healthy", "platform_incident")
HELD_BACK = Decision(Verdict.SKIP, "held back by the policy")
WEBHOOK_TIMEOUT = 10.0


def check_webhook(url: str) -> None:
    """Refuse a --notify value that is not an http(s) URL before any scan runs."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--notify expects an http(s) URL, e.g. https://hooks.example.com/remedybot, not '{url}'.")


def post_event(url: str, event: dict[str, Any], timeout: float = WEBHOOK_TIMEOUT) -> bool:
    """POST one event as JSON. Never sends a token or any Hub header; a failure warns and returns False.

    A plain httpx2 client, not the Hub session: the webhook is another host, and the
    payload passes through `redact_data` so a token in a log line cannot leave either.
    """
    import httpx2

    try:
        with httpx2.Client(timeout=timeout) as client:
            response = client.post(url, json=redact_data(event), headers={"User-Agent": "remedybot-watch"})
        if response.status_code >= 400:
            output.warning(f"webhook answered {response.status_code} to the '{event['event']}' event")
            return False
    except httpx2.HTTPError as exc:
        output.warning(f"could not reach the webhook ({type(exc).__name__}); the '{event['event']}' event was "
                       "not delivered")
        return False
    return True


def _recording(playbook: Playbook) -> Playbook:
    """`playbook`, but every step it applies is written to the ledger, so budgets and cooldowns count it.

    Most playbooks record their action themselves; the file fixes do not, so it is done here,
    right after the step returns.
    """
    def apply(step: Step, run: RunContext) -> Outcome:
        outcome = playbook.apply(step, run)
        if outcome.status in ("done", "proposed") and step.risk != "read-only":
            fp, space = run.plan.fingerprint, run.plan.space_id
            if not any(e.get("fingerprint") == fp and e.get("step") == step.number
                       for e in run.ledger.entries(space, step.playbook)):
                run.ledger.record(space, step.playbook, fingerprint=fp, step=step.number, by="watch")
        return outcome

    return replace(playbook, apply=apply)


class Watcher:
    """Watches one owner's fleet under one policy; `run` loops, `cycle` is one scan and its follow-up."""

    def __init__(self, owner: str, *, policy: Policy, auto: str = "none", notify_url: str | None = None,
                 concurrency: int = 8, deep: bool = False, audit_path: Path | None = None, json_out: bool = False,
                 hub: Hub | None = None, summary_path: Path | None = None, propose: bool = False) -> None:
        self.owner, self.policy, self.auto, self.propose = owner, policy, auto, propose
        self.notify_url, self.concurrency, self.deep, self.json_out = notify_url, concurrency, deep, json_out
        self.audit = AuditLog(audit_path or default_audit_path())
        self.ledger = Ledger(default_ledger_path())
        self.state_path = state_home() / "watch" / f"{owner}.json"
        self._hub = hub
        self.summary_path = summary_path  # each round's fleet table is appended here as Markdown (--summary)
        self.interval: float | None = None  # seconds between rounds; `_fit` stretches it to the request budget

    @property
    def hub(self) -> Any:
        if self._hub is None:
            self._hub = Hub()
        return self._hub

    def run(self, *, interval: float, once: bool) -> ExitCode:
        """Scan every `interval` seconds (from start to start) until interrupted; with `once`, one cycle."""
        with self._locked():
            while True:
                clock = clocks.current()
                started = clock.monotonic()
                self.interval = interval
                try:
                    code = self.cycle()
                except (AuthError, UsageError):
                    raise
                except RemedyError as exc:
                    if once:
                        raise
                    output.warning(f"scan of '{self.owner}' failed: {exc.message}; retrying in {interval:g}s")
                    code = ExitCode.FAILED
                if once:
                    return code
                interval = self.interval
                clock.sleep(max(0.0, interval - (clock.monotonic() - started)))

    def _fit(self, sent: dict[str, int]) -> dict[str, Any] | None:
        """Stretch `interval` when a round's requests at this pace would not fit the request budget."""
        needed = budgets.current().interval_for(sent)
        if self.interval is None or needed <= self.interval:
            return None
        was, self.interval = self.interval, float(math.ceil(needed))
        text = (f"a scan of '{self.owner}' took {sum(sent.values())} requests; to stay within the request budget "
                f"(--budget) watch now scans every {self.interval:g}s instead of every {was:g}s")
        return self._event("interval-stretched", text=text, interval=self.interval, was=was)

    # -- one cycle ------------------------------------------------------------------------------------
    def cycle(self) -> ExitCode:
        waits: list[dict[str, Any]] = []
        sent_before = dict(budgets.current().sent)
        with progress_bar(not self.json_out) as (on_total, on_result), announce_waits(self.json_out, waits):
            scan = scan_fleet(self.hub, self.owner, concurrency=self.concurrency, deep=self.deep,
                              on_total=on_total, on_result=on_result)
        record_running(running_sightings(scan), "remedybot watch")
        seen = self._load()
        now = datetime.now(UTC).isoformat()
        events, fixed = self._changes(scan, seen, now), set()
        for event in events:
            self._emit(event)
        if self.auto == "safe":
            for result in scan.failing:
                if result.known.branch in NOT_ACTED_ON:
                    continue
                action = self._act(result)
                if action is not None:
                    events.append(action)
                    self._emit(action)
                    if action["outcome"] == "fixed":
                        fixed.add(result.space_id)
                    elif action["outcome"] in ("unverified", "same-failure", "failed"):
                        self._ticket(seen["spaces"].get(result.space_id), result.space_id, action["outcome"])
        self._save(seen, scan, fixed, now)
        events += waits  # already told on stderr as they happened
        stretched = self._fit(budgets.current().sent_since(sent_before))
        if stretched is not None:
            events.append(stretched)
            self._emit(stretched)
        remaining = [r for r in scan.failing if r.space_id not in fixed]
        output.info(scan.summary() + (f"; fixed now: {', '.join(sorted(fixed))}" if fixed else ""))
        if self.summary_path is not None:
            append_summary(self.summary_path, render_markdown(scan, fixed))
        if self.json_out:
            output.result(json.dumps({"owner": self.owner, "scanned_at": scan.scanned_at, "summary": scan.summary(),
                                      "failing": [_brief(r) for r in remaining], "fixed": sorted(fixed),
                                      "incidents": [i.to_dict() for i in scan.incidents], "events": events}))
        if remaining:
            return ExitCode.UNHEALTHY
        return ExitCode.FAILED if scan.errors else ExitCode.OK

    def _changes(self, scan: FleetScan, seen: dict[str, Any], now: str) -> list[dict[str, Any]]:
        """New problems, new incidents and recoveries since the last-seen states (and their tickets)."""
        events: list[dict[str, Any]] = []
        spaces: dict[str, Any] = seen["spaces"]
        for incident in scan.incidents:
            known = seen["incidents"].get(incident.key)
            if known is None:
                members = [r for r in scan.results if r.incident == incident.number]
                ticket = self._ticket(None, members[0].space_id, "incident")
                seen["incidents"][incident.key] = {"since": now, "ticket": ticket}
                events.append(self._event("incident", text=f"platform incident: {len(incident.spaces)} Spaces of "
                                          f"'{self.owner}' fail the same way ({incident.label}); waiting, changing "
                                          "nothing", spaces=incident.spaces, label=incident.label, ticket=ticket))
        seen["incidents"] = {k: v for k, v in seen["incidents"].items() if k in {i.key for i in scan.incidents}}
        for result in scan.results:
            if result.diagnosis is None:
                continue
            d, before = result.diagnosis, spaces.get(result.space_id)
            was = before["branch"] if before else None
            if d.healthy:
                if was not in (None, "healthy"):
                    events.append(self._event("recovered", result, text=f"recovered: {result.space_id} is "
                                              f"{d.stage} again (was {was})", was=was))
                continue
            if was == d.branch:
                continue
            entry = spaces[result.space_id] = {"branch": d.branch, "since": now, "ticket": None}
            if result.incident is not None:
                continue  # told once, as the incident
            if d.branch in NEEDS_HUGGING_FACE:
                entry["ticket"] = self._ticket(entry, result.space_id, d.branch)
            events.append(self._event("problem", result, text=f"new problem: {result.space_id} — {d.branch} "
                                      f"({d.confidence:.2f}): {d.summary or d.title}", ticket=entry["ticket"]))
        return events

    def act(self, result: SpaceResult) -> dict[str, Any] | None:
        """Act on one failing Space as a round would (the console's webhook bot calls this after a build)."""
        return self._act(result)

    def _act(self, result: SpaceResult) -> dict[str, Any] | None:
        """Plan the Space's fix and apply what the policy allows; the 'action' event, or None if nothing ran."""
        space_id = result.space_id
        try:
            # No cost cap for the planner: it picks the cheapest fitting flavor anyway, and the gate then
            # refuses it above the cap with a logged reason instead of the plan silently holding no switch.
            plan, diagnosis, _ = plan_space(self.hub, space_id, PlanOptions(propose=self.propose), REGISTRY)
        except RemedyError as exc:
            output.warning(f"could not plan a fix for '{space_id}': {exc.message}")
            return None
        if diagnosis.branch in NOT_ACTED_ON:
            return None
        gate = PolicyGate(self.policy, self.ledger, space_id)
        decisions = {s.number: gate.decide(s) for s in plan.steps}
        for s in plan.steps:
            reason = decisions[s.number].reason
            if not decisions[s.number].runs and s.risk != "read-only":
                self.audit.write("policy-skip", fingerprint=plan.fingerprint, space_id=space_id, step=s.number,
                                 playbook=s.playbook, reason=reason, policy=self.policy.source)
                output.info(f"- {space_id}: step {s.number} ({s.playbook}) not applied: {reason}")
        allowed = [s for s in plan.steps if decisions[s.number].runs]
        if not any(s.risk != Risk.READ_ONLY for s in allowed):
            return None  # reading alone is no action
        registry = {name: _recording(playbook) for name, playbook in REGISTRY.items()}
        steps = [{"step": s.number, "playbook": s.playbook, "action": s.action} for s in allowed]
        try:
            applied = apply_plan(plan, self.hub, registry, audit=self.audit, ledger=self.ledger,
                                 gate=lambda s: decisions[s.number] if decisions[s.number].runs else HELD_BACK,
                                 expect_space=space_id, on_event=to_terminal)
            outcome, message = applied.outcome, applied.message
            if outcome == "fixed" and applied.space_id not in (None, space_id):
                outcome = "replaced"  # a duplicate runs; the original is still down and stays watched
        except RefusedError as exc:
            outcome, message = "refused", exc.message
        except RemedyError as exc:
            outcome, message = "failed", exc.message
        return self._event("action", result, text=f"action: {space_id} — "
                           f"{', '.join(s.playbook for s in allowed)} → {outcome}: {message}",
                           outcome=outcome, message=message, steps=steps, fingerprint=plan.fingerprint)

    def _ticket(self, entry: dict[str, Any] | None, space_id: str, why: str) -> str | None:
        """Write the support ticket once per problem (escalate.py renders it from fresh evidence)."""
        if entry is not None and entry.get("ticket"):
            return entry["ticket"]
        path = escalate_after_run(space_id, audit=self.audit, plan_fingerprint=None)
        self.audit.write("ticket", space_id=space_id, reason=why, path=str(path) if path else None)
        if entry is not None and path is not None:
            entry["ticket"] = str(path)
        return str(path) if path else None

    # -- events ----------------------------------------------------------------------------------------
    def _event(self, kind: str, result: SpaceResult | None = None, **fields: Any) -> dict[str, Any]:
        event: dict[str, Any] = {"event": kind, "owner": self.owner, "at": datetime.now(UTC).isoformat()}
        if result is not None:
            event.update(_brief(result))
        event.update(fields)
        return event

    def _emit(self, event: dict[str, Any]) -> None:
        if not self.json_out:
            output.result(event["text"])
        if self.notify_url:
            post_event(self.notify_url, event)

    # -- state on disk ------------------------------------------------------------------------------------
    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError) as exc:
            output.warning(f"ignoring unreadable watch state {self.state_path} ({exc}); every problem is new again")
            data = {}
        spaces = data.get("spaces") if isinstance(data.get("spaces"), dict) else {}
        incidents = data.get("incidents") if isinstance(data.get("incidents"), dict) else {}
        return {"spaces": spaces, "incidents": incidents}

    def _save(self, seen: dict[str, Any], scan: FleetScan, fixed: set[str], now: str) -> None:
        """Keep the states of Spaces still listed; a Space fixed this cycle is stored healthy."""
        listed = {r.space_id: r for r in scan.results}
        spaces = {}
        for space_id, entry in seen["spaces"].items():
            if space_id in listed:
                spaces[space_id] = entry
        for space_id, result in listed.items():
            if result.diagnosis is not None and (not result.failing or space_id in fixed):
                spaces[space_id] = {"branch": "healthy", "since": now, "ticket": None}
        data = {"owner": self.owner, "updated_at": now, "spaces": spaces, "incidents": seen["incidents"]}
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(self.state_path)

    @contextlib.contextmanager
    def _locked(self):  # type: ignore[no-untyped-def]
        """One watcher per owner and state home: a second one would double every action and notification."""
        path = self.state_path.with_suffix(".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                import fcntl
            except ImportError:  # Windows: no advisory locks; run one watcher per owner yourself
                fcntl = None  # type: ignore[assignment]
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    raise refusal(f"watch '{self.owner}'", f"another watch of it is running (lock {path})",
                                  "Stop it first, or give this one another REMEDYBOT_HOME") from None
            yield
        finally:
            os.close(fd)


def _brief(result: SpaceResult) -> dict[str, Any]:
    d = result.known
    return {"space_id": result.space_id, "branch": d.branch, "confidence": d.confidence, "stage": d.stage,
            "title": d.title, "summary": d.summary, "incident": result.incident}
