"""Edit a README.md's YAML front matter and nothing else: comments, key order, quoting and line endings stay.

ruamel.yaml's round-trip loader finds where each key and value sits; the edit
is then made on those lines only, because ruamel's dumper, though it keeps
comments and order, re-indents sequences, re-wraps long lines and re-quotes
values it did not need to touch. After every edit the front matter is parsed
again (ruamel and PyYAML, which reads it the way the Hub's validator does)
and must equal the old mapping with exactly the intended change; otherwise
EditError, and nothing is planned.

A front matter that does not parse at all (an unquoted colon in the title, a
tab) has no mapping to edit: `repair` quotes or re-indents the one line the
parser points at, and proves the result parses.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError as RuamelError

from remedybot.edits import EditError
from remedybot.edits.lines import body, ending, eol, split

_KEY_LINE = re.compile(r"^(?P<key>[A-Za-z_][\w.-]*):(?P<gap>[ \t]+)(?P<value>.*?)(?P<comment>[ \t]+#.*)?$")


def _ruamel() -> YAML:
    parser = YAML(typ="rt")
    parser.allow_duplicate_keys = True  # the Hub's parser keeps the last one; so must we
    return parser


@dataclass
class FrontMatter:
    """A README split into the lines before, inside and after its `---` front matter block."""

    lines: list[str]
    start: int  # first line inside the block
    end: int  # the closing '---' line

    @classmethod
    def parse(cls, text: str) -> FrontMatter:
        """Raises EditError when there is no closed front matter block to edit."""
        lines = split(text)
        if not lines or body(lines[0]).lstrip("\ufeff").rstrip() != "---":
            raise EditError("README.md has no YAML front matter (it must start with a '---' line)")
        for index in range(1, len(lines)):
            if body(lines[index]).rstrip() == "---":
                return cls(lines, 1, index)
        raise EditError("README.md's front matter is not closed with a '---' line")

    @property
    def text(self) -> str:
        return "".join(self.lines)

    @property
    def block(self) -> str:
        return "".join(self.lines[self.start:self.end])

    def mapping(self) -> dict[str, Any]:
        """The front matter as the Hub reads it (PyYAML). Raises EditError if it does not parse."""
        try:
            data = yaml.safe_load(self.block)
        except yaml.YAMLError as exc:
            raise EditError(f"README.md's front matter is not valid YAML: {exc}") from exc
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise EditError("README.md's front matter is not a mapping of keys to values")
        return data

    def _positions(self) -> dict[str, tuple[int, int, int]]:
        """key -> (first line, value column, line after its value) as indexes into `lines`."""
        try:
            data = _ruamel().load(self.block)
        except RuamelError as exc:
            raise EditError(f"README.md's front matter is not valid YAML: {exc}") from exc
        if not hasattr(data, "lc"):
            return {}
        starts = sorted((data.lc.key(k)[0], str(k)) for k in data)
        out: dict[str, tuple[int, int, int]] = {}
        for i, (line, key) in enumerate(starts):
            stop = starts[i + 1][0] if i + 1 < len(starts) else self.end - self.start
            while stop - 1 > line and _blank_or_comment(self.lines[self.start + stop - 1]):
                stop -= 1
            vline, vcol = data.lc.value(key)
            out[key] = (self.start + line, vcol if vline == line else -1, self.start + stop)
        return out


def _blank_or_comment(line: str) -> bool:
    stripped = body(line).strip()
    return not stripped or stripped.startswith("#")


def render(value: Any) -> str:
    """A scalar as YAML that both parsers read back as `value`: plain when that is safe, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text and text == text.strip() and " #" not in text and "\n" not in text:
        try:
            if yaml.safe_load(f"k: {text}") == {"k": text} and _ruamel().load(f"k: {text}")["k"] == text:
                return text
        except (yaml.YAMLError, RuamelError, TypeError):
            pass
    return json.dumps(text, ensure_ascii=False)


def _requote(old: str, value: Any) -> str:
    """`value` rendered in the quote style the old value used, when it was a quoted string."""
    if isinstance(value, str) and old[:1] == '"':
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and old[:1] == "'" and "\n" not in value:
        return "'" + value.replace("'", "''") + "'"
    return render(value)


def _split_value(rest: str) -> tuple[str, str]:
    """(value text, trailing comment with its leading blanks) of what follows `key: `."""
    if rest[:1] in ("'", '"'):
        quote = rest[0]
        i = 1
        while i < len(rest):
            if quote == '"' and rest[i] == "\\":
                i += 2
                continue
            if rest[i] == quote:
                if quote == "'" and rest[i + 1:i + 2] == "'":
                    i += 2
                    continue
                return rest[:i + 1], rest[i + 1:]
            i += 1
        return rest, ""
    match = re.search(r"[ \t]+#", rest)
    return (rest[:match.start()], rest[match.start():]) if match else (rest, "")


