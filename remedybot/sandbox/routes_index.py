"""The package index's JSON API (`/pypi/<name>/json`), answered from package_index.yaml (pkgindex.py).

Not part of the Hub: the sandbox serves it so that drift can be checked offline (remedybot's
REMEDYBOT_PYPI_URL points here) and the builder and the index agree on what was released when.
Unknown packages get PyPI's 404 body.
"""

from __future__ import annotations

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from remedybot.sandbox.http import Ctx, json_response
from remedybot.sandbox.pkgindex import json_document


def package_json(ctx: Ctx, name: str) -> Response:
    doc = json_document(name, ctx.state.clock.now())
    if doc is None:
        return Response('{"message": "Not Found"}', status=404, mimetype="application/json")
    return json_response(doc)


ROUTES = [
    Rule("/pypi/<name>/json", endpoint=package_json, methods=["GET"]),
]
