"""What a signature scan reads: the evidence as bounded, segmented sources (`Context`), and what it finds.

Split from scan.py so that the named checks (checks.py) and the scan that
calls them (scan.py) both depend on these types and not on each other.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from remedybot.diagnose.catalog.schema import Signature
from remedybot.model.evidence import Evidence, front_matter

MAX_SCAN_LINES = 5000
MAX_LINE_CHARS = 2000
# Field name in signatures.yaml -> source name in the diagnosis.
SOURCE_NAMES = {"build_log": "build_log", "run_log": "run_log", "error_message": "runtime.errorMessage",
                "abuse": "runtime.abuse",
                "push_error": "push_error", "restart_error": "restart_error", "stage": "runtime.stage",
                "status_page": "status_page", "info.disabled": "info.disabled", "app_probe": "app_probe"}
_SEGMENT_HEADERS = {"build_log": "===== Build Queued at", "run_log": "===== Application Startup at"}


@dataclass
class SourceText:
    """One evidence source as lines; `start` is the first line (0-based) the scanner reads."""

    name: str
    lines: list[str]
    start: int = 0
    segment_start: int = 0

    @cached_property
    def scanned(self) -> range:
        return range(self.start, len(self.lines))


@dataclass(frozen=True)
class Finding:
    """What a Python check found: where, the line, the matched part, the culprit, and how strongly."""

    source: str
    line: int
    text: str
    span: tuple[int, int] | None = None
    culprit: dict[str, Any] = field(default_factory=dict)
    scale: float = 1.0


@dataclass(frozen=True)
class Hit:
    """A signature matched a line. `line` is 1-based within `source`; `col` orders hits within a line."""

    signature: Signature
    source: str
    line: int
    text: str
    span: tuple[int, int] | None
    culprit: dict[str, Any]
    weight: float
    col: int = 0

    @property
    def branch(self) -> str:
        return self.signature.branch

    @property
    def fatal(self) -> bool:
        return self.signature.fatal


class Context:
    """Evidence prepared for scanning: flattened, segmented sources and the README front matter."""

    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence
        self.stage = evidence.stage
        self.sources: dict[str, SourceText] = {}
        for key in ("build_log", "run_log"):
            raw = getattr(evidence, key)
            if raw is not None:
                self.sources[key] = _segmented(key, _flatten(raw))
        abuse = (evidence.runtime or {}).get("abuse")
        texts = {"runtime.errorMessage": evidence.error_message, "push_error": evidence.push_error,
                 "restart_error": evidence.restart_error,
                 "runtime.abuse": abuse.get("reason") if isinstance(abuse, dict) else None}
        for name, text in texts.items():
            if isinstance(text, str) and text.strip():
                self.sources[name] = _bounded(name, text.splitlines() or [text])
        probe = evidence.app_probe
        if isinstance(probe, dict) and probe.get("status"):
            self.sources["app_probe"] = SourceText("app_probe", [f"GET {probe.get('url', 'app')} -> {probe['status']}"])
        if self.stage:
            self.sources["runtime.stage"] = SourceText("runtime.stage", [self.stage])
        if (evidence.info or {}).get("disabled"):
            self.sources["info.disabled"] = SourceText("info.disabled", ["disabled: true"])
        if evidence.status_page:
            self.sources["status_page"] = SourceText("status_page", status_lines(evidence.status_page))
        for name, text in (evidence.files or {}).items():
            self.sources[f"files/{name}"] = _bounded(f"files/{name}", text.splitlines())

    @cached_property
    def front_matter(self) -> dict[str, Any]:
        return front_matter(self.evidence)

    @property
    def meta(self) -> dict[str, Any]:
        return self.front_matter["meta"]

    @cached_property
    def sdk(self) -> str | None:
        sdk = (self.evidence.info or {}).get("sdk") or self.meta.get("sdk")
        if not sdk and "files/Dockerfile" in self.sources:
            return "docker"
        return str(sdk).lower() if sdk else None

    def get(self, name: str) -> SourceText | None:
        return self.sources.get(name)

    def for_field(self, field_name: str) -> list[SourceText]:
        if field_name.startswith("files."):
            pattern = field_name[len("files."):]
            return [src for name, src in self.sources.items()
                    if name.startswith("files/") and fnmatch.fnmatchcase(name[len("files/"):], pattern)]
        src = self.sources.get(SOURCE_NAMES.get(field_name, ""))
        return [src] if src is not None else []


def _flatten(raw: list[str]) -> list[str]:
    """Log entries may carry their own newlines (SSE data lines end in one); one line per element."""
    out: list[str] = []
    for entry in raw:
        text = entry[:-1] if entry.endswith("\n") else entry
        if "\n" in text or "\r" in text:
            out.extend(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
        else:
            out.append(text)
    return out


def _bounded(name: str, lines: list[str]) -> SourceText:
    return SourceText(name, lines, start=max(0, len(lines) - MAX_SCAN_LINES))


def _segmented(key: str, lines: list[str]) -> SourceText:
    """Scan from the last build/start-up header (older segments are earlier attempts)."""
    floor = max(0, len(lines) - MAX_SCAN_LINES)
    header = _SEGMENT_HEADERS[key]
    start = floor
    for index in range(len(lines) - 1, floor - 1, -1):
        if lines[index].startswith(header):
            start = index
            break
    return SourceText(key, lines, start=start, segment_start=start)


def status_lines(doc: Any) -> list[str]:
    """The status page as "<component>: <state>" lines plus "overall: <state>".

    Reads the Better Stack JSON:API shape, the Atlassian Statuspage
    shape, and a plain {"components": {"Spaces": "degraded"}} mapping; unknown shapes give [].
    """
    if not isinstance(doc, dict):
        return []
    lines: list[str] = []
    data = doc.get("data")
    if isinstance(data, dict) and isinstance(data.get("attributes"), dict):
        state = data["attributes"].get("aggregate_state")
        if isinstance(state, str):
            lines.append(f"overall: {state}")
    for entry in doc.get("included") or []:
        if isinstance(entry, dict) and entry.get("type") == "status_page_resource":
            attrs = entry.get("attributes") or {}
            if isinstance(attrs, dict) and attrs.get("public_name"):
                lines.append(f"{attrs['public_name']}: {attrs.get('status', 'unknown')}")
    components = doc.get("components")
    if isinstance(components, dict):
        lines += [f"{name}: {state}" for name, state in components.items() if isinstance(state, str)]
    elif isinstance(components, list):
        lines += [f"{c['name']}: {c.get('status', 'unknown')}" for c in components
                  if isinstance(c, dict) and c.get("name")]
    status = doc.get("status")
    if isinstance(status, dict) and isinstance(status.get("indicator"), str):
        lines.append(f"overall: {status['indicator']}")
    return lines