def set_keys(text: str, changes: dict[str, Any]) -> str:
    """README `text` with each key of `changes` set (added at the end of the block when absent).

    Raises:
        EditError: the front matter does not parse, a key's value spans several lines,
            or the result would not read back as the old mapping plus `changes`.
    """
    fm = FrontMatter.parse(text)
    before = fm.mapping()
    nl = eol(text)
    for key, value in changes.items():
        if key in before and before[key] == value and type(before[key]) is type(value):
            continue  # already so: leave its quoting alone
        where = fm._positions().get(key)
        if where is None:
            fm.lines.insert(fm.end, f"{key}: {render(value)}{nl}")
            fm.end += 1
            continue
        first, col, stop = where
        line = fm.lines[first]
        empty = re.match(rf"^{re.escape(key)}:[ \t]*(#.*)?$", body(line))
        if empty and stop - first == 1:  # `key:` with no value (null)
            comment = f" {empty[1]}" if empty[1] else ""
            fm.lines[first] = f"{key}: {render(value)}{comment}{line[len(body(line)):]}"
            continue
        if col < 0 or stop - first != 1:
            raise EditError(f"README.md's '{key}' spans several lines; edit it by hand")
        old, comment = _split_value(body(line)[col:])
        fm.lines[first] = body(line)[:col] + _requote(old, value) + comment + line[len(body(line)):]
    _check(fm, {**before, **changes})
    return fm.text


def add_list_item(text: str, key: str, item: str) -> str:
    """README `text` with `item` appended to the list `key` (created as a block list when absent).

    Raises:
        EditError: as for `set_keys`, or `key` holds something other than a list.
    """
    fm = FrontMatter.parse(text)
    before = fm.mapping()
    current = before.get(key)
    nl = eol(text)
    if current is None and key not in before:
        fm.lines[fm.end:fm.end] = [f"{key}:{nl}", f"  - {render(item)}{nl}"]
        fm.end += 2
    elif not isinstance(current, list):
        raise EditError(f"README.md's '{key}' is not a list")
    else:
        first, col, stop = fm._positions()[key]
        rest = body(fm.lines[first])[col:] if col >= 0 else ""
        if rest.startswith("["):
            value_text, comment = _split_value(rest)
            inner = value_text.rstrip()[1:-1].strip()
            new = f"[{inner}, {render(item)}]" if inner else f"[{render(item)}]"
            line = fm.lines[first]
            fm.lines[first] = body(line)[:col] + new + comment + line[len(body(line)):]
        else:
            items = [i for i in range(first + 1, stop) if body(fm.lines[i]).lstrip().startswith("- ")]
            if not items:
                raise EditError(f"README.md's '{key}' is not a block list")
            last = fm.lines[items[-1]]
            indent = body(last)[:len(body(last)) - len(body(last).lstrip())]
            fm.lines.insert(stop, f"{indent}- {render(item)}{ending(last) or nl}")
            fm.end += 1
    _check(fm, {**before, key: [*(current or []), item]})
    return fm.text


def _check(fm: FrontMatter, expected: dict[str, Any]) -> None:
    after = fm.mapping()
    if after != expected:
        changed = sorted(k for k in set(after) | set(expected) if after.get(k) != expected.get(k))
        raise EditError(f"editing README.md would also change {', '.join(changed)}; edit it by hand")
    try:
        _ruamel().load(fm.block)
    except RuamelError as exc:
        raise EditError(f"the edited front matter does not parse: {exc}") from exc


def repair(text: str) -> tuple[str, str]:
    """Fix the one line that makes the front matter unparsable; (new text, what was done).

    Tries, on the line the parser names and the one before it: quoting a `key: value`
    whose value YAML misreads (a colon, a leading `@`, `*`, `&`, `!`, `%`, backtick or
    bracket), and replacing tab indentation with spaces. The repaired block must parse
    and hold the value exactly as it was written.

    Raises:
        EditError: the front matter already parses, or no single-line repair makes it parse.
    """
    fm = FrontMatter.parse(text)
    try:
        fm.mapping()
    except EditError as exc:
        problem = exc
    else:
        raise EditError("README.md's front matter already parses; nothing to repair")
    mark = _error_line(fm)
    candidates = [i for i in (mark, mark - 1, mark + 1) if fm.start <= i < fm.end] if mark else []
    candidates += [i for i in range(fm.start, fm.end) if i not in candidates]
    for index in candidates:
        line = fm.lines[index]
        raw = body(line)
        fixes: list[tuple[str, str]] = []
        if raw.startswith("\t") or (raw[:1] == " " and "\t" in raw[:len(raw) - len(raw.lstrip())]):
            lead = raw[:len(raw) - len(raw.lstrip())]
            fixes.append((lead.replace("\t", "  ") + raw.lstrip(), "replaced tab indentation with spaces"))
        match = _KEY_LINE.match(raw)
        if match and match["value"] and match["value"][:1] not in ("'", '"'):
            value = match["value"]
            fixed = f"{match['key']}:{match['gap']}{json.dumps(value, ensure_ascii=False)}{match['comment'] or ''}"
            fixes.append((fixed, f"quoted the value of '{match['key']}'"))
        for new, what in fixes:
            trial = FrontMatter([*fm.lines[:index], new + line[len(raw):], *fm.lines[index + 1:]], fm.start, fm.end)
            try:
                data = trial.mapping()
            except EditError:
                continue
            if match and what.startswith("quoted") and data.get(match["key"]) != match["value"]:
                continue
            return trial.text, f"line {index + 1}: {what}"
    raise EditError(f"{problem}; no one-line repair makes it parse")


def _error_line(fm: FrontMatter) -> int | None:
    """Index into `lines` of the line the YAML parser stopped at."""
    try:
        yaml.safe_load(fm.block)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            return fm.start + mark.line
    return None
