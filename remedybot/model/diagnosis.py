"""The Diagnosis: what classify() concluded, the lines that prove it, and how to show it.

The JSON form (`to_dict`) is the contract of `remedybot diagnose --json`
(docs/ARCHITECTURE.md): `space_id`, `branch`, `confidence`, `evidence[{source, line, text,
signature}]`, `alternatives`, plus `confidence_label`, `meaning`, `culprit`,
`stage` and `next_step`. The text form (`render_text`) is for people. Both pass
every piece of log text through `redact`, so a token pasted into a log never
reaches the terminal or a saved file.

Confidence scale (shared with classify.py and branches.yaml): a float in 0..1;
"high" >= 0.8, "medium" >= 0.5, "low" below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from remedybot.core.output import terminal_safe
from remedybot.core.redact import redact
from remedybot.model.history import History

HIGH = 0.8
MEDIUM = 0.5
_MAX_TEXT = 400


def confidence_label(value: float) -> str:
    """"high", "medium" or "low" for a confidence in 0..1 (the documented scale)."""
    if value >= HIGH:
        return "high"
    if value >= MEDIUM:
        return "medium"
    return "low"


@dataclass(frozen=True)
class EvidenceLine:
    """One line that supports a branch: where it is (source, 1-based line), its text, and the signature id.

    `span` is the matched part of `text` (start, end), used for highlighting; None when the
    whole line is the evidence (a stage, a config condition).
    """

    source: str
    line: int
    text: str
    signature: str
    span: tuple[int, int] | None = None

    @classmethod
    def make(cls, source: str, line: int, text: str, signature: str,
             span: tuple[int, int] | None) -> EvidenceLine:
        """Redact and clip the text, keeping the span on the matched part."""
        matched = text[span[0]:span[1]] if span else None
        if len(text) > _MAX_TEXT:
            start = max(0, (span[0] if span else 0) - 80)
            text = ("…" if start else "") + text[start:start + _MAX_TEXT] + "…"
        clean = redact(text)
        new_span = None
        if matched:
            where = clean.find(redact(matched))
            if where >= 0:
                new_span = (where, where + len(redact(matched)))
        return cls(source, line, clean, signature, new_span)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "line": self.line, "text": self.text,
                               "signature": self.signature}
        if self.span is not None:
            out["span"] = list(self.span)
        return out


@dataclass(frozen=True)
class Alternative:
    """A runner-up branch, its confidence, and the lines that point at it."""

    branch: str
    confidence: float
    evidence: list[EvidenceLine] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"branch": self.branch, "confidence": self.confidence,
                "confidence_label": confidence_label(self.confidence),
                "evidence": [e.to_dict() for e in self.evidence]}


@dataclass
class Diagnosis:
    """The branch a Space's evidence points to, how sure we are, and why."""

    space_id: str
    branch: str
    confidence: float
    meaning: str
    evidence: list[EvidenceLine] = field(default_factory=list)
    alternatives: list[Alternative] = field(default_factory=list)
    culprit: dict[str, Any] = field(default_factory=dict)
    stage: str | None = None
    next_step: str = ""
    title: str = ""
    summary: str = ""
    missing: dict[str, str] = field(default_factory=dict)
    would_decide: str = ""  # with low confidence: the one piece of evidence that would settle it
    history: History | None = None  # last known good, what changed, what drifted (remedybot/diagnose/drift.py)

    @property
    def confidence_label(self) -> str:
        return confidence_label(self.confidence)

    @property
    def healthy(self) -> bool:
        return self.branch == "healthy"

    def to_dict(self) -> dict[str, Any]:
        """The `diagnose --json` object (docs/ARCHITECTURE.md, "--json outputs")."""
        return {
            "space_id": self.space_id,
            "branch": self.branch,
            "confidence": self.confidence,
            "confidence_label": self.confidence_label,
            "title": self.title,
            "meaning": self.meaning,
            "summary": self.summary,
            "stage": self.stage,
            "culprit": {k: _redact_value(v) for k, v in self.culprit.items()},
            "evidence": [e.to_dict() for e in self.evidence],
            "alternatives": [a.to_dict() for a in self.alternatives],
            "next_step": self.next_step,
            "missing": dict(self.missing),
            "would_decide": self.would_decide or None,
            "history": _redact_value(self.history.to_dict()) if self.history is not None else None,
        }


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    return value


_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"
_COLORS = {"high": "\x1b[32m", "medium": "\x1b[33m", "low": "\x1b[31m"}
_HIT = "\x1b[1;31m"


def render_text(diagnosis: Diagnosis, color: bool = False) -> str:
    """The diagnosis for a person: branch, meaning, evidence lines (matched part highlighted), culprit, next step.

    With color=True the branch is bold, the confidence coloured by its label and the matched
    part of each evidence line bold red; without, the matched part is marked »like this«.
    """
    d = diagnosis

    def style(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    label = d.confidence_label
    lines = [f"{style(d.space_id, _BOLD)}: {style(d.title or d.branch, _BOLD)} ({d.branch})",
             f"  Confidence: {style(f'{d.confidence:.2f} {label}', _COLORS[label])}"
             + (f"   Stage: {d.stage}" if d.stage else "")]
    lines.append(f"  {d.meaning}")
    if d.summary and not d.healthy:
        lines.append(f"  Why: {d.summary}")
    if d.evidence:
        lines.append("")
        lines.append("  Evidence:")
        for e in d.evidence:
            lines.append(f"    {style(f'{e.source}:{e.line}', _DIM)}  {_highlight(e, color)}")
    if d.culprit:
        lines.append("")
        lines.append("  Culprit: " + ", ".join(f"{k}={_show(v)}" for k, v in d.culprit.items()))
    if d.alternatives:
        lines.append("")
        lines.append("  Also possible: " + ", ".join(f"{a.branch} ({a.confidence:.2f})" for a in d.alternatives))
    if d.missing:
        lines.append("  Not collected: " + "; ".join(f"{k} ({v})" for k, v in d.missing.items()))
    if d.would_decide:
        lines.append(f"  What would decide: {terminal_safe(d.would_decide)}")
    if d.history is not None and not d.healthy:
        lines.append("")
        lines += [f"  {terminal_safe(redact(line))}" for line in d.history.lines()]
    lines.append("")
    lines.append(f"  Next: {d.next_step}")
    return "\n".join(lines) + "\n"


def _highlight(e: EvidenceLine, color: bool) -> str:
    text = e.text.strip("\n")
    if e.span is None or e.span[1] <= e.span[0]:
        return terminal_safe(text)
    a, b = e.span
    part = terminal_safe(text[a:b])
    marked = f"{_HIT}{part}{_RESET}" if color else f"»{part}«"
    return terminal_safe(text[:a]) + marked + terminal_safe(text[b:])


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(terminal_safe(redact(str(v))) for v in value)
    return terminal_safe(redact(str(value)))
