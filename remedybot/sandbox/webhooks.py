"""Webhooks of the sandbox Hub: the registry behind `/api/settings/webhooks`, and delivery.

A webhook belongs to the user who created it, watches users, orgs or repos, and
listens to the domains `repo` and `discussion`. `emit` turns one event into one
delivery per matching, enabled webhook; a background thread POSTs each payload
(JSON, with the `X-Webhook-Secret` header when the webhook has a secret) and
retries a failed attempt (no answer, or not 2xx) on the sandbox's simulated
clock (`webhooks.yaml`). Every attempt is appended to the server's request log
as ("WEBHOOK", url, status; 0 when no answer came).

`wait_idle` lets a test wait until every event of the requests already answered
has been delivered or given up, without sleeping a fixed time. What counts as an
event is decided by `webhook_events.py`; this module only stores and sends.
"""

from __future__ import annotations

import hashlib
import json
import secrets as pysecrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from remedybot.sandbox.state import HubState, HubStateError, Repo, User

SETTINGS = yaml.safe_load((Path(__file__).with_name("webhooks.yaml")).read_text())
PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}


def object_id(*parts: object) -> str:
    """A stable 24-hex id in the shape of the Hub's ObjectIds."""
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:24]


@dataclass
class Webhook:
    id: str
    owner: str
    url: str
    watched: list[dict[str, str]]
    domains: list[str]
    secret: str | None = None
    disabled: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "job": None, "watched": self.watched, "domains": self.domains,
                "secret": self.secret, "disabled": self.disabled}

    def watches(self, repo: Repo) -> bool:
        for item in self.watched:
            kind, name = item.get("type"), item.get("name")
            if kind in ("user", "org") and name == repo.owner:
                return True
            if kind == repo.repo_type and name == repo.repo_id:
                return True
        return False


@dataclass
class Delivery:
    id: str
    webhook_id: str
    url: str
    secret: str | None
    payload: dict[str, Any]
    next_at: float
    attempts: int = 0
    statuses: list[int] = field(default_factory=list)
    state: str = "pending"  # pending | delivered | failed

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "webhook": self.webhook_id, "url": self.url, "attempts": self.attempts,
                "statuses": self.statuses, "state": self.state, "event": self.payload.get("event"),
                "repo": self.payload.get("repo", {}).get("name")}


