"""File-fix steps: planned with their exact diff, applied as one commit or as a Hub pull request.

Planning (pure) turns the new contents of some files into a Step whose
params hold, per file, the sha256 of the text the diff starts from and the
full text to write; the plan's fingerprint covers both, so what is approved
is byte for byte what gets written. Applying re-reads those files at HEAD:
already fixed (nothing to do), unchanged since planning (write), or changed
(fail: the diff no longer applies; re-plan). Steps of one playbook are
cumulative: a later step's diff starts from the earlier step's result.

With `--propose` the same change goes to `create_commit(create_pr=True)`:
the PR description holds the diagnosis, its evidence lines and the diff,
and the owner approves by merging (see proposal.py for what apply does next).
An open PR with the same title and the same contents is reused, never opened twice.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict

from remedybot.core.redact import redact
from remedybot.diagnose.collect import MAX_CONFIG_BYTES
from remedybot.edits import EditError
from remedybot.edits.diff import unified_diff
from remedybot.model.enums import Risk
from remedybot.model.plan import Step
from remedybot.remedy.playbook import GatherContext, Outcome, PlanContext, RunContext, step
from remedybot.remedy.sources import fetch_sources


class FileChange(BaseModel):
    """One file of a file fix: the sha256 of the text the diff starts from (None: the file is new) and the result."""

    model_config = ConfigDict(extra="forbid")

    before_sha256: str | None
    after: str


class FileFixParams(BaseModel):
    """The params of a file-fix step; an advice step (read-only, the person edits) has none."""

    model_config = ConfigDict(extra="forbid")

    files: dict[str, FileChange] = {}
    delete: dict[str, str] = {}  # path -> sha256 of the text it must still hold when deleted (a rollback)
    title: str = ""
    propose: bool = False


def file_fix_risk(s: Step) -> Risk:
    """A pull request changes nothing until merged (safe); a commit rebuilds the Space (disruptive);
    advice without files changes nothing (read-only)."""
    params = FileFixParams.model_validate(s.params)
    if not params.files and not params.delete:
        return Risk.READ_ONLY
    return Risk.SAFE if params.propose else Risk.DISRUPTIVE


def gather_sources(ctx: GatherContext) -> None:
    """Add the app's Python sources and `-r` includes to the evidence (once per plan, whichever fix asks)."""
    if ctx.once("sources"):
        ctx.evidence.files = {**(ctx.evidence.files or {}), **fetch_sources(ctx.hub, ctx.space_id, ctx.evidence)}


VERIFY = "wait for the rebuild the commit starts, then for RUNNING and the app's answer"
VERIFY_PR = "once the pull request is merged: wait for the rebuild, then for RUNNING and the app's answer"


