"""The playbook contract: a typed `Playbook` value each module in playbooks/ declares, and its contexts.

A playbook is one module that ends with

    PLAYBOOK = Playbook(id="restart", risk=always(Risk.SAFE), branches=frozenset({Branch.WEDGED_SPACE, ...}),
                        order=ORDER_RESTART, plan=plan, apply=apply, done=done)

and one line in playbooks/__init__.py. The hooks, all typed (mypy checks every module against them):

    risk(Step) -> Risk             the step's risk, derived from its params (apply trusts this, not the file)
    gather(GatherContext)          optional: fetch what planning needs (flavors, free names, inventory, sources)
    plan(PlanContext) -> [Step]    pure: no Hub calls; reads only what gather fetched
    apply(Step, RunContext)        the only part with side effects -> Outcome
    preflight(Step, RunContext)    optional: short reasons to refuse this step now
    done(Step, RunContext)         optional: the step already took effect (resume after a crash)
    verify_target(Step)            optional: the Space to verify when it is not the plan's own

`params` is the pydantic model a step's params must validate against; the registry checks
at import time that ids are unique, so a broken playbook stops start-up instead of vanishing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from remedybot.model.enums import Branch, Risk
from remedybot.model.plan import Step
from remedybot.remedy.events import ApplyEvent, EventKind, EventSink, discard

if TYPE_CHECKING:
    from remedybot.hub import Hub
    from remedybot.model.diagnosis import Diagnosis
    from remedybot.model.evidence import Evidence
    from remedybot.model.plan import Plan
    from remedybot.remedy.audit import AuditLog
    from remedybot.remedy.ledger import Ledger

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
class GatherContext:
    """What playbooks fetch from the Hub before planning, so that `plan` stays pure.

    Each playbook's `gather` adds what it needs; a fact two playbooks need is fetched once.
    """

    hub: Hub
    space_id: str
    diagnosis: Diagnosis
    evidence: Evidence
    options: PlanOptions
    flavors: list[dict[str, Any]] = field(default_factory=list)
    existing_repos: set[str] = field(default_factory=set)
    fetched: set[str] = field(default_factory=set)  # names of what was already gathered

    def once(self, what: str) -> bool:
        """True the first time `what` is asked for: gather it then, not again."""
        first = what not in self.fetched
        self.fetched.add(what)
        return first


@dataclass
class PlanContext:
    """Everything a playbook may read while planning; all of it already gathered."""

    space_id: str
    diagnosis: Diagnosis
    evidence: Evidence
    flavors: list[dict[str, Any]]  # the Hub's hardware list (list_spaces_hardware JSON)
    options: PlanOptions
    existing_repos: set[str] = field(default_factory=set)  # ids known to exist (e.g. duplicate targets)

    @property
    def runtime(self) -> dict[str, Any]:
        return (self.evidence.runtime or {}) if self.evidence is not None else {}

    @property
    def requested_hardware(self) -> str | None:
        return (self.runtime.get("hardware") or {}).get("requested")


Status = Literal["done", "skipped", "failed", "proposed"]


@dataclass
class Outcome:
    """What one step did. `status`: done (took effect), skipped (nothing to do), failed, or proposed
    (a Hub pull request holds the change; the run stops until it is merged, see remedybot/remedy/proposal.py)."""

    status: Status
    detail: str
    data: dict[str, Any] = field(default_factory=dict)
    verify_space: str | None = None  # verify another Space (a duplicate) instead of the target


@dataclass
class RunContext:
    """What a playbook may use while applying: the Hub, the audit log, the ledger, the options."""

    hub: Hub
    plan: Plan
    audit: AuditLog
    ledger: Ledger
    force: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)
    emit: EventSink = discard  # how a step tells the person something (the engine never prints)

    def note(self, text: str, *, step: int | None = None) -> None:
        self.emit(ApplyEvent(EventKind.NOTE, text, step=step))

    def warn(self, text: str, *, step: int | None = None) -> None:
        self.emit(ApplyEvent(EventKind.WARNING, text, step=step))

    def call(self, description: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Make one Hub call (through Hub, hence the retry policy) and remember it for the audit log."""
        started = datetime.now(UTC).isoformat()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            record = {"call": description, "at": started, "error": str(exc)}
            request_id = getattr(exc, "request_id", None)
            if request_id:  # support asks for it ("Root=...")
                record["request_id"] = request_id
            self.calls.append(record)
            raise
        self.calls.append({"call": description, "at": started, "ok": True})
        return result


class NoParams(BaseModel):
    """The params of a playbook whose steps need none."""

    model_config = ConfigDict(extra="forbid")


def _nothing_to_gather(ctx: GatherContext) -> None:
    return None


def _no_reasons(step: Step, run: RunContext) -> list[str]:
    return []


def _never_done(step: Step, run: RunContext) -> bool:
    return False


def _own_space(step: Step) -> str | None:
    return None


@dataclass(frozen=True)
class Playbook:
    """One fix: the branches it serves, its cost rank, its params model and its hooks (module docstring)."""

    id: str
    branches: frozenset[Branch]
    order: int
    plan: Callable[[PlanContext], list[Step]]
    apply: Callable[[Step, RunContext], Outcome]
    risk: Callable[[Step], Risk]  # from the step's params, never from its `risk` field: what approval rests on
    params: type[BaseModel] = NoParams
    gather: Callable[[GatherContext], None] = _nothing_to_gather
    preflight: Callable[[Step, RunContext], list[str]] = _no_reasons
    done: Callable[[Step, RunContext], bool] = _never_done
    verify_target: Callable[[Step], str | None] = _own_space

    def serves(self, branch: str) -> bool:
        return branch in self.branches


Registry = dict[str, Playbook]


def always(risk: Risk) -> Callable[[Step], Risk]:
    """The `risk` hook of a playbook whose every step carries the same risk."""
    def of(step: Step) -> Risk:
        return risk

    return of


def build_registry(playbooks: Iterable[Playbook]) -> Registry:
    """The registry keyed by id. Raises RuntimeError on a duplicate id: a clash must stop start-up."""
    registry: Registry = {}
    for playbook in playbooks:
        if playbook.id in registry:
            raise RuntimeError(f"two playbooks share the id {playbook.id!r}")
        registry[playbook.id] = playbook
    return registry


def step(playbook: str, **fields: Any) -> Step:
    """Build a Step for the playbook named `playbook`."""
    return Step(playbook=playbook, **fields)
