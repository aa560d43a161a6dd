"""Request context and response helpers shared by the sandbox's route modules.

Error responses carry the headers huggingface_hub reads (`X-Error-Code`,
`X-Error-Message`) so the unmodified client raises the same
exception types as against huggingface.co.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from remedybot.sandbox.state import HubState, HubStateError, Repo, User

TYPE_FROM_PLURAL = {"models": "model", "datasets": "dataset", "spaces": "space"}


@dataclass
class Ctx:
    request: Request
    state: HubState
    user: User | None
    token_given: bool  # a token was sent (valid or not)

    def repo(self, repo_type: str, repo_id: str, *, write: bool = False) -> Repo:
        if self.token_given and self.user is None:
            raise HubStateError(401, "Invalid credentials in Authorization header")
        return self.state.get(repo_type, repo_id, self.user, write=write)

    def require_user(self) -> User:
        if self.user is None:
            if self.token_given:
                raise HubStateError(401, "Invalid credentials in Authorization header")
            raise HubStateError(401, "You must be authenticated to access this resource.")
        return self.user

    def json(self) -> Any:
        data = self.request.get_data(cache=True)
        if not data:
            return {}
        try:
            return json.loads(data)
        except ValueError as exc:
            raise HubStateError(400, f"Invalid JSON body: {exc}") from exc

    def multi(self, name: str) -> list[str]:
        """A repeated query parameter, also accepting the `name[]` form."""
        return self.request.args.getlist(name) + self.request.args.getlist(f"{name}[]")


def token_from(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except ValueError:
            return None
        return decoded.split(":", 1)[1] if ":" in decoded else None
    return None


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    resp = Response(json.dumps(data), status=status, mimetype="application/json")
    resp.headers["X-Request-Id"] = _request_id()
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def error_response(status: int, message: str, code: str | None = None) -> Response:
    resp = Response(json.dumps({"error": message}), status=status, mimetype="application/json")
    request_id = _request_id()
    resp.headers["X-Request-Id"] = request_id
    resp.headers["X-Error-Message"] = message
    if code:
        resp.headers["X-Error-Code"] = code
    return resp


def _request_id() -> str:
    # The shape of the Hub's Amazon trace ids, which users quote to support ("Root=1-...").
    hexes = uuid.uuid4().hex
    return f"Root=1-{hexes[:8]}-{hexes[8:32]}"


def iso(state: HubState, t: float) -> str:
    return state.clock.iso(t)
