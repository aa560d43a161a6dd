"""What changed since the Space last ran, and what drifted: pure analysis of the evidence (no Hub, no index).

`explain(evidence)` reads what `remedybot/diagnose/history.py` gathered (the last known good revision,
the build-relevant files at that revision, the index's release dates) and the failure's log, and returns
the `History` (remedybot/model/history.py):

- the **suspects**: the packages the failure names, in the order the evidence points at them, by the
  rules of `catalog/drift.yaml` (the module of an ImportError, the package of the deepest frame);
- the **changes**: each build-relevant file that differs between last known good and HEAD, with the
  log lines that name something it touched (a requirement whose module the ImportError names);
- the **drift**: for each requirement that is not pinned exactly (and each suspect), the release it got
  at the last known good date against the one it gets now, from the index's upload times;
- the **cause**: change, drift or unknown.

Everything here works without the index: the suspects and the changes stand on their own, and the
drift is then reported as not checked.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from remedybot.edits import names as edit_names
from remedybot.edits import requirements as reqs
from remedybot.edits.diff import unified_diff
from remedybot.model.evidence import Evidence
from remedybot.model.history import Change, Drift, History, LastGood

REQUIREMENT_FILES = ("requirements.txt", "pre-requirements.txt")
BUILD_FILES = ("requirements.txt", "pre-requirements.txt", "packages.txt", "Dockerfile", "README.md")
_FRAME = re.compile(r'^\s*(?:\S+\s+\|\s+)?File "(?P<path>[^"]+)", line \d+')
_INSTALLED = re.compile(r"Successfully installed (?P<items>.+)$")
_APT_GONE = re.compile(r"Package '(?P<pkg>[^']+)' has no installation candidate")


@dataclass(frozen=True)
class _Rule:
    id: str
    pattern: re.Pattern[str]
    dist: str | None
    last: bool
    last_frame: bool


@cache
def _table() -> dict[str, Any]:
    text = resources.files("remedybot.diagnose.catalog").joinpath("drift.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@cache
def _rules() -> tuple[_Rule, ...]:
    return tuple(_Rule(r["id"], re.compile(r["pattern"]), r.get("dist"), bool(r.get("last")),
                       bool(r.get("last_frame"))) for r in _table()["rules"])


TAIL = 300  # a failure is at the end of its log: the lines read, at most


def failure_lines(evidence: Evidence) -> list[str]:
    """The end of the current failure: the log of the stage it is in, then the runtime's error message."""
    stage = evidence.stage or ""
    log = evidence.build_log if stage.startswith("BUILD") else evidence.run_log
    lines = list((log or evidence.run_log or evidence.build_log or [])[-TAIL:])
    return [line[:2000] for line in lines + (evidence.error_message or "").splitlines()[-TAIL:]]


def _strip(line: str) -> str:
    """The line without a container or timestamp prefix ("app_1  | ", "2025-02-15T00:28:21Z ")."""
    line = re.sub(r"^\S+\s+\|\s?", "", line) if re.match(r"^\S+\s+\|", line) else line
    return re.sub(r"^\d{4}-\d\d-\d\d[T ][\d:.]+Z?\s", "", line)


def suspects(evidence: Evidence) -> list[str]:
    """Distributions the failure names, most direct first (canonical names), by the rules of drift.yaml."""
    lines = [_strip(line) for line in failure_lines(evidence)]
    ignore = set(_table()["ignore"]) | _own_modules(evidence)
    found: list[str] = []
    last_frame = max((i for i, line in enumerate(lines) if _FRAME.match(line)), default=None)
    for rule in _rules():
        window = lines
        if rule.last_frame:
            window = lines[last_frame + 1:last_frame + 2] if last_frame is not None else []
        hits = [m for m in map(rule.pattern.search, window) if m]
        if rule.last:
            hits = [m for m in hits if _module(m) not in ignore][-1:]
        for match in hits:
            dist = rule.dist or _dist(_module(match), ignore)
            if dist and dist not in found:
                found.append(dist)
    return found


