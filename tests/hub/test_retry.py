"""The retry policy against a real local HTTP server: what is retried, how long, and never twice."""

from __future__ import annotations

import json
import time

import pytest
from hubserver import Reply, Request, ScriptedServer, repo_not_found
from huggingface_hub import CommitOperationAdd
from huggingface_hub.utils import get_session, hf_raise_for_status

from remedybot.core.errors import ForbiddenError, HubError, HubUnavailableError, NotFoundError, UsageError
from remedybot.hub import TOOK_EFFECT, RetryPolicy, retrying

RUNTIME = "/api/spaces/alice/demo/runtime"
RUNNING = {"stage": "RUNNING", "hardware": {"current": "cpu-basic", "requested": "cpu-basic"},
           "errorMessage": None}


def test_429_then_503_then_200_is_retried_to_success(server: ScriptedServer, hub) -> None:
    server.script("GET", RUNTIME, Reply(429, {"error": "slow down"}, {"Retry-After": "0"}),
                  Reply(503, "busy"), Reply(200, RUNNING))

    assert hub.runtime("alice/demo")["stage"] == "RUNNING"
    assert server.hit_count("GET", RUNTIME) == 3


def test_connection_reset_is_retried(server: ScriptedServer, hub) -> None:
    server.script("GET", RUNTIME, Reply(reset=True), Reply(reset=True), Reply(200, RUNNING))

    assert hub.runtime("alice/demo")["stage"] == "RUNNING"
    assert server.hit_count("GET", RUNTIME) == 3


@pytest.mark.parametrize(("reply", "error"), [
    (Reply(400, {"error": "bad flavor"}), HubError),
    (Reply(401, {"error": "Invalid credentials in Authorization header"}), HubError),
    (Reply(403, {"error": "not the owner"}, {"X-Error-Message": "not the owner"}), ForbiddenError),
    (repo_not_found(), NotFoundError),
    (Reply(409, {"error": "conflict"}), HubError),
])
def test_other_4xx_are_not_retried(server: ScriptedServer, hub, reply: Reply, error: type[Exception]) -> None:
    server.script("GET", RUNTIME, reply, Reply(200, RUNNING))

    with pytest.raises(error):
        hub.runtime("alice/demo")
    assert server.hit_count("GET", RUNTIME) == 1


def test_408_is_retried(server: ScriptedServer, hub) -> None:
    server.script("GET", RUNTIME, Reply(408, "timeout"), Reply(200, RUNNING))

    hub.runtime("alice/demo")
    assert server.hit_count("GET", RUNTIME) == 2


def test_retry_after_is_honoured(server: ScriptedServer, hub) -> None:
    server.script("GET", RUNTIME, Reply(503, "busy", {"Retry-After": "1"}), Reply(200, RUNNING))

    started = time.monotonic()
    hub.runtime("alice/demo")
    elapsed = time.monotonic() - started

    assert server.hit_count("GET", RUNTIME) == 2
    assert 0.95 <= elapsed < 3  # the backoff alone (base 1 ms) would have taken milliseconds


