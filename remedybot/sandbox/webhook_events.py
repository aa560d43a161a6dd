"""Which webhook events a request caused, found by comparing the Hub before and after it.

While some webhook is enabled, the server calls `before` for every request that
may change something (not GET/HEAD, not `/_sandbox/`) and `after` once its answer
has been sent (a git push updates its refs only at the end of the stream). The
difference is the events, in the Hub's payload format
(https://huggingface.co/docs/hub/webhooks):

* a repo that appeared, vanished or got a new name: scope `repo`, action
  `create`, `delete` or `move` (with `movedTo`);
* refs of the request's repo that moved (commit, push, merge, a new PR's ref,
  branch or tag): `repo.content` / `update` with `updatedRefs`;
* its settings (visibility, hardware, sleep time, dev mode, variables, secrets):
  `repo.config` / `update` with `updatedConfig` (only `private` is named, as on
  the Hub);
* its discussions: a new one (`discussion` / `create`, with its first comment),
  a new status or title (`discussion` / `update`), a new comment
  (`discussion.comment` / `create`).

Comparing states instead of calling a hook from each route keeps the routes
unaware of webhooks. Two requests changing the same repo at the same moment may
see each other's change; the sandbox accepts that.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from remedybot.sandbox.http import TYPE_FROM_PLURAL
from remedybot.sandbox.state import Discussion, HubState, Repo
from remedybot.sandbox.webhooks import object_id, repo_urls

GIT_PREFIX = {"spaces": "space", "datasets": "dataset", "": "model"}


@dataclass
class RepoView:
    refs: dict[str, str]
    config: dict[str, Any]
    discussions: dict[int, tuple[str, str, int]]  # num -> (status, title, number of comments)


@dataclass
class Observation:
    repos: dict[tuple[str, str], Repo]
    target: Repo | None = None
    view: RepoView | None = None
    events: list[tuple[Repo, dict[str, Any]]] = field(default_factory=list)


def target_of(path: str, args: dict[str, Any]) -> tuple[str, str] | None:
    """(repo type, repo id) a request's route names, if it names one."""
    if "ns" not in args or "name" not in args:
        return None
    if "plural" in args:
        repo_type = TYPE_FROM_PLURAL.get(args["plural"])
    elif "prefix" in args:
        repo_type = GIT_PREFIX.get(args["prefix"])
    elif path.startswith("/api/spaces/"):
        repo_type = "space"
    elif not path.startswith("/api/"):
        repo_type = "model"  # git and LFS under /<ns>/<name>: the route fixes its prefix, the URL holds none
    else:
        return None
    name = str(args["name"]).removesuffix(".git")
    return (repo_type, f"{args['ns']}/{name}") if repo_type else None


def view(state: HubState, repo: Repo) -> RepoView:
    out = state.git(repo).git("for-each-ref", "--format=%(refname) %(objectname)", check=False).decode()
    refs = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    config: dict[str, Any] = {"private": repo.private, "disabled": repo.disabled}
    if repo.space is not None:
        config.update(hardware=repo.space.requested_hardware, sleep=repo.space.sleep_time,
                      dev=repo.space.dev_mode, variables={k: dict(v) for k, v in repo.space.variables.items()},
                      secrets={k: v.get("updatedAt") for k, v in repo.space.secrets.items()})
    discussions = {d.num: (d.status, d.title, len(d.comments)) for d in repo.discussions}
    return RepoView(refs=refs, config=config, discussions=discussions)


def before(state: HubState, path: str, args: dict[str, Any]) -> Observation:
    with state.lock:
        obs = Observation(repos=dict(state.repos))
        key = target_of(path, args)
        obs.target = state.repos.get(key) if key else None
        if obs.target is not None:
            obs.view = view(state, obs.target)
        return obs


def after(state: HubState, obs: Observation) -> None:
    """Emit the events `obs` found; always releases the request's hold on `wait_idle`."""
    try:
        with state.lock:
            _repo_events(state, obs)
            if obs.target is not None and obs.view is not None and state.repos.get(obs.target.key) is obs.target:
                _target_events(state, obs, obs.target, obs.view, view(state, obs.target))
        for repo, payload in obs.events:
            state.webhooks.emit(repo, payload)
    finally:
        state.webhooks.observing(-1)


def repo_payload(state: HubState, repo: Repo, *, head: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": repo.repo_type, "name": repo.repo_id, "id": object_id("repo", repo.repo_type, repo.created_at),
        "private": repo.private, "url": repo_urls(state, repo), "owner": {"id": object_id("user", repo.owner)},
        "tags": [t for t in [repo.sdk, "region:us"] if t],
    }
    if repo.repo_type == "space":
        data["subdomain"] = repo.repo_id.replace("/", "-").lower()
    if head:
        data["headSha"] = state.git(repo).head("main") if state.git(repo).path.exists() else None
    return data


