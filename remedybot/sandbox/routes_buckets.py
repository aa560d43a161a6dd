"""Storage Buckets for the sandbox Hub, and the Space volume mounts that use them.

The bucket API huggingface_hub 2.4 speaks: create, info, delete, tree, paths-info,
the NDJSON `batch` (addFile by the Xet hash of a file the client uploaded to the
sandbox's Xet CAS first, xetcas.py and routes_xet.py; copyFile by Xet hash from a
repo or another bucket; deleteFile), and `resolve`, which answers with the file's
`X-Xet-Hash` and a `Link: <xet-read-token>; rel="xet-auth"` (so `hf_xet`
downloads through the CAS) and serves the bytes themselves to a GET. PUT/DELETE
`/api/spaces/{id}/volumes` records mounts (`set_space_volumes`).

Buckets are not repos in `HubState`: this module keeps their metadata in
`buckets.json` beside the state. A file copied from a repo's git-LFS storage
keeps its own copy of the bytes (hard links when possible) under
`buckets/objects`, so purging an LFS object from the Space it was copied from can
never take the bucket's file with it, and is brought into the CAS under its
`xetHash` (`XetCAS.ingest`); a file uploaded through Xet lives in the CAS only.
"""

from __future__ import annotations

import json
import os
import shutil
import weakref
from pathlib import Path
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from remedybot.sandbox.http import Ctx, error_response, json_response
from remedybot.sandbox.routes_files import xet_hash
from remedybot.sandbox.state import HubState, HubStateError
from remedybot.sandbox.xetcas import registry as cas

_REGISTRIES: weakref.WeakKeyDictionary[HubState, Buckets] = weakref.WeakKeyDictionary()


class Buckets:
    """Every bucket of one sandbox: {id: {private, created_at, files: {path: {oid, size, xetHash, mtime}}}}."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.meta_path = root / "buckets.json"
        data = json.loads(self.meta_path.read_text()) if self.meta_path.exists() else {}
        self.buckets: dict[str, dict[str, Any]] = data.get("buckets", {})
        self.volumes: dict[str, list[dict[str, Any]]] = data.get("volumes", {})

    def save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"buckets": self.buckets, "volumes": self.volumes}))
        tmp.replace(self.meta_path)

    def object_path(self, oid: str) -> Path:
        return self.objects / oid[:2] / oid

    def keep(self, source: Path, oid: str) -> None:
        """Own a copy of the bytes (hard link, else copy) unless already held."""
        target = self.object_path(oid)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        tmp.replace(target)


def registry(state: HubState) -> Buckets:
    with state.lock:
        if state not in _REGISTRIES:
            _REGISTRIES[state] = Buckets(state.root / "buckets")
        return _REGISTRIES[state]


def check_bucket(ctx: Ctx, ns: str, name: str, *, write: bool = False) -> tuple[Buckets, str, dict[str, Any]]:
    """The bucket's registry, id and record, for a caller who may read it (or write it)."""
    reg = registry(ctx.state)
    if ctx.token_given and ctx.user is None:
        raise HubStateError(401, "Invalid credentials in Authorization header")
    bucket_id = f"{ns}/{name}"
    bucket = reg.buckets.get(bucket_id)
    mine = ctx.user is not None and ctx.state.may_write(ctx.user, bucket_id)
    if bucket is None or (bucket["private"] and not mine):
        raise HubStateError(404, f"Bucket {bucket_id} not found", "RepoNotFound")
    if write and ctx.user is None:
        ctx.require_user()  # 401: an anonymous write
    if write and not mine:
        raise HubStateError(403, f"You don't have the rights to modify bucket {bucket_id}.")
    return reg, bucket_id, bucket


def _file_json(path: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "file", "path": path, "size": entry["size"], "xetHash": entry["xetHash"],
            "mtime": entry["mtime"], "uploadedAt": entry["mtime"]}


def create(ctx: Ctx, ns: str, name: str) -> Response:
    user = ctx.require_user()
    ns = user.name if ns == "me" else ns
    bucket_id = f"{ns}/{name}"
    if not ctx.state.may_write(user, bucket_id):
        raise HubStateError(403, f"You don't have the rights to create a bucket under {ns}")
    reg = registry(ctx.state)
    url = f"{ctx.state.endpoint}/buckets/{bucket_id}"
    with ctx.state.lock:
        if bucket_id in reg.buckets:
            return json_response({"error": "Bucket already exists", "url": url}, status=409,
                                 headers={"X-Error-Message": "Bucket already exists"})
        body = ctx.json() or {}
        reg.buckets[bucket_id] = {"private": body.get("visibility") == "private" or bool(body.get("private")),
                                  "created_at": ctx.state.clock.iso(ctx.state.clock.now()), "files": {}}
        reg.save()
    return json_response({"url": url, "id": bucket_id, "name": bucket_id})


