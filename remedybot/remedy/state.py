"""What a run ended with, and the Space's serial as the Hub shows it now: shared by apply and proposal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from remedybot.core.errors import ExitCode
from remedybot.model.enums import is_healthy
from remedybot.model.plan import Serial

if TYPE_CHECKING:
    from remedybot.hub import Hub


@dataclass
class ApplyResult:
    exit_code: ExitCode
    outcome: str  # fixed | unverified | same-failure | refused | nothing-to-do | healthy | proposed | declined
    message: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    space_id: str | None = None  # the Space that ended up RUNNING (a duplicate's id, say)


def current_serial(hub: Hub, space_id: str) -> tuple[str | None, Serial]:
    """The Space's lineage (created_at) and serial as the Hub shows them now."""
    info = hub.space_info(space_id, expand=["sha", "createdAt", "usedStorage"])
    runtime = hub.runtime(space_id)
    created = info.created_at.isoformat() if info.created_at else None
    serial = Serial(sha=info.sha, hardware=(runtime.get("hardware") or {}).get("requested"),
                    used_storage=info.used_storage, failing=not is_healthy(runtime.get("stage")))
    return created, serial
