"""Content routes: preupload, commit (NDJSON), validate-yaml, revision, tree,
paths-info, resolve downloads, commits, refs, branches, tags, super-squash and
the lfs-files list / batch delete / duplicate endpoints."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from typing import Any
from urllib.parse import unquote

import yaml
from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from remedybot.sandbox import gitrules
from remedybot.sandbox.http import TYPE_FROM_PLURAL, Ctx, json_response
from remedybot.sandbox.repostore import git_blob_sha, lfs_pointer, parse_lfs_pointer
from remedybot.sandbox.routes_repos import PREFIX
from remedybot.sandbox.state import HubStateError, Repo

MAX_REGULAR = 10 * 1024 * 1024
T = "<any(models,datasets,spaces):plural>"


def xet_hash(oid: str) -> str:
    """A stable stand-in for the Xet hash the client needs to request server-side copies."""
    return hashlib.sha256(f"xet:{oid}".encode()).hexdigest()


def _repo(ctx: Ctx, plural: str, ns: str, name: str, write: bool = False) -> Repo:
    return ctx.repo(TYPE_FROM_PLURAL[plural], f"{ns}/{name}", write=write)


def _raw_rest(ctx: Ctx, marker: str) -> list[str]:
    """Path segments after `marker`, decoded one by one so '%2F' inside a revision survives."""
    raw = ctx.request.environ.get("RAW_URI") or ctx.request.environ.get("REQUEST_URI") or ctx.request.path
    raw = raw.split("?", 1)[0]
    segments = raw.split("/")
    idx = segments.index(marker)
    return [unquote(s) for s in segments[idx + 1:]]


def _resolve_rev(ctx: Ctx, repo: Repo, rev: str) -> str:
    git = ctx.state.git(repo)
    named = rev.startswith("refs/") or len(rev) == 40
    sha = git.resolve(rev) if named else git.head(rev) or git.resolve(rev)  # a branch, else a tag or short sha
    if sha is None:
        raise HubStateError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
    return sha


def _lfs_entry(ctx: Ctx, repo: Repo, blob_oid: str, size: int) -> dict[str, Any] | None:
    if size >= 1024:
        return None
    pointer = parse_lfs_pointer(ctx.state.git(repo).read_blob(blob_oid))
    if pointer is None:
        return None
    return {"oid": pointer[0], "size": pointer[1], "pointerSize": size}


def _file_json(ctx: Ctx, repo: Repo, path: str, oid: str, size: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "file", "oid": oid, "size": size, "path": path}
    lfs = _lfs_entry(ctx, repo, oid, size)
    if lfs:
        entry["size"] = lfs["size"]
        entry["lfs"] = lfs
        if repo.xet:
            entry["xetHash"] = xet_hash(lfs["oid"])
    return entry


# -- commit protocol -----------------------------------------------------------
TRUE = ("1", "true", "True")


def _branch_head(git, rev: str) -> str | None:
    """The commit a branch (or a full ref such as refs/pr/1) points at; None for a branch to be created."""
    return git.resolve(rev if rev.startswith("refs/") else f"refs/heads/{rev}")


def _remote_oid(git, entry) -> str:
    """The oid preupload reports for a file at HEAD: the sha256 of an LFS file, else the git blob sha."""
    if entry.size < 1024:
        pointer = parse_lfs_pointer(git.read_blob(entry.oid))
        if pointer:
            return pointer[0]
    return entry.oid


def preupload(ctx: Ctx, plural: str, ns: str, name: str, rev: str) -> Response:
    """Upload modes as the Hub decides them: .gitattributes first, then size and binary content."""
    create_pr = ctx.request.args.get("create_pr") in TRUE
    repo = _repo(ctx, plural, ns, name, write=not create_pr)
    ctx.require_user()
    git = ctx.state.git(repo)
    head = _branch_head(git, "/".join(_raw_rest(ctx, "preupload")))
    current = {e.path: e for e in git.tree(head)} if head else {}
    body = ctx.json()
    attributes = (git.read_file(head, ".gitattributes") or b"").decode("utf-8", "replace") if head else ""
    gitignore = body.get("gitIgnore")
    if gitignore is None and head:
        gitignore = (git.read_file(head, ".gitignore") or b"").decode("utf-8", "replace")
    out = []
    for item in body.get("files", []):
        path = item["path"]
        sample = base64.b64decode(item.get("sample", "") or "")
        lfs = gitrules.tracked_by_lfs(attributes, path) or item.get("size", 0) > MAX_REGULAR or b"\0" in sample
        entry = current.get(path)
        out.append({"path": path, "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": gitrules.ignored(gitignore, path),
                    "oid": _remote_oid(git, entry) if entry else None})
    return json_response({"files": out, "commitOid": head})


def _check_path(path: str) -> str:
    """Refuse a path that climbs out of the repo, as the Hub does (422)."""
    parts = path.replace("\\", "/").split("/")
    if not path or path.startswith("/") or ".." in parts or "." in parts:
        raise HubStateError(422, f"Invalid path in repo: {path!r}")
    return path


def _operations(ctx: Ctx) -> tuple[dict[str, Any], dict[str, bytes], dict[str, tuple[str, int]], list[str]]:
    """The commit's NDJSON body: (header, regular files, LFS files, deleted paths)."""
    header: dict[str, Any] = {}
    adds: dict[str, bytes] = {}
    lfs_adds: dict[str, tuple[str, int]] = {}
    deletes: list[str] = []
    for raw_line in ctx.request.get_data().splitlines():
        if not raw_line.strip():
            continue
        try:
            item = json.loads(raw_line)
        except ValueError as exc:
            raise HubStateError(400, f"Invalid NDJSON line: {exc}") from exc
        key, value = item.get("key"), item.get("value", {})
        if key == "header":
            header = value
        elif key == "file":
            data = base64.b64decode(value["content"]) if value.get("encoding") == "base64" else \
                value["content"].encode()
            if len(data) > MAX_REGULAR:
                raise HubStateError(400, f"File {value['path']} is larger than 10 MB: use LFS")
            adds[_check_path(value["path"])] = data
        elif key == "lfsFile":
            oid = value["oid"]
            size = value.get("size")
            if size is None:
                if not ctx.state.lfs_store.has(oid):
                    raise HubStateError(422, f"LFS object {oid} not found")
                size = ctx.state.lfs_store.size(oid)
            lfs_adds[_check_path(value["path"])] = (oid, int(size))
        elif key in ("deletedFile", "deletedFolder"):
            deletes.append(value["path"])
        else:
            raise HubStateError(400, f"Unknown commit operation key: {key}")
    return header, adds, lfs_adds, deletes