def test_a_retry_after_beyond_the_time_cap_gives_up_at_once(server: ScriptedServer, hub,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_RETRY_MAX_SECONDS", "5")
    server.script("GET", RUNTIME, Reply(429, {"error": "rate limited"}, {"Retry-After": "3600"}))

    started = time.monotonic()
    with pytest.raises(HubUnavailableError) as info:
        hub.runtime("alice/demo")

    assert time.monotonic() - started < 2
    assert server.hit_count("GET", RUNTIME) == 1
    assert "asked to wait 3600 s" in info.value.message


def test_attempts_are_capped(server: ScriptedServer, hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_RETRY_MAX_ATTEMPTS", "3")
    server.script("GET", RUNTIME, Reply(503, "down", {"X-Request-Id": "Root=1-abc-def"}))

    with pytest.raises(HubUnavailableError) as info:
        hub.runtime("alice/demo")

    assert server.hit_count("GET", RUNTIME) == 3
    assert info.value.status == 503
    assert info.value.request_id == "Root=1-abc-def"
    assert info.value.message == (
        "Cannot read the runtime of Space 'alice/demo': the Hub kept answering 503 after 3 attempts. "
        "Check https://status.huggingface.co and try again later.")


def test_total_time_is_capped(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.script("GET", RUNTIME, Reply(503, "down", {"Retry-After": "0.3"}))
    policy = RetryPolicy(max_attempts=100, max_seconds=1.0, base=0.001)

    started = time.monotonic()
    with pytest.raises(Exception) as info:
        retrying(lambda: hf_raise_for_status(get_session().get(server.url + RUNTIME)), what="probe",
                 policy=policy)

    assert time.monotonic() - started < 1.5
    assert 3 <= server.hit_count("GET", RUNTIME) <= 4
    assert info.value.remedybot_attempts == server.hit_count("GET", RUNTIME)


def test_timeouts_are_retried(server: ScriptedServer) -> None:
    server.script("GET", "/slow", Reply(200, "late", delay=1.0), Reply(200, "ok"))

    body = retrying(lambda: get_session().get(server.url + "/slow", timeout=0.2).text, what="probe")

    assert body == "ok"
    assert server.hit_count("GET", "/slow") == 2


def test_before_retry_is_not_called_when_the_first_attempt_succeeds() -> None:
    checks: list[int] = []

    assert retrying(lambda: 42, what="probe", before_retry=lambda: checks.append(1)) == 42
    assert checks == []


def test_before_retry_stops_with_took_effect(server: ScriptedServer) -> None:
    server.script("POST", "/act", Reply(503, "lost"))
    call = lambda: hf_raise_for_status(get_session().post(server.url + "/act"))  # noqa: E731

    assert retrying(call, what="act", before_retry=lambda: True) is TOOK_EFFECT
    assert retrying(call, what="act", before_retry=lambda: {"found": 1}) == {"found": 1}
    assert server.hit_count("POST", "/act") == 2  # one attempt per call; the check stopped the repeat


def test_bad_retry_settings_are_usage_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_RETRY_MAX_ATTEMPTS", "zero")
    with pytest.raises(UsageError, match="REMEDYBOT_RETRY_MAX_ATTEMPTS must be a positive integer"):
        RetryPolicy.from_env()


# -- non-idempotent calls: a first attempt that took effect is never repeated ---------------------------

DUPLICATE = "/api/spaces/alice/demo/duplicate"
COMMIT = "/api/spaces/alice/demo/commit/main"


def _duplicate_server(server: ScriptedServer, *, first: str) -> None:
    """first: "lost" (copy made, answer lost), "busy" (503, nothing done) or "ok"."""

    def duplicate(request: Request) -> Reply:
        attempt = server.hit_count("POST", DUPLICATE)
        if server.effects["duplicate"]:
            return Reply(409, {"error": "You already created this repo"})
        if attempt == 1 and first == "busy":
            return Reply(503, "busy")
        server.effects["duplicate"] += 1
        if attempt == 1 and first == "lost":
            return Reply(reset=True)
        return Reply(200, {"url": f"{server.url}/spaces/alice/copy"})

    def target(request: Request) -> Reply:
        if not server.effects["duplicate"]:
            return repo_not_found()
        return Reply(200, {"id": "alice/copy", "sha": "a" * 40})

    server.route("POST", DUPLICATE, duplicate)
    server.route("GET", "/api/spaces/alice/copy", target)


def test_duplicate_whose_answer_was_lost_is_not_repeated(server: ScriptedServer, hub) -> None:
    _duplicate_server(server, first="lost")

    assert hub.duplicate("alice/demo", "alice/copy") == f"{server.url}/spaces/alice/copy"
    assert server.effects["duplicate"] == 1
    assert server.hit_count("POST", DUPLICATE) == 1


def test_duplicate_that_did_not_happen_is_retried(server: ScriptedServer, hub) -> None:
    _duplicate_server(server, first="busy")

    assert hub.duplicate("alice/demo", "alice/copy") == f"{server.url}/spaces/alice/copy"
    assert server.effects["duplicate"] == 1
    assert server.hit_count("POST", DUPLICATE) == 2


def _commit_server(server: ScriptedServer, *, first: str) -> dict[str, str]:
    """first: "lost" (commit made, answer lost), "busy" (503, nothing done) or "ok"."""
    head = {"id": "0" * 40, "title": "Initial commit"}

    def commits(request: Request) -> Reply:
        return Reply(200, [{**head, "message": head["title"], "authors": [], "date": "2024-01-01T00:00:00Z"}])

    def preupload(request: Request) -> Reply:
        files = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                 for f in json.loads(request.body)["files"]]
        return Reply(200, {"files": files})

    def commit(request: Request) -> Reply:
        attempt = server.hit_count("POST", COMMIT)
        if attempt == 1 and first == "busy":
            return Reply(503, "try later")
        server.effects["commit"] += 1
        summary = json.loads(request.body.splitlines()[0])["value"]["summary"]
        head.update(id=str(server.effects["commit"]) * 40, title=summary)
        if attempt == 1 and first == "lost":
            return Reply(reset=True)
        return Reply(200, {"commitUrl": f"{server.url}/spaces/alice/demo/commit/{head['id']}",
                           "commitOid": head["id"]})

    server.route("GET", "/api/spaces/alice/demo/commits/main", commits)
    server.route("POST", "/api/spaces/alice/demo/preupload/main", preupload)
    server.route("POST", COMMIT, commit)
    return head


def test_commit_whose_answer_was_lost_is_not_repeated(server: ScriptedServer, hub) -> None:
    head = _commit_server(server, first="lost")

    info = hub.create_commit("alice/demo", [CommitOperationAdd("marker.txt", b"rebuild 1")],
                             "remedybot: trigger a rebuild")

    assert server.effects["commit"] == 1
    assert server.hit_count("POST", COMMIT) == 1
    assert info.oid == head["id"] == "1" * 40
    assert info.commit_message == "remedybot: trigger a rebuild"


def test_commit_refused_with_503_is_retried(server: ScriptedServer, hub) -> None:
    _commit_server(server, first="busy")

    info = hub.create_commit("alice/demo", [CommitOperationAdd("marker.txt", b"rebuild 2")], "rebuild")

    assert server.effects["commit"] == 1
    assert server.hit_count("POST", COMMIT) == 2
    assert info.oid == "1" * 40


def test_an_older_commit_with_the_same_message_does_not_count(server: ScriptedServer, hub) -> None:
    head = _commit_server(server, first="busy")
    head["title"] = "rebuild"  # HEAD already has our message from an earlier run

    hub.create_commit("alice/demo", [CommitOperationAdd("marker.txt", b"rebuild 3")], "rebuild")

    assert server.effects["commit"] == 1
    assert server.hit_count("POST", COMMIT) == 2
