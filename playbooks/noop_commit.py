"""noop_commit: push an empty git commit so the Hub rebuilds the Space with its files untouched.

Every push triggers a rebuild (spaces docs). The API cannot make an empty
commit (huggingface_hub skips commits that change nothing), so this goes
through git: a shallow bare clone (no checkout, LFS pointers only), a commit
of the very same tree, and a push over HTTP. The token travels in an HTTP
header set through git's environment config, never in the URL or argv.
"""

from __future__ import annotations

import base64
import tempfile
from typing import Any

from remedybot.core.errors import HubError
from remedybot.model.enums import Branch, Risk
from remedybot.model.plan import Step
from remedybot.remedy.playbook import ORDER_NOOP, Outcome, PlanContext, Playbook, RunContext, always, step

ID = "noop_commit"
TITLE = "remedybot: empty commit to trigger a rebuild"


def _message(fingerprint: str) -> str:
    return (f"{TITLE}\n\nNo files changed. remedybot pushed this commit because the Space was stuck "
            f"(plan {fingerprint[:12]}); every push makes the Hub rebuild the Space.")


def plan(ctx: PlanContext) -> list[Step]:
    return [step(ID, action="push an empty commit (files unchanged) to start a fresh build", risk="disruptive",
                 reversible=True,
                 why="If the builder ignores restarts, a new commit queues a brand new build job.",
                 calls=[f"git clone --bare --depth 1 {ctx.space_id}",
                        f"git commit-tree <HEAD tree> -p HEAD -m '{TITLE}'",
                        f"git push {ctx.space_id} <new commit>:refs/heads/main"])]


def _git_env(run: RunContext) -> dict[str, str]:
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_LFS_SKIP_SMUDGE": "1", "GIT_CONFIG_NOSYSTEM": "1"}
    if run.hub.token:
        basic = base64.b64encode(f"remedybot:{run.hub.token}".encode()).decode()
        env.update({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader",
                    "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}"})
    return env


def apply(s: Step, run: RunContext) -> Outcome:
    import git  # GitPython, imported here so the CLI starts fast

    space = run.plan.space_id
    url = f"{run.hub.endpoint}/spaces/{space}"
    env = _git_env(run)
    with tempfile.TemporaryDirectory(prefix="remedybot-noop-") as tmp:
        try:
            repo = git.Repo.clone_from(url, tmp, bare=True, depth=1, env=env)
            repo.git.update_environment(**env, GIT_AUTHOR_NAME="remedybot", GIT_AUTHOR_EMAIL="remedybot@users.noreply",
                                        GIT_COMMITTER_NAME="remedybot",
                                        GIT_COMMITTER_EMAIL="remedybot@users.noreply")
            head = repo.git.rev_parse("HEAD")
            tree = repo.git.rev_parse("HEAD^{tree}")
            sha = repo.git.commit_tree(tree, "-p", head, "-m", _message(run.plan.fingerprint))
            run.calls.append({"call": f"git push {space} {sha[:7]}:refs/heads/main"})
            _push(repo, url, sha, space, run)
        except git.GitCommandError as exc:
            raise HubError(f"Cannot push an empty commit to '{space}': {_git_reason(exc)}.") from exc
    run.ledger.record(space, ID, fingerprint=run.plan.fingerprint, step=s.number, sha=sha)
    return Outcome("done", f"pushed empty commit {sha[:7]}", data={"sha": sha, "parent": head})


def _push(repo: Any, url: str, sha: str, space: str, run: RunContext) -> None:
    """Push `sha` to main; a failed push whose commit is on the Space anyway (its answer was lost) is a success.

    Only the remote ref can tell: git's own exit status reports the connection, not the Hub.
    """
    import git

    try:
        repo.git.push(url, f"{sha}:refs/heads/main")
    except git.GitCommandError:
        commits = run.hub.list_commits(space, limit=1)
        if not commits or commits[0].get("id") != sha:
            raise
        run.note(f"the answer to the push was lost, but the Space's main is at {sha[:7]}: the push went through")


def _git_reason(exc: Any) -> str:
    lines = [ln.strip() for ln in str(getattr(exc, "stderr", "") or exc).splitlines() if ln.strip()]
    return lines[-1].strip("'\" ") if lines else "git failed"


def done(s: Step, run: RunContext) -> bool:
    """Took effect if HEAD is our empty commit for this plan (checked before any retry or resume)."""
    commits = run.hub.list_commits(run.plan.space_id, limit=1)
    return bool(commits) and commits[0].get("title") == TITLE and \
        run.plan.fingerprint[:12] in (commits[0].get("message") or "")


PLAYBOOK = Playbook(id=ID, risk=always(Risk.DISRUPTIVE), branches=frozenset({Branch.WEDGED_SPACE}), order=ORDER_NOOP,
                    plan=plan, apply=apply, done=done)
