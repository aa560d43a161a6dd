"""Progress bars for long work: storage steps (clone, analysis, backup, copy, rewrite, push) and fleet scans.

Drawn with rich on stderr, so stdout stays a clean result stream; off when
stderr is not a terminal (tests, pipes, CI logs), where a bar is only noise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)


class Bar:
    """One task of a rich Progress: `advance(n)` as work is done, `label(text)` to rename it."""

    def __init__(self, progress: Progress, task: Any) -> None:
        self._progress = progress
        self._task = task

    def advance(self, amount: int = 1) -> None:
        self._progress.update(self._task, advance=amount)

    def set(self, completed: float, total: float | None = None) -> None:
        self._progress.update(self._task, completed=completed, total=total)

    def label(self, text: str) -> None:
        self._progress.update(self._task, description=text)

    def note(self, text: str) -> None:
        """Show `text` after the bar (the item just finished)."""
        self._progress.update(self._task, last=text)


@contextmanager
def progress_bar(description: str, total: float | None = None, *, in_bytes: bool = False) -> Iterator[Bar]:
    """A bar (or a spinner when `total` is None) on stderr for the duration of the block."""
    console = Console(stderr=True)
    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns.append(BarColumn())
        columns += [DownloadColumn(), TransferSpeedColumn()] if in_bytes else \
            [TextColumn("{task.completed:.0f}/{task.total:.0f}")]
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal) as progress:
        yield Bar(progress, progress.add_task(description, total=total))


@contextmanager
def count_bar(description: str, *, enabled: bool = True) -> Iterator[Bar]:
    """A bar counting items (N/M) with the last item's name, erased when done (a fleet scan)."""
    console = Console(stderr=True)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("{task.fields[last]}"), console=console, transient=True,
                        disable=not (enabled and console.is_terminal))
    with progress:
        yield Bar(progress, progress.add_task(description, total=None, last=""))
