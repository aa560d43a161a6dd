"""Sign-in, sessions and CSRF for the console.

Sessions live on the server (a random id in an HttpOnly cookie; nothing about the person or any token is in
the cookie). Each session has its own CSRF token, which every state-changing request must send back (a form
field `csrf`, or the `X-CSRF-Token` header htmx adds) and which is compared in constant time. Run locally,
the console prints a one-time login link (as Jupyter does): the first visit with its token opens a session
for the person whose Hub token the console uses, and the link is then spent. Deployed as a Space, sign-in is
"Sign in with Hugging Face" (huggingface_hub's `attach_huggingface_oauth`); `app.py` turns its result into a
session here and removes the OAuth access token from huggingface_hub's own session cookie. Roles come from
`access.py`, at every request. No Hub call.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass, field

from remedybot.serve.access import Identity, Role

COOKIE = "remedybot_session"
SESSION_SECONDS = 8 * 3600


@dataclass
class Session:
    id: str
    person: Identity
    csrf: str
    created: float
    role: Role = Role.NONE  # refreshed from the policy at every request
    flashes: list[str] = field(default_factory=list)


class Sessions:
    """The sessions of one console, and its one-time login link."""

    def __init__(self) -> None:
        import time

        self._now = time.time
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._login_token: str | None = None

    def issue_login_token(self) -> str:
        """A fresh one-time login token (any earlier one is void)."""
        with self._lock:
            self._login_token = secrets.token_urlsafe(32)
            return self._login_token

    def redeem(self, token: str) -> bool:
        """True once for the current login token; the token is spent either way it matches."""
        with self._lock:
            expected = self._login_token
            if expected is None or not hmac.compare_digest(token.encode(), expected.encode()):
                return False
            self._login_token = None
            return True

    def open(self, person: Identity) -> Session:
        session = Session(id=secrets.token_urlsafe(32), person=person, csrf=secrets.token_urlsafe(32),
                          created=self._now())
        with self._lock:
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and self._now() - session.created > SESSION_SECONDS:
                del self._sessions[session_id]
                return None
            return session

    def close(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)


def csrf_ok(session: Session, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(str(sent).encode(), session.csrf.encode())
