"""Plans and steps: the reviewable, approvable contract between `fix` and `apply`.

A plan is data. It records the Space's lineage (`created_at`) and serial
(sha, requested hardware, usedStorage, failing-or-healthy) at planning time,
the diagnosis, and ordered steps. Its fingerprint is an HMAC-SHA256 over its
canonical JSON (approvals left out, so approving does not change it) keyed with
this installation's secret (remedybot/remedy/keys.py): editing a plan breaks
it, and only someone who can read that key can reseal one. The fingerprint is
not what grants permission: at apply time each step's risk is re-derived from
its playbook (SAFETY.md, "Approval"). This module is pure: the key is passed in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from remedybot.core.errors import PlanFileError
from remedybot.core.files import MiB, read_text_file, write_text_file
from remedybot.core.templating import render
from remedybot.model.enums import Risk

PLAN_VERSION = 1
DEFAULT_TTL = timedelta(hours=24)
MAX_PLAN_BYTES = 8 * MiB  # a plan is steps and a diagnosis; a bigger file is not one (and would be read whole)


class Step(BaseModel):
    """One action of one playbook, with everything a reviewer needs to judge it."""

    model_config = ConfigDict(extra="forbid")

    number: int = 0
    playbook: str
    action: str
    params: dict[str, Any] = Field(default_factory=dict)
    risk: Risk
    reversible: bool
    why: str
    calls: list[str] = Field(default_factory=list, description="exactly what it will call or change")
    verify: str = "wait for the Space to leave the build stages, then probe its app"
    costs_money: bool = False
    fixes: bool = True  # a fix step is verified afterwards; an info/escalation step is not
    diff: str | None = None  # unified diff, for steps that change files


class Serial(BaseModel):
    """What must not change between planning and applying (besides the lineage)."""

    model_config = ConfigDict(extra="forbid")

    sha: str | None
    hardware: str | None
    used_storage: int | None
    failing: bool


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str
    at: str
    steps: list[int]
    fingerprint: str


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = PLAN_VERSION
    space_id: str
    created_at: str | None  # the Space's lineage
    serial: Serial
    planned_at: str
    expires_at: str
    branch: str
    diagnosis: dict[str, Any]
    steps: list[Step]
    fingerprint: str = ""
    approvals: list[Approval] = Field(default_factory=list)

    @field_validator("planned_at", "expires_at")
    @classmethod
    def _aware_timestamp(cls, value: str) -> str:
        """Expiry is compared with the current time in UTC: a timestamp without a zone would be a guess."""
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be an ISO-8601 timestamp such as 2026-12-05T16:00:00+00:00") from None
        if parsed.tzinfo is None:
            raise ValueError("must say its time zone, e.g. +00:00") from None
        return value

    # -- identity ----------------------------------------------------------
    def canonical(self) -> bytes:
        data = self.model_dump(mode="json", exclude={"approvals", "fingerprint"})
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def compute_fingerprint(self, key: bytes) -> str:
        return hmac.new(key, self.canonical(), hashlib.sha256).hexdigest()

    def is_sealed_with(self, key: bytes) -> bool:
        """Whether the fingerprint is this plan's under `key` (unedited, and sealed by this installation)."""
        return hmac.compare_digest(self.compute_fingerprint(key), self.fingerprint)

    def seal(self, key: bytes) -> Plan:
        for i, step in enumerate(self.steps, start=1):
            step.number = i
        self.fingerprint = self.compute_fingerprint(key)
        return self

    # -- approval ------------------------------------------------------------
    def approved_steps(self) -> set[int]:
        numbers: set[int] = set()
        for approval in self.approvals:
            if approval.fingerprint == self.fingerprint:
                numbers.update(approval.steps)
        return numbers

    def is_expired(self, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        return now >= datetime.fromisoformat(self.expires_at)

    # -- files -----------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write atomically (core/files.py): a reader never sees half a plan, two writers never share a
        temporary name, and a directory or an unwritable path is a usage error."""
        write_text_file(path, self.model_dump_json(indent=2) + "\n", what="plan")

    @classmethod
    def load(cls, path: Path) -> Plan:
        """Read a plan file. Raises PlanFileError (exit 2) when it is missing, too large, not text, or malformed."""
        raw = read_text_file(path, what="plan file", max_bytes=MAX_PLAN_BYTES, error=PlanFileError)
        try:
            return cls.model_validate_json(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "file"
            raise PlanFileError(f"Plan file '{path}' is malformed ({where}: {first.get('msg')}). "
                                "Make a new one with 'remedybot fix OWNER/SPACE --dry-run --out FILE'.") from exc


def new_plan(*, space_id: str, created_at: str | None, serial: Serial, branch: str,
             diagnosis: dict[str, Any], steps: list[Step], key: bytes, now: datetime | None = None,
             ttl: timedelta = DEFAULT_TTL) -> Plan:
    now = now or datetime.now(UTC)
    plan = Plan(space_id=space_id, created_at=created_at, serial=serial, planned_at=now.isoformat(),
                expires_at=(now + ttl).isoformat(), branch=branch, diagnosis=diagnosis, steps=steps)
    return plan.seal(key)


def render_plan(plan: Plan) -> str:
    """The plan for people: numbered steps with risk, reversibility, why and exact calls."""
    return render("plan.txt.j2", plan=plan, approved=plan.approved_steps()).rstrip("\n")
