"""Shared fixtures: a real sandbox Hub on 127.0.0.1 and a client pointed at it.

Every test runs offline: HF_ENDPOINT points at the sandbox, HF_HOME at a
temporary folder (so no real token or cache is read), telemetry is off.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Set before anything imports huggingface_hub (its endpoint constant is read at import).
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
os.environ["REMEDYBOT_RETRY_BASE"] = "0.01"
os.environ.pop("HF_TOKEN", None)

from remedybot.sandbox.server import Sandbox


def point_at(sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point huggingface_hub and remedybot at `sb`, with a private HF_HOME and state home."""
    for key, value in sb.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("REMEDYBOT_HOME", str(tmp_path / "remedybot-home"))


@pytest.fixture(scope="session")
def sandbox_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the default scenario world once; each test gets a copy of it."""
    root = tmp_path_factory.mktemp("sandbox-template")
    sb = Sandbox(state_dir=root)
    sb.state.save()
    sb._server.server_close()
    return root


@pytest.fixture
def sandbox(sandbox_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A fresh sandbox Hub with the default demo Spaces, environment pointed at it."""
    state_dir = tmp_path / "hub"
    shutil.copytree(sandbox_template, state_dir)
    with Sandbox(state_dir=state_dir) as sb:
        point_at(sb, tmp_path, monkeypatch)
        yield sb


@pytest.fixture
def empty_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox Hub with only the user 'demo' and no Spaces."""
    with Sandbox(state_dir=tmp_path / "hub", load_default_scenarios=False) as sb:
        point_at(sb, tmp_path, monkeypatch)
        yield sb


@pytest.fixture
def api(sandbox: Sandbox):
    from huggingface_hub import HfApi

    return HfApi(endpoint=sandbox.endpoint, token=sandbox.token)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the classifier's accuracy on the real corpus when its test ran."""
    import sys

    for name in ("test_classify", "test_real_cases"):
        module = sys.modules.get(name) or sys.modules.get(f"tests.engine.{name}")
        figure = getattr(module, "ACCURACY", {}).get("corpus") if module else None
        if figure:
            terminalreporter.write_line(f"classifier accuracy on real cases (tests/data): {figure}")