def info(ctx: Ctx, ns: str, name: str) -> Response:
    reg, bucket_id, bucket = check_bucket(ctx, ns, name, write=ctx.request.method == "DELETE")
    if ctx.request.method == "DELETE":
        with ctx.state.lock:
            reg.buckets.pop(bucket_id, None)
            reg.save()
        return json_response({})
    files = bucket["files"]
    return json_response({"id": bucket_id, "private": bucket["private"], "createdAt": bucket["created_at"],
                          "size": sum(f["size"] for f in files.values()), "totalFiles": len(files)})


def tree(ctx: Ctx, ns: str, name: str, prefix: str = "") -> Response:
    _reg, _bucket_id, bucket = check_bucket(ctx, ns, name)
    prefix = prefix.strip("/")
    # Without `recursive`, the Hub lists every file below the prefix (huggingface_hub's tests rely on it);
    # `recursive=false` lists one level, folders included.
    recursive = ctx.request.args.get("recursive", "true").lower() in ("1", "true")
    out: list[dict[str, Any]] = []
    dirs: set[str] = set()
    for path, entry in sorted(bucket["files"].items()):
        if prefix and not path.startswith(prefix + "/"):
            continue
        rel = path[len(prefix) + 1:] if prefix else path
        if "/" in rel and not recursive:
            dirs.add((prefix + "/" if prefix else "") + rel.split("/")[0])
            continue
        out.append(_file_json(path, entry))
    return json_response([{"type": "directory", "path": d, "uploadedAt": bucket["created_at"]}
                          for d in sorted(dirs)] + out)


def paths_info(ctx: Ctx, ns: str, name: str) -> Response:
    _reg, _bucket_id, bucket = check_bucket(ctx, ns, name)
    paths = (ctx.json() or {}).get("paths") or []
    return json_response([_file_json(p, bucket["files"][p]) for p in paths if p in bucket["files"]])


def batch(ctx: Ctx, ns: str, name: str) -> Response:
    reg, _bucket_id, bucket = check_bucket(ctx, ns, name, write=True)
    failed: list[dict[str, Any]] = []
    count = 0
    with ctx.state.lock:
        for raw in ctx.request.get_data().splitlines():
            if not raw.strip():
                continue
            count += 1
            try:
                op = json.loads(raw)
            except ValueError:
                raise HubStateError(400, "Invalid NDJSON line in bucket batch") from None
            kind, path = op.get("type"), op.get("path") or ""
            if kind == "deleteFile":
                bucket["files"].pop(path, None)
            else:
                error = _add(ctx, bucket, op) if kind == "addFile" else _copy(ctx, reg, bucket, op) \
                    if kind == "copyFile" else f"Unknown operation type {kind!r}"
                if error:
                    failed.append({"path": path, "error": error})
        reg.save()
    return json_response({"failed": failed}, status=422 if failed and len(failed) == count else 200)


def _add(ctx: Ctx, bucket: dict[str, Any], op: dict[str, Any]) -> str | None:
    """Record a file the client uploaded to the CAS (its shard names the Xet hash); an error text or None."""
    wanted = op.get("xetHash") or ""
    size = cas(ctx.state).size(wanted)
    if size is None:
        return f"Xet file {wanted} not found: upload it to the CAS first"
    _record(ctx, bucket, op, {"oid": None, "size": size, "xetHash": wanted})
    return None


def _record(ctx: Ctx, bucket: dict[str, Any], op: dict[str, Any], entry: dict[str, Any]) -> None:
    mtime = op.get("mtime") or int(ctx.state.clock.now() * 1000)
    entry["mtime"] = ctx.state.clock.iso(mtime / 1000)
    if op.get("contentType"):
        entry["contentType"] = op["contentType"]
    bucket["files"][op["path"]] = entry


