"""`remedybot serve` on the command line: --register-webhook, --deploy (shown first, confirmed), bad input."""

from __future__ import annotations

import socket

import pytest
from clirun import run

from remedybot.sandbox.server import Sandbox

URL = "https://console.example/webhooks/hub"


def test_register_webhook_needs_the_secret_and_creates_one_webhook(empty_sandbox: Sandbox,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    result = run("serve", "demo", "--register-webhook", URL)
    assert result.code == 2
    assert result.err_lines == ["Error: --register-webhook needs a shared secret: set REMEDYBOT_WEBHOOK_SECRET "
                                "(the console reads the same variable)."]
    monkeypatch.setenv("REMEDYBOT_WEBHOOK_SECRET", "s3cret-value")
    assert run("serve", "demo", "--register-webhook", "ftp://x").code == 2
    first = run("serve", "demo", "--register-webhook", URL)
    assert first.code == 0, first.err
    again = run("serve", "demo", "--register-webhook", URL)
    assert again.code == 0 and "already watches demo; nothing to do" in again.out
    hooks = list(empty_sandbox.state.webhooks.hooks.values())
    assert [(h.url, h.watched, h.domains, h.secret) for h in hooks] == [
        (URL, [{"type": "user", "name": "demo"}], ["repo"], "s3cret-value")]
    assert "s3cret-value" not in first.out + first.err


def test_deploy_shows_what_it_creates_and_asks_first(empty_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_WEBHOOK_SECRET", "s3cret-value")
    declined = run("serve", "demo", "--deploy", "demo/console", stdin="n\n")
    assert declined.code == 3
    assert "a private Docker Space demo/console (hf_oauth: true, port 7860)" in declined.err
    assert "Refusing to deploy to 'demo/console': not confirmed. Nothing was created." in declined.err
    assert ("space", "demo/console") not in empty_sandbox.state.repos
    assert not empty_sandbox.state.webhooks.hooks
    made = run("serve", "demo", "--deploy", "demo/console", stdin="y\n")
    assert made.code == 0, made.err
    repo = empty_sandbox.state.repos[("space", "demo/console")]
    assert repo.private and repo.space is not None
    assert sorted(repo.space.secrets) == ["HF_TOKEN", "REMEDYBOT_WEBHOOK_SECRET"]
    assert repo.space.secrets["HF_TOKEN"]["value"] == empty_sandbox.token
    assert not repo.space.variables
    hooks = list(empty_sandbox.state.webhooks.hooks.values())
    assert [h.url for h in hooks] == [f"{empty_sandbox.endpoint}/_sandbox/app/demo/console/webhooks/hub"]
    assert empty_sandbox.token not in made.out + made.err and "s3cret-value" not in made.out + made.err
    again = run("serve", "demo", "--deploy", "demo/console", "--yes")
    assert again.code == 3 and "that Space exists already" in again.err


def test_bad_input_is_one_line(empty_sandbox: Sandbox) -> None:
    assert run("serve", "demo/x").code == 2
    assert run("serve", "demo", "--port", "70000").code == 2
    assert run("serve", "demo", "--deploy", "not a space", "--yes").code == 2
    assert run("serve", "demo", "--notify", "not-a-url").code == 2
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run("serve", "demo", "--port", str(port))
    assert result.code == 2
    assert result.err_lines[-1].startswith(f"Error: Cannot listen on port {port}:")
