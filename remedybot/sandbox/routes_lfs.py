"""The git-LFS batch API and its transfer endpoints, plus the auth
the git side of the Hub shares with it (`routes_git` serves these routes with its own).

Two clients use it, and both must work unmodified:

- `git lfs` (pre-push and smudge): POST `{repo}.git/info/lfs/objects/batch` with
  HTTP basic auth (token as password), then the `actions` it is given.
- huggingface_hub with `HF_HUB_DISABLE_XET=1`: the same batch with a Bearer
  token and `transfers: ["basic", "multipart"]`; it then PUTs to `href`
  *without any header* (it expects a presigned URL) and POSTs `{oid, size}` to
  `verify.href` with its token.

So transfer URLs carry an HMAC signature of (repo, oid, size); a token with the
right access works as well. Objects go into the shared `LfsStore` (sha256 and
size checked while streaming) and are owned per repo, which is what counts in
the repo's storage: an upload batch that would take the repo over its limit is
refused whole with 403 and the Hub's message, which git-lfs prints as
"batch response: Repository storage limit reached (Max: 1 GB)".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from functools import partial
from typing import Any
from urllib.parse import quote

from werkzeug.routing import Rule
from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from remedybot.sandbox.http import Ctx
from remedybot.sandbox.state import HubStateError, Repo

LFS_MIME = "application/vnd.git-lfs+json"
CHALLENGE = 'Basic realm="Authentication required"'
TYPE_FROM_PREFIX = {"": "model", "datasets": "dataset", "spaces": "space"}
EXPIRES_IN = 3600
# Per-process key: a sandbox restart invalidates old transfer links, as an expiry would.
_SIGNING_KEY = secrets.token_bytes(32)


class Refused(Exception):
    """A request refused before any work: status, message, and whether to send a Basic challenge."""

    def __init__(self, status: int, message: str, challenge: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.challenge = challenge


def repo_ident(prefix: str, ns: str, name: str) -> tuple[str, str]:
    """(repo_type, repo_id) from a git URL: `spaces/ns/name.git` -> ("space", "ns/name")."""
    return TYPE_FROM_PREFIX[prefix], f"{ns}/{name.removesuffix('.git')}"


def authorize(ctx: Ctx, repo_type: str, repo_id: str, *, write: bool) -> Repo:
    """The repo if the caller may read it (or write it), else how git/git-lfs should be refused.

    Missing or rejected credentials become 401 + Basic challenge: that is what
    makes git consult its credential helpers and, failing that, stop with
    "Authentication failed" rather than a bare status code.
    """
    if ctx.token_given and ctx.user is None:
        raise Refused(401, "Invalid username or password.", challenge=True)
    if write and ctx.user is None:
        raise Refused(401, "Authentication required.", challenge=True)
    try:
        return ctx.state.get(repo_type, repo_id, ctx.user, write=write)
    except HubStateError as exc:
        raise Refused(exc.status, exc.message, challenge=exc.status == 401) from exc


def lfs_json(data: Any, status: int = 200, challenge: bool = False) -> Response:
    resp = Response(json.dumps(data), status=status, content_type=LFS_MIME)
    if challenge:
        resp.headers["WWW-Authenticate"] = CHALLENGE
    if status >= 400 and isinstance(data, dict) and "message" in data:
        resp.headers["X-Error-Message"] = data["message"]  # what huggingface_hub reports
    return resp


def _lfs_error(exc: Refused | HubStateError) -> Response:
    return lfs_json({"message": exc.message}, exc.status, isinstance(exc, Refused) and exc.challenge)


def _signature(repo: Repo, oid: str, size: int, staged: bool = False) -> str:
    payload = f"{repo.repo_type}/{repo.repo_id}/{oid}/{size}/{int(staged)}".encode()
    return hmac.new(_SIGNING_KEY, payload, hashlib.sha256).hexdigest()


def _object_url(ctx: Ctx, repo: Repo, oid: str, size: int, verify: bool = False, staged: bool = False) -> str:
    """A signed transfer URL; `staged` marks an upload by a reader (for a pull request), which the repo
    owns only once a pull request commits it."""
    base = ctx.request.host_url.rstrip("/")
    path = f"/_sandbox/lfs/{repo.repo_type}/{quote(repo.repo_id)}/{oid}" + ("/verify" if verify else "")
    flag = "&staged=1" if staged else ""
    return f"{base}{path}?size={size}{flag}&sig={_signature(repo, oid, size, staged)}"


def _parse_objects(body: dict[str, Any]) -> list[tuple[str, int | None]]:
    """(oid, size) pairs; size is None for a malformed entry, answered with a per-object 422."""
    out: list[tuple[str, int | None]] = []
    for item in body.get("objects") or []:
        oid = str(item.get("oid", "")) if isinstance(item, dict) else ""
        size = item.get("size") if isinstance(item, dict) else None
        valid = len(oid) == 64 and all(c in "0123456789abcdef" for c in oid) \
            and isinstance(size, int) and size >= 0
        out.append((oid, size if valid else None))
    return out


# -- the batch API --------------------------------------------------------------------
def batch(ctx: Ctx, ns: str, name: str, prefix: str) -> Response:
    try:
        body = ctx.json()
    except HubStateError as exc:
        return _lfs_error(exc)
    operation = body.get("operation") if isinstance(body, dict) else None
    if operation not in ("upload", "download"):
        return lfs_json({"message": f"Invalid operation: {operation!r}"}, 422)
    repo_type, repo_id = repo_ident(prefix, ns, name)
    try:
        # A reader may upload too: huggingface_hub uploads a pull request's LFS files before opening it.
        staged = operation == "upload" and ctx.user is not None and not ctx.state.may_write(ctx.user, repo_id)
        repo = authorize(ctx, repo_type, repo_id, write=operation == "upload" and not staged)
        staged = staged and not ctx.state.may_write(ctx.user, repo.repo_id)
    except Refused as exc:
        return _lfs_error(exc)
    objects = _parse_objects(body)
    if operation == "upload":
        try:
            answers = _upload_answers(ctx, repo, objects, staged)
        except HubStateError as exc:
            return _lfs_error(exc)
    else:
        answers = [_download_answer(ctx, repo, oid, size) for oid, size in objects]
    return lfs_json({"transfer": "basic", "objects": answers, "hash_algo": "sha256"})


def _invalid(oid: str) -> dict[str, Any]:
    return {"oid": oid, "size": 0, "error": {"code": 422, "message": "Invalid object: oid and size required"}}


def _upload_answers(ctx: Ctx, repo: Repo, objects: list[tuple[str, int | None]],
                    staged: bool = False) -> list[dict[str, Any]]:
    """Actions per object; raises the storage refusal when the new objects do not fit.

    Objects already in the shared store (another repo pushed the same bytes) are
    adopted at once instead of uploaded again, and counted like new ones.
    """
    state = ctx.state
    with state.lock:
        new = {} if staged else {oid: size for oid, size in objects if size is not None and oid not in repo.lfs}
        extra = sum(new.values())
        if extra:
            refusal = state.storage_refusal(repo, extra, lfs=True)
            if refusal is not None:
                raise refusal
        for oid, size in new.items():
            if state.lfs_store.has(oid) and state.lfs_store.size(oid) == size:
                state.add_lfs_object(repo, oid, size)
        answers = []
        for oid, size in objects:
            if size is None:
                answers.append(_invalid(oid))
            elif oid in repo.lfs or (staged and state.lfs_store.has(oid)):
                answers.append({"oid": oid, "size": size, "authenticated": True})
            else:
                header = {"Authorization": ctx.request.headers["Authorization"]} \
                    if "Authorization" in ctx.request.headers else {}
                answers.append({"oid": oid, "size": size, "authenticated": True, "actions": {
                    "upload": {"href": _object_url(ctx, repo, oid, size, staged=staged), "header": header,
                               "expires_in": EXPIRES_IN},
                    "verify": {"href": _object_url(ctx, repo, oid, size, verify=True, staged=staged),
                               "header": header,
                               "expires_in": EXPIRES_IN},
                }})
        return answers


def _download_answer(ctx: Ctx, repo: Repo, oid: str, size: int | None) -> dict[str, Any]:
    if size is None:
        return _invalid(oid)
    owned = repo.lfs.get(oid)
    if owned is None or not ctx.state.lfs_store.has(oid):
        return {"oid": oid, "size": size, "error": {"code": 404, "message": "Object does not exist"}}
    return {"oid": oid, "size": owned.size, "authenticated": True, "actions": {
        "download": {"href": _object_url(ctx, repo, oid, owned.size), "expires_in": EXPIRES_IN}}}


# -- transfers ------------------------------------------------------------------------
def _transfer_repo(ctx: Ctx, repo_type: str, ns: str, name: str, oid: str, *,
                   write: bool) -> tuple[Repo, int, bool]:
    """The repo, declared size and staged flag of a signed transfer URL (or of a caller with the right token)."""
    if len(oid) != 64 or any(c not in "0123456789abcdef" for c in oid):
        raise Refused(404, "Object does not exist")
    try:
        size = int(ctx.request.args.get("size", ""))
    except ValueError as exc:
        raise Refused(400, "Missing or invalid size") from exc
    staged = ctx.request.args.get("staged") == "1"
    repo = ctx.state.find(repo_type, f"{ns}/{name}")
    signed = repo is not None and hmac.compare_digest(ctx.request.args.get("sig", ""),
                                                      _signature(repo, oid, size, staged))
    if not signed:
        staged = False
        repo = authorize(ctx, repo_type, f"{ns}/{name}", write=write)
    assert repo is not None
    return repo, size, staged


def upload_object(ctx: Ctx, repo_type: str, ns: str, name: str, oid: str) -> Response:
    try:
        repo, size, staged = _transfer_repo(ctx, repo_type, ns, name, oid, write=True)
    except Refused as exc:
        return _lfs_error(exc)
    try:
        ctx.state.lfs_store.put_stream(oid, ctx.request.stream, size)
    except ValueError as exc:
        return lfs_json({"message": str(exc)}, 422)
    if not staged:
        ctx.state.add_lfs_object(repo, oid, size)
    return Response(b"", status=200)


def download_object(ctx: Ctx, repo_type: str, ns: str, name: str, oid: str) -> Response:
    try:
        repo, _size, _staged = _transfer_repo(ctx, repo_type, ns, name, oid, write=False)
    except Refused as exc:
        return _lfs_error(exc)
    store = ctx.state.lfs_store
    if oid not in repo.lfs or not store.has(oid):
        return lfs_json({"message": "Object does not exist"}, 404)
    handle = open(store.path(oid), "rb")  # noqa: SIM115 - closed by the WSGI server via wrap_file
    resp = Response(wrap_file(ctx.request.environ, handle), status=200, mimetype="application/octet-stream",
                    direct_passthrough=True)
    resp.headers["Content-Length"] = str(store.size(oid))
    return resp


def verify_object(ctx: Ctx, repo_type: str, ns: str, name: str, oid: str) -> Response:
    try:
        repo, size, staged = _transfer_repo(ctx, repo_type, ns, name, oid, write=False)
    except Refused as exc:
        return _lfs_error(exc)
    store = ctx.state.lfs_store
    if (oid not in repo.lfs and not staged) or not store.has(oid) or store.size(oid) != size:
        return lfs_json({"message": f"Object {oid} not found or size mismatch"}, 404)
    return lfs_json({"message": "Object verified"})


def locks_verify(ctx: Ctx, ns: str, name: str, prefix: str) -> Response:
    """git-lfs asks before every push; the Hub has no file locking, so nobody holds a lock."""
    try:
        authorize(ctx, *repo_ident(prefix, ns, name), write=True)
    except Refused as exc:
        return _lfs_error(exc)
    return lfs_json({"ours": [], "theirs": []})


def locks_list(ctx: Ctx, ns: str, name: str, prefix: str) -> Response:
    try:
        authorize(ctx, *repo_ident(prefix, ns, name), write=False)
    except Refused as exc:
        return _lfs_error(exc)
    return lfs_json({"locks": []})


_T = "<any(model,dataset,space):repo_type>/<ns>/<name>/<oid>"


def repo_routes(base: str, fixed: dict[str, str]) -> list[Rule]:
    """LFS routes under one git URL prefix (`/spaces/<ns>/<name>`, `/<ns>/<name>` ...)."""
    return [
        Rule(f"{base}/info/lfs/objects/batch", endpoint=partial(batch, **fixed), methods=["POST"]),
        Rule(f"{base}/info/lfs/locks/verify", endpoint=partial(locks_verify, **fixed), methods=["POST"]),
        Rule(f"{base}/info/lfs/locks", endpoint=partial(locks_list, **fixed), methods=["GET"]),
    ]


ROUTES = [
    Rule(f"/_sandbox/lfs/{_T}", endpoint=upload_object, methods=["PUT"]),
    Rule(f"/_sandbox/lfs/{_T}", endpoint=download_object, methods=["GET"]),
    Rule(f"/_sandbox/lfs/{_T}/verify", endpoint=verify_object, methods=["POST"]),
]
