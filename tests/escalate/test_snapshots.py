"""Snapshot tests: every ticket format for every branch, from saved evidence with a fixed clock.

The evidence files (tests/data/evidence/<branch>.json) hold real failure text from the
development corpus (each names its source), the diagnosis pinned when the file was
written, and the audit records of what was tried. A change to a template, to the
context or to escalation.yaml shows up here as a diff to review.

Regenerate after an intended change:  UPDATE_SNAPSHOTS=1 pytest tests/escalate/test_snapshots.py
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from remedybot.escalate.context import build_context
from remedybot.escalate.tickets import EXTENSIONS, render_ticket
from remedybot.model.evidence import Evidence

DATA = Path(__file__).resolve().parents[1] / "data" / "evidence"
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
NOW = datetime(2026, 6, 10, 9, 0, 0, tzinfo=UTC)
BRANCHES = ("platform_incident", "wedged_space", "repo_too_large", "capacity", "startup_crash", "port_mismatch",
            "policy_block", "dependency", "apt_package", "unhealthy_startup", "resource_limit", "config_error",
            "unknown", "healthy")
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"


def saved_context(branch: str) -> dict:
    data = json.loads((DATA / f"{branch}.json").read_text(encoding="utf-8"))
    evidence = Evidence.from_dict(data)  # the extra keys (source, diagnosis, audit) are ignored
    return build_context(evidence, data["diagnosis"], records=data["audit"], now=NOW,
                         endpoint="https://huggingface.co", status_url="https://status.huggingface.co/index.json")


def test_every_branch_has_evidence_with_a_source() -> None:
    assert sorted(p.stem for p in DATA.glob("*.json")) == sorted(BRANCHES)
    for branch in BRANCHES:
        data = json.loads((DATA / f"{branch}.json").read_text(encoding="utf-8"))
        assert data["diagnosis"]["branch"] == branch
        assert data["source"]["source_title"], branch


@pytest.mark.parametrize("fmt", sorted(EXTENSIONS))
@pytest.mark.parametrize("branch", BRANCHES)
def test_snapshot(branch: str, fmt: str) -> None:
    text = render_ticket(saved_context(branch), fmt)
    path = SNAPSHOTS / f"{branch}.{fmt}.{EXTENSIONS[fmt]}"
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"snapshot {path.name} was missing and has been written; review it and re-run")
        return
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} changed; if intended, regenerate with UPDATE_SNAPSHOTS=1")
