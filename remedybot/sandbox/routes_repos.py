"""Repo-level routes: info for models/datasets/spaces, create, delete, move, settings."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from remedybot.sandbox.http import TYPE_FROM_PLURAL, Ctx, json_response
from remedybot.sandbox.infocache import git_view
from remedybot.sandbox.state import HubStateError, Repo

PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
SDKS = {"gradio", "docker", "static", "streamlit"}


def repo_url(ctx: Ctx, repo: Repo) -> str:
    return f"{ctx.state.endpoint}/{PREFIX[repo.repo_type]}{repo.repo_id}"


def info_json(ctx: Ctx, repo: Repo, expand: list[str] | None = None, blobs: bool = False,
              revision: str | None = None) -> dict[str, Any]:
    """The /api/{type}/{id} JSON, honouring `expand`."""
    state = ctx.state
    sha, card, siblings = git_view(state, repo, revision, blobs)  # remembered per commit (infocache.py)
    data: dict[str, Any] = {
        "_id": f"{abs(hash(repo.key)):024x}"[:24],
        "id": repo.repo_id,
        "author": repo.owner,
        "sha": sha,
        "lastModified": state.clock.iso(repo.last_modified),
        "createdAt": state.clock.iso(repo.created_at),
        "private": repo.private,
        "gated": repo.gated,
        "disabled": repo.disabled,
        "likes": 0,
        "tags": [t for t in [repo.sdk, "region:us"] if t],
        "cardData": card,
        "siblings": siblings,
        "usedStorage": state.used_storage(repo),
        "trendingScore": 0,
        "xetEnabled": repo.xet,
    }
    if repo.repo_type == "space":
        data.update({
            "sdk": repo.sdk or card.get("sdk"),
            "subdomain": repo.repo_id.replace("/", "-").lower(),
            "host": f"{state.endpoint}/_sandbox/app/{repo.repo_id}",
            "runtime": state.runtime(repo),
            "models": card.get("models", []) if isinstance(card.get("models"), list) else [],
            "datasets": card.get("datasets", []) if isinstance(card.get("datasets"), list) else [],
        })
    else:
        data["downloads"] = 0
    if expand:
        keep = set(expand) | {"_id", "id"}
        data = {k: v for k, v in data.items() if k in keep}
    return data


def repo_info(ctx: Ctx, plural: str, ns: str, name: str, rev: str | None = None) -> Response:
    repo = ctx.repo(TYPE_FROM_PLURAL[plural], f"{ns}/{name}")
    expand = ctx.multi("expand") or None
    blobs = ctx.request.args.get("blobs", "").lower() in ("1", "true")
    return json_response(info_json(ctx, repo, expand, blobs, rev))


def create_repo(ctx: Ctx) -> Response:
    user = ctx.require_user()
    body = ctx.json()
    name = body.get("name")
    org = body.get("organization") or user.name
    repo_type = body.get("type") or "model"
    if not name or repo_type not in PREFIX:
        raise HubStateError(400, "Invalid repo name or type")
    repo_id = f"{org}/{name}"
    if not ctx.state.may_write(user, repo_id):
        raise HubStateError(403, f"You don't have the rights to create a repo under {org}")
    sdk = body.get("sdk")
    if repo_type == "space" and sdk not in SDKS:
        raise HubStateError(400, "Invalid Space SDK: sdk must be one of gradio, docker, static, streamlit")
    private = bool(body.get("private")) or body.get("visibility") == "private"
    existing = ctx.state.find(repo_type, repo_id)
    if existing is not None:
        return json_response({"error": "You already created this repo", "url": repo_url(ctx, existing)},
                             status=409, headers={"X-Error-Message": "You already created this repo"})
    files = None
    if repo_type == "space":
        readme = (f"---\ntitle: {name}\nemoji: 🚀\ncolorFrom: blue\ncolorTo: green\nsdk: {sdk}\n"
                  f"pinned: false\n---\n")
        files = {"README.md": readme.encode()}
    repo = ctx.state.create_repo(repo_type, repo_id, private=private, sdk=sdk,
                                 hardware=body.get("hardware"), initial_files=files, author=user.name)
    if repo.space is not None:
        for item in body.get("variables") or []:
            repo.space.variables[item["key"]] = {"value": item["value"],
                                                 "description": item.get("description"),
                                                 "updatedAt": ctx.state.clock.iso(ctx.state.clock.now())}
        for item in body.get("secrets") or []:
            repo.space.secrets[item["key"]] = {"value": item["value"], "description": item.get("description"),
                                               "updatedAt": ctx.state.clock.iso(ctx.state.clock.now())}
    return json_response({"url": repo_url(ctx, repo), "name": repo_id, "id": repo_id})


def delete_repo(ctx: Ctx) -> Response:
    user = ctx.require_user()
    body = ctx.json()
    repo_id = f"{body.get('organization') or user.name}/{body.get('name')}"
    repo = ctx.repo(body.get("type") or "model", repo_id, write=True)
    ctx.state.delete_repo(repo)
    return json_response({})


def move_repo(ctx: Ctx) -> Response:
    body = ctx.json()
    repo_type = body.get("type") or "model"
    repo = ctx.repo(repo_type, body.get("fromRepo", ""), write=True)
    to_id = body.get("toRepo", "")
    if not ctx.state.may_write(ctx.user, to_id):
        raise HubStateError(403, f"You don't have the rights to move a repo to {to_id}")
    ctx.state.move_repo(repo, to_id)
    return json_response({})


def update_settings(ctx: Ctx, plural: str, ns: str, name: str) -> Response:
    repo = ctx.repo(TYPE_FROM_PLURAL[plural], f"{ns}/{name}", write=True)
    body = ctx.json()
    if "gated" in body:
        if body["gated"] not in (False, "auto", "manual"):
            raise HubStateError(400, "gated must be false, 'auto' or 'manual'")
        repo.gated = body["gated"]
    if "private" in body:
        repo.private = bool(body["private"])
    if body.get("visibility"):
        repo.private = body["visibility"] == "private"
    return json_response({})


def auth_check(ctx: Ctx, plural: str, ns: str, name: str) -> Response:
    """May the caller read the repo's files? A gated repo answers 403 GatedRepo to anyone but its writers."""
    repo = ctx.repo(TYPE_FROM_PLURAL[plural], f"{ns}/{name}")
    if repo.gated and not ctx.state.may_write(ctx.user, repo.repo_id):
        raise HubStateError(403, f"Access to model {repo.repo_id} is restricted. You must have access to it and be "
                                 "authenticated to access it. Please log in.", "GatedRepo")
    return json_response({})


