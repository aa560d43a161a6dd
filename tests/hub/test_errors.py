"""Error translation: every huggingface_hub/httpx2 error we depend on maps to a one-line RemedyError."""

from __future__ import annotations

import inspect
import socket

import httpx2
import pytest
from hubserver import TOKEN, Reply, Request, ScriptedServer, repo_not_found
from huggingface_hub import errors as hf

from remedybot.core.errors import (
    AuthError,
    ForbiddenError,
    HubError,
    HubUnavailableError,
    NotFoundError,
    RemedyError,
    UsageError,
)
from remedybot.hub import TRANSLATIONS, Hub, SpaceDisabledError, translate
from remedybot.hub.errors import rule_for

RUNTIME = "/api/spaces/alice/demo/runtime"
NOT_FOUND = "Space 'alice/demo' not found. Check the id, or run 'hf auth login' if it is private."


def test_every_huggingface_hub_http_error_has_its_own_mapping() -> None:
    hub_errors = [cls for _, cls in inspect.getmembers(hf, inspect.isclass)
                  if issubclass(cls, hf.HfHubHTTPError)]
    depended_on = [*hub_errors, hf.LocalTokenNotFoundError, hf.OfflineModeIsEnabled, hf.HFValidationError,
                   hf.OIDCError]

    missing = [cls.__name__ for cls in depended_on if cls not in TRANSLATIONS]

    assert len(hub_errors) >= 10
    assert missing == [], f"add these to remedybot.hub.errors.TRANSLATIONS: {missing}"


def test_every_httpx2_error_resolves_to_a_mapping() -> None:
    exported = [getattr(httpx2, name) for name in httpx2.__all__]
    http_errors = [cls for cls in exported if inspect.isclass(cls) and issubclass(cls, httpx2.HTTPError)]

    assert len(http_errors) >= 15
    assert [cls.__name__ for cls in http_errors if rule_for(cls) is None] == []


@pytest.mark.parametrize(("reply", "error", "message"), [
    (repo_not_found(), NotFoundError, NOT_FOUND),
    (Reply(401, {"error": "Invalid credentials in Authorization header"},
           {"X-Error-Message": "Invalid credentials in Authorization header"}), AuthError,
     "Cannot read the runtime of Space 'alice/demo': the Hub rejected the token (401). "
     "Run 'hf auth login' or set HF_TOKEN to a valid token."),
    (Reply(403, {"error": "You are not the owner"}, {"X-Error-Message": "You are not the owner"}),
     ForbiddenError,
     "Cannot read the runtime of Space 'alice/demo': the token lacks write access or is not the owner's "
     "(403) (Hub: You are not the owner). Use a write token of the Space's owner."),
    (Reply(403, {"error": "Access to this resource is disabled."},
           {"X-Error-Message": "Access to this resource is disabled."}), SpaceDisabledError,
     "Cannot read the runtime of Space 'alice/demo': Hugging Face has disabled it (Access to this resource "
     "is disabled). Only Hugging Face support can re-enable it: run 'remedybot report alice/demo'."),
    (Reply(403, {"error": "gated"}, {"X-Error-Code": "GatedRepo"}), ForbiddenError,
     "Cannot read the runtime of Space 'alice/demo': it is gated and this account was not granted access. "
     "Request access on its page."),
    (Reply(400, {"error": "Invalid hardware flavor"}), HubError,
     "Cannot read the runtime of Space 'alice/demo': the Hub refused the request as invalid (400) "
     "(Hub: Invalid hardware flavor)."),
    (Reply(404, {"error": "Revision not found"}, {"X-Error-Code": "RevisionNotFound"}), NotFoundError,
     "Cannot read the runtime of Space 'alice/demo': the revision does not exist (Hub: Revision not found). "
     "Check the branch or commit id."),
    (Reply(404, {"error": "no file"}, {"X-Error-Code": "EntryNotFound"}), NotFoundError,
     "Cannot read the runtime of Space 'alice/demo': the file does not exist (Hub: no file)."),
    (Reply(402, {"error": "Subscribe to PRO"}), ForbiddenError,
     "Cannot read the runtime of Space 'alice/demo': the Hub requires a paid plan for this (402) "
     "(Hub: Subscribe to PRO)."),
    (Reply(409, {"error": "busy"}), HubError,
     "Cannot read the runtime of Space 'alice/demo': the Hub answered 409 (Hub: busy)."),
    (Reply(429, {"error": "slow down"}, {"Retry-After": "0"}), HubUnavailableError,
     "Cannot read the runtime of Space 'alice/demo': the Hub is rate-limiting this token (429) "
     "after 3 attempts. Wait a minute and try again."),
    (Reply(502, "<html>bad gateway</html>", {"Content-Type": "text/html"}), HubUnavailableError,
     "Cannot read the runtime of Space 'alice/demo': the Hub kept answering 502 after 3 attempts. "
     "Check https://status.huggingface.co and try again later."),
])
def test_hub_answers_are_translated(server: ScriptedServer, hub, monkeypatch: pytest.MonkeyPatch,
                                    reply: Reply, error: type[RemedyError], message: str) -> None:
    monkeypatch.setenv("REMEDYBOT_RETRY_MAX_ATTEMPTS", "3")
    reply.headers["X-Request-Id"] = "Root=1-6650f0aa-0123456789abcdef"
    server.script("GET", RUNTIME, reply)

    with pytest.raises(error) as info:
        hub.runtime("alice/demo")

    assert type(info.value) is error
    assert info.value.message == message == str(info.value)
    assert info.value.status == reply.status
    assert info.value.request_id == "Root=1-6650f0aa-0123456789abcdef"
    assert info.value.space_id == "alice/demo"


