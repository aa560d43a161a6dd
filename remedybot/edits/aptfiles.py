"""Debian package names in packages.txt and in the Dockerfile's apt lines: find them, rename or drop them.

packages.txt is handed to `xargs apt-get install` on SDK Spaces, so it is a
list of whitespace-separated names with `#` comments. A Dockerfile names
packages inside `apt-get install` commands of RUN lines. Both are edited one
word at a time (see dockerfile.py), so the rest of each file stays as it was.
"""

from __future__ import annotations

import re

from remedybot.edits import EditError, dockerfile
from remedybot.edits.dockerfile import Word
from remedybot.edits.lines import body, split

PACKAGES_TXT = "packages.txt"
DOCKERFILE = "Dockerfile"


def packages_txt_words(text: str) -> list[Word]:
    """Every package name in packages.txt, with its position."""
    out = []
    for index, line in enumerate(split(text)):
        raw = body(line)
        content = raw.split("#", 1)[0]
        out += [Word(index, m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", content)]
    return out


def package_words(path: str, text: str) -> list[Word]:
    """The package names a file installs (packages.txt or a Dockerfile's apt-get install lines)."""
    if path == PACKAGES_TXT:
        return packages_txt_words(text)
    if path == DOCKERFILE:
        return [w for ins in dockerfile.instructions(text) for w in dockerfile.apt_packages(ins)]
    return []


def rename(path: str, text: str, changes: dict[str, str | None]) -> str:
    """`text` with each package of `changes` renamed (or dropped for None). Bottom-up, so positions hold.

    When the new name is already installed by the same file, the old one is dropped instead of
    becoming a duplicate.

    Raises:
        EditError: none of the packages is in the file.
    """
    original = [w.text for w in package_words(path, text)]
    words = [w for w in package_words(path, text) if w.text in changes]
    if not words:
        raise EditError(f"{path} installs none of {', '.join(sorted(changes))}")
    present = set(original)
    expected = []
    for name in original:
        new = changes.get(name, name)
        if name in changes and (new is None or new in present):
            continue
        expected.append(new)
    for word in sorted(words, key=lambda w: (w.line, w.start), reverse=True):
        new = changes[word.text]
        if new is None or new in present:
            text = dockerfile.remove_word(text, word)
        else:
            text = dockerfile.replace_word(text, word, new)
    if [w.text for w in package_words(path, text)] != expected:
        raise EditError(f"renaming packages in {path} would change other package names; edit it by hand")
    return text
