"""Deployed as a Space: "Sign in with Hugging Face" through huggingface_hub's FastAPI helpers, against the
sandbox's OAuth stand-in, in Chromium. The OAuth access token does not stay in any cookie, and roles still
come from the policy (a signed-in stranger may not view)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from huggingface_hub import constants

from tests.serve.conftest import World, start_console
from tests.serve.test_browser import ARTIFACTS, shot


@pytest.fixture
def space_console(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # What a Space with `hf_oauth: true` finds in its environment (huggingface_hub reads it at import).
    for key, value in world.sandbox.oauth_env().items():
        monkeypatch.setattr(constants, key, value)
    monkeypatch.setenv("SPACE_ID", "demo/console")
    if "carol" not in world.sandbox.state.users:
        world.sandbox.state.add_user("carol")
    running = start_console(mode="space")
    running.console.store = world.console.store
    try:
        yield running
    finally:
        running.stop()


def _sign_in(browser: Any, url: str, user: str) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    page.click("#oauth-login")
    page.click(f"#as-{user}")  # the sandbox's authorize page
    page.wait_for_load_state()
    return context, page


def test_sign_in_with_hugging_face_in_a_space(space_console: Any, world: World, browser: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context, page = _sign_in(browser, space_console.url, "demo")
    try:
        assert page.url.rstrip("/") == space_console.url
        assert page.locator(".who").inner_text() == "demo · approver"
        assert page.locator("table.fleet tbody tr").count() == len(world.console.store.entries())
        shot(page, "8-space-oauth-fleet")
        token = world.sandbox.token
        for cookie in context.cookies():
            raw = cookie["value"]
            decoded = base64.urlsafe_b64decode(raw.split(".")[0] + "==").decode("latin-1") if raw else ""
            assert token not in raw and token not in decoded, cookie["name"]
    finally:
        context.close()
    context, page = _sign_in(browser, space_console.url, "carol")
    try:
        assert "carol may not view this console" in page.content()
    finally:
        context.close()
