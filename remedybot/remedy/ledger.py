"""The action ledger: when remedybot last did what to which Space, for cooldowns and budgets.

Kept on disk (JSON lines under the state home) so cooldowns survive restarts
of `fix`, `apply` and `watch`: a factory rebuild is not repeated within 30
minutes of the last one unless forced, whichever command made it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from remedybot.remedy.audit import state_home

PLAYBOOK_FLOORS = {"factory_rebuild": timedelta(minutes=30)}  # a playbook never runs more often than this


def default_ledger_path() -> Path:
    return state_home() / "ledger.jsonl"


@dataclass
class Ledger:
    path: Path

    def record(self, space_id: str, action: str, **fields: Any) -> None:
        entry = {"time": datetime.now(UTC).isoformat(), "space_id": space_id, "action": action, **fields}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def entries(self, space_id: str | None = None, action: str | None = None) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if (space_id is None or entry.get("space_id") == space_id) and (
                    action is None or entry.get("action") == action):
                out.append(entry)
        return out

    def last(self, space_id: str, action: str) -> datetime | None:
        times = [datetime.fromisoformat(e["time"]) for e in self.entries(space_id, action)]
        return max(times) if times else None

    def cooldown_left(self, space_id: str, action: str, period: timedelta | None = None,
                      now: datetime | None = None) -> timedelta | None:
        """Time left before `action` may run again on `space_id` (None when it may run now)."""
        period = period or PLAYBOOK_FLOORS.get(action)
        last = self.last(space_id, action)
        if period is None or last is None:
            return None
        left = last + period - (now or datetime.now(UTC))
        return left if left > timedelta(0) else None

    def count_since(self, action: str, since: datetime) -> int:
        return sum(1 for e in self.entries(action=action) if datetime.fromisoformat(e["time"]) >= since)
