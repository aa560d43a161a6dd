"""Console fixtures: one sandbox Hub and one running console for the session (per xdist worker), which every
test of tests/serve/ shares: each test acts on Spaces of its own, so the order they run in does not matter.

The console is the real app served by uvicorn on 127.0.0.1, talking to the sandbox over HTTP; tests talk to
the console over HTTP too (httpx here, Chromium in test_browser.py). A session is opened the way a person
opens one: with the one-time login link the console prints.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sandboxes import copy_state

from remedybot.fleet.policy import Policy, parse_policy
from remedybot.hub import Hub
from remedybot.sandbox.server import Sandbox
from remedybot.serve import server
from remedybot.serve.access import identity_from_whoami
from remedybot.serve.app import Console, ServeConfig

SECRET = "webhook-secret-for-tests"
README = b"---\ntitle: Echo\nsdk: gradio\nsdk_version: 5.9.1\napp_file: app.py\n---\n"
# A Space whose crash puts markup into its run log: the console must show it as text.
HOSTILE = "<script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\">"
HOSTILE_APP = f"import gradio as gr\n\nraise RuntimeError({HOSTILE!r})\n".encode()


@dataclass
class World:
    sandbox: Sandbox
    running: server.Running
    home: Path

    @property
    def console(self) -> Console:
        return self.running.console

    @property
    def url(self) -> str:
        return self.running.url


def start_console(policy: Policy | None = None, *, owners: list[str] | None = None, refresh: bool = False,
                  mode: str = "local", notify_url: str | None = None) -> server.Running:
    hub = Hub()
    config = ServeConfig(owners=owners or ["demo"], policy=policy or Policy(), interval=3600.0,
                         webhook_secret=SECRET, mode=mode, notify_url=notify_url)
    person = identity_from_whoami(hub.whoami()) if mode == "local" else None
    return server.start(Console(config, hub, local_person=person), refresh=refresh)


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the session (Debian's; Playwright's own download is not used)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: 'make test' installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def world(sandbox_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A sandbox with the demo Spaces and a console watching 'demo' (first scan done)."""
    root = tmp_path_factory.mktemp("serve")
    copy_state(sandbox_template, root / "hub")
    with pytest.MonkeyPatch.context() as mp, Sandbox(state_dir=root / "hub") as sb:
        for key, value in sb.env().items():
            mp.setenv(key, value)
        mp.setenv("HF_HOME", str(root / "hf-home"))
        mp.setenv("REMEDYBOT_HOME", str(root / "remedybot-home"))
        sb.state.create_repo("space", "demo/hostile-log", sdk="gradio", author="demo",
                             initial_files={"README.md": README, "app.py": HOSTILE_APP})
        running = start_console()
        running.console.refresher.refresh()
        try:
            yield World(sb, running, root / "remedybot-home")
        finally:
            running.console.runs.join()
            running.stop()


@contextmanager
def signed_in(running: server.Running) -> Iterator[httpx.Client]:
    """An HTTP client holding a session opened with a fresh one-time login link."""
    with httpx.Client(base_url=running.url, timeout=30) as client:
        answer = client.get(running.login_link().removeprefix(running.url))
        assert answer.status_code == 303, answer.text
        yield client


def csrf_of(client: httpx.Client, path: str) -> str:
    import re

    page = client.get(path).text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def viewer_console(world: World) -> server.Running:
    """A second console on the same fleet whose policy makes the token's user ('demo') a viewer only."""
    policy = parse_policy({"serve": {"viewers": ["demo"], "approvers": ["someone-else"]}}, where="viewer.toml")
    running = start_console(policy)
    running.console.store = world.console.store
    return running
