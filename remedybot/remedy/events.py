"""What the apply engine reports while it runs, as typed events: the CLI prints them, a console streams them.

The engine never prints. It hands each event to the `EventSink` it was given:
the command line passes `to_terminal` (each event's `text` on stderr), a web
console its own sink, and a caller that wants silence `discard`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from remedybot.core import output


class EventKind(StrEnum):
    STEP_SKIPPED = "step-skipped"  # a step left out (declined, not approved, held back)
    STEP_STARTED = "step-started"
    STEP_ENDED = "step-ended"  # its outcome: done, skipped (already in effect), failed, proposed
    VERIFIED = "verified"  # the Space (or its duplicate) is healthy
    NOT_VERIFIED = "not-verified"  # still failing after a step
    NOTE = "note"  # something a step wants the person to know (a backup's path, storage figures)
    WARNING = "warning"  # something the person must act on (a reference the fix could not repoint)


@dataclass(frozen=True)
class ApplyEvent:
    kind: EventKind
    text: str  # the line a person reads
    step: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


EventSink = Callable[[ApplyEvent], None]


def discard(event: ApplyEvent) -> None:
    """An EventSink that drops everything."""


def to_terminal(event: ApplyEvent) -> None:
    """The EventSink of the command line: each event's line on stderr (warnings as "Warning: ...")."""
    if event.kind == EventKind.WARNING:
        output.warning(event.text)
    else:
        output.info(event.text)
