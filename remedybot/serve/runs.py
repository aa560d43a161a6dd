"""Plans, approvals and apply runs started from the console, with the same rules as the CLI.

A Space's current plan is a plan file under `$REMEDYBOT_HOME/serve/plans/` (made by `plan_space`, sealed
with this installation's key). Approval is per step, recorded in the file with the signed-in person's
Hugging Face username, under the same lock as `remedybot approve`; a destructive step needs the approver to
type the Space's id, after the page named what the step loses. Apply is `apply_plan` with `approved_gate`, in
a thread of its own: its `ApplyEvent`s are appended to `$REMEDYBOT_HOME/serve/runs/<id>.jsonl`, which the
page streams (server-sent events) from the start, so a reload (or a second viewer) sees the whole run. A
stale or tampered plan is refused with the CLI's own message. Nothing here renders HTML.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remedybot.api import approve as approve_plan
from remedybot.core.errors import ExitCode, RemedyError, UsageError, refusal
from remedybot.core.redact import redact_data
from remedybot.escalate.context import escalate_after_run
from remedybot.model.enums import Risk
from remedybot.model.plan import Plan
from remedybot.playbooks import REGISTRY
from remedybot.remedy.apply import apply_plan
from remedybot.remedy.audit import AuditLog, state_home
from remedybot.remedy.events import ApplyEvent
from remedybot.remedy.gates import approved_gate
from remedybot.remedy.ledger import Ledger, default_ledger_path
from remedybot.remedy.playbook import PlanOptions
from remedybot.remedy.workflow import plan_space

if TYPE_CHECKING:
    from remedybot.hub import Hub

STARTED, ENDED = "run-started", "run-ended"
POLL_SECONDS = 0.2  # how often a stream looks for new events (real time: a person is watching)


def serve_home() -> Path:
    return state_home() / "serve"


def plan_file(space_id: str) -> Path:
    return serve_home() / "plans" / f"{space_id.replace('/', '--')}.json"


def load_plan(space_id: str) -> Plan | None:
    path = plan_file(space_id)
    return Plan.load(path) if path.is_file() else None


def make_plan(hub: Hub, space_id: str) -> Plan:
    """Diagnose, gather and plan, and keep the plan as the Space's current one (replacing any older one)."""
    plan, _diagnosis, _evidence = plan_space(hub, space_id, PlanOptions(), REGISTRY)
    plan.save(plan_file(space_id))
    return plan


def what_is_lost(plan: Plan) -> dict[int, str]:
    """For each destructive step: what it loses, in the words of the step (its action and why)."""
    return {s.number: f"{s.action}: {s.why}" for s in plan.steps if s.risk == Risk.DESTRUCTIVE}


def approve(space_id: str, steps: list[int], by: str, *, confirmed: str = "") -> Plan:
    """Record `by`'s approval of `steps` of the Space's current plan, through the one approval of the Python API
    (`remedybot.api.approve`, the same lock and checks as `remedybot approve`), after the console's own check:
    a destructive step needs `confirmed` to name the Space.

    Raises:
        UsageError: no plan, no step chosen, or a step the plan does not have; choose again.
        RefusedError: the plan was edited since it was made (tampered), or a destructive step was chosen
            without `confirmed` naming the Space; make a new plan, or type the Space's id.
    """
    path = plan_file(space_id)
    if not path.is_file():
        raise UsageError(f"Space '{space_id}' has no plan yet. Make one first.")
    if not steps:
        raise UsageError("Choose at least one step to approve.")
    lost = what_is_lost(Plan.load(path))  # the steps are sealed in the plan: reading them before the lock is safe
    destructive = [n for n in steps if n in lost]
    if destructive and confirmed.strip() != space_id:
        raise refusal(f"approve step {destructive[0]} of the plan for '{space_id}'",
                      f"it is destructive ({lost[destructive[0]]})",
                      f"Type '{space_id}' to confirm that this is lost")
    return approve_plan(path, steps=steps, by=by)