def parse_webhook_body(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The fields of a create (or update, `partial`) body, checked like the Hub; raises HubStateError 400."""
    if body.get("jobSourceId"):
        raise HubStateError(400, "Webhooks that trigger Jobs are not supported by the sandbox Hub")
    out: dict[str, Any] = {}
    watched = body.get("watched")
    if watched or not partial:
        if not isinstance(watched, list) or not watched:
            raise HubStateError(400, "Invalid watched: expected a non-empty list of {type, name}")
        for item in watched:
            if not isinstance(item, dict) or item.get("type") not in SETTINGS["watched_types"] \
                    or not isinstance(item.get("name"), str) or not item["name"]:
                raise HubStateError(400, f"Invalid watched item: {item!r}")
        out["watched"] = [{"type": i["type"], "name": i["name"]} for i in watched]
    if "domains" in body or not partial:
        domains = body.get("domains")
        if not isinstance(domains, list) or not domains or any(d not in SETTINGS["domains"] for d in domains):
            raise HubStateError(400, f"Invalid domains: expected a list of {SETTINGS['domains']}")
        out["domains"] = list(dict.fromkeys(domains))
    if "url" in body or not partial:
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise HubStateError(400, "Invalid url: expected an http(s) URL")
        out["url"] = url
    if "secret" in body:
        secret = body["secret"]
        if secret is not None and (not isinstance(secret, str) or not secret.isascii()):
            raise HubStateError(400, "Invalid secret: only ASCII characters are supported")
        out["secret"] = secret or None
    return out


class Webhooks:
    """Every webhook of one sandbox Hub, and the thread that delivers their events."""

    def __init__(self, state: HubState, record: Callable[[str, str, int], None]) -> None:
        self.state = state
        self._record = record
        self.hooks: dict[str, Webhook] = {}
        self.deliveries: list[Delivery] = []
        self._cond = threading.Condition()
        self._observing = 0  # requests whose events are not yet emitted
        self._thread: threading.Thread | None = None
        self._stopped = False

    # -- the API ----------------------------------------------------------------------------------
    def create(self, user: User, body: dict[str, Any]) -> Webhook:
        fields = parse_webhook_body(body, partial=False)
        hook = Webhook(id=pysecrets.token_hex(12), owner=user.name, **fields)
        with self._cond:
            self.hooks[hook.id] = hook
        return hook

    def get(self, user: User, webhook_id: str) -> Webhook:
        hook = self.hooks.get(webhook_id)
        if hook is None or hook.owner != user.name:
            raise HubStateError(404, f"Webhook {webhook_id} not found")
        return hook

    def owned_by(self, user: User) -> list[Webhook]:
        return [h for h in self.hooks.values() if h.owner == user.name]

    def update(self, user: User, webhook_id: str, body: dict[str, Any]) -> Webhook:
        hook = self.get(user, webhook_id)
        for key, value in parse_webhook_body(body, partial=True).items():
            setattr(hook, key, value)
        return hook

    def delete(self, user: User, webhook_id: str) -> None:
        self.get(user, webhook_id)
        with self._cond:
            self.hooks.pop(webhook_id, None)

    # -- events -------------------------------------------------------------------------------------
    def active(self) -> bool:
        """True when some webhook is enabled: only then are requests observed for events."""
        return any(not h.disabled for h in self.hooks.values())

    def observing(self, delta: int) -> None:
        """Count requests being observed, so `wait_idle` also waits for events not emitted yet."""
        with self._cond:
            self._observing += delta
            self._cond.notify_all()

    def emit(self, repo: Repo, payload: dict[str, Any]) -> int:
        """Queue `payload` (without its `webhook` part) for every enabled webhook that watches `repo`."""
        domain = SETTINGS["scope_domains"].get(payload["event"]["scope"])
        count = 0
        with self._cond:
            for hook in self.hooks.values():
                if hook.disabled or domain not in hook.domains or not hook.watches(repo) \
                        or not self._may_see(hook, repo):
                    continue
                body = {**payload, "webhook": {"id": hook.id, "version": SETTINGS["version"]}}
                self.deliveries.append(Delivery(id=pysecrets.token_hex(12), webhook_id=hook.id, url=hook.url,
                                                secret=hook.secret, payload=body, next_at=self.state.clock.now()))
                count += 1
            if count:
                self._start()
                self._cond.notify_all()
        return count

    def _may_see(self, hook: Webhook, repo: Repo) -> bool:
        if not repo.private:
            return True
        user = self.state.users.get(hook.owner)
        return user is not None and (user.name == repo.owner or self.state.may_write(user, repo.repo_id))

    # -- delivery -----------------------------------------------------------------------------------
    def _start(self) -> None:
        if self._thread is None and not self._stopped:
            self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
            self._thread.start()

    def _pending(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.state == "pending"]

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                now = self.state.clock.now()
                due = [d for d in self._pending() if d.next_at <= now]
                if not due:
                    waits = [d.next_at - now for d in self._pending()]
                    self._cond.wait(min(0.05, self.state.clock.real_seconds(min(waits))) if waits else 0.05)
                    continue
            for delivery in due:
                self._attempt(delivery)

    def _attempt(self, delivery: Delivery) -> None:
        data = json.dumps(delivery.payload).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "remedybot-sandbox-hub/webhooks"}
        if delivery.secret:
            headers["X-Webhook-Secret"] = delivery.secret
        request = urllib.request.Request(delivery.url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=SETTINGS["timeout_seconds"]) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError):
            status = 0
        self._record("WEBHOOK", delivery.url, status)
        retries = SETTINGS["retry_after_seconds"]
        with self._cond:
            delivery.attempts += 1
            delivery.statuses.append(status)
            if 200 <= status < 300:
                delivery.state = "delivered"
            elif delivery.attempts > len(retries):
                delivery.state = "failed"
            else:
                delivery.next_at = self.state.clock.now() + retries[delivery.attempts - 1]
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait (real seconds at most) until every event so far is delivered or given up; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._observing or self._pending():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=SETTINGS["timeout_seconds"] + 1)

    # -- persistence (--state-dir) ------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.write_text(json.dumps([asdict(h) for h in self.hooks.values()]))

    def load(self, path: Path) -> None:
        if path.exists():
            self.hooks = {h["id"]: Webhook(**h) for h in json.loads(path.read_text())}


def repo_urls(state: HubState, repo: Repo) -> dict[str, str]:
    return {"web": f"{state.endpoint}/{PREFIX[repo.repo_type]}{repo.repo_id}",
            "api": f"{state.endpoint}/api/{repo.repo_type}s/{repo.repo_id}"}
