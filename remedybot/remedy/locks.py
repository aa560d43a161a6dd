"""Locks that keep two remedybot processes from acting on one plan file or one Space at the same time.

Both are `fcntl.flock` locks on files under REMEDYBOT_HOME (or beside the plan
file), so the operating system releases them when a process dies: a crash never
leaves a Space locked. The apply lock's file names who holds it, for the refusal.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from remedybot.core.errors import UsageError, refusal
from remedybot.remedy.audit import state_home


@contextmanager
def plan_file_lock(plan_file: Path) -> Iterator[None]:
    """Hold the plan file's lock for a read-modify-write (waits for another `approve` to finish)."""
    lock = plan_file.with_name(f".{plan_file.name}.lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise UsageError(f"Cannot lock plan file '{plan_file}': {exc.strerror}.") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextmanager
def space_lock(space_id: str, *, fingerprint: str) -> Iterator[None]:
    """Hold the per-Space apply lock, or refuse (exit 3) naming the process that holds it."""
    folder = state_home() / "locks"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / f"{space_id.replace('/', '--')}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise UsageError(f"Cannot create the apply lock under '{folder}': {exc.strerror}. Check REMEDYBOT_HOME.") \
            from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise refusal(f"apply plan {fingerprint[:12]} to '{space_id}'", f"another apply holds this Space "
                          f"({_holder(fd)})", "Wait for it to finish, then run this apply again") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "plan": fingerprint[:12],
                                  "since": datetime.now(UTC).isoformat(timespec="seconds")}).encode(), 0)
        yield
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {info['pid']}, plan {info['plan']}, since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"
