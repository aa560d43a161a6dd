"""The Xet routes of the sandbox Hub: access tokens on the Hub side, and the CAS itself (xetcas.py).

Hub side: GET `/api/buckets/{id}/xet-read-token` and `xet-write-token` answer
`{"accessToken", "exp", "casUrl"}` (what `hf_xet` reads; the same in `X-Xet-*` headers, which
huggingface_hub's own helper reads) for a caller who may read, or write, the bucket.

CAS side, under `{endpoint}/xet-cas` (the Hub's CAS is a host of its own; here a prefix of the same
server, not rate-limited as Hub API):

- POST/HEAD `/v1/xorbs/default/{hash}`; POST `/v1/shards`. There is no `/v2/shards` and no
  `/v1/xorb-grants/...` (which hf_xet 1.8 asks first): their 404 makes the client fall back to the v1
  shard upload and the plain xorb POST, as it is written to.
- GET `/v1/chunks/{prefix}/{hash}`: always 404 (no global deduplication).
- GET `/v1/reconstructions/{hash}` and `/v2/...`, with an optional `Range: bytes=a-b`.
- GET `/xet-cas/xorb/{hash}?sig=...`: the signed URL a reconstruction hands out for byte ranges of a
  stored xorb (no token, like the CAS's presigned S3 URLs).
- POST `/v1/telemetry`, which the client sends to the root of the CAS host: accepted and dropped.
"""

from __future__ import annotations

import functools
import re

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from remedybot.sandbox import xetcas
from remedybot.sandbox.http import Ctx, error_response, json_response, token_from
from remedybot.sandbox.routes_buckets import check_bucket
from remedybot.sandbox.xetcas import PREFIX, CasError, FormatError, XetCAS
from remedybot.sandbox.xetcas import registry as cas

_RANGE = re.compile(r"bytes=(\d+)-(\d+)$")


def _token_answer(ctx: Ctx, scope: str) -> Response:
    token, expiry = cas(ctx.state).issue(scope)
    url = ctx.state.endpoint + PREFIX
    return json_response({"accessToken": token, "exp": expiry, "casUrl": url},
                         headers={"X-Xet-Access-Token": token, "X-Xet-Expiration": str(expiry),
                                  "X-Xet-Endpoint": url})


def bucket_read_token(ctx: Ctx, ns: str, name: str, rev: str = "") -> Response:
    check_bucket(ctx, ns, name)
    return _token_answer(ctx, "read")


def bucket_write_token(ctx: Ctx, ns: str, name: str, rev: str = "") -> Response:
    check_bucket(ctx, ns, name, write=True)
    return _token_answer(ctx, "write")


def _guard(ctx: Ctx, scope: str) -> XetCAS:
    store = cas(ctx.state)
    store.authorize(token_from(ctx.request), scope)
    return store


def _cas_call(handler):  # type: ignore[no-untyped-def]
    """Turn a CasError or FormatError into the CAS's error answer (plain JSON, no Hub error codes)."""
    @functools.wraps(handler)
    def wrapped(ctx: Ctx, **args: str) -> Response:
        try:
            return handler(ctx, **args)
        except CasError as exc:
            return error_response(exc.status, exc.message)
        except FormatError as exc:
            return error_response(400, f"Bad serialization: {exc}")
    return wrapped


def _hash(text: str) -> str:
    if not xetcas.is_hash(text):
        raise CasError(400, f"Malformed hash: {text!r}")
    return text


@_cas_call
def xorb(ctx: Ctx, prefix: str, hash: str) -> Response:
    store = _guard(ctx, "read" if ctx.request.method == "HEAD" else "write")
    xorb_hash = _hash(hash)
    if prefix != "default":
        raise CasError(400, f"Unknown xorb prefix {prefix!r}")
    if ctx.request.method == "HEAD":
        return Response(status=200 if store.has_xorb(xorb_hash) else 404)
    return json_response({"was_inserted": store.put_xorb(xorb_hash, ctx.request.get_data())})


@_cas_call
def shard(ctx: Ctx) -> Response:
    store = _guard(ctx, "write")
    return json_response({"result": store.put_shard(ctx.request.get_data())})


