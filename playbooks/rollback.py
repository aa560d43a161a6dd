"""rollback: restore the build-relevant files to the last known good revision, in one commit.

`kubectl rollout undo` for a Space: when the diagnosis shows build-relevant files that changed since the
Space last ran (requirements and pre-requirements, Dockerfile, packages.txt, the README front matter),
one commit writes each back as it was at the last known good revision. The plan shows the exact diff; the
commit carries the planned parent, so a push made since planning makes it fail rather than overwrite,
and reverting the commit undoes it. Ordered after the restarts and the targeted file fixes, before
hardware and duplicate; never offered for platform, policy or capacity failures (nothing in the files
caused those), nor when the last known good revision is not known or nothing build-relevant changed.

What it cannot do: delete a file added since (it says so), or roll back the app's code; the changed
app file is only shown (its imports), for the owner to revert by hand if that is the cause.
"""

from __future__ import annotations

from remedybot.diagnose.drift import requirement_paths, texts_of
from remedybot.edits import EditError
from remedybot.model.enums import Branch
from remedybot.model.plan import Step
from remedybot.remedy.commit import (
    FileFixParams,
    advice,
    apply_step,
    current_files,
    file_fix_risk,
    file_step,
    gather_sources,
    step_done,
)
from remedybot.remedy.playbook import ORDER_FILE_FIX, PlanContext, Playbook

ID = "rollback"
ORDER = ORDER_FILE_FIX + 5  # after the targeted file fixes (40), before hardware (50) and duplicate (60)
RESTORABLE = ("requirements.txt", "pre-requirements.txt", "packages.txt", "Dockerfile", "README.md")
# and the files requirements.txt includes with -r (remedybot/diagnose/drift.py, requirement_paths)
apply = apply_step
done = step_done


def plan(ctx: PlanContext) -> list[Step]:
    history = ctx.diagnosis.history
    if history is None or history.last_good is None or not history.changes:
        return []
    then = texts_of((ctx.evidence.history or {}).get("files_at_last_good"))
    restorable = [*RESTORABLE, *requirement_paths({**then, **(ctx.evidence.files or {})})]
    paths = [c.path for c in history.changes if c.path in restorable]
    added = [p for p in paths if then.get(p) is None]
    paths = [p for p in paths if then.get(p) is not None]
    sha = history.last_good.sha[:7]
    if not paths:
        return [advice(ID, f"revert the app's changes since {sha} by hand",
                       "Only the app's own code changed since it last ran; remedybot does not roll back code.")]
    try:
        before = current_files(ctx, paths)
        after = {p: _restored(p, before[p], str(then[p])) for p in paths}
        named = " and the failure names what changed" if any(c.linked for c in history.changes) else ""
        note = f" {', '.join(added)} did not exist then; delete it by hand if it is the cause." if added else ""
        step = file_step(ID, ctx, before, after,
                         title=f"remedybot: roll back {', '.join(paths)} to {sha}, the last known good revision",
                         action=f"roll back {', '.join(paths)} to {sha} ({history.last_good.line()})",
                         why=f"The Space ran at {sha}; since then {', '.join(paths)} changed{named}. Restoring "
                             f"them as they were rebuilds it with the files it ran with; revert this commit to "
                             f"undo.{note}")
    except EditError as exc:
        return [advice(ID, f"roll back to {sha} by hand", f"remedybot cannot make this change safely: {exc}.")]
    return [step]


def _restored(path: str, now: str | None, then: str) -> str:
    """The text to write back: the file as it was, or for README.md only its front matter (the card text stays)."""
    if path != "README.md" or now is None:
        return then
    old, new = _front_matter(then), _front_matter(now)
    return old + now[len(new):] if old and new else then


def _front_matter(text: str) -> str:
    """The leading `---` block of a README, closing line included ("" when there is none)."""
    if not text.startswith("---"):
        return ""
    end = text.find("\n---", 3)
    if end == -1:
        return ""
    close = text.find("\n", end + 4)
    return text[:close + 1] if close != -1 else text


PLAYBOOK = Playbook(id=ID, risk=file_fix_risk,
                    branches=frozenset({Branch.DEPENDENCY, Branch.STARTUP_CRASH, Branch.APT_PACKAGE,
                                        Branch.CONFIG_ERROR, Branch.PORT_MISMATCH, Branch.UNHEALTHY_STARTUP,
                                        Branch.UNKNOWN}),
                    order=ORDER, params=FileFixParams, gather=gather_sources, plan=plan, apply=apply, done=done)
