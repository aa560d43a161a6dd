"""Discussions and pull requests: enough for `create_commit(create_pr=True)`,
listing, details, comments, status changes and merging."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from remedybot.sandbox.http import TYPE_FROM_PLURAL, Ctx, json_response
from remedybot.sandbox.repostore import lfs_pointer
from remedybot.sandbox.state import Discussion, HubStateError, Repo

T = "<any(models,datasets,spaces):plural>"


def _event(ctx: Ctx, kind: str, author: str, data: dict[str, Any], t: float, idx: int) -> dict[str, Any]:
    return {"id": f"{int(t * 1000):x}{idx:04x}", "type": kind, "createdAt": ctx.state.clock.iso(t),
            "author": {"name": author}, "data": data}


def _summary(ctx: Ctx, repo: Repo, d: Discussion) -> dict[str, Any]:
    return {"num": d.num, "title": d.title, "status": d.status, "isPullRequest": d.is_pr,
            "createdAt": ctx.state.clock.iso(d.created_at), "author": {"name": d.author},
            "repo": {"name": repo.repo_id, "type": repo.repo_type}, "numComments": len(d.comments)}


def _details(ctx: Ctx, repo: Repo, d: Discussion) -> dict[str, Any]:
    data = _summary(ctx, repo, d)
    events = [_event(ctx, "comment", d.author, {"edited": d.description_edited, "hidden": False,
                                                "latest": {"raw": d.description}}, d.created_at, 0)]
    for i, c in enumerate(d.comments, start=1):
        events.append(_event(ctx, c["type"], c["author"], c["data"], c["t"], i))
    data["events"] = events
    if d.is_pr:
        git = ctx.state.git(repo)
        data["changes"] = {"base": f"refs/heads/{d.base}"}
        if d.status == "merged":
            data["changes"]["mergeCommitId"] = next(
                (c["data"].get("mergeCommitId") for c in d.comments if c["type"] == "status-change"
                 and c["data"].get("mergeCommitId")), None)
        data["filesWithConflicts"] = []
        head = git.resolve(d.git_ref) if d.git_ref else None
        if head and ctx.request.args.get("diff"):
            base = git.resolve(f"refs/heads/{d.base}")
            data["diff"] = git.git("diff", f"{base}...{head}", check=False).decode("utf-8", "replace")
    return data


def _find(repo: Repo, num: int) -> Discussion:
    for d in repo.discussions:
        if d.num == num:
            return d
    raise HubStateError(404, f"Discussion #{num} not found")


def open_pull_request(ctx: Ctx, repo: Repo, title: str, description: str, adds: dict[str, bytes],
                      lfs_adds: dict[str, tuple[str, int]], deletes: list[str],
                      base: str = "main") -> tuple[str, Discussion]:
    """Create a PR whose ref refs/pr/N holds one commit on top of the branch `base`."""
    user = ctx.require_user()
    state = ctx.state
    with state.lock:
        for path, (oid, size) in lfs_adds.items():
            if oid not in repo.lfs:
                if not state.lfs_store.has(oid):
                    raise HubStateError(422, f"LFS object {oid} for {path} was not uploaded")
                state.add_lfs_object(repo, oid, size, path)
        num = len(repo.discussions) + 1
        git = state.git(repo)
        main = git.head(base)
        files = dict(adds)
        files.update({p: lfs_pointer(o, s) for p, (o, s) in lfs_adds.items()})
        branch = f"__pr_{num}"
        if main:
            git.set_ref(f"refs/heads/{branch}", main)
        message = title + (f"\n\n{description}" if description else "")
        sha = git.commit(branch, message=message, author=user.name, adds=files, deletes=deletes)
        git.set_ref(f"refs/pr/{num}", sha)
        git.set_ref(f"refs/heads/{branch}", None)
        pr = Discussion(num=num, title=title, author=user.name, is_pr=True, status="open",
                        created_at=state.clock.now(), description=description, git_ref=f"refs/pr/{num}",
                        base=base)
        pr.comments.append({"type": "commit", "author": user.name, "t": state.clock.now(),
                            "data": {"subject": title, "oid": sha}})
        repo.discussions.append(pr)
        return sha, pr


def list_discussions(ctx: Ctx, plural: str, ns: str, name: str) -> Response:
    repo = ctx.repo(TYPE_FROM_PLURAL[plural], f"{ns}/{name}")
    args = ctx.request.args
    items = repo.discussions
    kind = args.get("type")
    if kind in ("pull_request", "discussion"):
        items = [d for d in items if d.is_pr == (kind == "pull_request")]
    if args.get("status") in ("open", "closed"):  # "open" includes drafts, as on the Hub
        items = [d for d in items if (d.status in ("open", "draft")) == (args["status"] == "open")]
    if args.get("author"):
        items = [d for d in items if d.author == args["author"]]
    items = sorted(items, key=lambda d: -d.num)
    page = int(args.get("p", 0))
    chunk = items[page * 50:(page + 1) * 50]
    return json_response({"discussions": [_summary(ctx, repo, d) for d in chunk], "count": len(items),
                          "start": page * 50, "numClosedDiscussions": 0})


def create_discussion(ctx: Ctx, plural: str, ns: str, name: str) -> Response:
    repo = ctx.repo(TYPE_FROM_PLURAL[plural], f"{ns}/{name}")
    user = ctx.require_user()
    body = ctx.json()
    num = len(repo.discussions) + 1
    is_pr = bool(body.get("pullRequest"))
    d = Discussion(num=num, title=body.get("title", ""), author=user.name, is_pr=is_pr,
                   status="draft" if is_pr else "open", created_at=ctx.state.clock.now(),
                   description=body.get("description", ""), git_ref=f"refs/pr/{num}" if is_pr else None)
    if is_pr:
        main = ctx.state.git(repo).head("main")
        if main:
            ctx.state.git(repo).set_ref(f"refs/pr/{num}", main)
    repo.discussions.append(d)
    return json_response({"num": num, "url": f"{ctx.state.endpoint}/discussions/{num}"})


def discussion_details(ctx: Ctx, plural: str, ns: str, name: str, num: int) -> Response:
    repo = ctx.repo(TYPE_FROM_PLURAL[plural], f"{ns}/{name}")
    return json_response(_details(ctx, repo, _find(repo, num)))


def comment(ctx: Ctx, plural: str, ns: str, name: str, num: int) -> Response:
    repo = ctx.repo(TYPE_FROM_PLURAL[plural], f"{ns}/{name}")
    user = ctx.require_user()
    d = _find(repo, num)
    now = ctx.state.clock.now()
    item = {"type": "comment", "author": user.name, "t": now,
            "data": {"edited": False, "hidden": False, "latest": {"raw": ctx.json().get("comment", "")}}}
    d.comments.append(item)
    return json_response({"newMessage": _event(ctx, "comment", user.name, item["data"], now, len(d.comments))})


def rename(ctx: Ctx, plural: str, ns: str, name: str, num: int) -> Response:
    """A new title, recorded as a title-change event (the author or a writer may rename)."""
    repo = ctx.repo(TYPE_FROM_PLURAL[plural], f"{ns}/{name}")
    user = ctx.require_user()
    d = _find(repo, num)
    if user.name != d.author and not ctx.state.may_write(user, repo.repo_id):
        raise HubStateError(403, "You don't have the rights to rename this discussion")
    title = str(ctx.json().get("title", "")).strip()
    if not title:
        raise HubStateError(400, "Title must not be empty")
    now = ctx.state.clock.now()
    item = {"type": "title-change", "author": user.name, "t": now, "data": {"from": d.title, "to": title}}
    d.title = title
    d.comments.append(item)
    return json_response({"newTitle": _event(ctx, "title-change", user.name, item["data"], now, len(d.comments))})


def edit_comment(ctx: Ctx, plural: str, ns: str, name: str, num: int, comment_id: str) -> Response:
    """Edit a comment by its event id (the first one is the description); only its author may."""
    repo = ctx.repo(TYPE_FROM_PLURAL[plural], f"{ns}/{name}")
    user = ctx.require_user()
    d = _find(repo, num)
    content = ctx.json().get("content", "")
    events = _details(ctx, repo, d)["events"]
    for idx, event in enumerate(events):
        if event["id"] != comment_id.lower() or event["type"] != "comment":
            continue
        if event["author"]["name"] != user.name:
            raise HubStateError(403, "You can only edit your own comments")
        if idx == 0:
            d.description, d.description_edited = content, True
        else:
            data = d.comments[idx - 1]["data"]
            data["latest"] = {"raw": content}
            data["edited"] = True
        return json_response({"updatedComment": _details(ctx, repo, d)["events"][idx]})
    raise HubStateError(404, f"Comment {comment_id} not found")


def change_status(ctx: Ctx, plural: str, ns: str, name: str, num: int) -> Response:
    repo = ctx.repo(TYPE_FROM_PLURAL[plural], f"{ns}/{name}", write=True)
    assert ctx.user is not None
    d = _find(repo, num)
    status = ctx.json().get("status")
    if status not in ("open", "closed"):
        raise HubStateError(400, "Invalid status")
    d.status = status
    now = ctx.state.clock.now()
    item = {"type": "status-change", "author": ctx.user.name, "t": now, "data": {"status": status}}
    d.comments.append(item)
    return json_response({"newStatus": _event(ctx, "status-change", ctx.user.name, item["data"], now,
                                              len(d.comments))})


def merge(ctx: Ctx, plural: str, ns: str, name: str, num: int) -> Response:
    """Merge a PR: its target branch moves to the PR's head (a rebuild follows for a Space's main)."""
    repo = ctx.repo(TYPE_FROM_PLURAL[plural], f"{ns}/{name}", write=True)
    assert ctx.user is not None
    d = _find(repo, num)
    if not d.is_pr or d.status not in ("open", "draft"):
        raise HubStateError(400, f"Discussion #{num} is not an open pull request")
    state = ctx.state
    with state.lock:
        git = state.git(repo)
        head = git.resolve(d.git_ref or "")
        main = git.head(d.base)
        if head is None:
            raise HubStateError(400, "Pull request has no commits")
        base = git.git("merge-base", head, main).decode().strip() if main else None
        if base != main:
            raise HubStateError(409, "This pull request has conflicts with the target branch")
        if head != main:
            git.set_ref(f"refs/heads/{d.base}", head)
            if d.base == "main":
                state.on_main_moved(repo, "commit")
        d.status = "merged"
        d.comments.append({"type": "status-change", "author": ctx.user.name, "t": state.clock.now(),
                           "data": {"status": "merged", "mergeCommitId": head}})
    return json_response({})


ROUTES = [
    Rule(f"/api/{T}/<ns>/<name>/discussions", endpoint=list_discussions, methods=["GET"]),
    Rule(f"/api/{T}/<ns>/<name>/discussions", endpoint=create_discussion, methods=["POST"]),
    Rule(f"/api/{T}/<ns>/<name>/discussions/<int:num>", endpoint=discussion_details, methods=["GET"]),
    Rule(f"/api/{T}/<ns>/<name>/discussions/<int:num>/comment", endpoint=comment, methods=["POST"]),
    Rule(f"/api/{T}/<ns>/<name>/discussions/<int:num>/status", endpoint=change_status, methods=["POST"]),
    Rule(f"/api/{T}/<ns>/<name>/discussions/<int:num>/title", endpoint=rename, methods=["POST"]),
    Rule(f"/api/{T}/<ns>/<name>/discussions/<int:num>/comment/<comment_id>/edit", endpoint=edit_comment,
         methods=["POST"]),
    Rule(f"/api/{T}/<ns>/<name>/discussions/<int:num>/merge", endpoint=merge, methods=["POST"]),
]