@_cas_call
def chunk(ctx: Ctx, prefix: str, hash: str) -> Response:
    _guard(ctx, "read")
    _hash(hash)
    raise CasError(404, "Chunk not tracked: the sandbox CAS has no global deduplication")


def telemetry(ctx: Ctx) -> Response:
    """The client's transfer report (fire-and-forget): accepted and dropped."""
    return json_response({})


@_cas_call
def reconstruction(ctx: Ctx, version: str, hash: str) -> Response:
    store = _guard(ctx, "read")
    first, last = 0, None
    wanted = ctx.request.headers.get("Range")
    if wanted:
        match = _RANGE.match(wanted.strip())
        if match is None:
            raise CasError(400, f"Unsupported Range header {wanted!r}: expected bytes=<start>-<end>")
        first, last = int(match.group(1)), int(match.group(2))
    offset, terms, pieces = store.reconstruction(_hash(hash), first, last)
    body: dict[str, object] = {
        "offset_into_first_range": offset,
        "terms": [{"hash": t.xorb, "unpacked_length": t.size, "range": {"start": t.start, "end": t.end}}
                  for t in terms]}
    base = ctx.state.endpoint + PREFIX
    fetch: dict[str, list[dict[str, object]]] = {}
    for p in pieces:
        url = f"{base}/xorb/{p.xorb}?sig={store.sign(p.xorb)}"
        chunks, span = {"start": p.start, "end": p.end}, {"start": p.first, "end": p.last}
        fetch.setdefault(p.xorb, []).append({"range": chunks, "url": url, "url_range": span} if version == "v1"
                                            else {"url": url, "ranges": [{"chunks": chunks, "bytes": span}]})
    body["fetch_info" if version == "v1" else "xorbs"] = fetch
    return json_response(body)


@_cas_call
def xorb_bytes(ctx: Ctx, hash: str) -> Response:
    """Byte ranges of a stored xorb, for the signed URLs a reconstruction hands out."""
    store = cas(ctx.state)
    xorb_hash = _hash(hash)
    if ctx.request.args.get("sig") != store.sign(xorb_hash) or not store.has_xorb(xorb_hash):
        raise CasError(403, "Bad or expired signature")
    data = store.xorb_path(xorb_hash).read_bytes()
    wanted = ctx.request.headers.get("Range", "")
    spans = [(int(a), int(b)) for a, b in re.findall(r"(\d+)-(\d+)", wanted)]
    if not spans:
        return Response(data, mimetype="application/octet-stream")
    if len(spans) > 1:
        raise CasError(416, "The sandbox CAS serves one byte range per request (its URLs name one each)")
    first, last = spans[0]
    if first > last or first >= len(data):
        raise CasError(416, f"Range {wanted!r} outside the xorb's {len(data)} bytes")
    last = min(last, len(data) - 1)
    return Response(data[first:last + 1], status=206, mimetype="application/octet-stream",
                    headers={"Content-Range": f"bytes {first}-{last}/{len(data)}"})


ROUTES = [
    Rule("/api/buckets/<ns>/<name>/xet-read-token", endpoint=bucket_read_token, methods=["GET"]),
    Rule("/api/buckets/<ns>/<name>/xet-read-token/<path:rev>", endpoint=bucket_read_token, methods=["GET"]),
    Rule("/api/buckets/<ns>/<name>/xet-write-token", endpoint=bucket_write_token, methods=["GET"]),
    Rule("/api/buckets/<ns>/<name>/xet-write-token/<path:rev>", endpoint=bucket_write_token, methods=["GET"]),
    Rule(f"{PREFIX}/v1/xorbs/<prefix>/<hash>", endpoint=xorb, methods=["POST", "HEAD"]),
    Rule(f"{PREFIX}/v1/shards", endpoint=shard, methods=["POST"]),
    Rule(f"{PREFIX}/v1/chunks/<prefix>/<hash>", endpoint=chunk, methods=["GET"]),
    Rule("/v1/telemetry", endpoint=telemetry, methods=["POST"]),  # at the CAS host's root, whatever casUrl's path
    Rule(f"{PREFIX}/<any(v1, v2):version>/reconstructions/<hash>", endpoint=reconstruction, methods=["GET"]),
    Rule(f"{PREFIX}/xorb/<hash>", endpoint=xorb_bytes, methods=["GET"]),
]