def _copy(ctx: Ctx, reg: Buckets, bucket: dict[str, Any], op: dict[str, Any]) -> str | None:
    """Copy one file by Xet hash from a repo or a bucket the caller can read; an error text or None."""
    source_type, source_id, wanted = op.get("sourceRepoType"), op.get("sourceRepoId") or "", op.get("xetHash")
    if source_type == "bucket":
        src_ns, _, src_name = source_id.partition("/")
        _r, _i, src = check_bucket(ctx, src_ns, src_name)
        match = next((e for e in src["files"].values() if e["xetHash"] == wanted), None)
        if match is None:
            return "File not found in source bucket"
        if match["oid"] is None:  # uploaded through Xet: the CAS holds it, whoever refers to it
            _record(ctx, bucket, op, {"oid": None, "size": match["size"], "xetHash": wanted})
            return None
        oid, size, source = match["oid"], match["size"], reg.object_path(match["oid"])
    else:
        try:
            repo = ctx.repo(source_type or "model", source_id)
        except HubStateError as exc:
            return exc.message
        oid = next((o for o in repo.lfs if xet_hash(o) == wanted), None)
        if oid is None or not ctx.state.lfs_store.has(oid):
            return "File not found in source repository"
        size, source = repo.lfs[oid].size, ctx.state.lfs_store.path(oid)
    reg.keep(source, oid)
    cas(ctx.state).ingest(wanted, reg.object_path(oid))
    _record(ctx, bucket, op, {"oid": oid, "size": size, "xetHash": wanted})
    return None


def resolve(ctx: Ctx, ns: str, name: str, path: str) -> Response:
    reg, bucket_id, bucket = check_bucket(ctx, ns, name)
    entry = bucket["files"].get(path)
    store = cas(ctx.state)
    held = entry is not None and (reg.object_path(entry["oid"]).exists() if entry["oid"] else
                                  store.size(entry["xetHash"]) is not None)
    if entry is None or not held:
        return error_response(404, f"Entry not found: {path}", "EntryNotFound")
    refresh = f"{ctx.state.endpoint}/api/buckets/{bucket_id}/xet-read-token"
    headers = {"ETag": f'"{entry["oid"] or entry["xetHash"]}"', "X-Linked-Size": str(entry["size"]),
               "X-Xet-Hash": entry["xetHash"], "Link": f'<{refresh}>; rel="xet-auth"'}
    if ctx.request.method == "HEAD":
        resp = Response(b"", headers=headers)
    elif entry["oid"]:
        resp = Response(open(reg.object_path(entry["oid"]), "rb"),  # noqa: SIM115 - closed by the WSGI server
                        headers=headers, mimetype="application/octet-stream", direct_passthrough=True)
    else:
        data = store.read(entry["xetHash"])
        if data is None:
            return error_response(501, f"{path} is stored as compressed Xet chunks, which the sandbox does not "
                                       "unpack: download it with hf_xet (huggingface_hub's download_bucket_files)")
        resp = Response(data, headers=headers, mimetype="application/octet-stream")
    resp.headers["Content-Length"] = str(entry["size"])
    return resp


def volumes(ctx: Ctx, ns: str, name: str) -> Response:
    """Record the Space's mounts; each bucket or repo source must exist (the Hub checks it too)."""
    space_id = f"{ns}/{name}"
    ctx.repo("space", space_id, write=True)
    reg = registry(ctx.state)
    with ctx.state.lock:
        if ctx.request.method == "DELETE":
            reg.volumes.pop(space_id, None)
        else:
            mounts = (ctx.json() or {}).get("volumes") or []
            for mount in mounts:
                if mount.get("type") == "bucket" and mount.get("source") not in reg.buckets:
                    raise HubStateError(404, f"Bucket {mount.get('source')} not found", "RepoNotFound")
                if mount.get("type") in ("model", "dataset"):
                    ctx.repo(mount["type"], mount.get("source") or "")
            reg.volumes[space_id] = mounts
        reg.save()
    return json_response({})


ROUTES = [
    Rule("/api/buckets/<ns>/<name>", endpoint=create, methods=["POST"]),
    Rule("/api/buckets/<ns>/<name>", endpoint=info, methods=["GET", "DELETE"]),
    Rule("/api/buckets/<ns>/<name>/tree", endpoint=tree, methods=["GET"]),
    Rule("/api/buckets/<ns>/<name>/tree/<path:prefix>", endpoint=tree, methods=["GET"]),
    Rule("/api/buckets/<ns>/<name>/paths-info", endpoint=paths_info, methods=["POST"]),
    Rule("/api/buckets/<ns>/<name>/batch", endpoint=batch, methods=["POST"]),
    Rule("/buckets/<ns>/<name>/resolve/<path:path>", endpoint=resolve, methods=["GET", "HEAD"]),
    Rule("/api/spaces/<ns>/<name>/volumes", endpoint=volumes, methods=["PUT", "DELETE"]),
]
