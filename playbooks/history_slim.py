"""history_slim: bring a Space back under its storage limit without losing a byte.

Large files move to a model/dataset repo (`OWNER/SPACE-assets` by default) or a
bucket by server-side copy, are verified there by sha256, leave the Space in one
commit, and their objects and the history-only ones are purged (or the history
squashed, or rewritten with git filter-repo and force-pushed). A backup comes
first. Steps and their order: `remedybot/storage/planning.py`; what each step
does and how it knows it already took effect: `remedybot/storage/steps.py`; the
guards: `remedybot/storage/slim.py`; SAFETY.md, "Storage".

Each step is idempotent and `done` tells from the Hub (or the backup folder)
whether it already took effect, so a run killed at any point resumes.
"""

from __future__ import annotations

from remedybot.model.plan import Step
from remedybot.remedy.playbook import ORDER_STORAGE, Outcome, PlanContext, RunContext

ID = "history_slim"
BRANCHES = ("repo_too_large",)
ORDER = ORDER_STORAGE


def plan(ctx: PlanContext) -> list[Step]:
    from remedybot.remedy.storage.planning import build_steps

    return build_steps(ctx)


def apply(s: Step, run: RunContext) -> Outcome:
    from remedybot.remedy.storage.steps import OPS

    outcome = OPS[s.params["op"]](s, run)
    outcome.data.setdefault("op", s.params["op"])
    if s.risk in ("disruptive", "destructive") and outcome.status == "done":
        run.ledger.record(run.plan.space_id, ID, fingerprint=run.plan.fingerprint, step=s.number,
                          op=s.params["op"], detail=outcome.detail)
    return outcome


def done(s: Step, run: RunContext) -> bool:
    from remedybot.remedy.storage.steps import DONE

    check = DONE.get(s.params["op"])
    return bool(check and check(s, run))
