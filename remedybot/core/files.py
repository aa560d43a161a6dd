"""Files a user hands to remedybot (plans, evidence, policies) and files it writes where the user said.

Reading: a missing file, a directory, a file over the size cap, binary or non-UTF-8 bytes each
get one line naming the file, raised as the caller's error type (a plan's is PlanFileError), so bad
input never reaches a parser as something it was not meant for, and a 200 MB file is refused by
its size before it is read. Writing: atomic (a temporary file of this process's own beside the
target, then a rename), so a reader never sees half a file and a failed write leaves nothing
behind; a directory or an unwritable place is a usage error, not a traceback.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from remedybot.core.errors import RemedyError, UsageError

MiB = 1024 * 1024


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MiB" if n >= MiB else f"{n} bytes"


def read_text_file(path: Path, *, what: str, max_bytes: int, error: type[RemedyError] = UsageError) -> str:
    """The UTF-8 text of the file at `path`, a `what` ("plan file", "evidence file") of at most `max_bytes`.

    Raises:
        `error` (UsageError unless the caller says): not found, a directory, too large, unreadable,
            binary or not UTF-8; the message names the file and what is wrong with it.
    """
    label = f"{what[:1].upper()}{what[1:]} '{path}'"
    try:
        if path.is_dir():
            raise error(f"{label} is a directory, not a file.")
        size = path.stat().st_size
        if size > max_bytes:
            raise error(f"{label} is {_size(size)}, more than a {what} can be ({_size(max_bytes)}).")
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{label} not found.") from None
    except OSError as exc:
        raise error(f"Cannot read {what} '{path}': {exc.strerror or exc}.") from None
    if b"\x00" in data:
        raise error(f"{label} is binary, not text.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{label} is not UTF-8 text (byte {exc.start}).") from None


def write_text_file(path: Path, text: str, *, what: str) -> None:
    """Write `text` to `path` atomically, creating its folder.

    Raises:
        UsageError: `path` is a directory, or the file or its folder cannot be written; nothing is left behind.
    """
    if path.is_dir():
        raise UsageError(f"Cannot write the {what} to '{path}': it is a directory. Give a file name.")
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise UsageError(f"Cannot write the {what} to '{path}': {exc.strerror or exc}.") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
