"""Fixtures for the Hub-access tests: a scripted server on 127.0.0.1 and a Hub pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hubserver import TOKEN, ScriptedServer


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny backoff so retries cost milliseconds; Retry-After is still honoured as sent."""
    monkeypatch.setenv("REMEDYBOT_RETRY_BASE", "0.001")
    monkeypatch.setenv("REMEDYBOT_RETRY_MAX_ATTEMPTS", "6")
    monkeypatch.setenv("REMEDYBOT_RETRY_MAX_SECONDS", "20")


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        yield srv


@pytest.fixture
def hub(server: ScriptedServer):
    from remedybot.hub import Hub

    return Hub(TOKEN, endpoint=server.url)
