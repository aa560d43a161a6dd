"""The contract every playbook module in playbooks/ follows, and the contexts they get.

A playbook is one module with module-level attributes and functions:

    ID: str                      the module name; also its id in plans and the audit log
    BRANCHES: tuple[str, ...]    the diagnosis branches it serves
    ORDER: int                   its cost rank: cheaper, less invasive playbooks run first
    def plan(ctx: PlanContext) -> list[Step]              pure: no Hub calls
    def apply(step: Step, run: RunContext) -> Outcome     the only part with side effects
    def preflight(step, run) -> list[str]                 optional: short reasons to refuse
    def done(step, run) -> bool                           optional: already took effect (resume)

Register it with one line in playbooks/__init__.py. `check_playbook` runs at
import time of the registry, so a malformed or duplicate playbook stops
startup instead of silently disappearing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from remedybot.model.plan import Step

ORDER_RESTART = 10
ORDER_FACTORY = 20
ORDER_NOOP = 30
ORDER_FILE_FIX = 40
ORDER_HARDWARE = 50
ORDER_DUPLICATE = 60
ORDER_STORAGE = 70
ORDER_WAIT = 5
ORDER_ESCALATE = 90


@dataclass
class PlanOptions:
    """What the user asked for on the command line that shapes the plan."""

    to: str | None = None  # duplicate target id
    max_cost_per_hour: float | None = None
    propose: bool = False  # open a Hub pull request instead of committing
    force: bool = False  # override cooldowns
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PlanContext:
    """Everything a playbook may read while planning; all of it already fetched."""

    space_id: str
    diagnosis: Any  # remedybot.model.diagnosis.Diagnosis
    evidence: Any  # remedybot.model.evidence.Evidence
    flavors: list[dict[str, Any]]  # the Hub's hardware list (list_spaces_hardware JSON)
    options: PlanOptions
    existing_repos: set[str] = field(default_factory=set)  # ids known to exist (e.g. duplicate targets)

    @property
    def runtime(self) -> dict[str, Any]:
        return (self.evidence.runtime or {}) if self.evidence is not None else {}

    @property
    def requested_hardware(self) -> str | None:
        return (self.runtime.get("hardware") or {}).get("requested")


@dataclass
class Outcome:
    """What one step did. `status`: done (took effect), skipped (nothing to do), failed, or proposed
    (a Hub pull request holds the change; the run stops until it is merged, see remedybot/edits/proposal.py)."""

    status: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)
    verify_space: str | None = None  # verify another Space (a duplicate) instead of the target


@dataclass
class RunContext:
    """What a playbook may use while applying: the Hub, the audit log, the ledger, the options."""

    hub: Any  # remedybot.hub.Hub
    plan: Any  # remedybot.model.plan.Plan
    audit: Any  # remedybot.remedy.audit.AuditLog
    ledger: Any  # remedybot.remedy.ledger.Ledger
    force: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)

    def call(self, description: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Make one Hub call (through Hub, hence the retry policy) and remember it for the audit log."""
        started = datetime.now(UTC).isoformat()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            record = {"call": description, "at": started, "error": str(exc)}
            if getattr(exc, "request_id", None):  # support asks for it ("Root=...")
                record["request_id"] = exc.request_id
            self.calls.append(record)
            raise
        self.calls.append({"call": description, "at": started, "ok": True})
        return result


REQUIRED = ("ID", "BRANCHES", "ORDER", "plan", "apply")


def check_playbook(module: ModuleType) -> None:
    """Refuse a malformed playbook at startup (STYLE.md: never a silently missing playbook)."""
    missing = [name for name in REQUIRED if not hasattr(module, name)]
    if missing:
        raise RuntimeError(f"playbook {module.__name__} lacks {', '.join(missing)}")
    if module.__name__.rsplit(".", 1)[-1] != module.ID:
        raise RuntimeError(f"playbook {module.__name__} has ID {module.ID!r}; it must equal its module name")


def step(playbook: ModuleType | str, **fields: Any) -> Step:
    """Build a Step for `playbook` (its ID is used as the step's playbook name)."""
    name = playbook if isinstance(playbook, str) else playbook.ID
    return Step(playbook=name, **fields)