def list_repos(ctx: Ctx, plural: str) -> Response:
    """GET /api/{models|datasets|spaces}?author=... (list_spaces and friends)."""
    repo_type = TYPE_FROM_PLURAL[plural]
    author = ctx.request.args.get("author")
    search = ctx.request.args.get("search")
    expand = ctx.multi("expand") or None
    full = ctx.request.args.get("full") in ("1", "true", "True")
    out = []
    for (rtype, rid), repo in sorted(ctx.state.repos.items()):
        if rtype != repo_type or (author and repo.owner != author) or (search and search not in rid):
            continue
        if repo.private and not (ctx.user and (ctx.user.name == repo.owner or
                                               ctx.state.may_write(ctx.user, rid))):
            continue
        if expand or full:
            out.append(info_json(ctx, repo, expand))
        else:
            info = info_json(ctx, repo, ["id", "likes", "private", "sdk", "tags", "createdAt",
                                         "trendingScore"])
            out.append(info)
    limit = ctx.request.args.get("limit")
    if limit:
        out = out[: int(limit)]
    return json_response(out)


ROUTES = [
    Rule("/api/repos/create", endpoint=create_repo, methods=["POST"]),
    Rule("/api/repos/delete", endpoint=delete_repo, methods=["DELETE"]),
    Rule("/api/repos/move", endpoint=move_repo, methods=["POST"]),
    Rule("/api/<any(models,datasets,spaces):plural>", endpoint=list_repos, methods=["GET"]),
    Rule("/api/<any(models,datasets,spaces):plural>/<ns>/<name>", endpoint=repo_info, methods=["GET"]),
    Rule("/api/<any(models,datasets,spaces):plural>/<ns>/<name>/revision/<path:rev>", endpoint=repo_info,
         methods=["GET"]),
    Rule("/api/<any(models,datasets,spaces):plural>/<ns>/<name>/settings", endpoint=update_settings,
         methods=["PUT"]),
    Rule("/api/<any(models,datasets,spaces):plural>/<ns>/<name>/auth-check", endpoint=auth_check,
         methods=["GET"]),
]
