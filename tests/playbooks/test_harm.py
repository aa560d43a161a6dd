"""Harm first: over every real case, the plan the product builds never does what the case says it must not.

For each labelled real case in tests/data, the diagnosis is planned through the product's planner with the
playbook registry (the same `build_plan` that `fix --dry-run` calls). Two rules, case by case:

- a case whose accepted branches are only platform or policy readings (a platform incident, a policy block,
  or not knowing) never gets a step that changes the Space's files or its storage;
- a push refused by a secret scanner never gets a storage step (moving files would copy the secret along).
"""

from __future__ import annotations

import pytest
from realcases import Classified, classified

from remedybot.model.evidence import Evidence
from remedybot.playbooks import REGISTRY
from remedybot.remedy.planner import build_plan

HANDS_OFF = {"platform_incident", "policy_block", "unknown"}  # branches whose right fix never edits the Space
STORAGE = {p.id for p in REGISTRY.values() if "repo_too_large" in p.branches and p.id != "escalate"}
FILE_CHANGING = {p.id for p in REGISTRY.values() if p.id != "escalate"
                 and p.branches & {"dependency", "apt_package", "port_mismatch", "unhealthy_startup", "config_error"}}
CASES = classified()


def _plan_steps(c: Classified) -> list[tuple[str, bool]]:
    plan = build_plan(diagnosis=c.diagnosis, evidence=Evidence.from_dict(c.case["evidence"]), flavors=[],
                      registry=REGISTRY, key=b"k" * 32)
    return [(s.playbook, bool(s.diff)) for s in plan.steps]


def test_the_harmful_playbooks_are_known() -> None:
    assert {"history_slim"} == STORAGE
    assert {"dependency_fix", "apt_package_fix", "port_fix", "startup_fix", "config_fix"} <= FILE_CHANGING


@pytest.mark.parametrize("c", [c for c in CASES if set(c.case["accept"]) <= HANDS_OFF and
                               set(c.case["accept"]) & {"platform_incident", "policy_block"}],
                         ids=lambda c: c.name)
def test_platform_or_policy_case_gets_no_file_or_storage_step(c: Classified) -> None:
    steps = _plan_steps(c)
    harmful = [p for p, diff in steps if p in FILE_CHANGING | STORAGE or diff]
    assert not harmful, (c.name, c.diagnosis.branch, steps)


@pytest.mark.parametrize("c", [c for c in CASES if "secret_detected" in c.case["accept"]], ids=lambda c: c.name)
def test_secret_rejection_gets_no_storage_step(c: Classified) -> None:
    steps = _plan_steps(c)
    assert c.diagnosis.branch == "secret_detected"
    assert not [p for p, _ in steps if p in STORAGE], (c.name, steps)
    assert [p for p, _ in steps][:3] == ["secret_removal"] * 3


def test_secret_plan_names_the_files_history_and_rotation() -> None:
    c = next(c for c in CASES if c.case.get("id") == "c3c-trackio-static-space-token-config")
    plan = build_plan(diagnosis=c.diagnosis, evidence=Evidence.from_dict(c.case["evidence"]), flavors=[],
                      registry=REGISTRY, key=b"k" * 32)
    actions = [s.action for s in plan.steps]
    assert actions[:3] == ["remove the secret from config.json",
                           "rewrite the history that holds the secret before pushing again", "rotate the secret"]
    assert "git filter-repo --invert-paths --path 'config.json'" in plan.steps[1].why
    assert all(s.risk == "read-only" for s in plan.steps)
