"""duplicate: copy the Space to a new slug when the old one is stuck beyond what rebuilds clear.

A wedged slug can stay wedged on Hugging Face's side; a server-side duplicate
gets a fresh one with the same files, history and variables. Secret values
cannot be read, so their keys are listed for the owner to re-enter. The
original is left untouched. Never offered for repo_too_large: the copy keeps
the whole history, and with it the size problem.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from remedybot.core.errors import UsageError
from remedybot.model.enums import Branch, Risk
from remedybot.model.plan import Step
from remedybot.remedy.playbook import (
    ORDER_DUPLICATE,
    GatherContext,
    Outcome,
    PlanContext,
    Playbook,
    RunContext,
    always,
    step,
)

ID = "duplicate"
CANDIDATES = 10  # free-name probes: OWNER/SPACE-2 ... OWNER/SPACE-11


class DuplicateParams(BaseModel):
    """The new Space's id and the hardware it is created on."""

    model_config = ConfigDict(extra="forbid")

    to: str
    hardware: str


def gather(ctx: GatherContext) -> None:
    """Which candidate names are taken; a taken `--to` is a usage error before anything is planned."""
    if ctx.options.to:
        target = ctx.options.to if "/" in ctx.options.to else f"{ctx.space_id.split('/')[0]}/{ctx.options.to}"
        if ctx.hub.repo_exists(target):
            raise UsageError(f"--to '{target}' already exists. Pick a free name for the duplicate.")
        return
    for n in range(2, 2 + CANDIDATES):
        candidate = f"{ctx.space_id}-{n}"
        if not ctx.hub.repo_exists(candidate):
            break
        ctx.existing_repos.add(candidate)


def target_for(ctx: PlanContext) -> str:
    if ctx.options.to:
        return ctx.options.to if "/" in ctx.options.to else f"{ctx.space_id.split('/')[0]}/{ctx.options.to}"
    base = ctx.space_id
    for n in range(2, 100):
        candidate = f"{base}-{n}"
        if candidate not in ctx.existing_repos:
            return candidate
    return f"{base}-copy"


def plan(ctx: PlanContext) -> list[Step]:
    if ctx.diagnosis.branch == Branch.REPO_TOO_LARGE:
        return []
    target = target_for(ctx)
    hardware = ctx.requested_hardware or "cpu-basic"
    return [step(ID, action=f"duplicate to a new Space '{target}' (the original stays as it is)",
                 risk="disruptive", reversible=True, costs_money=hardware != "cpu-basic",
                 why="When a slug stays stuck after rebuilds, a fresh slug with the same files usually builds.",
                 params={"to": target, "hardware": hardware},
                 calls=[f"GET /api/spaces/{ctx.space_id}/variables", f"GET /api/spaces/{ctx.space_id}/secrets",
                        f"POST /api/spaces/{ctx.space_id}/duplicate {{\"repository\": \"{target}\"}}"],
                 verify=f"wait for '{target}' to leave the build stages, then probe its app")]


def apply(s: Step, run: RunContext) -> Outcome:
    source, target = run.plan.space_id, s.params["to"]
    variables = run.call(f"GET /api/spaces/{source}/variables", run.hub.get_variables, source)
    secret_keys = run.call(f"GET /api/spaces/{source}/secrets", run.hub.secret_keys, source)
    info = run.call(f"GET /api/spaces/{source}", run.hub.space_info, source, expand=["private"])
    url = run.call(f"POST /api/spaces/{source}/duplicate", run.hub.duplicate, source, target,
                   private=bool(info.private), hardware=s.params.get("hardware"),
                   variables=[{"key": k, "value": v["value"], **({"description": v["description"]}
                                                                 if v.get("description") else {})}
                              for k, v in variables.items()])
    run.ledger.record(source, ID, fingerprint=run.plan.fingerprint, step=s.number, to=target)
    note = f"duplicated to {url}"
    if secret_keys:
        note += f"; re-enter these secrets in the new Space (values cannot be copied): {', '.join(secret_keys)}"
    return Outcome("done", note, data={"to": target, "url": url, "secret_keys": secret_keys,
                                       "variables": sorted(variables)}, verify_space=target)


def done(s: Step, run: RunContext) -> bool:
    mine = any(e.get("fingerprint") == run.plan.fingerprint and e.get("step") == s.number
               for e in run.ledger.entries(run.plan.space_id, ID))
    return mine and run.hub.repo_exists(s.params["to"])


def verify_target(s: Step) -> str:
    return s.params["to"]


PLAYBOOK = Playbook(id=ID, risk=always(Risk.DISRUPTIVE), branches=frozenset({Branch.WEDGED_SPACE}),
                    order=ORDER_DUPLICATE, params=DuplicateParams, gather=gather, plan=plan, apply=apply, done=done,
                    verify_target=verify_target)
