"""The status page and the sandbox's own admin routes (`/_sandbox/...`).

Admin routes let tests and the demo steer the world the way Hugging Face
would: start or end a platform incident, move the clock, read a snapshot of
every repo (to prove a dry run changed nothing). They need the token of a
user, and are never part of the Hub API a client sees.
"""

from __future__ import annotations

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from remedybot.sandbox.http import Ctx, json_response


def status_page(ctx: Ctx) -> Response:
    return json_response(ctx.state.status.to_json())


def incident(ctx: Ctx) -> Response:
    ctx.require_user()
    body = ctx.json()
    if body.get("active", True):
        ctx.state.start_incident(body.get("component", "Spaces"), body.get("state", "degraded"))
    else:
        ctx.state.end_incident()
    return json_response({"incident_active": ctx.state.incident_active})


def clock_advance(ctx: Ctx) -> Response:
    ctx.require_user()
    ctx.state.clock.advance(float(ctx.json().get("seconds", 0)))
    return json_response({"now": ctx.state.clock.iso(ctx.state.clock.now())})


def snapshot(ctx: Ctx) -> Response:
    ctx.require_user()
    return json_response(ctx.state.snapshot())


def block(ctx: Ctx, ns: str, name: str) -> Response:
    """Let staff block a Space by rule (the abuse handler); nothing the owner does clears it."""
    ctx.require_user()
    repo = ctx.state.get("space", f"{ns}/{name}", ctx.user)
    assert repo.space is not None
    rule = ctx.json().get("rule", "Manual review")
    repo.space.conditions["blocked_rule"] = rule
    ctx.state.start_build(repo, "restart")
    return json_response({"blocked": rule})


ROUTES = [
    Rule("/_sandbox/status/index.json", endpoint=status_page, methods=["GET"]),
    Rule("/_sandbox/incident", endpoint=incident, methods=["POST"]),
    Rule("/_sandbox/clock/advance", endpoint=clock_advance, methods=["POST"]),
    Rule("/_sandbox/snapshot", endpoint=snapshot, methods=["GET"]),
    Rule("/_sandbox/block/<ns>/<name>", endpoint=block, methods=["POST"]),
]
