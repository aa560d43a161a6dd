"""Which steps of a plan may run: the typed decision every gate returns, and the gates of `fix` and `apply`.

A gate is asked once per step before anything runs. `watch` has its own gate
(remedybot/fleet/policy.py, `PolicyGate`) that returns the same `Decision`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from remedybot.model.enums import Risk
from remedybot.model.plan import Plan, Step


class Verdict(StrEnum):
    RUN = "run"  # run it
    SKIP = "skip"  # leave it out and say why (not approved, held back by a policy)
    ASK = "ask"  # ask the person at the terminal
    REFUSE = "refuse"  # stop the whole run: this step cannot be allowed in this mode


@dataclass(frozen=True)
class Decision:
    """A gate's answer for one step; `reason` says why it does not run (for the log and the person)."""

    verdict: Verdict
    reason: str = ""

    @property
    def runs(self) -> bool:
        return self.verdict is Verdict.RUN


RUN = Decision(Verdict.RUN)
ASK = Decision(Verdict.ASK)

Gate = Callable[[Step], Decision]


def approved_gate(plan: Plan) -> Gate:
    """`apply`: read-only steps run; others only when approved for this fingerprint."""
    approved = plan.approved_steps()

    def gate(step: Step) -> Decision:
        if step.risk == Risk.READ_ONLY or step.number in approved:
            return RUN
        return Decision(Verdict.SKIP, "not approved")

    return gate


def fix_gate(*, yes: bool, interactive: bool) -> Gate:
    """`fix`: read-only and safe steps run; disruptive ones need --yes or a yes at the prompt;
    destructive ones need an answer at the prompt (never --yes) or an approved plan."""

    def gate(step: Step) -> Decision:
        if step.risk in (Risk.READ_ONLY, Risk.SAFE):
            return RUN
        if step.risk == Risk.DISRUPTIVE:
            if yes:
                return RUN
            return ASK if interactive else Decision(
                Verdict.REFUSE, "it is disruptive and there is no terminal to ask; re-run with --yes, or save, "
                                "approve and apply a plan")
        if interactive:
            return ASK
        return Decision(Verdict.REFUSE, "it is destructive; --yes never covers destructive steps: save the plan "
                                        "with --dry-run --out, approve it with 'remedybot approve', then "
                                        "'remedybot apply'")

    return gate