def _module(match: re.Match[str]) -> str:
    groups = match.groupdict()
    return (groups.get("module") or groups.get("plain") or "").split(".")[0]


def _dist(module: str, ignore: set[str]) -> str | None:
    if not module or module in ignore or module in sys.stdlib_module_names or module.startswith("_"):
        return None
    return str(canonicalize_name(edit_names.distribution_for(module)))


def _own_modules(evidence: Evidence) -> set[str]:
    siblings = [str(p) for p in (evidence.info or {}).get("siblings") or []]
    return {p.split("/")[0].removesuffix(".py") for p in siblings}


# -- requirements -------------------------------------------------------------------------------------------
def requirement_paths(files: dict[str, str | None]) -> list[str]:
    """requirements.txt, pre-requirements.txt and the files their `-r` lines include (relative paths)."""
    paths = list(REQUIREMENT_FILES)
    for path in REQUIREMENT_FILES:
        for include in reqs.includes(files.get(path) or ""):
            name = include.removeprefix("./")
            if name and not name.startswith(("/", "..")) and "://" not in name and name not in paths:
                paths.append(name)
    return paths


def requirement_specs(files: dict[str, str]) -> dict[str, str]:
    """{canonical name: specifier as written} of every requirement of the requirements files and includes."""
    out: dict[str, str] = {}
    for path in requirement_paths(dict(files)):
        for entry in reqs.parse(files.get(path) or ""):
            if entry.req is not None:
                out.setdefault(str(canonicalize_name(entry.req.name)), str(entry.req.specifier))
    return out


def _specs_of(text: str | None) -> dict[str, str]:
    return {str(canonicalize_name(e.req.name)): str(e.req.specifier) for e in reqs.parse(text or "") if e.req}


def exactly_pinned(spec: str) -> bool:
    return any(part.strip().startswith(("==", "===")) and "*" not in part for part in spec.split(",") if part)


def lookups(evidence: Evidence) -> list[str]:
    """The packages whose releases the drift analysis needs: the suspects, then the loose requirements."""
    wanted = list(suspects(evidence))
    for name, spec in requirement_specs(evidence.files or {}).items():
        if not exactly_pinned(spec) and name not in wanted:
            wanted.append(name)
    return wanted[:int(_table()["max_lookups"])]


# -- drift --------------------------------------------------------------------------------------------------
def _date(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None


def resolve_at(releases: dict[str, str], when: datetime, spec: str = "") -> tuple[str, str] | None:
    """(version, upload day) pip would pick at `when`: the newest final release uploaded by then in `spec`."""
    try:
        allowed = Requirement(f"x{spec}").specifier
    except InvalidRequirement:
        allowed = Requirement("x").specifier
    best: tuple[Version, str] | None = None
    for raw, uploaded in releases.items():
        at = _date(uploaded)
        try:
            version = Version(raw)
        except InvalidVersion:
            continue
        if at is None or at > when or version.is_prerelease or version not in allowed:
            continue
        if best is None or version > best[0]:
            best = (version, uploaded[:10])
    return (str(best[0]), best[1]) if best else None


def major_change(old: str, new: str) -> bool:
    """Across a major version: the first number differs, or for 0.x releases the second (semver's rule)."""
    try:
        a, b = Version(old).release, Version(new).release
    except InvalidVersion:
        return False
    if a[0] != b[0]:
        return True
    return a[0] == 0 and (a[1:2] or (0,)) != (b[1:2] or (0,))


def installed_versions(evidence: Evidence) -> dict[str, str]:
    """{canonical name: version} from pip's "Successfully installed a-1.0 b-2.0" in the build log."""
    out: dict[str, str] = {}
    for line in evidence.build_log or []:
        match = _INSTALLED.search(line)
        for item in match["items"].split() if match else []:
            name, _, version = item.rpartition("-")
            if name and version:
                out[str(canonicalize_name(name))] = version
    return out


def drifts(evidence: Evidence, last_good: LastGood | None, named: list[str]) -> list[Drift]:
    """Each looked-up package whose resolution moved between the last good date and now."""
    index = evidence.index or {}
    releases = _releases(index)
    good_at = _date(last_good.date) if last_good else None
    now = _date(evidence.collected_at or "") or _date(str(index.get("checked_at") or ""))
    if good_at is None or now is None:
        return []
    specs = requirement_specs(evidence.files or {})
    installed = installed_versions(evidence)
    out: list[Drift] = []
    for name, dates in releases.items():
        spec = specs.get(name, "")
        if exactly_pinned(spec) or not dates:
            continue
        good = resolve_at(dates, good_at, spec)
        current = resolve_at(dates, now, spec)
        if installed.get(name) and installed[name] in dates:
            current = (installed[name], dates[installed[name]][:10])
        if good is None or current is None or good[0] == current[0]:
            continue
        out.append(Drift(package=name, spec=spec, good_version=good[0], good_released=good[1],
                         now_version=current[0], now_released=current[1],
                         major=major_change(good[0], current[0]), linked=name in named,
                         via="" if name in specs else "another requirement"))
    out.sort(key=lambda d: (not d.linked, not d.major, d.package))
    return out


def texts_of(value: Any) -> dict[str, str | None]:
    """{path: text or None} from an evidence file's value, whatever its shape (a wrong one reads as empty)."""
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if v is None or isinstance(v, str)}


