"""This installation's plan key: the secret that seals plan fingerprints (HMAC-SHA256).

Kept at `REMEDYBOT_HOME/plan.key` (32 random bytes, hex, mode 0600), created on
first use. A plan sealed here verifies only here: a plan file edited by hand,
or made on another machine or under another REMEDYBOT_HOME, is refused as
tampered; re-plan where it will be applied (SAFETY.md, "Approval").
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from remedybot.core.errors import UsageError
from remedybot.remedy.audit import state_home

KEY_FILE = "plan.key"


def plan_key() -> bytes:
    """The key, created when this installation has none yet (race-free: written aside, then hard-linked
    into place, so a concurrent first use never reads a half-written key).

    Raises:
        UsageError: REMEDYBOT_HOME cannot be created or the key cannot be read or written.
    """
    path = state_home() / KEY_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _create(path)
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot use the plan key '{path}': {getattr(exc, 'strerror', None) or exc}. "
                         "Check REMEDYBOT_HOME.") from None
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise UsageError(f"The plan key '{path}' is not a hex key; delete it to make a new one "
                         "(plans sealed with it will need re-planning).") from None


def _create(path: Path) -> None:
    aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(aside, path)
    finally:
        aside.unlink(missing_ok=True)