def _event(state: HubState, repo: Repo, scope: str, action: str, **extra: Any) -> dict[str, Any]:
    payload = {"event": {"action": action, "scope": scope},
               "repo": repo_payload(state, repo, head=scope.startswith("repo") and action != "delete")}
    payload.update(extra)
    return payload


def _repo_events(state: HubState, obs: Observation) -> None:
    now = {id(r): key for key, r in state.repos.items()}
    for key, repo in state.repos.items():
        if key not in obs.repos and id(repo) not in {id(r) for r in obs.repos.values()}:
            obs.events.append((repo, _event(state, repo, "repo", "create")))
    for key, repo in obs.repos.items():
        new_key = now.get(id(repo))
        if new_key is None:
            obs.events.append((repo, _event(state, repo, "repo", "delete")))
        elif new_key != key:
            old = _renamed(repo, key[1])
            moved = {"name": repo.repo_id, "owner": {"id": object_id("user", repo.owner)}}
            obs.events.append((old, _event(state, old, "repo", "move", movedTo=moved)))


def _renamed(repo: Repo, repo_id: str) -> Repo:
    """A copy of `repo` under its old id, for the payload of a move (the Hub names the old repo)."""
    return replace(repo, repo_id=repo_id)


def _target_events(state: HubState, obs: Observation, repo: Repo, old: RepoView, new: RepoView) -> None:
    refs = sorted(set(old.refs) | set(new.refs))
    updated = [{"ref": ref, "oldSha": old.refs.get(ref), "newSha": new.refs.get(ref)}
               for ref in refs if old.refs.get(ref) != new.refs.get(ref)]
    if updated:
        obs.events.append((repo, _event(state, repo, "repo.content", "update", updatedRefs=updated)))
    if old.config != new.config:
        changed = {"private": repo.private} if old.config["private"] != new.config["private"] else {}
        obs.events.append((repo, _event(state, repo, "repo.config", "update", updatedConfig=changed)))
    for d in repo.discussions:
        before = old.discussions.get(d.num)
        if before is None:
            obs.events.append((repo, _event(state, repo, "discussion", "create", discussion=_discussion(state, repo, d),
                                            comment=_opening_comment(state, repo, d))))
            first_new = 0
        else:
            if before[:2] != (d.status, d.title):
                obs.events.append((repo, _event(state, repo, "discussion", "update",
                                                discussion=_discussion(state, repo, d))))
            first_new = before[2]
        for index, item in enumerate(d.comments[first_new:], start=first_new + 1):
            if item["type"] == "comment":
                obs.events.append((repo, _event(state, repo, "discussion.comment", "create",
                                                discussion=_discussion(state, repo, d),
                                                comment=_comment(state, repo, d, index, item))))


def _discussion(state: HubState, repo: Repo, d: Discussion) -> dict[str, Any]:
    urls = repo_urls(state, repo)
    data: dict[str, Any] = {
        "id": object_id("discussion", repo.repo_id, d.num), "num": d.num, "title": d.title,
        "status": d.status, "isPullRequest": d.is_pr, "author": {"id": object_id("user", d.author)},
        "url": {"web": f"{urls['web']}/discussions/{d.num}", "api": f"{urls['api']}/discussions/{d.num}"},
        "pinned": False,
    }
    if d.is_pr:
        data["changes"] = {"base": "refs/heads/main"}
        merged = [c["data"].get("mergeCommitId") for c in d.comments if c["data"].get("mergeCommitId")]
        if merged:
            data["changes"]["mergeCommitId"] = merged[-1]
    return data


def _comment_json(state: HubState, repo: Repo, d: Discussion, index: int, author: str, content: str,
                  hidden: bool) -> dict[str, Any]:
    cid = object_id("comment", repo.repo_id, d.num, index)
    web = f"{repo_urls(state, repo)['web']}/discussions/{d.num}#{cid}"
    return {"id": cid, "author": {"id": object_id("user", author)}, "content": content, "hidden": hidden,
            "url": {"web": web}}


def _opening_comment(state: HubState, repo: Repo, d: Discussion) -> dict[str, Any]:
    return _comment_json(state, repo, d, 0, d.author, d.description, False)


def _comment(state: HubState, repo: Repo, d: Discussion, index: int, item: dict[str, Any]) -> dict[str, Any]:
    data = item.get("data", {})
    return _comment_json(state, repo, d, index, item["author"], data.get("latest", {}).get("raw", ""),
                         bool(data.get("hidden")))
