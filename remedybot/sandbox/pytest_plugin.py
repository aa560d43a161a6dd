"""A pytest plugin so any test suite can run against the sandbox Hub.

Installed with remedybot (entry point `pytest11`), it adds one fixture,
`remedybot_sandbox`: a fresh sandbox Hub on 127.0.0.1 with the default demo
Spaces, the environment pointed at it (HF_ENDPOINT, HF_TOKEN,
REMEDYBOT_STATUS_URL). Imports are lazy so loading the plugin costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def remedybot_sandbox(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A running sandbox Hub (remedybot.sandbox.server.Sandbox), stopped after the test."""
    from remedybot.sandbox.server import Sandbox

    with Sandbox(state_dir=tmp_path / "remedybot-sandbox") as sb:
        for key, value in sb.env().items():
            monkeypatch.setenv(key, value)
        yield sb