def _releases(index: dict[str, Any]) -> dict[str, dict[str, str]]:
    """{package: {version: upload time}} from the evidence's `index`, dropping what has another shape."""
    raw = index.get("releases")
    if not isinstance(raw, dict):
        return {}
    return {str(name): {str(v): t for v, t in dates.items() if isinstance(t, str)}
            for name, dates in raw.items() if isinstance(dates, dict)}


# -- changes ------------------------------------------------------------------------------------------------
def _front_matter(text: str | None) -> str | None:
    if text is None:
        return None
    body = text.lstrip("\ufeff")
    end = body.find("\n---", 3)
    return body[:end + 4] + "\n" if body.startswith("---") and end != -1 else ""


def _imports(text: str | None) -> str | None:
    if text is None:
        return None
    return "".join(line + "\n" for line in text.splitlines() if re.match(r"^(?:from \S+ import |import )", line))


def _touched(path: str, before: str | None, after: str | None, requirement_files: list[str]) -> list[str]:
    """What a change touched, as names a log can mention: requirements, modules, apt packages."""
    if path in requirement_files:
        a, b = requirement_specs({path: before or ""}), requirement_specs({path: after or ""})
        return sorted(n for n in set(a) | set(b) if a.get(n) != b.get(n))
    if path == "packages.txt":
        a_set = set((before or "").split())
        b_set = set((after or "").split())
        return sorted(a_set ^ b_set)
    if path.endswith(".py"):
        a_set = set(re.findall(r"(?m)^(?:from|import) (\w+)", before or ""))
        b_set = set(re.findall(r"(?m)^(?:from|import) (\w+)", after or ""))
        return sorted(a_set ^ b_set)
    return []


def _log_names(evidence: Evidence, lines: list[str]) -> dict[str, str]:
    """{name a change could touch: the log line naming it}: modules, their distributions, apt packages."""
    out: dict[str, str] = {}
    pattern = re.compile(r"(?:No module named|cannot import name '[^']+' from|module) '([A-Za-z_][\w.]*)'")
    for line in lines:
        for match in pattern.finditer(line):
            module = match[1].split(".")[0]
            out.setdefault(module, line.strip())
            out.setdefault(str(canonicalize_name(edit_names.distribution_for(module))), line.strip())
        apt = _APT_GONE.search(line)
        if apt:
            out.setdefault(apt["pkg"], line.strip())
    for dist in suspects(evidence):
        out.setdefault(dist, next((ln.strip() for ln in lines if dist.replace("-", "_") in ln), dist))
    return out


