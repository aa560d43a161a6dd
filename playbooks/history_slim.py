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

from pydantic import BaseModel, ConfigDict, field_validator

from remedybot.core.errors import UsageError
from remedybot.model.enums import Branch, Risk
from remedybot.model.plan import Step
from remedybot.remedy.playbook import ORDER_STORAGE, GatherContext, Outcome, PlanContext, Playbook, RunContext
from remedybot.remedy.storage.inventory import parse_size, take_inventory
from remedybot.remedy.storage.planning import build_steps
from remedybot.remedy.storage.selection import parse_destination
from remedybot.remedy.storage.steps import DONE, OPS

ID = "history_slim"


class StorageParams(BaseModel):
    """A storage step: `op` names the operation (remedybot/remedy/storage/steps.py); each op's own fields
    are built by remedybot/remedy/storage/planning.py and read by the op."""

    model_config = ConfigDict(extra="allow")

    op: str

    @field_validator("op")
    @classmethod
    def _known_op(cls, value: str) -> str:
        if value not in OPS:  # the operations remedybot/remedy/storage/steps.py implements
            raise ValueError(f"unknown storage operation {value!r}")
        return value


RISKS = {"report": Risk.READ_ONLY, "verify": Risk.READ_ONLY, "backup": Risk.SAFE, "copy": Risk.SAFE,
         "rebuild": Risk.SAFE, "rewrite": Risk.SAFE, "commit": Risk.DISRUPTIVE, "squash": Risk.DESTRUCTIVE,
         "push": Risk.DESTRUCTIVE, "purge": Risk.DESTRUCTIVE}  # rewrite works on a local mirror only


def risk_of(s: Step) -> Risk:
    """Each storage operation's risk: deleting objects and replacing history are destructive."""
    return RISKS[StorageParams.model_validate(s.params).op]


def gather(ctx: GatherContext) -> None:
    """Take the storage inventory (usedStorage against the limit, LFS objects, sizes at HEAD, the destination)
    and put it in the evidence (`storage.inventory`), where `plan` reads it.

    Raises:
        UsageError: a malformed --to or --storage-limit.
    """
    if not ctx.once("inventory"):
        return
    limit_text = ctx.options.extra.get("storage_limit")
    try:
        limit = parse_size(str(limit_text)) if limit_text else None
    except ValueError as exc:
        raise UsageError(f"--storage-limit: {exc}.") from exc
    destination = parse_destination(ctx.options.to, ctx.space_id)
    inventory = take_inventory(ctx.hub, ctx.space_id, evidence=ctx.evidence, destination=destination, limit=limit)
    ctx.evidence.storage = {**(ctx.evidence.storage or {}), "inventory": inventory.to_dict()}


def plan(ctx: PlanContext) -> list[Step]:
    return build_steps(ctx)


def apply(s: Step, run: RunContext) -> Outcome:
    outcome = OPS[s.params["op"]](s, run)
    outcome.data.setdefault("op", s.params["op"])
    if s.risk in ("disruptive", "destructive") and outcome.status == "done":
        run.ledger.record(run.plan.space_id, ID, fingerprint=run.plan.fingerprint, step=s.number,
                          op=s.params["op"], detail=outcome.detail)
    return outcome


def done(s: Step, run: RunContext) -> bool:
    check = DONE.get(s.params["op"])
    return bool(check and check(s, run))


PLAYBOOK = Playbook(id=ID, risk=risk_of, branches=frozenset({Branch.REPO_TOO_LARGE}), order=ORDER_STORAGE,
                    params=StorageParams, gather=gather, plan=plan, apply=apply, done=done)