def commit(ctx: Ctx, plural: str, ns: str, name: str, rev: str) -> Response:
    """A commit to a branch, or with `create_pr` a pull request against it (read access is enough)."""
    create_pr = ctx.request.args.get("create_pr") in TRUE
    repo = _repo(ctx, plural, ns, name, write=not create_pr)
    user = ctx.require_user()
    header, adds, lfs_adds, deletes = _operations(ctx)
    branch = unquote(rev)
    base = f"{ctx.state.endpoint}/{PREFIX[repo.repo_type]}{repo.repo_id}"
    if create_pr:
        from remedybot.sandbox.routes_discussions import open_pull_request

        if ctx.state.git(repo).head(branch) is None:  # a commit id, a tag or no such branch
            raise HubStateError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
        sha, pr = open_pull_request(ctx, repo, header.get("summary") or "Update",
                                    header.get("description") or "", adds, lfs_adds, deletes, base=branch)
        return json_response({"success": True, "commitUrl": f"{base}/commit/{sha}", "commitOid": sha,
                              "pullRequestUrl": f"{base}/discussions/{pr.num}", "hookOutput": ""})
    message = header.get("summary") or "Update"
    if header.get("description"):
        message += "\n\n" + header["description"]
    sha = ctx.state.commit(repo, user=user.name, message=message, adds=adds, lfs_adds=lfs_adds,
                           deletes=deletes, branch=branch, parent=header.get("parentCommit"))
    return json_response({"success": True, "commitUrl": f"{base}/commit/{sha}", "commitOid": sha,
                          "hookOutput": ""})


EMPTY_METADATA = ("Empty or missing yaml metadata in repo card "
                  "(https://huggingface.co/docs/hub/model-cards#model-card-metadata)")


