"""Line handling shared by the editors: keep each line's own ending, reuse the file's own style.

Editors split with `keepends`, change whole lines, and join again, so CRLF
files stay CRLF, a missing final newline stays missing unless a line is added
after it, and bytes outside the touched lines are never re-encoded.
"""

from __future__ import annotations


def split(text: str) -> list[str]:
    """Lines with their endings (\\n, \\r\\n or \\r), like str.splitlines(keepends=True) but only on those."""
    out: list[str] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\n" or ch == "\r":
            end = i + 2 if ch == "\r" and i + 1 < n and text[i + 1] == "\n" else i + 1
            out.append(text[start:end])
            start = i = end
            continue
        i += 1
    if start < n:
        out.append(text[start:])
    return out


def eol(text: str) -> str:
    """The file's dominant line ending ("\\n" for a file that has none yet)."""
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    return "\r\n" if crlf > lf else "\n"


def body(line: str) -> str:
    """A line without its ending."""
    return line.rstrip("\r\n")


def ending(line: str) -> str:
    """The line's ending ("" for a last line without one)."""
    return line[len(body(line)):]


def append_line(text: str, new: str) -> str:
    """`text` with `new` added as its last line, in the file's line-ending style."""
    nl = eol(text)
    if text and not text.endswith(("\n", "\r")):
        text += nl
    return text + new + nl
