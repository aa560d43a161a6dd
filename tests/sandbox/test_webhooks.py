"""Webhooks in the sandbox Hub: the `/api/settings/webhooks` API through the unmodified HfApi, and
delivery of repo and discussion events to a real HTTP receiver, parsed with huggingface_hub's
own `WebhookPayload`."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi, WebhookPayload, WebhookWatchedItem
from huggingface_hub.errors import HfHubHTTPError

from remedybot.sandbox.server import Sandbox


class Receiver:
    """A tiny webhook receiver on 127.0.0.1: records every POST, answers `statuses` in turn (then 200)."""

    def __init__(self, statuses: list[int] | None = None, secret: str | None = None) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses = list(statuses or [])
        self.secret = secret
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                given = self.headers.get("X-Webhook-Secret")
                receiver.received.append({"headers": dict(self.headers), "body": json.loads(body)})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if receiver.secret is not None and given != receiver.secret:
                    status = 401
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def events(self) -> list[tuple[str, str]]:
        return [(r["body"]["event"]["scope"], r["body"]["event"]["action"]) for r in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


def _api(sb: Sandbox) -> HfApi:
    return HfApi(endpoint=sb.endpoint, token=sb.token)


def _settle(sb: Sandbox) -> None:
    assert sb.state.webhooks.wait_idle(timeout=10)


def test_a_push_reaches_a_webhook_made_with_create_webhook(empty_sandbox: Sandbox, receiver: Receiver) -> None:
    api = _api(empty_sandbox)
    api.create_repo("demo/model")
    hook = api.create_webhook(url=receiver.url, watched=[WebhookWatchedItem(type="user", name="demo")],
                              domains=["repo"], secret="s3cret")
    before = api.model_info("demo/model").sha
    after = api.upload_file(path_or_fileobj=b"hello", path_in_repo="a.txt", repo_id="demo/model").oid
    _settle(empty_sandbox)

    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got["headers"]["X-Webhook-Secret"] == "s3cret"
    payload = WebhookPayload.model_validate(got["body"])
    assert (payload.event.scope, payload.event.action) == ("repo.content", "update")
    assert (payload.repo.name, payload.repo.type, payload.webhook.id) == ("demo/model", "model", hook.id)
    assert [(r.ref, r.oldSha, r.newSha) for r in payload.updatedRefs or []] == [("refs/heads/main", before, after)]
    assert got["body"]["repo"]["headSha"] == after
    assert ("WEBHOOK", receiver.url, 200) in empty_sandbox.app.request_log


def test_a_git_push_is_delivered(empty_sandbox: Sandbox, receiver: Receiver, tmp_path: Path) -> None:
    api = _api(empty_sandbox)
    api.create_repo("demo/pushed")
    api.create_webhook(url=receiver.url, watched=[{"type": "model", "name": "demo/pushed"}], domains=["repo"])
    remote = f"http://demo:{empty_sandbox.token}@127.0.0.1:{empty_sandbox.port}/demo/pushed"
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", remote, str(work)], check=True, capture_output=True)
    (work / "b.txt").write_text("pushed\n")
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "add", "b.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "push"], check=True)
    subprocess.run([*git, "push", "-q", "origin", "HEAD:main"], check=True, capture_output=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    _settle(empty_sandbox)

    payload = WebhookPayload.model_validate(receiver.received[-1]["body"])
    assert payload.event.scope == "repo.content"
    assert [(r.ref, r.newSha) for r in payload.updatedRefs or []] == [("refs/heads/main", head)]
    assert "X-Webhook-Secret" not in receiver.received[-1]["headers"]  # no secret set, none sent


def test_a_wrong_secret_is_what_the_receiver_sees_and_failures_are_retried(empty_sandbox: Sandbox) -> None:
    rec = Receiver(secret="right")
    try:
        api = _api(empty_sandbox)
        api.create_repo("demo/model")
        api.create_webhook(url=rec.url, watched=[{"type": "user", "name": "demo"}], domains=["repo"],
                           secret="wrong")
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="demo/model")
        _settle(empty_sandbox)
    finally:
        rec.server.shutdown()
        rec.server.server_close()
    assert [r["headers"]["X-Webhook-Secret"] for r in rec.received] == ["wrong"] * 4  # 1 attempt + 3 retries
    [delivery] = empty_sandbox.state.webhooks.deliveries
    assert (delivery.state, delivery.statuses) == ("failed", [401] * 4)
    assert [s for m, p, s in empty_sandbox.app.request_log if m == "WEBHOOK"] == [401] * 4


def test_a_failed_delivery_is_retried_until_it_lands(empty_sandbox: Sandbox) -> None:
    rec = Receiver(statuses=[503])
    try:
        api = _api(empty_sandbox)
        api.create_webhook(url=rec.url, watched=[{"type": "user", "name": "demo"}], domains=["repo"])
        api.create_repo("demo/new-model")
        _settle(empty_sandbox)
    finally:
        rec.server.shutdown()
        rec.server.server_close()
    assert rec.events() == [("repo", "create"), ("repo", "create")]
    assert empty_sandbox.state.webhooks.deliveries[0].statuses == [503, 200]


def test_a_disabled_webhook_gets_nothing(empty_sandbox: Sandbox, receiver: Receiver) -> None:
    api = _api(empty_sandbox)
    api.create_repo("demo/model")
    hook = api.create_webhook(url=receiver.url, watched=[{"type": "user", "name": "demo"}])
    assert api.disable_webhook(hook.id).disabled is True
    api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="demo/model")
    api.create_discussion("demo/model", title="Hello")
    _settle(empty_sandbox)
    assert receiver.received == []
    assert api.enable_webhook(hook.id).disabled is False
    api.upload_file(path_or_fileobj=b"y", path_in_repo="y.txt", repo_id="demo/model")
    _settle(empty_sandbox)
    assert receiver.events() == [("repo.content", "update")]


def test_only_watched_repos_and_domains_are_delivered(empty_sandbox: Sandbox, receiver: Receiver) -> None:
    api = _api(empty_sandbox)
    api.create_repo("demo/watched")
    api.create_repo("demo/other")
    api.create_webhook(url=receiver.url, watched=[{"type": "model", "name": "demo/watched"}], domains=["discussion"])
    api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="demo/watched")  # repo domain: not heard
    api.create_discussion("demo/other", title="Elsewhere")  # not watched
    api.create_discussion("demo/watched", title="Here", description="first words")
    _settle(empty_sandbox)
    [got] = receiver.received
    payload = WebhookPayload.model_validate(got["body"])
    assert (payload.event.scope, payload.event.action) == ("discussion", "create")
    assert payload.discussion is not None and (payload.discussion.title, payload.discussion.num) == ("Here", 1)
    assert payload.comment is not None and payload.comment.content == "first words"
    assert "headSha" not in got["body"]["repo"]  # only repo scopes carry it


def test_discussion_and_pull_request_events(empty_sandbox: Sandbox, receiver: Receiver) -> None:
    api = _api(empty_sandbox)
    api.create_repo("demo/model")
    api.create_webhook(url=receiver.url, watched=[{"type": "user", "name": "demo"}], domains=["repo", "discussion"])
    disc = api.create_discussion("demo/model", title="Question")
    api.comment_discussion("demo/model", disc.num, "an answer")
    api.change_discussion_status("demo/model", disc.num, "closed")
    pr_commit = api.upload_file(path_or_fileobj=b"fix", path_in_repo="fix.txt", repo_id="demo/model",
                                create_pr=True)
    assert pr_commit.pr_num is not None
    api.merge_pull_request("demo/model", pr_commit.pr_num)
    _settle(empty_sandbox)

    assert receiver.events() == [
        ("discussion", "create"), ("discussion.comment", "create"), ("discussion", "update"),
        ("repo.content", "update"), ("discussion", "create"),  # the PR: its ref, then the discussion
        ("repo.content", "update"), ("discussion", "update"),  # the merge: main moves, the PR is merged
    ]
    payloads = [WebhookPayload.model_validate(r["body"]) for r in receiver.received]
    assert payloads[1].comment is not None and payloads[1].comment.content == "an answer"
    assert payloads[2].discussion is not None and payloads[2].discussion.status == "closed"
    pr_ref = payloads[3].updatedRefs or []
    assert [r.ref for r in pr_ref] == [f"refs/pr/{pr_commit.pr_num}"]
    merged = payloads[6].discussion
    assert merged is not None and merged.isPullRequest and merged.status == "merged"
    assert merged.changes is not None and merged.changes.mergeCommitId == pr_ref[0].newSha


def test_repo_create_move_settings_and_delete(empty_sandbox: Sandbox, receiver: Receiver) -> None:
    api = _api(empty_sandbox)
    api.create_webhook(url=receiver.url, watched=[{"type": "user", "name": "demo"}], domains=["repo"])
    api.create_repo("demo/first", repo_type="space", space_sdk="gradio")
    api.update_repo_settings("demo/first", private=True, repo_type="space")
    api.add_space_variable("demo/first", "MODE", "fast")
    api.move_repo("demo/first", "demo/second", repo_type="space")
    api.delete_repo("demo/second", repo_type="space")
    _settle(empty_sandbox)

    assert receiver.events() == [("repo", "create"), ("repo.config", "update"), ("repo.config", "update"),
                                 ("repo", "move"), ("repo", "delete")]
    payloads = [WebhookPayload.model_validate(r["body"]) for r in receiver.received]
    assert receiver.received[1]["body"]["updatedConfig"] == {"private": True}
    assert receiver.received[2]["body"]["updatedConfig"] == {}
    assert payloads[3].repo.name == "demo/first" and payloads[3].movedTo is not None
    assert payloads[3].movedTo.name == "demo/second"
    assert payloads[4].repo.name == "demo/second" and payloads[4].repo.private is True


def test_the_webhooks_api_round_trip(empty_sandbox: Sandbox) -> None:
    api = _api(empty_sandbox)
    hook = api.create_webhook(url="http://127.0.0.1:9/a", watched=[{"type": "org", "name": "acme"}],
                              domains=["discussion"], secret="one")
    assert (hook.url, hook.domains, hook.secret, hook.disabled, hook.job) == \
        ("http://127.0.0.1:9/a", ["discussion"], "one", False, None)
    assert [w.id for w in api.list_webhooks()] == [hook.id]
    updated = api.update_webhook(hook.id, url="http://127.0.0.1:9/b", watched=[{"type": "user", "name": "demo"}],
                                 domains=["repo", "discussion"], secret="two")
    assert (updated.url, updated.domains, updated.secret) == ("http://127.0.0.1:9/b", ["repo", "discussion"], "two")
    assert [(w.type, w.name) for w in api.get_webhook(hook.id).watched] == [("user", "demo")]
    api.delete_webhook(hook.id)
    assert api.list_webhooks() == []
    with pytest.raises(HfHubHTTPError) as missing:
        api.get_webhook(hook.id)
    assert missing.value.response.status_code == 404


@pytest.mark.parametrize("kwargs", [{"watched": [{"type": "planet", "name": "x"}]},
                                    {"watched": [{"type": "user", "name": "demo"}], "domains": ["everything"]},
                                    {"watched": [], "domains": ["repo"]}])
def test_bad_webhooks_are_refused(empty_sandbox: Sandbox, kwargs: dict[str, Any]) -> None:
    with pytest.raises(HfHubHTTPError) as refused:
        _api(empty_sandbox).create_webhook(url="http://127.0.0.1:9/a", **kwargs)
    assert refused.value.response.status_code == 400


def test_webhooks_need_a_token_and_stay_private_to_their_owner(empty_sandbox: Sandbox) -> None:
    api = _api(empty_sandbox)
    hook = api.create_webhook(url="http://127.0.0.1:9/a", watched=[{"type": "user", "name": "demo"}])
    other = empty_sandbox.state.add_user("other")
    with pytest.raises(HfHubHTTPError) as hidden:
        HfApi(endpoint=empty_sandbox.endpoint, token=other.token).get_webhook(hook.id)
    assert hidden.value.response.status_code == 404
    with pytest.raises(HfHubHTTPError) as anonymous:
        HfApi(endpoint=empty_sandbox.endpoint, token=False).list_webhooks()
    assert anonymous.value.response.status_code == 401
