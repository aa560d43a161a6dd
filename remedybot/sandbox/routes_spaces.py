"""Space-management routes: whoami, runtime, restart, pause, hardware, sleep time,
dev mode, variables, secrets, duplicate, logs (SSE) and the app URL probe."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from remedybot.sandbox.hardware import flavor_json
from remedybot.sandbox.http import Ctx, error_response, json_response
from remedybot.sandbox.routes_repos import repo_url
from remedybot.sandbox.state import RUNNING_STAGES, HubStateError, Repo


def whoami(ctx: Ctx) -> Response:
    if ctx.user is None:
        msg = "Invalid credentials in Authorization header" if ctx.token_given else \
            "You must be authenticated to access this resource."
        return error_response(401, msg)
    user = ctx.user
    role = "write" if user.write else "read"
    return json_response({
        "type": "user", "id": f"{abs(hash(user.name)):024x}"[:24], "name": user.name,
        "fullname": user.fullname or user.name,
        "email": f"{user.name}@example.com", "emailVerified": True, "isPro": True, "canPay": True,
        "orgs": [{"type": "org", "name": org, "fullname": ctx.state.orgs.get(org, org)} for org in user.orgs],
        "auth": {"type": "access_token", "accessToken": {"displayName": "sandbox", "role": role}},
    })


def _count(ctx: Ctx, owner: str, repo_type: str) -> int:
    return sum(1 for (rtype, rid) in ctx.state.repos if rtype == repo_type and rid.split("/")[0] == owner)


def user_overview(ctx: Ctx, name: str) -> Response:
    """GET /api/users/{name}/overview, as huggingface_hub's `User` reads it; 404 for a name that is no user."""
    user = ctx.state.users.get(name)
    if user is None:
        return error_response(404, "User not found")
    return json_response({
        "_id": f"{abs(hash(name)):024x}"[:24], "user": name, "fullname": name, "avatarUrl": "", "isPro": False,
        "type": "user", "numModels": _count(ctx, name, "model"), "numDatasets": _count(ctx, name, "dataset"),
        "numSpaces": _count(ctx, name, "space"), "orgs": [{"name": org, "type": "org"} for org in user.orgs],
    })


def organization_overview(ctx: Ctx, name: str) -> Response:
    """GET /api/organizations/{name}/overview; an organisation is any org a sandbox user belongs to."""
    members = [u.name for u in ctx.state.users.values() if name in u.orgs]
    if not members:
        return error_response(404, "Organization not found")
    return json_response({
        "_id": f"{abs(hash(name)):024x}"[:24], "name": name, "fullname": name, "avatarUrl": "",
        "isEnterprise": False, "type": "org", "numUsers": len(members), "numModels": _count(ctx, name, "model"),
        "numDatasets": _count(ctx, name, "dataset"), "numSpaces": _count(ctx, name, "space"),
    })


def _space(ctx: Ctx, ns: str, name: str, *, write: bool = False) -> Repo:
    return ctx.repo("space", f"{ns}/{name}", write=write)


def _runtime(ctx: Ctx, repo: Repo) -> Response:
    return json_response(ctx.state.runtime(repo))


def runtime(ctx: Ctx, ns: str, name: str) -> Response:
    return _runtime(ctx, _space(ctx, ns, name))


def restart(ctx: Ctx, ns: str, name: str) -> Response:
    repo = _space(ctx, ns, name, write=True)
    factory = ctx.request.args.get("factory", "").lower() in ("1", "true")
    ctx.state.restart(repo, factory)
    return _runtime(ctx, repo)


def pause(ctx: Ctx, ns: str, name: str) -> Response:
    repo = _space(ctx, ns, name, write=True)
    ctx.state.pause(repo)
    return _runtime(ctx, repo)


def hardware(ctx: Ctx, ns: str, name: str) -> Response:
    repo = _space(ctx, ns, name, write=True)
    body = ctx.json()
    flavor = body.get("flavor")
    if not flavor:
        raise HubStateError(400, "Missing flavor")
    ctx.state.set_hardware(repo, flavor, body.get("sleepTimeSeconds"))
    return _runtime(ctx, repo)


def sleeptime(ctx: Ctx, ns: str, name: str) -> Response:
    repo = _space(ctx, ns, name, write=True)
    assert repo.space is not None
    repo.space.sleep_time = ctx.json().get("seconds")
    return _runtime(ctx, repo)


def dev_mode(ctx: Ctx, ns: str, name: str) -> Response:
    repo = _space(ctx, ns, name, write=True)
    assert repo.space is not None
    repo.space.dev_mode = bool(ctx.json().get("enabled"))
    return _runtime(ctx, repo)


def list_hardware(ctx: Ctx) -> Response:
    return json_response([flavor_json(f) for f in ctx.state.flavors.values()])


def variables(ctx: Ctx, ns: str, name: str) -> Response:
    method = ctx.request.method
    repo = _space(ctx, ns, name, write=True)
    assert repo.space is not None
    if method == "POST":
        body = ctx.json()
        repo.space.variables[body["key"]] = {"value": body.get("value", ""),
                                             "description": body.get("description"),
                                             "updatedAt": ctx.state.clock.iso(ctx.state.clock.now())}
    elif method == "DELETE":
        repo.space.variables.pop(ctx.json().get("key"), None)
    return json_response(repo.space.variables)