def _metadata_problems(content: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) for a README's front matter, the checks the Hub makes before a commit."""
    content = content.lstrip()  # the front matter may follow blank lines
    if not content.startswith("---"):
        return [], [EMPTY_METADATA]
    end = content.find("\n---", 3)
    try:
        data = yaml.safe_load(content[3:end] if end != -1 else content[3:])
    except yaml.YAMLError as exc:
        return [f"Invalid YAML in README.md metadata: {exc}"], []
    if data is None:
        return [], [EMPTY_METADATA]
    if not isinstance(data, dict):
        return ["YAML metadata must be a mapping"], []
    index = data.get("model-index")
    if index is not None and not (isinstance(index, list) and all(
            isinstance(m, dict) and "name" in m and isinstance(m.get("results"), list) for m in index)):
        return ['"model-index" must be an array of {name, results[]} objects'], []
    return [], []


def validate_yaml(ctx: Ctx) -> Response:
    errors, warnings = _metadata_problems(ctx.json().get("content", ""))
    body = {"errors": [{"message": m} for m in errors], "warnings": [{"message": m} for m in warnings]}
    if errors:
        resp = json_response(body, status=400)
        resp.headers["X-Error-Message"] = errors[0]
        return resp
    return json_response(body)


def xet_read_token(ctx: Ctx, plural: str, ns: str, name: str, rest: str) -> Response:
    """Where a Xet-aware client asks for CAS access: the sandbox has no CAS (files come through resolve)."""
    _repo(ctx, plural, ns, name)
    raise HubStateError(501, "The sandbox Hub has no Xet CAS: set HF_HUB_DISABLE_XET=1 to download through "
                             "the resolve URL")


# -- reading -------------------------------------------------------------------
def revision(ctx: Ctx, plural: str, ns: str, name: str, rev: str) -> Response:
    from remedybot.sandbox.routes_repos import info_json

    repo = _repo(ctx, plural, ns, name)
    rev = "/".join(_raw_rest(ctx, "revision"))
    _resolve_rev(ctx, repo, rev)
    return json_response(info_json(ctx, repo, revision=rev))


