"""Read and edit pip requirements files the way pip reads them, changing only the lines an edit needs.

pip's format has more than names and versions: comments (`#` at the start or
after a blank), line continuations (`\\`), options (`-r other.txt`,
`--extra-index-url`), per-requirement hashes (`--hash=sha256:...`, which put
pip into hash-checking mode for the whole file), extras and environment
markers. `parse` keeps every logical entry with the physical lines it spans,
so an edit replaces or appends exactly those lines and every other byte,
including CRLF endings and a missing final newline, stays as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from remedybot.edits import EditError
from remedybot.edits.lines import append_line, body, split

_COMMENT = re.compile(r"(^|\s+)#.*$")
_URL = re.compile(r"^(?:[A-Za-z]+\+)?[A-Za-z]+://|^\.{1,2}/|^/")
_INCLUDE = re.compile(r"^(?:-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+)(?P<path>\S+)")
_SPEC = re.compile(r"^(?P<lead>\s*)(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\s*\[[^\]]*\])?"
                   r"(?P<spec>[^;#\\]*?)(?P<rest>\s*(?:;.*|\s--.*|\s#.*|\\)?)$")


@dataclass(frozen=True)
class Entry:
    """One logical line of a requirements file: where it is, what it is, and what pip makes of it."""

    first: int  # index of its first physical line
    last: int  # index of its last physical line (continuations)
    kind: str  # blank | comment | option | include | requirement | url | invalid
    text: str  # the logical text, comments and continuations removed
    req: Requirement | None = None
    include: str | None = None
    hashes: bool = False

    @property
    def name(self) -> str | None:
        return str(canonicalize_name(self.req.name)) if self.req else None


def parse(text: str) -> list[Entry]:
    """Every logical entry of a requirements file, in order."""
    lines = split(text)
    entries: list[Entry] = []
    i = 0
    while i < len(lines):
        first = i
        joined = ""
        while True:
            raw = body(lines[i])
            if raw.endswith("\\") and i + 1 < len(lines):
                joined += raw[:-1] + " "
                i += 1
                continue
            joined += raw
            break
        entries.append(_entry(first, i, joined))
        i += 1
    return entries


def _entry(first: int, last: int, joined: str) -> Entry:
    stripped = joined.strip()
    if not stripped:
        return Entry(first, last, "blank", "")
    if stripped.startswith("#"):
        return Entry(first, last, "comment", stripped)
    text = _COMMENT.sub("", joined).strip()
    include = _INCLUDE.match(text)
    if include:
        return Entry(first, last, "include", text, include=include["path"])
    if text.startswith("-"):
        return Entry(first, last, "option", text)
    spec = text.partition(" --")[0].strip()
    hashes = "--hash" in text
    if _URL.match(spec):
        return Entry(first, last, "url", text, hashes=hashes)
    try:
        return Entry(first, last, "requirement", text, req=Requirement(spec), hashes=hashes)
    except InvalidRequirement:
        return Entry(first, last, "invalid", text, hashes=hashes)


def names(text: str) -> set[str]:
    """Canonical names of the distributions the file requires (not following -r includes)."""
    return {e.name for e in parse(text) if e.name}


def includes(text: str) -> list[str]:
    """Paths named by -r/-c lines, as written."""
    return [e.include for e in parse(text) if e.include]


def hash_mode(text: str) -> bool:
    """Whether pip runs this file in hash-checking mode (any entry carries --hash)."""
    return any(e.hashes for e in parse(text))


def find(text: str, dist: str) -> list[Entry]:
    """The entries requiring `dist` (by canonical name)."""
    wanted = canonicalize_name(dist)
    return [e for e in parse(text) if e.req is not None and canonicalize_name(e.req.name) == wanted]


def add(text: str, requirement: str) -> str:
    """`text` with `requirement` appended as a new last line; nothing else changes.

    Raises:
        EditError: it is already required, the file is in hash-checking mode (a line without
            hashes would fail the whole install), or it ends inside a line continuation.
    """
    new = Requirement(requirement)
    if find(text, new.name):
        raise EditError(f"{new.name} is already required")
    if hash_mode(text):
        raise EditError("the file pins hashes (pip's hash-checking mode): add the requirement with its "
                        "hashes, e.g. with 'pip-compile --generate-hashes'")
    lines = split(text)
    if lines and body(lines[-1]).endswith("\\"):
        raise EditError("the file ends inside a line continuation ('\\')")
    result = append_line(text, requirement)
    _check(text, result, {canonicalize_name(new.name)})
    return result


def set_specifier(text: str, dist: str, specifier: str) -> str:
    """`text` with the version specifier of `dist`'s line replaced; extras, markers and comments stay.

    Raises:
        EditError: `dist` is not required exactly once, carries hashes, or its line cannot be read.
    """
    found = find(text, dist)
    if len(found) != 1:
        raise EditError(f"{dist} is required {len(found)} times; edit it by hand")
    entry = found[0]
    if entry.hashes:
        raise EditError(f"{dist} is pinned with hashes; a relaxed version cannot keep them")
    lines = split(text)
    raw = body(lines[entry.first])
    match = _SPEC.match(raw)
    if match is None or canonicalize_name(match["name"]) != canonicalize_name(dist):
        raise EditError(f"cannot find the version of {dist} on its line")
    start, end = match.span("spec")
    new_raw = raw[:start] + specifier + raw[end:]
    lines[entry.first] = new_raw + lines[entry.first][len(raw):]
    result = "".join(lines)
    _check(text, result, {canonicalize_name(dist)})
    edited = find(result, dist)[0]
    assert edited.req is not None and entry.req is not None
    if (str(edited.req.specifier) != str(Requirement(f"x{specifier}").specifier)
            or edited.req.extras != entry.req.extras or edited.req.marker != entry.req.marker):
        raise EditError(f"replacing the version of {dist} would change more than its version")
    return result


def _check(before: str, after: str, allowed: set[str]) -> None:
    """Every entry but those for `allowed` distributions reads the same after the edit."""
    def key(e: Entry) -> tuple[str, str]:
        return (e.kind, e.text)

    old = [key(e) for e in parse(before) if not (e.name and canonicalize_name(e.name) in allowed)]
    new = [key(e) for e in parse(after) if not (e.name and canonicalize_name(e.name) in allowed)]
    if old != new:
        raise EditError("the edit would change other lines of the requirements file")
