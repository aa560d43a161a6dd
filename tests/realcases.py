"""The labelled real cases of tests/data/*.jsonl, classified through the product's path, and their figures.

Shared by tests/engine/test_real_cases.py (accuracy, calibration) and tests/playbooks/test_harm.py (no harmful
plan). Every `*.jsonl` file in tests/data is a set of real, public failure reports with their source URLs
(CONTRIBUTING.md, "Real failure cases"); `accept` lists the branches that count as right, the best first.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from remedybot.diagnose.classify import classify
from remedybot.model.diagnosis import Diagnosis
from remedybot.model.evidence import Evidence

DATA = Path(__file__).resolve().parent / "data"
LEVELS = ("high", "medium", "low")


@dataclass(frozen=True)
class Classified:
    """One real case and what the classifier made of it."""

    file: str
    index: int
    case: dict[str, Any]
    diagnosis: Diagnosis

    @property
    def right(self) -> bool:
        return self.diagnosis.branch in self.case["accept"]

    @property
    def name(self) -> str:
        return f"{self.file}#{self.index} {self.case.get('id') or self.case.get('title', '')[:50]}"


@cache
def classified() -> tuple[Classified, ...]:
    """Every real case of tests/data, classified once per test process."""
    out = []
    for path in sorted(DATA.glob("*.jsonl")):
        for index, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if line.strip():
                case = json.loads(line)
                out.append(Classified(path.stem, index, case, classify(Evidence.from_dict(case["evidence"]))))
    return tuple(out)


def share(right: int, total: int) -> str:
    return f"{right}/{total} ({right / total:.0%})" if total else "0/0"


def per_branch(cases: list[Classified] | tuple[Classified, ...]) -> dict[str, tuple[int, int]]:
    """Right/total per best accepted branch."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in cases:
        counts[c.case["accept"][0]][0] += c.right
        counts[c.case["accept"][0]][1] += 1
    return {b: (r, t) for b, (r, t) in sorted(counts.items())}


def calibration(cases: list[Classified] | tuple[Classified, ...]) -> dict[str, tuple[int, int]]:
    """Right/total at each confidence level (high >= 0.8, medium >= 0.5, low)."""
    counts = {level: [0, 0] for level in LEVELS}
    for c in cases:
        counts[c.diagnosis.confidence_label][0] += c.right
        counts[c.diagnosis.confidence_label][1] += 1
    return {level: (r, t) for level, (r, t) in counts.items()}
