"""Dockerfile instructions with the physical lines they span, and in-place edits of single words.

A Dockerfile instruction can run over many lines (`\\` continuations, with
comment lines allowed in between). Edits here never rebuild an instruction:
they locate one word (a package, a port, a host) on its physical line and
replace or remove just that word, so indentation, continuation layout,
comments and line endings stay byte for byte. Heredocs (`RUN <<EOF`) are read
as plain lines and never edited.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement

from remedybot.edits import EditError
from remedybot.edits.lines import body, split

SEPARATORS = ("&&", "||", ";", "|")


@dataclass(frozen=True)
class Word:
    """One whitespace-separated word of an instruction, where it is."""

    line: int  # physical line index
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    first: int
    last: int
    words: tuple[Word, ...]  # the arguments (the keyword excluded), comment lines skipped

    @property
    def args(self) -> str:
        return " ".join(w.text for w in self.words)


def instructions(text: str) -> list[Instruction]:
    """Every instruction, continuations joined, with the words' physical positions."""
    lines = split(text)
    out: list[Instruction] = []
    i = 0
    while i < len(lines):
        raw = body(lines[i])
        if not raw.strip() or raw.lstrip().startswith("#"):
            i += 1
            continue
        first = i
        words: list[Word] = []
        while True:
            raw = body(lines[i])
            if not (i > first and raw.lstrip().startswith("#")):
                cont = raw.rstrip().endswith("\\")
                content = raw.rstrip()[:-1] if cont else raw
                words += [Word(i, m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", content)]
            else:
                cont = True  # a comment inside a continued instruction does not end it
            if not cont or i + 1 >= len(lines):
                break
            i += 1
        keyword = words[0].text.upper() if words else ""
        out.append(Instruction(keyword, first, i, tuple(words[1:])))
        i += 1
    return out


def final_stage(text: str) -> list[Instruction]:
    """The instructions of the last build stage (after the last FROM)."""
    items = instructions(text)
    starts = [i for i, ins in enumerate(items) if ins.keyword == "FROM"]
    return items[starts[-1]:] if starts else items


def apt_packages(ins: Instruction) -> list[Word]:
    """Package words of every `apt-get install` / `apt install` in a RUN instruction."""
    if ins.keyword != "RUN":
        return []
    words = list(ins.words)
    found: list[Word] = []
    i = 0
    while i < len(words):
        name = words[i].text.rsplit("/", 1)[-1]
        if name in ("apt-get", "apt", "aptitude"):
            j = i + 1
            while j < len(words) and words[j].text.startswith("-"):
                j += 1
            if j < len(words) and words[j].text == "install":
                j += 1
                while j < len(words) and words[j].text not in SEPARATORS:
                    word = words[j]
                    ends_command = word.text.endswith(";")
                    token = word.text.rstrip(";")
                    if token and not token.startswith(("-", "$", "\"", "'")) and re.match(r"^[a-z0-9]", token):
                        found.append(Word(word.line, word.start, word.start + len(token.split("=")[0]),
                                          token.split("=")[0]))
                    if ends_command:
                        break
                    j += 1
                i = j
                continue
        i += 1
    return found


def replace_word(text: str, word: Word, new: str) -> str:
    """`text` with one located word replaced."""
    lines = split(text)
    line = lines[word.line]
    if line[word.start:word.end] != word.text:
        raise EditError(f"line {word.line + 1} changed under the edit")
    lines[word.line] = line[:word.start] + new + line[word.end:]
    return "".join(lines)


def remove_word(text: str, word: Word) -> str:
    """`text` without one located word: its whole line when it stood alone on it (continuations kept)."""
    lines = split(text)
    line = lines[word.line]
    raw = body(line)
    rest = (raw[:word.start] + raw[word.end:]).strip()
    if rest in ("", "\\"):
        if rest == "" and word.line > 0 and body(lines[word.line - 1]).rstrip().endswith("\\"):
            prev = lines[word.line - 1]
            prev_raw = body(prev).rstrip()
            lines[word.line - 1] = prev_raw[:-1].rstrip() + prev[len(body(prev)):]
        del lines[word.line]
        return "".join(lines)
    after = word.end
    while after < len(raw) and raw[after] in " \t":
        after += 1
    if after < len(raw) and raw[after] != "\\":
        lines[word.line] = raw[:word.start] + raw[after:] + line[len(raw):]
    else:
        before = word.start
        while before > 0 and raw[before - 1] in " \t":
            before -= 1
        keep = raw[word.end:]
        lines[word.line] = raw[:before] + (" " + keep.lstrip() if keep.strip() else "") + line[len(raw):]
    return "".join(lines)


def effective_user(text: str) -> str | None:
    """The USER the final stage runs as (None: root, the default)."""
    users = [ins for ins in final_stage(text) if ins.keyword == "USER"]
    return users[-1].args.strip() if users else None


def uid_of(text: str, user: str) -> int | None:
    """The uid of `user`: numeric, or as created by `useradd -u N`/`adduser --uid N` in a RUN line."""
    name = user.split(":")[0]
    if name.isdigit():
        return int(name)
    if name == "root":
        return 0
    for ins in instructions(text):
        if ins.keyword != "RUN":
            continue
        for match in re.finditer(r"(?:useradd|adduser)\b([^&;|]*)", ins.args):
            words = match.group(1).split()
            if name not in words:
                continue
            for i, w in enumerate(words[:-1]):
                if w in ("-u", "--uid"):
                    return int(words[i + 1]) if words[i + 1].isdigit() else None
            for w in words:
                if w.startswith("--uid="):
                    return int(w.split("=", 1)[1]) if w.split("=", 1)[1].isdigit() else None
    return None


def exposed(text: str) -> list[tuple[int, int]]:
    """(port, line index) of every EXPOSE of the final stage."""
    out = []
    for ins in final_stage(text):
        if ins.keyword == "EXPOSE":
            for w in ins.words:
                port = w.text.split("/")[0]
                if port.isdigit():
                    out.append((int(port), w.line))
    return out


def command(text: str) -> Instruction | None:
    """The final stage's CMD (or ENTRYPOINT when there is no CMD)."""
    stage = final_stage(text)
    for keyword in ("CMD", "ENTRYPOINT"):
        found = [ins for ins in stage if ins.keyword == keyword]
        if found:
            return found[-1]
    return None


def option_value(text: str, ins: Instruction, names: tuple[str, ...]) -> Word | None:
    """The value word of a command-line option (`--host X`, `--host=X`, `"--host", "X"`) in `ins`."""
    words = list(ins.words)
    for i, w in enumerate(words):
        token = w.text.strip("[],").strip('"\'')
        for name in names:
            if token == name and i + 1 < len(words):
                value = words[i + 1]
                inner = value.text.strip("[],")
                quote = 1 if inner[:1] in ('"', "'") else 0
                start = value.start + value.text.index(inner) + quote
                clean = inner.strip('"\'')
                return Word(value.line, start, start + len(clean), clean)
            if token.startswith(name + "="):
                offset = w.text.index(name + "=") + len(name) + 1
                clean = token.split("=", 1)[1]
                return Word(w.line, w.start + offset, w.start + offset + len(clean), clean)
    return None


def add_option(text: str, ins: Instruction, after: str, option: str, value: str) -> str:
    """`text` with `option value` inserted after the word `after` of the command, in its own form."""
    exec_form = ins.words and ins.words[0].text.startswith("[")
    for w in ins.words:
        token = w.text.strip("[],").strip('"\'')
        if token != after:
            continue
        lines = split(text)
        line = lines[w.line]
        if exec_form:
            inner_end = w.start + len(w.text.rstrip("],"))
            insert = f", {json.dumps(option)}, {json.dumps(value)}"
        else:
            inner_end = w.end
            insert = f" {option} {value}"
        lines[w.line] = line[:inner_end] + insert + line[inner_end:]
        return "".join(lines)
    raise EditError(f"cannot find '{after}' in the {ins.keyword} line")


def pip_installs(docker: str) -> tuple[set[str], list[str]]:
    """(distributions named inline, requirement files given with -r) of the Dockerfile's `pip install`s."""
    dists, files = set(), []
    for ins in instructions(docker):
        if ins.keyword != "RUN":
            continue
        for part in re.split(r"&&|\|\||;|\|", ins.args):
            words = [w.strip("\"'") for w in part.split()]
            if "install" not in words or not any(w.rsplit("/", 1)[-1].startswith("pip") for w in words):
                continue
            rest = words[words.index("install") + 1:]
            for i, word in enumerate(rest):
                before = rest[i - 1] if i else ""
                if before in ("-r", "--requirement"):
                    files.append(word.removeprefix("./").rsplit("/", 1)[-1])
                elif not word.startswith("-") and before not in ("-c", "-e", "-i", "--index-url", "--extra-index-url"):
                    try:
                        dists.add(Requirement(word).name)
                    except InvalidRequirement:
                        continue
    return dists, files
