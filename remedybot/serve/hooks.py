"""The Hub-webhook bot: `POST /webhooks/hub`, and what a push to a watched Space sets off.

A delivery must carry the shared secret (`X-Webhook-Secret`, compared in constant time) and parse as
huggingface_hub's `WebhookPayload`. A push (`repo.content`) to a Space of a watched owner is followed: the
bot waits for the build it started (`wait_for_space`, on remedybot's clock), reads the Space again and puts
the diagnosis in the console. If the build failed it notifies (a banner in the console, and the policy's
webhook when one is set) and, when the policy's `auto` is `safe`, acts through the same path as
`watch --auto safe` (`Watcher.act`): a file fix becomes a Hub pull request (`--propose`), any other step
runs only if the policy allows it. The Hub lets owners replay a delivery: each push is known by its Space
and new commit, recorded in `$REMEDYBOT_HOME/serve/deliveries.jsonl` before anything is done, so a replayed
(or duplicated) delivery is answered and ignored, also after a restart of the console.
"""

from __future__ import annotations

import hmac
import json
import threading
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from huggingface_hub import WebhookPayload
from pydantic import ValidationError

from remedybot.core.errors import RemedyError
from remedybot.fleet.scan import SpaceResult
from remedybot.fleet.watch import Watcher, post_event
from remedybot.remedy.verify import wait_for_space
from remedybot.remedy.workflow import diagnose_space
from remedybot.serve.runs import serve_home

if TYPE_CHECKING:
    from remedybot.fleet.policy import Policy
    from remedybot.hub import Hub
    from remedybot.serve.store import FleetStore

MAIN = "refs/heads/main"  # the branch a Space builds from
BUILD_TIMEOUT = 3600.0  # seconds (remedybot's clock) a followed build may take before the bot reads it anyway


def delivery_key(payload: WebhookPayload) -> str | None:
    """What makes a delivery the same event again: the Space and the commit its push moved main to.

    None for anything that starts no build: other repos and scopes, a deleted main, and refs other than main
    (the pull requests the bot itself opens move `refs/pr/N`).
    """
    if payload.repo.type != "space" or payload.event.scope != "repo.content":
        return None
    new = [r.newSha for r in payload.updatedRefs or [] if r.ref == MAIN and r.newSha]
    return f"{payload.repo.name}@{new[0]}" if new else None


class HookHandler:
    """Answers deliveries and follows the builds they announce, each in a thread of its own."""

    def __init__(self, *, secret: str | None, owners: list[str], policy: Policy, hub: Hub, store: FleetStore,
                 notify_url: str | None = None, propose: bool = True) -> None:
        self.secret, self.owners, self.policy, self.hub, self.store = secret, owners, policy, hub, store
        self.notify_url, self.propose = notify_url, propose
        self.path = serve_home() / "deliveries.jsonl"
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def add_routes(self, app: FastAPI) -> None:
        @app.post("/webhooks/hub")
        def webhook(request: Request, body: dict[str, Any]) -> Response:
            status, text = self.receive(request.headers.get("X-Webhook-Secret"), body)
            return JSONResponse({"message": text}, status_code=status)

    # -- receiving ------------------------------------------------------------------------------------
    def receive(self, secret: str | None, body: dict[str, Any]) -> tuple[int, str]:
        """(status, message) for one delivery; a push to a watched Space starts following its build."""
        if not self.secret:
            return 503, "This console has no webhook secret (REMEDYBOT_WEBHOOK_SECRET), so it takes no webhooks."
        if not secret or not hmac.compare_digest(secret.encode(), self.secret.encode()):
            return 401, "Wrong or missing X-Webhook-Secret."
        try:
            payload = WebhookPayload.model_validate(body)
        except ValidationError as exc:
            return 400, f"Not a Hub webhook payload: {exc.errors()[0].get('msg')}."
        key = delivery_key(payload)
        space_id = payload.repo.name
        if key is None or space_id.split("/")[0] not in self.owners:
            return 200, "Ignored: not a push to a watched Space."
        if not self._first_time(key):
            return 200, f"Already handled: {key}."
        thread = threading.Thread(target=self.follow, args=(space_id, key), name=f"serve-hook-{space_id}",
                                  daemon=True)
        self._threads.append(thread)
        thread.start()
        self.store.note("push", space_id, f"{space_id}: push received, following its build")
        return 202, f"Following the build of {space_id}."

    def _first_time(self, key: str) -> bool:
        with self._lock:
            if key in self.seen():
                return False
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"key": key}) + "\n")
            return True

    def seen(self) -> set[str]:
        if not self.path.is_file():
            return set()
        keys = set()
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                keys.add(json.loads(line)["key"])
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line
        return keys

    # -- following ------------------------------------------------------------------------------------
    def follow(self, space_id: str, key: str) -> None:
        """Wait for the build, diagnose, notify, and act as the policy allows."""
        try:
            wait_for_space(self.hub, space_id, timeout=BUILD_TIMEOUT, settle_first=1.0)
            evidence, diagnosis = diagnose_space(self.hub, space_id)
        except RemedyError as exc:
            self.store.note("error", space_id, f"{space_id}: could not follow the build: {exc.message}")
            return
        result = SpaceResult(space_id, diagnosis, evidence)
        self.store.put_result(result)
        if not result.failing:
            self.store.note("build", space_id, f"{space_id}: the build after the push is {diagnosis.stage}")
            return
        why = diagnosis.summary or diagnosis.title
        text = f"{space_id}: the build after the push failed: {diagnosis.branch} ({why})"
        self.store.note("problem", space_id, text)
        if self.notify_url:
            post_event(self.notify_url, {"event": "problem", "space_id": space_id, "branch": diagnosis.branch,
                                         "stage": diagnosis.stage, "text": text, "delivery": key})
        if self.policy.auto != "safe":
            return
        watcher = Watcher(space_id.split("/")[0], policy=self.policy, auto="safe", hub=self.hub,
                          propose=self.propose)
        event = watcher.act(result)
        if event is not None:
            self.store.note("action", space_id, event["text"])
            if self.notify_url:
                post_event(self.notify_url, event)
        self.store.put_result(result)  # again, for its last action

    def join(self, timeout: float = 60.0) -> None:
        for thread in list(self._threads):
            thread.join(timeout)
