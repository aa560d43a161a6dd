"""hardware_switch: move the Space to other hardware — around a flavor with no capacity, or up a tier
when it runs out of memory.

The choice is made from the Hub's own flavor list (name, RAM, accelerator,
cost), so new flavors need no code. For capacity it picks an equivalent
flavor from another pool (another accelerator family with at least the same
memory); for resource_limit the cheapest flavor with more RAM of the same
kind (CPU stays CPU while a CPU tier fits). It shows the cost per hour,
honours --max-cost-per-hour, and keeps the previous flavor so it can be undone.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from remedybot.model.enums import Branch, Risk
from remedybot.model.plan import Step
from remedybot.remedy.playbook import ORDER_HARDWARE, GatherContext, Outcome, PlanContext, Playbook, RunContext, step

ID = "hardware_switch"


class HardwareParams(BaseModel):
    """The flavor to request, the one to go back to (undo), and its cost; none when no switch is possible."""

    model_config = ConfigDict(extra="forbid")

    flavor: str | None = None
    previous: str | None = None
    cost_per_hour: float | None = None


def risk_of(s: Step) -> Risk:
    """Requesting a flavor restarts the Space (disruptive); the step without one only reports."""
    return Risk.DISRUPTIVE if HardwareParams.model_validate(s.params).flavor else Risk.READ_ONLY


def gather(ctx: GatherContext) -> None:
    """The Hub's flavor list, with names, memory, accelerators and prices."""
    if ctx.once("flavors"):
        ctx.flavors = ctx.hub.list_hardware()


def _gb(text: Any) -> float:
    match = re.search(r"([\d.]+)\s*(T|G|M)?i?B?", str(text or ""))
    if not match:
        return 0.0
    value = float(match.group(1))
    return value * {"T": 1024, "G": 1, "M": 1 / 1024}.get(match.group(2) or "G", 1)


def per_hour(flavor: dict[str, Any]) -> float:
    unit = flavor.get("unitCostUSD") or 0.0
    label = flavor.get("unitLabel", "minute")
    return round(unit * {"second": 3600, "minute": 60, "hour": 1}.get(label, 60), 4)


def _family(name: str) -> str:
    return re.split(r"[-x]", name.replace("zero-", ""), maxsplit=1)[0]


def _vram(flavor: dict[str, Any]) -> float:
    acc = flavor.get("accelerator") or {}
    return _gb(acc.get("vram")) * max(1, int(re.sub(r"\D", "", str(acc.get("quantity") or "1")) or 1))


def choose(ctx: PlanContext) -> tuple[dict[str, Any] | None, str]:
    """The flavor to switch to and why (None and the reason when nothing fits)."""
    flavors = {f["name"]: f for f in ctx.flavors}
    current_name = ctx.requested_hardware or "cpu-basic"
    current = flavors.get(current_name)
    if current is None:
        return None, f"the current flavor '{current_name}' is not in the Hub's hardware list"
    cap = ctx.options.max_cost_per_hour
    culprit = getattr(ctx.diagnosis, "culprit", {}) or {}
    failing = set(culprit.get("flavors") or [current_name])
    pool = [f for f in flavors.values() if f["name"] not in failing and f["name"] != current_name
            and not f["name"].startswith("zero-")]
    if ctx.diagnosis.branch == Branch.CAPACITY:
        gpu = bool(current.get("accelerator"))
        fam = _family(current_name)
        pool = [f for f in pool if bool(f.get("accelerator")) == gpu and (not gpu or _family(f["name"]) != fam)
                and (not gpu or _vram(f) >= _vram(current)) and _gb(f.get("ram")) >= _gb(current.get("ram"))]
    else:
        need = max(_gb(current.get("ram")), _gb(culprit.get("memory")))
        same_kind = [f for f in pool if bool(f.get("accelerator")) == bool(current.get("accelerator"))]
        pool = [f for f in (same_kind or pool) if _gb(f.get("ram")) > need]
        if not pool:
            pool = [f for f in flavors.values() if _gb(f.get("ram")) > need and f["name"] != current_name]
    pool.sort(key=lambda f: (per_hour(f), _gb(f.get("ram"))))
    if not pool:
        return None, "no other flavor in the Hub's list fits"
    affordable = [f for f in pool if cap is None or per_hour(f) <= cap]
    if not affordable:
        return None, f"the cheapest fitting flavor, {pool[0]['name']} at ${per_hour(pool[0]):.2f}/h, is above " \
                     f"--max-cost-per-hour {cap:g}"
    return affordable[0], ""


def plan(ctx: PlanContext) -> list[Step]:
    target, reason = choose(ctx)
    current = ctx.requested_hardware or "cpu-basic"
    if target is None:
        return [step(ID, action="no hardware switch possible", risk="read-only", reversible=True, fixes=False,
                     why=f"A hardware switch would help, but {reason}.", calls=[])]
    cost = per_hour(target)
    before = next((per_hour(f) for f in ctx.flavors if f["name"] == current), 0.0)
    why = ("No capacity for this flavor: an equivalent flavor from another pool can be scheduled."
           if ctx.diagnosis.branch == Branch.CAPACITY else
           f"The app needs more memory than {current} gives ({target.get('ram')} on {target['name']}).")
    return [step(ID, action=f"switch hardware {current} → {target['name']} (${cost:.2f}/h, was ${before:.2f}/h)",
                 risk="disruptive", reversible=True, costs_money=cost > 0, why=why,
                 params={"flavor": target["name"], "previous": current, "cost_per_hour": cost},
                 calls=[f"POST /api/spaces/{ctx.space_id}/hardware {{\"flavor\": \"{target['name']}\"}}"])]


def apply(s: Step, run: RunContext) -> Outcome:
    if "flavor" not in s.params:
        return Outcome("skipped", s.why)
    space, flavor = run.plan.space_id, s.params["flavor"]
    runtime = run.call(f"POST /api/spaces/{space}/hardware {flavor}", run.hub.request_hardware, space, flavor)
    run.ledger.record(space, ID, fingerprint=run.plan.fingerprint, step=s.number, flavor=flavor,
                      previous=s.params.get("previous"))
    return Outcome("done", f"hardware {s.params.get('previous')} → {flavor} (undo: request {s.params.get('previous')})",
                   data={"previous": s.params.get("previous"), "flavor": flavor, "stage": runtime.get("stage")})


def done(s: Step, run: RunContext) -> bool:
    if "flavor" not in s.params:
        return False
    requested = (run.hub.runtime(run.plan.space_id).get("hardware") or {}).get("requested")
    return requested == s.params["flavor"]


PLAYBOOK = Playbook(id=ID, risk=risk_of, branches=frozenset({Branch.CAPACITY, Branch.RESOURCE_LIMIT}),
                    order=ORDER_HARDWARE, params=HardwareParams, gather=gather, plan=plan, apply=apply, done=done)