class Runs:
    """Apply runs of this console: started in threads, recorded as event files, read back by streams."""

    def __init__(self, hub: Hub, audit: AuditLog, *, on_end: Callable[[str, dict[str, Any]], None] | None = None,
                 folder: Path | None = None) -> None:
        self.hub, self.audit, self.on_end = hub, audit, on_end
        self.folder = folder or serve_home() / "runs"
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}

    def path(self, run_id: str) -> Path:
        if not run_id.isalnum():
            raise UsageError("No such run.")
        return self.folder / f"{run_id}.jsonl"

    def _append(self, run_id: str, record: dict[str, Any]) -> None:
        record = redact_data({"at": datetime.now(UTC).isoformat(timespec="seconds"), **record})
        with self._lock, open(self.path(run_id), "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, default=str) + "\n")

    def start(self, space_id: str, by: str) -> str:
        """Start applying the Space's current plan; returns the run id at once.

        Raises:
            UsageError: the Space has no plan.
        """
        plan = load_plan(space_id)
        if plan is None:
            raise UsageError(f"Space '{space_id}' has no plan yet. Make one first.")
        self.folder.mkdir(parents=True, exist_ok=True)
        run_id = secrets.token_hex(8)
        self._append(run_id, {"kind": STARTED, "space_id": space_id, "by": by, "fingerprint": plan.fingerprint,
                              "text": f"{by} started applying plan {plan.fingerprint[:12]} to {space_id}"})
        thread = threading.Thread(target=self._run, args=(run_id, plan), name=f"serve-apply-{run_id}", daemon=True)
        self._threads[run_id] = thread
        thread.start()
        return run_id

    def _run(self, run_id: str, plan: Plan) -> None:
        def sink(event: ApplyEvent) -> None:
            self._append(run_id, {**asdict(event), "kind": str(event.kind)})

        ledger = Ledger(default_ledger_path())
        try:
            result = apply_plan(plan, self.hub, REGISTRY, audit=self.audit, ledger=ledger, gate=approved_gate(plan),
                                expect_space=plan.space_id, on_event=sink)
            end = {"outcome": result.outcome, "text": result.message, "exit_code": int(result.exit_code)}
        except RemedyError as exc:
            end = {"outcome": "refused" if exc.exit_code == ExitCode.REFUSED else "failed", "text": exc.message,
                   "exit_code": int(exc.exit_code)}
        except Exception as exc:  # a bug must end the stream, not leave the page waiting forever
            end = {"outcome": "failed", "text": f"unexpected {type(exc).__name__}: {exc}",
                   "exit_code": int(ExitCode.FAILED)}
        if end["exit_code"] in (ExitCode.UNVERIFIED, ExitCode.FAILED) and end["outcome"] != "refused":
            ticket = escalate_after_run(plan.space_id, audit=self.audit, plan_fingerprint=plan.fingerprint)
            end["ticket"] = bool(ticket)
        if self.on_end is not None:
            self.on_end(plan.space_id, end)
        self._append(run_id, {"kind": ENDED, "space_id": plan.space_id, **end})

    def records(self, run_id: str, start: int = 0) -> tuple[list[dict[str, Any]], int]:
        """The run's records from line `start` on, and the next line number."""
        path = self.path(run_id)
        if not path.is_file():
            raise UsageError("No such run.")
        lines = path.read_text(encoding="utf-8").splitlines()
        complete = [json.loads(line) for line in lines[start:] if line.strip()]
        return complete, start + len(complete)

    def latest(self, space_id: str) -> str | None:
        """The id of the newest run of this Space (so a reloaded page shows it), if any."""
        if not self.folder.is_dir():
            return None
        newest: tuple[float, str] | None = None
        for path in self.folder.glob("*.jsonl"):
            with open(path, encoding="utf-8") as fh:
                first = fh.readline()
            try:
                head = json.loads(first)
            except ValueError:
                continue
            if head.get("space_id") == space_id:
                stamp = path.stat().st_mtime
                if newest is None or stamp > newest[0]:
                    newest = (stamp, path.stem)
        return newest[1] if newest else None

    def stream(self, run_id: str, *, limit_seconds: float = 3600.0) -> Iterator[str]:
        """Server-sent events: every record of the run, as it is written, until it ended."""
        position, waited = 0, 0.0
        while waited < limit_seconds:
            records, position = self.records(run_id, position)
            for record in records:
                yield f"event: {record['kind']}\ndata: {json.dumps(record)}\n\n"
                if record["kind"] == ENDED:
                    return
            if not records:
                yield ": waiting\n\n"  # keeps proxies from closing an idle stream
                _real_sleep(POLL_SECONDS)
                waited += POLL_SECONDS

    def join(self, timeout: float = 60.0) -> None:
        for thread in list(self._threads.values()):
            thread.join(timeout)


def _real_sleep(seconds: float) -> None:
    """A stream waits in real time for the next event (a person is watching), never on a test's clock."""
    time.sleep(seconds)
