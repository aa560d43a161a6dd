"""The playbook contract: a new playbook is one `Playbook` value plus one registry line, and nothing else.

A throwaway playbook defined here (as a module in playbooks/ would define it) is
added to the registry's list and nothing else changes: planning puts its step
where its `order` says, its `gather` hook runs before planning, `apply` runs it
and the audit log records it. A step its own params model refuses, or two
playbooks with one id, stop the plan or the start-up instead of slipping through.
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from remedybot.hub import Hub
from remedybot.model.enums import Branch, Risk
from remedybot.model.plan import Step
from remedybot.playbooks import PLAYBOOKS, REGISTRY
from remedybot.remedy.apply import apply_plan
from remedybot.remedy.audit import AuditLog
from remedybot.remedy.gates import RUN
from remedybot.remedy.ledger import Ledger
from remedybot.remedy.playbook import (
    ORDER_FACTORY,
    ORDER_RESTART,
    GatherContext,
    Outcome,
    PlanContext,
    PlanOptions,
    Playbook,
    RunContext,
    always,
    build_registry,
    step,
)
from remedybot.remedy.workflow import plan_space
from remedybot.sandbox.server import Sandbox

SPACE = "demo/wedged-space"


class NoteParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: str


def _gather(ctx: GatherContext) -> None:
    ctx.existing_repos.add("gathered/by-the-throwaway")


def _plan(ctx: PlanContext) -> list[Step]:
    seen = "gathered/by-the-throwaway" in ctx.existing_repos
    return [step("note_stage", action="write the stage to the audit log", risk=Risk.READ_ONLY, reversible=True,
                 fixes=False, why=f"a throwaway playbook (gather ran: {seen})",
                 params={"stage": str(ctx.runtime.get("stage"))})]


def _apply(s: Step, run: RunContext) -> Outcome:
    return Outcome("done", f"the stage was {s.params['stage']}", data={"noted": s.params["stage"]})


THROWAWAY = Playbook(id="note_stage", risk=always(Risk.READ_ONLY), branches=frozenset({Branch.WEDGED_SPACE}),
                     order=ORDER_RESTART + 1, params=NoteParams, gather=_gather, plan=_plan, apply=_apply)


def test_a_new_playbook_is_one_value_and_one_registry_line(sandbox: Sandbox, tmp_path) -> None:
    registry = build_registry([*PLAYBOOKS, THROWAWAY])  # the one registry line
    plan, diagnosis, _ = plan_space(Hub(), SPACE, PlanOptions(), registry)
    names = [s.playbook for s in plan.steps]
    assert diagnosis.branch == Branch.WEDGED_SPACE
    assert names.index("restart") < names.index("note_stage") < names.index("factory_rebuild")
    noted = next(s for s in plan.steps if s.playbook == "note_stage")
    assert noted.why.endswith("(gather ran: True)")
    assert "note_stage" not in REGISTRY  # the shipped registry is untouched


def test_the_engine_runs_a_new_playbook_like_any_other(sandbox: Sandbox, tmp_path) -> None:
    registry = build_registry([THROWAWAY])
    plan = plan_space(Hub(), SPACE, PlanOptions(), registry)[0]
    audit = AuditLog(tmp_path / "audit.jsonl")
    result = apply_plan(plan, Hub(), registry, audit=audit, ledger=Ledger(tmp_path / "ledger.jsonl"),
                        gate=lambda s: RUN)
    ends = [(r["step"], r["status"], r["data"]) for r in audit.records(plan.fingerprint) if r["event"] == "step-end"]
    assert ends == [(1, "done", {"noted": plan.steps[0].params["stage"]})]
    assert result.outcome == "unverified"  # it fixes nothing, and the engine says so


def test_a_step_its_own_params_model_refuses_stops_the_plan(sandbox: Sandbox) -> None:
    def bad_plan(ctx: PlanContext) -> list[Step]:
        return [step("note_stage", action="a", risk=Risk.READ_ONLY, reversible=True, why="w",
                     params={"stage": "X", "surprise": 1})]

    broken = Playbook(id="note_stage", risk=always(Risk.READ_ONLY), branches=frozenset({Branch.WEDGED_SPACE}),
                      order=ORDER_FACTORY, params=NoteParams, plan=bad_plan, apply=_apply)
    with pytest.raises(ValidationError):
        plan_space(Hub(), SPACE, PlanOptions(), build_registry([*PLAYBOOKS, broken]))


def test_two_playbooks_with_one_id_stop_start_up() -> None:
    with pytest.raises(RuntimeError, match="two playbooks share the id 'restart'"):
        build_registry([*PLAYBOOKS, Playbook(id="restart", risk=always(Risk.SAFE), branches=frozenset(), order=1,
                                             plan=_plan, apply=_apply)])


def test_every_shipped_playbook_is_registered_for_real_branches() -> None:
    assert len(REGISTRY) == len(PLAYBOOKS) == 17
    for playbook in REGISTRY.values():
        assert playbook.branches <= set(Branch) - {Branch.HEALTHY}, playbook.id
