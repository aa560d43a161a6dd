"""rollback: restore the Space's files to the last known good revision, in one commit.

`kubectl rollout undo` for a Space: when the diagnosis shows build-relevant files that changed since the
Space last ran (requirements and their `-r` includes, pre-requirements, Dockerfile, packages.txt, the
README front matter), one commit writes each back as it was at the last known good revision. As a second
option, when more than those changed, the whole tree: every file as it was then, files added since
deleted. The plan shows the exact diff; the commit carries the planned parent, so a push made since
planning makes it fail rather than overwrite, and reverting the commit undoes it.

Ordered after the restarts and the targeted file fixes, before hardware and duplicate; never offered for
platform, policy or capacity failures (nothing in the files caused those), nor when the last known good
revision is not known or nothing build-relevant changed, nor when that revision is only the commit
history's guess (never seen RUNNING) and the failure names nothing that changed: rolling back to a
revision that may never have run is not a fix. The whole tree is only offered when every file
that differs is text remedybot can read whole (no LFS or binary file, at most MAX_TREE_FILES of them).
"""

from __future__ import annotations

from typing import Any

from remedybot.core.errors import RemedyError
from remedybot.diagnose.collect import MAX_CONFIG_BYTES
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
from remedybot.remedy.playbook import ORDER_FILE_FIX, GatherContext, PlanContext, Playbook

ID = "rollback"
ORDER = ORDER_FILE_FIX + 5  # after the targeted file fixes (40), before hardware (50) and duplicate (60)
RESTORABLE = ("requirements.txt", "pre-requirements.txt", "packages.txt", "Dockerfile", "README.md")
TRUSTED_SOURCES = ("remedybot", "hub")  # seen RUNNING: a rollback there needs no other reason
MAX_TREE_FILES = 40  # files that differ, at most, for the whole-tree option (each is read twice)
apply = apply_step
done = step_done


def gather(ctx: GatherContext) -> None:
    """The app's sources (for the file fixes), and for the whole-tree option every file that differs."""
    gather_sources(ctx)
    history = ctx.diagnosis.history
    head = str((ctx.evidence.info or {}).get("sha") or "")
    if not ctx.once("rollback-tree") or history is None or history.last_good is None or not history.changes \
            or not head or head == history.last_good.sha or ctx.evidence.history is None:
        return
    try:
        ctx.evidence.history["tree"] = _tree(ctx, history.last_good.sha, head)
    except RemedyError as exc:
        ctx.evidence.history["tree"] = {"error": exc.message}


def _tree(ctx: GatherContext, then_sha: str, head: str) -> dict[str, Any]:
    hub, space = ctx.hub, ctx.space_id
    then = {f["path"]: f for f in hub.list_tree(space, revision=then_sha)}
    now = {f["path"]: f for f in hub.list_tree(space, revision=head)}
    differ = sorted(p for p in set(then) | set(now) if (then.get(p) or {}).get("oid") != (now.get(p) or {}).get("oid"))
    unreadable = [p for p in differ if (then.get(p) or {}).get("lfs") or (now.get(p) or {}).get("lfs")]
    tree: dict[str, Any] = {"paths": differ, "unreadable": unreadable, "then": {}, "now": {}}
    if unreadable or len(differ) > MAX_TREE_FILES:
        return tree
    for path in differ:
        for key, sha, listing in (("then", then_sha, then), ("now", head, now)):
            text = hub.read_file(space, path, revision=sha) if path in listing else None
            if text is not None and (len(text) >= MAX_CONFIG_BYTES or "\ufffd" in text):
                tree["unreadable"].append(path)
            tree[key][path] = text
    return tree


def plan(ctx: PlanContext) -> list[Step]:
    history = ctx.diagnosis.history
    if history is None or history.last_good is None or not history.changes:
        return []
    if history.last_good.source not in TRUSTED_SOURCES and not any(c.linked for c in history.changes):
        return []  # a revision the history only guesses ran, and a failure that names nothing that changed
    then = texts_of((ctx.evidence.history or {}).get("files_at_last_good"))
    restorable = [*RESTORABLE, *requirement_paths({**then, **(ctx.evidence.files or {})})]
    paths = [c.path for c in history.changes if c.path in restorable]
    added = [p for p in paths if then.get(p) is None]
    paths = [p for p in paths if then.get(p) is not None]
    sha = history.last_good.sha[:7]
    steps: list[Step] = []
    try:
        if paths:
            steps.append(_build_files(ctx, paths, added, then))
    except EditError as exc:
        steps.append(advice(ID, f"roll back to {sha} by hand", f"remedybot cannot make this change safely: {exc}."))
    steps += _whole_tree(ctx, set(paths))
    if not steps:
        steps.append(advice(ID, f"revert the app's changes since {sha} by hand",
                            "Only the app's own code changed since it last ran; it is shown above."))
    return steps


def _build_files(ctx: PlanContext, paths: list[str], added: list[str], then: dict[str, str | None]) -> Step:
    history = ctx.diagnosis.history
    assert history is not None and history.last_good is not None
    sha = history.last_good.sha[:7]
    before = current_files(ctx, paths)
    after = {p: _restored(p, before[p], str(then[p])) for p in paths}
    named = " and the failure names what changed" if any(c.linked for c in history.changes) else ""
    note = f" {', '.join(added)} did not exist then; delete it by hand if it is the cause." if added else ""
    return file_step(ID, ctx, before, after,
                     title=f"remedybot: roll back {', '.join(paths)} to {sha}, the last known good revision",
                     action=f"roll back {', '.join(paths)} to {sha} ({history.last_good.line()})",
                     why=f"The Space ran at {sha}; since then {', '.join(paths)} changed{named}. Restoring them as "
                         f"they were rebuilds it with the files it ran with; revert this commit to undo.{note}")


def _whole_tree(ctx: PlanContext, build_paths: set[str]) -> list[Step]:
    """The second option: every file as it was at the last known good revision, when more than those changed."""
    history = ctx.diagnosis.history
    tree = (ctx.evidence.history or {}).get("tree")
    if history is None or history.last_good is None or not isinstance(tree, dict) or \
            set(tree.get("paths") or []) <= build_paths:
        return []
    sha = history.last_good.sha[:7]
    if tree.get("error") or tree.get("unreadable") or len(tree.get("paths") or []) > MAX_TREE_FILES:
        why = tree.get("error") or (f"{', '.join((tree.get('unreadable') or [])[:5])} cannot be restored as text"
                                     if tree.get("unreadable") else "too many files differ")
        return [advice(ID, f"second option: roll the whole tree back to {sha} by hand",
                       f"remedybot will not restore the whole tree itself: {why}. With git: "
                       f"'git checkout {history.last_good.sha} -- . && git commit', then push.")]
    then, now = texts_of(tree.get("then")), texts_of(tree.get("now"))
    restore = {p: str(t) for p, t in then.items() if t is not None}
    delete = {p: str(now[p]) for p in tree["paths"] if then.get(p) is None and now.get(p) is not None}
    try:
        return [file_step(ID, ctx, {p: now.get(p) for p in restore}, restore, delete=delete,
                          title=f"remedybot: roll the whole tree back to {sha}, the last known good revision",
                          action=f"second option: roll every file back to {sha} ({len(tree['paths'])} files differ)",
                          why=f"More than the build files changed since the Space ran at {sha}; this restores every "
                              f"file as it was then{' and deletes the files added since' if delete else ''}. "
                              "Revert this commit to undo.")]
    except EditError:
        return []


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
                    order=ORDER, params=FileFixParams, gather=gather, plan=plan, apply=apply, done=done)
