"""`/api/settings/webhooks`: create, list, get, update, enable, disable and delete webhooks,
as huggingface_hub's `HfApi.*_webhook` methods call them; and `/_sandbox/webhooks/deliveries`,
what the sandbox sent (its own admin route). The registry and delivery are in `webhooks.py`."""

from __future__ import annotations

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from remedybot.sandbox.http import Ctx, json_response

BASE = "/api/settings/webhooks"


def list_webhooks(ctx: Ctx) -> Response:
    user = ctx.require_user()
    return json_response([h.to_json() for h in ctx.state.webhooks.owned_by(user)])


def create_webhook(ctx: Ctx) -> Response:
    hook = ctx.state.webhooks.create(ctx.require_user(), ctx.json())
    return json_response({"webhook": hook.to_json()})


def webhook(ctx: Ctx, webhook_id: str) -> Response:
    user = ctx.require_user()
    hooks = ctx.state.webhooks
    if ctx.request.method == "DELETE":
        hooks.delete(user, webhook_id)
        return json_response({})
    if ctx.request.method == "POST":
        return json_response({"webhook": hooks.update(user, webhook_id, ctx.json()).to_json()})
    return json_response({"webhook": hooks.get(user, webhook_id).to_json()})


def switch(ctx: Ctx, webhook_id: str, action: str) -> Response:
    hook = ctx.state.webhooks.get(ctx.require_user(), webhook_id)
    hook.disabled = action == "disable"
    return json_response({"webhook": hook.to_json()})


def deliveries(ctx: Ctx) -> Response:
    """What the sandbox sent; `?wait=1` first waits until every event so far is delivered or given up."""
    ctx.require_user()
    hooks = ctx.state.webhooks
    idle = hooks.wait_idle() if ctx.request.args.get("wait") else None
    return json_response({"idle": idle, "deliveries": [d.to_json() for d in hooks.deliveries]})


ROUTES = [
    Rule(BASE, endpoint=list_webhooks, methods=["GET"]),
    Rule(BASE, endpoint=create_webhook, methods=["POST"]),
    Rule(f"{BASE}/<webhook_id>", endpoint=webhook, methods=["GET", "POST", "DELETE"]),
    Rule(f"{BASE}/<webhook_id>/<any(enable,disable):action>", endpoint=switch, methods=["POST"]),
    Rule("/_sandbox/webhooks/deliveries", endpoint=deliveries, methods=["GET"]),
]