def tree(ctx: Ctx, plural: str, ns: str, name: str, rest: str) -> Response:
    repo = _repo(ctx, plural, ns, name)
    parts = _raw_rest(ctx, "tree")
    rev, prefix = parts[0], "/".join(parts[1:]).strip("/")
    sha = _resolve_rev(ctx, repo, rev)
    recursive = ctx.request.args.get("recursive", "").lower() in ("1", "true")
    entries = ctx.state.git(repo).tree(sha)
    out: list[dict[str, Any]] = []
    dirs: set[str] = set()
    for entry in entries:
        if prefix and not entry.path.startswith(prefix + "/"):
            continue
        rel = entry.path[len(prefix) + 1:] if prefix else entry.path
        if "/" in rel and not recursive:
            dirs.add((prefix + "/" if prefix else "") + rel.split("/")[0])
            continue
        if recursive:
            bits = rel.split("/")[:-1]
            for i in range(1, len(bits) + 1):
                dirs.add((prefix + "/" if prefix else "") + "/".join(bits[:i]))
        out.append(_file_json(ctx, repo, entry.path, entry.oid, entry.size))
    if prefix and not out and not dirs:
        raise HubStateError(404, f"{prefix} does not exist on {rev}", "EntryNotFound")
    folders = [{"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0, "path": d}
               for d in sorted(dirs)]
    return json_response(folders + out)


def paths_info(ctx: Ctx, plural: str, ns: str, name: str, rest: str) -> Response:
    repo = _repo(ctx, plural, ns, name)
    rev = "/".join(_raw_rest(ctx, "paths-info"))
    sha = _resolve_rev(ctx, repo, rev)
    paths = ctx.request.form.getlist("paths")
    if not paths and ctx.request.is_json:
        paths = ctx.json().get("paths", [])
    expand = (ctx.request.form.get("expand") or "").lower() in TRUE or \
        (ctx.request.is_json and ctx.json().get("expand") is True)
    entries = {e.path: e for e in ctx.state.git(repo).tree(sha)}
    out = []
    for path in paths:
        path = path.strip("/")
        if path in entries:
            e = entries[path]
            item = _file_json(ctx, repo, e.path, e.oid, e.size)
            if expand:
                item["lastCommit"] = _last_commit(ctx, repo, sha, path)
            out.append(item)
        elif any(p.startswith(path + "/") for p in entries):
            out.append({"type": "directory", "oid": hashlib.sha1(path.encode()).hexdigest(), "size": 0,
                        "path": path})
    return json_response(out)


def _last_commit(ctx: Ctx, repo: Repo, sha: str, path: str) -> dict[str, str] | None:
    """The latest commit (from `sha` back) that changed `path`: what paths-info answers with expand."""
    out = ctx.state.git(repo).git("log", "-1", "--format=%H%x1f%s%x1f%aI", sha, "--", path, check=False)
    if not out.strip():
        return None
    oid, title, date = out.decode("utf-8", "replace").strip().split("\x1f", 2)
    return {"id": oid, "title": title, "date": _hub_date(date)}


def resolve(ctx: Ctx, prefix: str, ns: str, name: str, rest: str) -> Response:
    """File downloads: X-Repo-Commit, ETag and size headers; bytes served directly."""
    plural = {"": "models", "datasets": "datasets", "spaces": "spaces"}[prefix]
    repo = _repo(ctx, plural, ns, name)
    parts = _raw_rest(ctx, "resolve")
    rev, path = parts[0], "/".join(parts[1:])
    sha = _resolve_rev(ctx, repo, rev)
    data = ctx.state.git(repo).read_file(sha, path)
    if data is None:
        raise HubStateError(404, f"Entry not found: {path}", "EntryNotFound")
    headers = {"X-Repo-Commit": sha}
    pointer = parse_lfs_pointer(data)
    if pointer:
        oid, size = pointer
        if not ctx.state.lfs_store.has(oid):
            raise HubStateError(404, f"LFS object of {path} is missing", "EntryNotFound")
        headers.update({"ETag": f'"{oid}"', "X-Linked-Etag": f'"{oid}"', "X-Linked-Size": str(size)})
        if repo.xet:  # what the Hub adds for a Xet-backed file; the bytes still come from this URL (LFS bridge)
            refresh = f"{ctx.state.endpoint}/api/{plural}/{repo.repo_id}/xet-read-token/{sha}"
            headers.update({"X-Xet-Hash": xet_hash(oid), "Link": f'<{refresh}>; rel="xet-auth"'})
        body: Any = open(ctx.state.lfs_store.path(oid), "rb")  # noqa: SIM115 - closed by the WSGI server
        length = size
    else:
        headers["ETag"] = f'"{git_blob_sha(data)}"'
        body, length = data, len(data)
    if ctx.request.method == "HEAD":
        if hasattr(body, "close"):
            body.close()
        resp = Response(b"", status=200, headers=headers)
        resp.headers["Content-Length"] = str(length)
        return resp
    resp = Response(body, status=200, headers=headers, mimetype="application/octet-stream",
                    direct_passthrough=True)
    resp.headers["Content-Length"] = str(length)
    return resp


def commits(ctx: Ctx, plural: str, ns: str, name: str, rest: str) -> Response:
    repo = _repo(ctx, plural, ns, name)
    rev = "/".join(_raw_rest(ctx, "commits"))
    sha = _resolve_rev(ctx, repo, rev)
    formatted = "formatted" in ctx.multi("expand")
    out = []
    for c in ctx.state.git(repo).log(sha):
        item: dict[str, Any] = {"id": c.oid, "title": c.title, "message": c.message, "authors": [{"user": c.author}],
                                "date": _hub_date(c.date)}
        if formatted:  # the Hub renders Markdown; the sandbox escapes the text into a paragraph
            item["formatted"] = {"title": f"<p>{html.escape(c.title)}</p>",
                                 "message": f"<p>{html.escape(c.message)}</p>"}
        out.append(item)
    return json_response(out)


def _hub_date(git_iso: str) -> str:
    """git's '2026-11-28T13:12:45+00:00' in the Hub's '2026-11-28T13:12:45.000Z'."""
    from datetime import UTC, datetime

    return datetime.fromisoformat(git_iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def refs(ctx: Ctx, plural: str, ns: str, name: str) -> Response:
    repo = _repo(ctx, plural, ns, name)
    git = ctx.state.git(repo)
    data: dict[str, Any] = {
        "branches": [{"name": n, "ref": f"refs/heads/{n}", "targetCommit": s} for n, s in git.branches().items()],
        "tags": [{"name": n, "ref": f"refs/tags/{n}", "targetCommit": s} for n, s in git.tags().items()],
        "converts": [],
    }
    if ctx.request.args.get("include_prs"):
        data["pullRequests"] = [{"name": f"refs/pr/{d.num}", "ref": f"refs/pr/{d.num}",
                                 "targetCommit": git.resolve(f"refs/pr/{d.num}")}
                                for d in repo.discussions if d.is_pr and git.resolve(f"refs/pr/{d.num}")]
    return json_response(data)


def branch(ctx: Ctx, plural: str, ns: str, name: str, branch: str) -> Response:
    repo = _repo(ctx, plural, ns, name, write=True)
    git = ctx.state.git(repo)
    ref = f"refs/heads/{branch}"
    if ctx.request.method == "DELETE":
        if branch == "main":
            raise HubStateError(403, f"Cannot delete {ref}: it is the default branch")
        if git.resolve(ref) is None:
            raise HubStateError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
        git.set_ref(ref, None)
        return json_response({})
    target = _resolve_rev(ctx, repo, ctx.json().get("startingPoint") or "main")
    _check_ref_name("branch", branch)
    if git.resolve(ref):
        raise HubStateError(409, f"Reference {ref} already exists")
    git.set_ref(ref, target)
    return json_response({})


_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|^/|/$|\.lock$|^\.|/\.|\.$|^@$")


def _check_ref_name(kind: str, name: str) -> None:
    """git's rules for a ref name (git-check-ref-format): a name git would refuse is the client's 400, not a 500."""
    if _BAD_REF.search(name):
        raise HubStateError(400, f"Invalid {kind} name: '{name}'")


def tag(ctx: Ctx, plural: str, ns: str, name: str, rev: str) -> Response:
    repo = _repo(ctx, plural, ns, name, write=True)
    git = ctx.state.git(repo)
    if ctx.request.method == "DELETE":
        if f"refs/tags/{rev}" not in {f"refs/tags/{t}" for t in git.tags()}:
            raise HubStateError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        git.set_ref(f"refs/tags/{rev}", None)
        return json_response({})
    tag_name = ctx.json().get("tag")
    if not tag_name:
        raise HubStateError(400, "Missing tag name")
    target = _resolve_rev(ctx, repo, rev)  # the Hub answers a missing revision (404) before a bad name
    _check_ref_name("tag", tag_name)
    if git.resolve(f"refs/tags/{tag_name}"):
        raise HubStateError(409, f"Tag {tag_name} already exists")
    git.set_ref(f"refs/tags/{tag_name}", target)
    return json_response({})


def super_squash(ctx: Ctx, plural: str, ns: str, name: str, branch: str) -> Response:
    repo = _repo(ctx, plural, ns, name, write=True)
    assert ctx.user is not None
    message = ctx.json().get("message") or "Super-squash branch using huggingface_hub"
    with ctx.state.lock:
        ctx.state.git(repo).squash(branch, message, ctx.user.name)
        ctx.state.drop_unreferenced_lfs(repo)
        if branch == "main":
            ctx.state.on_main_moved(repo, "commit")
    return json_response({"commitId": ctx.state.git(repo).head(branch)})


def _lfs_refs(git) -> dict[str, str]:
    """sha256 -> the first ref (main first, then other branches, tags, PRs) whose tip tree points at it."""
    refs = {"refs/heads/main": git.head("main")}
    refs.update({f"refs/heads/{b}": sha for b, sha in sorted(git.branches().items()) if b != "main"})
    refs.update({f"refs/tags/{t}": sha for t, sha in sorted(git.tags().items())})
    found: dict[str, str] = {}
    for ref, sha in refs.items():
        if sha:
            for oid in git.head_lfs_oids(sha):
                found.setdefault(oid, ref)
    return found


def lfs_files(ctx: Ctx, plural: str, ns: str, name: str) -> Response:
    repo = _repo(ctx, plural, ns, name, write=True)
    where = _lfs_refs(ctx.state.git(repo))
    out = []
    for oid, o in sorted(repo.lfs.items(), key=lambda kv: kv[1].pushed_at):
        item = {"fileOid": oid, "oid": git_blob_sha(lfs_pointer(oid, o.size)), "filename": o.filename,
                "pushedAt": ctx.state.clock.iso(o.pushed_at), "ref": where.get(oid), "size": o.size}
        if repo.xet:
            item["xetHash"] = xet_hash(oid)
        out.append(item)
    return json_response(out)


def lfs_files_batch(ctx: Ctx, plural: str, ns: str, name: str) -> Response:
    repo = _repo(ctx, plural, ns, name, write=True)
    deletions = ctx.json().get("deletions", {})
    oids = [oid for oid in deletions.get("sha", []) if isinstance(oid, str)]
    with ctx.state.lock:
        for oid in oids:
            repo.lfs.pop(oid, None)
            ctx.state.release_lfs_object(oid)
        if deletions.get("rewriteHistory") and oids:  # the pointers go too: history is rewritten
            moved = ctx.state.git(repo).strip_lfs_pointers(set(oids))
            if "refs/heads/main" in moved:
                ctx.state.on_main_moved(repo, "commit")
    return json_response({})


def lfs_files_duplicate(ctx: Ctx, plural: str, ns: str, name: str) -> Response:
    source = _repo(ctx, plural, ns, name)
    body = ctx.json()
    target_info = body.get("target") or {}
    target = ctx.repo(target_info.get("type", "model"), target_info.get("name", ""), write=True)
    failed = []
    for item in body.get("files", []):
        oid = item.get("sha256")
        if oid in source.lfs and ctx.state.lfs_store.has(oid):
            ctx.state.add_lfs_object(target, oid, source.lfs[oid].size, item.get("filename", ""))
        else:
            failed.append({"sha256": oid, "error": "File not found in source repository"})
    return json_response({"failed": failed})


ROUTES = [
    Rule(f"/api/{T}/<ns>/<name>/preupload/<path:rev>", endpoint=preupload, methods=["POST"]),
    Rule(f"/api/{T}/<ns>/<name>/commit/<path:rev>", endpoint=commit, methods=["POST"]),
    Rule("/api/validate-yaml", endpoint=validate_yaml, methods=["POST"]),
    Rule(f"/api/{T}/<ns>/<name>/xet-read-token/<path:rest>", endpoint=xet_read_token, methods=["GET"]),
    Rule(f"/api/{T}/<ns>/<name>/revision/<path:rev>", endpoint=revision, methods=["GET"]),
    Rule(f"/api/{T}/<ns>/<name>/tree/<path:rest>", endpoint=tree, methods=["GET"]),
    Rule(f"/api/{T}/<ns>/<name>/paths-info/<path:rest>", endpoint=paths_info, methods=["POST"]),
    Rule(f"/api/{T}/<ns>/<name>/commits/<path:rest>", endpoint=commits, methods=["GET"]),
    Rule(f"/api/{T}/<ns>/<name>/refs", endpoint=refs, methods=["GET"]),
    Rule(f"/api/{T}/<ns>/<name>/branch/<path:branch>", endpoint=branch, methods=["POST", "DELETE"]),
    Rule(f"/api/{T}/<ns>/<name>/tag/<path:rev>", endpoint=tag, methods=["POST", "DELETE"]),
    Rule(f"/api/{T}/<ns>/<name>/super-squash/<path:branch>", endpoint=super_squash, methods=["POST"]),
    Rule(f"/api/{T}/<ns>/<name>/lfs-files", endpoint=lfs_files, methods=["GET"]),
    Rule(f"/api/{T}/<ns>/<name>/lfs-files/batch", endpoint=lfs_files_batch, methods=["POST"]),
    Rule(f"/api/{T}/<ns>/<name>/lfs-files/duplicate", endpoint=lfs_files_duplicate, methods=["POST"]),
    Rule("/<any(datasets,spaces):prefix>/<ns>/<name>/resolve/<path:rest>", endpoint=resolve,
         methods=["GET", "HEAD"]),
    Rule("/<ns>/<name>/resolve/<path:rest>", endpoint=resolve, methods=["GET", "HEAD"],
         defaults={"prefix": ""}),
]
