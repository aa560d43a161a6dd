"""The watch policy: what `remedybot watch --auto safe` may do without a person, from `remedybot.toml`.

Owns reading and strictly validating the policy file, and the per-step decision
(`PolicyGate.decide`) made from the policy and the action ledger. It makes no
Hub calls and runs nothing: watch.py asks it, step by step, and apply.py acts.

The file (every key optional; an unknown key or a wrong type is an error naming it):

    auto = "none"                          # none | safe: what watch does without --auto
    allow = ["restart", "factory_rebuild"] # playbooks watch may apply on its own
    max_risk = "disruptive"                # read-only | safe | disruptive (destructive never unattended)
    max_cost_per_hour = 0.0                # USD; a paid step above it, or of unknown cost, is not applied

    [cooldowns]                            # per playbook and Space: not again within this time
    restart = "10m"                        # "90s", "10m", "2h", "1d", or a number of minutes
    factory_rebuild = "30m"                # (other playbooks: 1h)

    [budgets]
    max_actions_per_space_per_day = 3      # any playbook, one Space, last 24 h
    max_actions_per_hour = 20              # any playbook, every Space together, last hour
    max_duplicates_per_hour = 1            # duplicate playbook, every Space together, last hour

    [serve]                                # who may use the console (`remedybot serve`)
    viewers = ["carol", "org:acme"]        # Hugging Face usernames, or "org:NAME" for any member of NAME
    approvers = ["alice", "org:acme"]      # usernames, or "org:NAME": members of NAME with write access

Budgets and cooldowns count what the ledger (state home, on disk) recorded, from
`watch`, `fix` and `apply` alike: a restart of watch, or a person running `fix`
in between, never lets an action repeat sooner than the policy says.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remedybot.core.durations import parse_seconds
from remedybot.core.errors import UsageError
from remedybot.core.files import MiB, read_text_file
from remedybot.hub.budget import parse_share
from remedybot.model.enums import Risk
from remedybot.model.plan import Step
from remedybot.playbooks import REGISTRY
from remedybot.remedy.gates import RUN, Decision, Verdict
from remedybot.remedy.ledger import PLAYBOOK_FLOORS

if TYPE_CHECKING:
    from remedybot.remedy.ledger import Ledger

DEFAULT_FILE = "remedybot.toml"
AUTO_MODES = ("none", "safe")
CEILINGS = ("read-only", "safe", "disruptive")  # "destructive" is refused: it always needs a person
DEFAULT_COOLDOWN = timedelta(hours=1)
MAX_DURATION = timedelta(days=366)
DEFAULT_COOLDOWNS = {**PLAYBOOK_FLOORS, "restart": timedelta(minutes=10)}


@dataclass(frozen=True)
class Budgets:
    """How many actions may happen in a window (ledger entries; see the module docstring)."""

    max_actions_per_space_per_day: int = 3
    max_actions_per_hour: int = 20
    max_duplicates_per_hour: int = 1


@dataclass(frozen=True)
class Policy:
    """A validated policy. `source` says where it came from, for the first line watch prints."""

    auto: str = "none"
    allow: tuple[str, ...] = ("restart", "factory_rebuild")
    max_risk: str = "disruptive"
    max_cost_per_hour: float = 0.0
    cooldowns: dict[str, timedelta] = field(default_factory=lambda: dict(DEFAULT_COOLDOWNS))
    budgets: Budgets = field(default_factory=Budgets)
    request_budget: float | None = None  # share of the Hub's rate limit watch may use (None: --budget's default)
    viewers: tuple[str, ...] = ()  # [serve]: empty means the members of the watched owners (serve/access.py)
    approvers: tuple[str, ...] = ()  # [serve]: empty means the watched owners and their members with write access
    source: str = "built-in defaults"

    def cooldown(self, playbook: str) -> timedelta:
        return self.cooldowns.get(playbook, DEFAULT_COOLDOWN)


def load_policy(path: Path | None = None) -> Policy:
    """The policy from `path`, else ./remedybot.toml when it exists, else the built-in defaults.

    Raises:
        UsageError: the file is missing (when named), unreadable, not TOML, or has an unknown key or a bad
            value; the message names the file and the key. Fix the file.
    """
    if path is None:
        if not Path(DEFAULT_FILE).is_file():
            return Policy()
        path = Path(DEFAULT_FILE)
    text = read_text_file(path, what="policy file", max_bytes=MiB)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"Policy file '{path}' is not valid TOML: {exc}.") from None
    return parse_policy(data, where=str(path))


def parse_policy(data: dict[str, Any], where: str = DEFAULT_FILE) -> Policy:
    """Validate the parsed TOML. Raises UsageError naming `where` and the first bad key."""
    def bad(key: str, problem: str) -> UsageError:
        return UsageError(f"Policy file '{where}': '{key}' {problem}.")

    _known(data, {"auto", "allow", "max_risk", "max_cost_per_hour", "cooldowns", "budgets", "request_budget",
                  "serve"}, "", bad)
    auto = data.get("auto", "none")
    if auto not in AUTO_MODES:
        raise bad("auto", f"must be one of {', '.join(AUTO_MODES)}, not {auto!r}")
    allow = _allow(data, bad)
    max_risk = data.get("max_risk", "disruptive")
    if max_risk not in CEILINGS:
        raise bad("max_risk", f"must be one of {', '.join(CEILINGS)}, not {max_risk!r} (destructive steps never "
                              "run unattended: approve them with 'remedybot approve')")
    cost = data.get("max_cost_per_hour", 0.0)
    if isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0:
        raise bad("max_cost_per_hour", f"must be a number of USD per hour, 0 or more, not {cost!r}")
    share = None
    if "request_budget" in data:
        try:
            share = parse_share(data["request_budget"], option="request_budget")
        except UsageError:
            raise bad("request_budget", f"must be a share of the rate limit above 0 and at most 1, not "
                                        f"{data['request_budget']!r}") from None
    viewers, approvers = _people(data, bad)
    return Policy(auto=auto, allow=tuple(allow), max_risk=max_risk, max_cost_per_hour=float(cost),
                  cooldowns=_cooldowns(data, bad), budgets=_budgets(data, bad), request_budget=share,
                  viewers=viewers, approvers=approvers, source=where)


_PERSON = re.compile(r"^(org:)?[A-Za-z0-9](?:[A-Za-z0-9._\-]{0,94}[A-Za-z0-9])?$")


def _people(data: dict[str, Any], bad: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """[serve] viewers and approvers: Hugging Face usernames, or "org:NAME"."""
    table = _table(data, "serve", bad)
    _known(table, {"viewers", "approvers"}, "serve.", bad)
    lists = []
    for key in ("viewers", "approvers"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and _PERSON.match(v) for v in value):
            raise bad(f"serve.{key}", f"must be a list of usernames or \"org:NAME\", not {value!r}")
        lists.append(tuple(value))
    return lists[0], lists[1]


def _allow(data: dict[str, Any], bad: Any) -> list[str]:
    allow = data.get("allow", list(Policy().allow))
    if not isinstance(allow, list) or not all(isinstance(p, str) for p in allow):
        raise bad("allow", "must be a list of playbook names, e.g. [\"restart\", \"factory_rebuild\"]")
    for name in allow:
        if name not in REGISTRY:
            raise bad("allow", f"names an unknown playbook {name!r} (known: {', '.join(sorted(REGISTRY))})")
    return allow


def _cooldowns(data: dict[str, Any], bad: Any) -> dict[str, timedelta]:
    cooldowns = dict(DEFAULT_COOLDOWNS)
    for name, value in _table(data, "cooldowns", bad).items():
        key = f"cooldowns.{name}"
        if name not in REGISTRY:
            raise bad(key, f"is not a playbook (known: {', '.join(sorted(REGISTRY))})")
        period = parse_duration(value, key, bad)
        floor = PLAYBOOK_FLOORS.get(name)
        if floor is not None and period < floor:
            raise bad(key, f"must be at least {_show(floor)}: the playbook itself refuses to run more often")
        cooldowns[name] = period
    return cooldowns


def _budgets(data: dict[str, Any], bad: Any) -> Budgets:
    table = _table(data, "budgets", bad)
    _known(table, set(Budgets.__dataclass_fields__), "budgets.", bad)
    for name, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad(f"budgets.{name}", f"must be a whole number, 0 or more, not {value!r}")
    return Budgets(**table)


def _known(data: dict[str, Any], keys: set[str], prefix: str, bad: Any) -> None:
    for key in data:
        if key not in keys:
            raise bad(prefix + key, f"is not a policy setting (known: {', '.join(sorted(keys))})")


def _table(data: dict[str, Any], name: str, bad: Any) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise bad(name, f"must be a table ([{name}])")
    return value


def parse_duration(value: Any, key: str, bad: Any) -> timedelta:
    """"90s", "10m", "2h", "1d" or a plain number of minutes, up to MAX_DURATION."""
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value * 60.0
    elif isinstance(value, str):
        seconds = parse_seconds(value)
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        raise bad(key, f"must be a duration like \"30m\", \"2h\" or \"1d\", not {value!r}")
    if seconds > MAX_DURATION.total_seconds():
        raise bad(key, f"is longer than a year ({value!r}); a cooldown that long is no cooldown")
    return timedelta(seconds=seconds)


def _show(period: timedelta) -> str:
    minutes = period.total_seconds() / 60
    return f"{minutes / 60:g}h" if minutes >= 60 else f"{minutes:g}m"


class PolicyGate:
    """Decides, step by step, what one plan may do under the policy and the ledger.

    One gate per plan: the steps it lets through count against the budgets at once,
    so a plan cannot spend a budget twice before the ledger records its first action.
    """

    def __init__(self, policy: Policy, ledger: Ledger, space_id: str, now: datetime | None = None) -> None:
        self.policy = policy
        self.ledger = ledger
        self.space_id = space_id
        self.now = now or datetime.now(UTC)
        self.granted: list[str] = []

    def decide(self, step: Step) -> Decision:
        """Run, or the first limit the step hits. A read-only step runs when its playbook is allowed (a storage
        plan's verify step must, or its commit never may) and costs no budget; other read-only steps wait and
        tickets are written by watch itself."""
        p, name = self.policy, step.playbook
        if step.risk == Risk.READ_ONLY:
            if name in p.allow:
                return RUN
            return Decision(Verdict.SKIP, "read-only: watch itself waits and writes tickets")
        if name not in p.allow:
            return Decision(Verdict.SKIP, f"playbook {name} is not in the policy's allow list")
        if Risk(step.risk).rank > Risk(p.max_risk).rank:
            return Decision(Verdict.SKIP, f"its risk ({step.risk}) is above the policy's max_risk ({p.max_risk})")
        cost = step.params.get("cost_per_hour")
        if step.costs_money and not isinstance(cost, int | float):
            return Decision(Verdict.SKIP, "it costs money and its cost per hour is unknown")
        if isinstance(cost, int | float) and cost > p.max_cost_per_hour:
            return Decision(Verdict.SKIP, f"it costs ${cost:g}/h, above the policy's max_cost_per_hour "
                                   f"(${p.max_cost_per_hour:g}/h)")
        left = self.ledger.cooldown_left(self.space_id, name, p.cooldown(name), now=self.now)
        if left is not None:
            return Decision(Verdict.SKIP, f"cooldown: {name} ran on this Space less than {_show(p.cooldown(name))} ago "
                                   f"({int(left.total_seconds() // 60) + 1} min left)")
        reason = self._budget(name)
        if reason:
            return Decision(Verdict.SKIP, reason)
        self.granted.append(name)
        return RUN

    def _budget(self, name: str) -> str | None:
        b = self.policy.budgets
        day, hour = self.now - timedelta(days=1), self.now - timedelta(hours=1)
        entries = self.ledger.entries()
        mine = sum(1 for e in entries if e.get("space_id") == self.space_id and _at(e) >= day) + len(self.granted)
        if mine >= b.max_actions_per_space_per_day:
            return (f"budget: {mine} action(s) on this Space in the last 24 h "
                    f"(max_actions_per_space_per_day = {b.max_actions_per_space_per_day})")
        everyone = sum(1 for e in entries if _at(e) >= hour) + len(self.granted)
        if everyone >= b.max_actions_per_hour:
            return f"budget: {everyone} action(s) in the last hour (max_actions_per_hour = {b.max_actions_per_hour})"
        if name == "duplicate":
            dups = sum(1 for e in entries if e.get("action") == "duplicate" and _at(e) >= hour)
            dups += self.granted.count("duplicate")
            if dups >= b.max_duplicates_per_hour:
                return (f"budget: {dups} duplicate(s) in the last hour "
                        f"(max_duplicates_per_hour = {b.max_duplicates_per_hour})")
        return None


def _at(entry: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(entry["time"])
    except (KeyError, TypeError, ValueError):
        return datetime.min.replace(tzinfo=UTC)