def changes(evidence: Evidence, sdk: str | None) -> list[Change]:
    """Build-relevant files that differ between the last known good revision and HEAD, linked to the log."""
    gathered = evidence.history or {}
    then = texts_of(gathered.get("files_at_last_good"))
    now_files = {**(evidence.files or {}), **texts_of(gathered.get("files_at_head"))}
    logged = _log_names(evidence, failure_lines(evidence))
    requirement_files = requirement_paths({**then, **now_files})
    out: list[Change] = []
    for path in sorted(then):
        before, after = then.get(path), now_files.get(path)
        shown_before, shown_after = before, after
        if path == "README.md":
            shown_before, shown_after = _front_matter(before), _front_matter(after)
        elif path.endswith(".py"):
            shown_before, shown_after = _imports(before), _imports(after)
        if shown_before == shown_after:
            continue
        status = "added" if before is None else "removed" if after is None else "changed"
        touched = _touched(path, before, after, requirement_files)
        provided = {m for name in touched for m in edit_names.provided_imports({name}, sdk)} if path in \
            requirement_files else set()
        linked = sorted({logged[n] for n in [*touched, *provided] if n in logged})
        out.append(Change(path=path, status=status, diff=unified_diff(path, shown_before, shown_after or ""),
                          linked=linked, names=touched))
    return out


def base_image_moved(evidence: Evidence) -> str:
    """"the base image moved: libgl1-mesa-glx is gone from Debian trixie; libgl1 replaces it", or ""."""
    removed = edit_names.table("debian_packages")["removed"]
    for line in failure_lines(evidence):
        match = _APT_GONE.search(line)
        entry = removed.get(match["pkg"]) if match else None
        if match and entry:
            instead = f"; {entry['replacement']} replaces it" if entry.get("replacement") else ""
            return f"the base image moved: {match['pkg']} is gone from Debian {entry['removed_in']}{instead}"
    return ""


def explain(evidence: Evidence) -> History:
    """The whole analysis: last known good, changes, drift, suspects, and the cause they point at."""
    gathered = evidence.history or {}
    last_good = LastGood.from_dict(gathered.get("last_good"))
    named = suspects(evidence)
    index = evidence.index or {}
    history = History(last_good=last_good, suspects=named, drift_checked=bool(index.get("checked")),
                      drift_error=str(index.get("error") or ""), base_image=base_image_moved(evidence))
    if last_good is None:
        if history.base_image:
            history.cause, history.summary = "drift", f"cause: upstream drift: {history.base_image}"
        else:
            history.summary = _unknown_summary(named, history)
        return history
    history.changes = changes(evidence, evidence.sdk)
    history.drift = drifts(evidence, last_good, named)
    history.cause, history.summary = _verdict(history)
    return history


def _unknown_summary(named: list[str], history: History) -> str:
    if not named:
        return ""
    return (f"the failure names {', '.join(named[:3])}; when it last ran is not known, so what it got then "
            "cannot be compared")


def _verdict(h: History) -> tuple[str, str]:
    linked_changes = [c for c in h.changes if c.linked]
    moved = [d for d in h.drift if d.major and d.linked] or [d for d in h.drift if d.major]
    if linked_changes:
        what = ", ".join(f"{c.path} ({', '.join(c.names) or c.status})" for c in linked_changes)
        return "change", f"cause: a change since it last ran; the failure names what {what} changed"
    if h.changes and not moved:
        return "change", ("cause: probably a change since it last ran (" + ", ".join(c.path for c in h.changes)
                          + "); the log does not name what changed")
    if moved or h.base_image:
        lead = "nothing build-relevant changed since it last ran; " if not h.changes else ""
        what = moved[0].sentence() if moved else h.base_image
        return "drift", f"cause: upstream drift: {lead}{what}"
    if h.suspects and not h.drift_checked:
        return "unknown", (f"nothing build-relevant changed since it last ran; the failure names "
                           f"{', '.join(h.suspects[:3])}, which may have drifted")
    return "unknown", ""
