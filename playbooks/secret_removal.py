"""secret_removal: a push refused for a secret. Say exactly what to remove, that history must be rewritten,
and that the secret must be rotated; change nothing.

The Hub's secret scanner (and push protection elsewhere, such as GitHub's) refuses a push whose commits hold
a live token or key. Deleting the file in a new commit does not help: the earlier commit still holds it and
is still pushed, so the history that holds it must be rewritten before the push can go through. And a secret
that was ever committed has to be treated as leaked: revoke it and use a new one, kept as a Space secret.

Every step is read-only guidance: remedybot cannot rewrite a local clone's history or revoke a token, and it
never plans a storage move for this branch (moving files to another repo would copy the secret there).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from remedybot.model.enums import Branch, Risk
from remedybot.model.plan import Step
from remedybot.remedy.playbook import ORDER_FILE_FIX, Outcome, PlanContext, Playbook, RunContext, always, step

ID = "secret_removal"
TOKENS_URL = "https://huggingface.co/settings/tokens"


class SecretParams(BaseModel):
    """The files the refused push named as holding the secret (empty when it named none)."""

    model_config = ConfigDict(extra="forbid")

    files: list[str] = []


def _files(ctx: PlanContext) -> list[str]:
    files = ctx.diagnosis.culprit.get("files")
    return [str(f) for f in files] if isinstance(files, list) else []


def plan(ctx: PlanContext) -> list[Step]:
    files = _files(ctx)
    named = ", ".join(files) if files else "the files the push error names under 'Offending files'"
    paths = " ".join(f"--path {f!r}" for f in files) or "--path FILE"
    return [
        step(ID, action=f"remove the secret from {named}", risk="read-only", reversible=True, fixes=False,
             why="The scanner found a live secret there. Delete the value (or the whole file, for a .env or a "
                 "config that only holds credentials), read it at run time from an environment variable, and "
                 "store the value as a Space secret (Settings, Variables and secrets).",
             params={"files": files}),
        step(ID, action="rewrite the history that holds the secret before pushing again", risk="read-only",
             reversible=True, fixes=False,
             why="A new commit that deletes the file is not enough: the earlier commit still holds the secret and "
                 "is pushed with it, so the push is refused again. Rewrite every unpushed commit that holds it: "
                 f"'git filter-repo --invert-paths {paths}' for a file that should not be in the repo, or "
                 "'git filter-repo --replace-text FILE' to replace the value in every commit; then push (with "
                 "--force-with-lease to a remote that already has the rewritten commits).",
             params={"files": files}),
        step(ID, action="rotate the secret", risk="read-only", reversible=True, fixes=False,
             why=f"Treat it as leaked: revoke it ({TOKENS_URL} for a Hugging Face token, the provider's console "
                 "for another key), create a new one, and give the Space only the new one, as a secret.",
             params={"files": files}),
    ]


def apply(s: Step, run: RunContext) -> Outcome:
    return Outcome("done", f"manual step for {run.plan.space_id}, nothing changed by remedybot: {s.action}",
                   data={"files": s.params.get("files", [])})


PLAYBOOK = Playbook(id=ID, risk=always(Risk.READ_ONLY), branches=frozenset({Branch.SECRET_DETECTED}),
                    order=ORDER_FILE_FIX, params=SecretParams, plan=plan, apply=apply)
