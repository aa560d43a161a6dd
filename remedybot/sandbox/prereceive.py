"""The sandbox Hub's pre-receive hook: the push rules huggingface.co enforces.

`git receive-pack` runs this as a script (`python -I -S prereceive.py`) for
every push that `routes_git` serves, so a rejected push fails inside real git
with the Hub's own words, `remote:` prefixes and git's "(pre-receive hook
declined)". That text is what users paste into bug reports and what
remedybot's classifier matches, so it must be byte-for-byte plausible.

Rules, checked on the objects the push adds (``rev-list --objects NEW --not
--all``; history already on the server is not re-judged, so pushing a
rewritten history that drops a big file is accepted):

- a file over 10 MiB that is not an LFS pointer;
- a binary file (a NUL byte in its first 8000 bytes, git's own test) that is
  not an LFS pointer;
- the repository's storage limit: current usage (``REMEDYBOT_USED_STORAGE``)
  plus the on-disk size of the new objects must stay within
  ``REMEDYBOT_STORAGE_LIMIT`` (its Hub spelling in ``REMEDYBOT_STORAGE_LIMIT_TEXT``).

Standard library only: the hook starts in an isolated interpreter, fast, and
must not depend on remedybot's import graph.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass

MAX_FILE = 10 * 1024 * 1024
BINARY_PROBE = 8000
ZERO_SHA = "0" * 40
RULE = "-" * 73


@dataclass
class NewObject:
    oid: str
    kind: str
    size: int
    disk: int
    path: str
    ref: str


def _git(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["git", *args], input=data, capture_output=True, check=True).stdout


def new_objects(updates: Iterable[tuple[str, str, str]]) -> list[NewObject]:
    """Objects the pushed refs add to the repository, each with a path and the ref that brought it."""
    paths: dict[str, tuple[str, str]] = {}
    for _old, new, ref in updates:
        if new == ZERO_SHA:
            continue  # a deletion adds nothing
        listing = _git("rev-list", "--objects", new, "--not", "--all").decode("utf-8", "replace")
        for line in listing.splitlines():
            oid, _, path = line.partition(" ")
            paths.setdefault(oid, (path, ref))
    if not paths:
        return []
    check = _git("cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize) %(objectsize:disk)",
                 data="\n".join(paths).encode() + b"\n").decode()
    out = []
    for line in check.splitlines():
        fields = line.split()
        if len(fields) != 4:
            continue
        path, ref = paths[fields[0]]
        out.append(NewObject(fields[0], fields[1], int(fields[2]), int(fields[3]), path, ref))
    return out


def binary_blobs(blobs: list[NewObject]) -> list[NewObject]:
    """Blobs whose first 8000 bytes hold a NUL, read one by one so no blob is held whole."""
    if not blobs:
        return []
    found = []
    proc = subprocess.Popen(["git", "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for blob in blobs:
            proc.stdin.write(blob.oid.encode() + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            remaining = int(header[2]) + 1 if len(header) == 3 else 0
            head = b""
            while remaining:
                chunk = proc.stdout.read(min(remaining, 1 << 16))
                if not chunk:
                    break
                if len(head) < BINARY_PROBE:
                    head += chunk[: BINARY_PROBE - len(head)]
                remaining -= len(chunk)
            if b"\0" in head:
                found.append(blob)
    finally:
        proc.stdin.close()
        proc.stdout.close()
        proc.wait()
    return found


def _offenders(blobs: list[NewObject]) -> list[str]:
    return ["Offending files:"] + [f"  - {b.path} (ref: {b.ref})" for b in blobs]


def check(updates: list[tuple[str, str, str]], env: dict[str, str]) -> list[str]:
    """The rejection message lines for this push; empty when the push is accepted."""
    objects = new_objects(updates)
    blobs = [o for o in objects if o.kind == "blob"]
    large = [b for b in blobs if b.size > MAX_FILE]
    binary = binary_blobs([b for b in blobs if 0 < b.size <= MAX_FILE])
    lines: list[str] = []
    if large:
        lines += [RULE, "Your push was rejected because it contains files larger than 10 MiB.",
                  "Please use https://git-lfs.github.com/ to store large files.",
                  "See also: https://hf.co/docs/hub/repositories-getting-started#terminal", "",
                  *_offenders(large), RULE]
    if binary:
        lines += [RULE, "Your push was rejected because it contains binary files.",
                  "Please use https://git-lfs.github.com/ to store binary files.",
                  "See also: https://hf.co/docs/hub/repositories-getting-started#terminal", "",
                  *_offenders(binary), RULE]
    if lines:
        return lines
    limit = int(env.get("REMEDYBOT_STORAGE_LIMIT") or 0)
    used = int(env.get("REMEDYBOT_USED_STORAGE") or 0)
    added = sum(o.disk for o in objects)
    if limit and added and used + added > limit:
        text = env.get("REMEDYBOT_STORAGE_LIMIT_TEXT") or f"{limit} B"
        lines += [RULE, f"Repository storage limit reached (Max: {text})",
                  "Your push was rejected because it would take the repository over its storage limit.",
                  "See also: https://huggingface.co/docs/hub/storage-limits", RULE]
    return lines


def main() -> int:
    updates = []
    for line in sys.stdin.read().splitlines():
        parts = line.split()
        if len(parts) == 3:
            updates.append((parts[0], parts[1], parts[2]))
    lines = check(updates, dict(os.environ))
    if lines:
        sys.stderr.write("".join(f"{line}\n" for line in lines))
        sys.stderr.flush()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