def test_an_unreachable_hub_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_RETRY_MAX_ATTEMPTS", "2")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    hub = Hub(TOKEN, endpoint=f"http://127.0.0.1:{port}")

    with pytest.raises(HubUnavailableError) as info:
        hub.runtime("alice/demo")

    assert info.value.message == ("Cannot read the runtime of Space 'alice/demo': could not reach the Hub at "
                                  "127.0.0.1 (connection failed, ConnectError) after 2 attempts. "
                                  "Check the network and HF_ENDPOINT.")


def test_a_token_echoed_by_the_server_never_reaches_the_message(server: ScriptedServer, hub) -> None:
    def echo(request: Request) -> Reply:
        auth = request.headers.get("authorization") or request.headers.get("Authorization", "")
        return Reply(403, {"error": f"token {auth} is read-only"}, {"X-Error-Message": f"bad {auth}"})

    server.route("POST", "/api/spaces/alice/demo/restart", echo)

    with pytest.raises(ForbiddenError) as info:
        hub.restart("alice/demo")

    assert TOKEN in str(info.value.__cause__)  # the server really echoed it...
    assert TOKEN not in info.value.message  # ...and the message does not carry it
    assert "[REDACTED]" in info.value.message


def test_messages_are_one_line_and_redacted_for_any_exception() -> None:
    secret = "hf_secretSecretSecret123"
    error = translate(httpx2.ConnectError(f"failed\nwith {secret}"), what="restart", space_id="alice/demo")

    assert isinstance(error, HubUnavailableError)
    assert "\n" not in error.message
    assert secret not in error.message


def test_local_errors_are_translated() -> None:
    no_token = translate(hf.LocalTokenNotFoundError("no token"), what="check the token")
    offline = translate(hf.OfflineModeIsEnabled("offline"), what="restart", space_id="alice/demo")

    assert isinstance(no_token, AuthError)
    assert no_token.message == ("Cannot check the token: no Hugging Face token found. "
                                "Run 'hf auth login' or set HF_TOKEN.")
    assert isinstance(offline, HubUnavailableError)
    assert "HF_HUB_OFFLINE" in offline.message


def test_a_malformed_space_id_is_a_usage_error(hub, server: ScriptedServer) -> None:
    with pytest.raises(UsageError) as info:
        hub.space_info("alice/demo/extra")

    assert info.value.message.startswith("Cannot read the info of Space 'alice/demo/extra': ")
    assert sum(server.hits.values()) == 0


def test_a_remedy_error_passes_through_unchanged() -> None:
    original = NotFoundError(NOT_FOUND)

    assert translate(original, what="restart", space_id="alice/demo") is original


def test_read_file_returns_none_for_a_missing_file(server: ScriptedServer, hub) -> None:
    server.script("GET", "/spaces/alice/demo/resolve/main/requirements.txt",
                  Reply(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"}))
    server.script("GET", "/spaces/alice/demo/resolve/main/app.py", Reply(200, "import gradio\n"))
    server.script("GET", "/spaces/alice/demo/resolve/main/big.bin", Reply(200, b"x" * 5000))

    assert hub.read_file("alice/demo", "requirements.txt") is None
    assert hub.read_file("alice/demo", "app.py") == "import gradio\n"
    with pytest.raises(HubError, match="over the 1000-byte limit"):
        hub.read_file("alice/demo", "big.bin", max_bytes=1000)