def secrets(ctx: Ctx, ns: str, name: str) -> Response:
    method = ctx.request.method
    repo = _space(ctx, ns, name, write=True)
    assert repo.space is not None
    if method == "POST":
        body = ctx.json()
        repo.space.secrets[body["key"]] = {"value": body.get("value", ""),
                                           "description": body.get("description"),
                                           "updatedAt": ctx.state.clock.iso(ctx.state.clock.now())}
        return json_response({})
    if method == "DELETE":
        repo.space.secrets.pop(ctx.json().get("key"), None)
        return json_response({})
    # Secret values are never readable back, as on the Hub.
    return json_response({k: {"description": v.get("description"), "updatedAt": v.get("updatedAt")}
                          for k, v in repo.space.secrets.items()})


def duplicate(ctx: Ctx, plural: str, ns: str, name: str) -> Response:
    from remedybot.sandbox.http import TYPE_FROM_PLURAL

    repo_type = TYPE_FROM_PLURAL[plural]
    user = ctx.require_user()
    source = ctx.repo(repo_type, f"{ns}/{name}")
    body = ctx.json()
    target_id = body.get("repository") or ""
    if "/" not in target_id:
        raise HubStateError(400, "Invalid repository name")
    if not ctx.state.may_write(user, target_id):
        raise HubStateError(403, f"You don't have the rights to create a repo under {target_id.split('/')[0]}")
    existing = ctx.state.find(repo_type, target_id)
    if existing is not None:
        return json_response({"error": "You already created this repo", "url": repo_url(ctx, existing)},
                             status=409, headers={"X-Error-Message": "You already created this repo"})
    private = source.private if body.get("visibility") is None else body["visibility"] == "private"
    new = ctx.state.duplicate(source, target_id, private=private, author=user.name,
                              hardware=body.get("hardware"), variables=body.get("variables"),
                              secrets=body.get("secrets"))
    return json_response({"url": repo_url(ctx, new), "filesCopyPending": False})


def logs(ctx: Ctx, ns: str, name: str, which: str) -> Response:
    """SSE log stream. Without ?follow it drains what exists and closes."""
    repo = _space(ctx, ns, name, write=True)
    lines = ctx.state.logs(repo, which)
    follow = ctx.request.args.get("follow", "").lower() in ("1", "true")
    tail = ctx.request.args.get("tail")
    if tail and tail.isdigit():
        lines = lines[-int(tail):]

    def stream() -> Iterator[bytes]:
        for ts, text in lines:
            payload = json.dumps({"data": text if text.endswith("\n") else text + "\n", "timestamp": ts})
            yield f"data: {payload}\n\n".encode()
        if follow:
            seen = len(lines)
            for _ in range(20):
                time.sleep(0.05)
                more = ctx.state.logs(repo, which)
                for ts, text in more[seen:]:
                    payload = json.dumps({"data": text + "\n", "timestamp": ts})
                    yield f"data: {payload}\n\n".encode()
                seen = len(more)
                yield b"data:\n\n"

    resp = Response(stream(), mimetype="text/event-stream")
    resp.headers["Cache-Control"] = "no-cache"
    return resp


def app_probe(ctx: Ctx, ns: str, name: str, path: str = "") -> Response:
    """The Space's app URL: 200 when it runs, 503 otherwise (what a health probe sees)."""
    repo = ctx.state.find("space", f"{ns}/{name}")
    if repo is None or repo.space is None:
        return error_response(404, "Space not found")
    stage = ctx.state.runtime(repo)["stage"]
    if stage in RUNNING_STAGES and repo.space.conditions.get("app_hung"):
        return Response("upstream request timeout", status=504, mimetype="text/plain")  # the proxy gave up
    if stage in RUNNING_STAGES and not repo.space.paused:
        return Response(f"<html><body>{repo.repo_id} is running</body></html>", mimetype="text/html")
    return Response(f"Space is {stage}", status=503, mimetype="text/plain")


ROUTES = [
    Rule("/api/whoami-v2", endpoint=whoami, methods=["GET"]),
    Rule("/api/users/<name>/overview", endpoint=user_overview, methods=["GET"]),
    Rule("/api/organizations/<name>/overview", endpoint=organization_overview, methods=["GET"]),
    Rule("/api/spaces/hardware", endpoint=list_hardware, methods=["GET"]),
    Rule("/api/spaces/<ns>/<name>/runtime", endpoint=runtime, methods=["GET"]),
    Rule("/api/spaces/<ns>/<name>/restart", endpoint=restart, methods=["POST"]),
    Rule("/api/spaces/<ns>/<name>/pause", endpoint=pause, methods=["POST"]),
    Rule("/api/spaces/<ns>/<name>/hardware", endpoint=hardware, methods=["POST"]),
    Rule("/api/spaces/<ns>/<name>/sleeptime", endpoint=sleeptime, methods=["POST"]),
    Rule("/api/spaces/<ns>/<name>/dev-mode", endpoint=dev_mode, methods=["POST"]),
    Rule("/api/spaces/<ns>/<name>/variables", endpoint=variables, methods=["GET", "POST", "DELETE"]),
    Rule("/api/spaces/<ns>/<name>/secrets", endpoint=secrets, methods=["GET", "POST", "DELETE"]),
    Rule("/api/<any(models,datasets,spaces):plural>/<ns>/<name>/duplicate", endpoint=duplicate,
         methods=["POST"]),
    Rule("/api/spaces/<ns>/<name>/logs/<any(build,run):which>", endpoint=logs, methods=["GET"]),
    Rule("/_sandbox/app/<ns>/<name>", endpoint=app_probe, methods=["GET", "HEAD"]),
    Rule("/_sandbox/app/<ns>/<name>/<path:path>", endpoint=app_probe, methods=["GET", "HEAD"]),
]