def sha256(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def current_files(ctx: PlanContext, paths: list[str]) -> dict[str, str | None]:
    """The planned-from text of `paths` (None: absent). Raises EditError for a file not read whole."""
    files = ctx.evidence.files or {}
    out: dict[str, str | None] = {}
    for path in paths:
        text = files.get(path)
        if text is not None and (len(text) >= MAX_CONFIG_BYTES or "\ufffd" in text):
            raise EditError(f"{path} was not read whole (too large or not UTF-8); edit it by hand")
        out[path] = text
    return out


def file_step(playbook: str, ctx: PlanContext, before: dict[str, str | None], after: dict[str, str], *,
              title: str, action: str, why: str, delete: dict[str, str] | None = None) -> Step:
    """A step writing `after` over `before` (only the files that differ), with the diff to show.

    Args:
        delete: files to delete, with the text they hold now (the step fails if that changed before apply).
        title: the commit (or PR) title: what is fixed, e.g. "remedybot: add opencv-python-headless to
            requirements.txt".
        action: the step's one-line description in the plan.
        why: the reason, quoted in the commit message and the PR description.
    """
    changed = {p: t for p, t in after.items() if t != before.get(p)}
    gone = dict(sorted((delete or {}).items()))
    if not changed and not gone:
        raise EditError("the edit changes nothing")
    propose = ctx.options.propose
    diff = "".join(unified_diff(p, before.get(p), changed[p]) for p in sorted(changed))
    diff += "".join(deletion_diff(p, text) for p, text in gone.items())
    params: dict[str, Any] = {"files": {p: {"before_sha256": sha256(before.get(p)), "after": changed[p]}
                                        for p in sorted(changed)}, "title": title, "propose": propose}
    if gone:
        params["delete"] = {p: sha256(text) for p, text in gone.items()}
    paths = ", ".join([*sorted(changed), *(f"delete {p}" for p in gone)])
    call = (f"create_commit {ctx.space_id} ({paths}) with create_pr=True: open a pull request" if propose
            else f"create_commit {ctx.space_id} ({paths}) on main: '{title}'")
    return step(playbook, action=("propose (pull request): " if propose else "") + action,
                risk="safe" if propose else "disruptive", reversible=True, why=why, calls=[call],
                params=params, diff=diff, verify=VERIFY_PR if propose else VERIFY)


def deletion_diff(path: str, text: str) -> str:
    """The unified diff of deleting `path` (git's form: +++ /dev/null)."""
    body = unified_diff(path, text, "")
    return body.replace(f"+++ b/{path}\n", "+++ /dev/null\n", 1)


def advice(playbook: str, action: str, why: str) -> Step:
    """A read-only step for a change remedybot will not make itself (the person edits the file)."""
    return step(playbook, action=action, risk="read-only", reversible=True, fixes=False, why=why, calls=[])


def _message(run: RunContext, s: Step) -> str:
    diagnosis = run.plan.diagnosis or {}
    evidence = [e for e in diagnosis.get("evidence", []) if e.get("text")][:3]
    lines = [f"Why: {s.why}", ""]
    if evidence:
        lines.append(f"Seen ({diagnosis.get('branch')}):")
        lines += [f"  {e['source']}:{e['line']}: {e['text'].strip()[:200]}" for e in evidence]
        lines.append("")
    lines.append(f"Made by remedybot, plan {run.plan.fingerprint[:12]} step {s.number}. Undo: revert this commit.")
    return "\n".join(lines)


def pr_description(run: RunContext, s: Step) -> str:
    """Markdown for the pull request: what was diagnosed, the evidence lines, the change and its diff."""
    d = run.plan.diagnosis or {}
    out = [f"remedybot diagnosed **{run.plan.space_id}** as `{d.get('branch')}` "
           f"({d.get('confidence_label', '')} confidence){': ' + d['meaning'] if d.get('meaning') else '.'}", ""]
    if d.get("evidence"):
        out += ["### Evidence", ""]
        out += [f"- `{e['source']}:{e['line']}` {e['text'].strip()[:300]}" for e in d["evidence"][:8]]
        out.append("")
    out += ["### The fix", "", s.why, "", "```diff", (s.diff or "").rstrip("\n"), "```", "",
            f"Merging rebuilds the Space. Then `remedybot apply` of plan {run.plan.fingerprint[:12]} "
            "verifies that it is RUNNING."]
    return redact("\n".join(out))


def _read(run: RunContext, space: str, path: str, revision: str) -> str | None:
    return run.call(f"GET {space}/resolve/{revision}/{path}", run.hub.read_file, space, path, revision=revision)


def commit_or_propose(s: Step, run: RunContext) -> Outcome:
    """Write the step's files as one commit on main, or open a pull request with them (`propose`)."""
    from huggingface_hub import (
        CommitOperationAdd,  # the operation type Hub.create_commit takes
        CommitOperationDelete,
    )

    space, files, gone = run.plan.space_id, s.params["files"], s.params.get("delete") or {}
    head = run.call(f"GET /api/spaces/{space}", run.hub.space_info, space).sha
    now = {p: _read(run, space, p, head) for p in [*files, *gone]}
    if all(now[p] == spec["after"] for p, spec in files.items()) and all(now[p] is None for p in gone):
        return Outcome("skipped", "the files already hold this fix")
    moved = [p for p, spec in files.items() if sha256(now[p]) != spec["before_sha256"]]
    moved += [p for p, digest in gone.items() if now[p] is not None and sha256(now[p]) != digest]
    if moved:
        return Outcome("failed", f"{', '.join(moved)} changed since planning, so the planned diff no longer "
                                 f"applies; make a new plan with 'remedybot fix {space} --dry-run'")
    ops: list[Any] = [CommitOperationAdd(p, spec["after"].encode("utf-8", "surrogateescape"))
                      for p, spec in files.items()]
    ops += [CommitOperationDelete(p) for p in gone if now[p] is not None]
    title = s.params["title"]
    if s.params.get("propose"):
        found = _open_proposal(run, space, title, files)
        if found is not None:
            return Outcome("proposed", f"pull request #{found[0]} with this fix is already open: {found[1]}",
                           data={"pr_num": found[0], "pr_url": found[1]})
        body = pr_description(run, s)
        info = run.call(f"create_commit {space} create_pr=True '{title}'", lambda: run.hub.create_commit(
            space, ops, title, repo_type="space", create_pr=True, description=body))
        run.ledger.record(space, s.playbook, fingerprint=run.plan.fingerprint, step=s.number, pr_num=info.pr_num,
                          pr_url=info.pr_url)
        return Outcome("proposed", f"opened pull request #{info.pr_num}: {info.pr_url}",
                       data={"pr_num": info.pr_num, "pr_url": info.pr_url, "commit": info.oid})
    body = _message(run, s)
    info = run.call(f"create_commit {space} '{title}'", lambda: run.hub.create_commit(
        space, ops, title, repo_type="space", parent_commit=head, description=body))
    run.ledger.record(space, s.playbook, fingerprint=run.plan.fingerprint, step=s.number, sha=info.oid, parent=head)
    touched = sorted([*files, *(p for p in gone if now[p] is not None)])
    return Outcome("done", f"committed {info.oid[:7]} ({', '.join(touched)}); undo: revert it",
                   data={"sha": info.oid, "parent": head, "files": touched})


def _open_proposal(run: RunContext, space: str, title: str, files: dict[str, Any]) -> tuple[int, str] | None:
    """(number, url) of an open pull request with this title whose files equal ours, if there is one."""
    hub = run.hub
    prs = hub.open_pull_requests(space)
    for pr in prs:
        if pr.title != title:
            continue
        if all(_read(run, space, p, f"refs/pr/{pr.num}") == spec["after"] for p, spec in files.items()):
            return pr.num, f"{hub.endpoint}/spaces/{space}/discussions/{pr.num}"
    return None


def files_in_place(s: Step, run: RunContext) -> bool:
    """The took-effect check (`done`): HEAD already holds every file as the step would write it."""
    space = run.plan.space_id
    return all(run.hub.read_file(space, p) == spec["after"] for p, spec in s.params.get("files", {}).items()) \
        and all(run.hub.read_file(space, p) is None for p in s.params.get("delete") or {})


def apply_step(s: Step, run: RunContext) -> Outcome:
    """A file-fix playbook's `apply`: advice steps report, file steps commit or propose."""
    if "files" not in s.params:
        return Outcome("skipped", s.why)
    return commit_or_propose(s, run)


def step_done(s: Step, run: RunContext) -> bool:
    """A file-fix playbook's `done`: advice never "took effect"; a file step did when HEAD holds its files."""
    return "files" in s.params and files_in_place(s, run)
