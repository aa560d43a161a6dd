"""A stand-in for the Hub's OAuth / OpenID Connect provider ("Sign in with Hugging Face"), for consoles that
run as Spaces with `hf_oauth: true`.

A Space with OAuth gets OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_SCOPES and OPENID_PROVIDER_URL in its
environment (https://huggingface.co/docs/hub/spaces-oauth); `Sandbox.oauth_env()` gives the same for this
sandbox. The authorization-code flow: `/oauth/authorize` shows a page listing the sandbox's users (the Hub
would show its consent page to the signed-in person), posting one of them redirects back with a code,
`/oauth/token` exchanges it (client secret checked) for the user's access token and an id token, and
`/oauth/userinfo` answers with the same claims. Claims follow the Hub's (`preferred_username`, `orgs` with
`roleInOrg`). Deliberate difference: id tokens are signed HS256 with a key the JWKS publishes (an `oct` key),
not RS256, so the sandbox needs no RSA library; a client verifies them the same way (authlib does).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets as pysecrets
import time
from typing import Any
from urllib.parse import urlencode

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from remedybot.sandbox.http import Ctx, error_response, json_response

SCOPES = "openid profile"
CODE_SECONDS = 600


def app_of(state: Any) -> dict[str, Any]:
    """The sandbox's one OAuth app (client id, secret, signing key) and its pending codes, made on first use."""
    with state.lock:
        app = state.__dict__.get("oauth_app")
        if app is None:
            app = {"client_id": pysecrets.token_hex(8), "client_secret": "oauth_" + pysecrets.token_hex(16),
                   "key": pysecrets.token_bytes(32), "codes": {}}
            state.__dict__["oauth_app"] = app
        return app


def oauth_env(state: Any) -> dict[str, str]:
    app = app_of(state)
    return {"OAUTH_CLIENT_ID": app["client_id"], "OAUTH_CLIENT_SECRET": app["client_secret"],
            "OAUTH_SCOPES": SCOPES, "OPENID_PROVIDER_URL": state.endpoint}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(claims: dict[str, Any], key: bytes) -> str:
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "sandbox"}).encode())
    body = _b64(json.dumps(claims).encode())
    sig = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


def _claims(ctx: Ctx, user: Any) -> dict[str, Any]:
    endpoint = ctx.state.endpoint
    role = "write" if user.write else "read"
    orgs = [{"sub": hashlib.sha1(o.encode()).hexdigest()[:24], "name": ctx.state.orgs.get(o, o),
             "preferred_username": o, "picture": "", "roleInOrg": role} for o in user.orgs]
    return {"sub": hashlib.sha1(user.name.encode()).hexdigest()[:24], "name": user.fullname or user.name,
            "preferred_username": user.name, "picture": "", "profile": f"{endpoint}/{user.name}",
            "website": "", "isPro": False, "canPay": False, "orgs": orgs}


def discovery(ctx: Ctx) -> Response:
    base = ctx.state.endpoint
    return json_response({"issuer": base, "authorization_endpoint": f"{base}/oauth/authorize",
                          "token_endpoint": f"{base}/oauth/token", "userinfo_endpoint": f"{base}/oauth/userinfo",
                          "jwks_uri": f"{base}/oauth/jwks", "response_types_supported": ["code"],
                          "scopes_supported": SCOPES.split(), "id_token_signing_alg_values_supported": ["HS256"],
                          "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]})


def jwks(ctx: Ctx) -> Response:
    key = app_of(ctx.state)["key"]
    return json_response({"keys": [{"kty": "oct", "kid": "sandbox", "alg": "HS256", "use": "sig", "k": _b64(key)}]})


def authorize(ctx: Ctx) -> Response:
    app = app_of(ctx.state)
    params = ctx.request.values
    if params.get("client_id") != app["client_id"] or params.get("response_type") != "code" \
            or not params.get("redirect_uri"):
        return error_response(400, "Invalid OAuth request (client_id, response_type=code and redirect_uri needed)")
    if ctx.request.method == "GET":
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in params.items())
        users = "".join(f'<button name="user" value="{html.escape(n)}" id="as-{html.escape(n)}">Sign in as '
                        f'{html.escape(n)}</button> ' for n in sorted(ctx.state.users))
        page = (f"<!doctype html><title>Sandbox Hub: authorize</title><h1>Authorize this app</h1>"
                f'<form method="post">{hidden}{users}</form>')
        return Response(page, content_type="text/html; charset=utf-8")
    user = ctx.state.users.get(params.get("user", ""))
    if user is None:
        return error_response(400, "Unknown user")
    code = pysecrets.token_urlsafe(24)
    with ctx.state.lock:
        app["codes"][code] = {"user": user.name, "redirect_uri": params["redirect_uri"], "nonce": params.get("nonce"),
                              "scope": params.get("scope", SCOPES), "until": time.time() + CODE_SECONDS}
    query = {"code": code, **({"state": params["state"]} if params.get("state") else {})}
    sep = "&" if "?" in params["redirect_uri"] else "?"
    return Response(status=302, headers={"Location": f"{params['redirect_uri']}{sep}{urlencode(query)}"})


def _client(ctx: Ctx) -> tuple[str | None, str | None]:
    auth = ctx.request.authorization
    if auth is not None and auth.type == "basic":
        return auth.username, auth.password
    return ctx.request.form.get("client_id"), ctx.request.form.get("client_secret")


def token(ctx: Ctx) -> Response:
    app = app_of(ctx.state)
    client_id, secret = _client(ctx)
    if client_id != app["client_id"] or not secret or not hmac.compare_digest(secret, app["client_secret"]):
        return json_response({"error": "invalid_client"}, status=401)
    form = ctx.request.form
    with ctx.state.lock:
        grant = app["codes"].pop(form.get("code", ""), None)
    if form.get("grant_type") != "authorization_code" or grant is None or grant["until"] < time.time() \
            or grant["redirect_uri"] != form.get("redirect_uri"):
        return json_response({"error": "invalid_grant"}, status=400)
    user = ctx.state.users[grant["user"]]
    now = int(time.time())
    claims = {**_claims(ctx, user), "iss": ctx.state.endpoint, "aud": client_id, "iat": now, "exp": now + 3600,
              "auth_time": now, **({"nonce": grant["nonce"]} if grant["nonce"] else {})}
    return json_response({"access_token": user.token, "token_type": "bearer", "expires_in": 8 * 3600,
                          "scope": grant["scope"], "id_token": _jwt(claims, app["key"])})


def userinfo(ctx: Ctx) -> Response:
    return json_response(_claims(ctx, ctx.require_user()))


ROUTES = [
    Rule("/.well-known/openid-configuration", endpoint=discovery, methods=["GET"]),
    Rule("/oauth/jwks", endpoint=jwks, methods=["GET"]),
    Rule("/oauth/authorize", endpoint=authorize, methods=["GET", "POST"]),
    Rule("/oauth/token", endpoint=token, methods=["POST"]),
    Rule("/oauth/userinfo", endpoint=userinfo, methods=["GET"]),
]
