"""Unified diffs of planned file changes: what the plan shows is byte for byte what apply writes.

difflib leaves out git's "\\ No newline at end of file" marker and would
print a changed line ending invisibly, so both are made explicit here; the
output applies with `git apply`.
"""

from __future__ import annotations

import difflib

from remedybot.edits.lines import split

NO_EOL = "\\ No newline at end of file\n"


def unified_diff(path: str, before: str | None, after: str, context: int = 3) -> str:
    """The unified diff turning `before` (None: a new file) into `after`, with a/ b/ paths like git."""
    old = split(before or "")
    new = split(after)
    fromfile = f"a/{path}" if before is not None else "/dev/null"
    out: list[str] = []
    for line in difflib.unified_diff(_marked(old), _marked(new), fromfile, f"b/{path}", n=context):
        if line.endswith("\x00"):  # a last line without its newline
            out += [line[:-1] + "\n", NO_EOL]
        else:
            out.append(line)
    return "".join(out)


def _marked(lines: list[str]) -> list[str]:
    """difflib needs every line terminated: mark a missing final newline so it shows as a change."""
    if lines and not lines[-1].endswith(("\n", "\r")):
        return [*lines[:-1], lines[-1] + "\x00"]
    return lines


def combined(diffs: dict[str, str]) -> str:
    """Several files' diffs, in path order, as one text."""
    return "".join(diffs[path] for path in sorted(diffs))
