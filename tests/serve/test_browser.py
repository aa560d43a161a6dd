"""The console in a real browser: Playwright driving Debian's Chromium (`make test` installs it).

One browser and one sandbox for the module. The walk a person takes: sign in with the one-time link, see
the fleet, filter it, open a failing demo Space, plan, approve and apply, watch the run's events arrive, see
the Space RUNNING; then the ticket of a Space that cannot be fixed, previewed and downloaded; and a run log
holding markup, shown as text with no script run. Screenshots of each page go to test-artifacts/serve/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.serve.conftest import World

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "serve"


@pytest.fixture(scope="module")
def page(world: World, browser: Any) -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(world.running.login_link())
    yield page
    context.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_fleet_then_approve_and_apply_a_failing_space(page: Any, world: World) -> None:
    assert page.url.rstrip("/") == world.url  # the link signed us in and went to the fleet
    rows = page.locator("table.fleet tbody tr")
    assert rows.count() == len(world.console.store.entries())
    shot(page, "1-fleet")
    page.fill("input[name=q]", "wedged")
    expect(rows).to_have_count(1)  # htmx swapped the rows in (the page's CSP forbids eval, so no JS probe)
    page.click("text=demo/wedged-space")
    assert page.locator("#stage").inner_text() != "RUNNING"
    shot(page, "2-space")
    page.click("#make-plan")
    boxes = page.locator("input[name=steps]")
    assert boxes.count() >= 1
    for i in range(boxes.count()):
        boxes.nth(i).check()
    page.click("#approve")
    assert "Approved by demo" in page.locator("#plan-card").inner_text()
    shot(page, "3-plan-approved")
    page.click("#apply")
    page.wait_for_selector("#run-end:not([hidden])", timeout=120_000)
    events = page.locator("#run li").all_inner_texts()
    assert any("started applying plan" in e for e in events)
    assert "Run ended: fixed" in page.locator("#run-end").inner_text()
    shot(page, "4-run")
    page.reload()  # progress survives a reload: the stream replays the run from its start
    page.wait_for_selector("#run-end:not([hidden])")
    assert page.locator("#run li").all_inner_texts() == events
    assert page.locator("#stage").inner_text() == "RUNNING"
    shot(page, "5-running")


def test_download_the_ticket_of_a_space_that_cannot_be_fixed(page: Any, world: World, tmp_path: Path) -> None:
    page.goto(f"{world.url}/spaces/demo/policy-block")
    assert page.locator("#branch").inner_text() == "policy_block"
    page.click("a.ticket-link:text('email')")
    assert "demo/policy-block" in page.locator("pre.ticket").inner_text()
    shot(page, "6-ticket")
    with page.expect_download() as info:
        page.click("#download")
    download = info.value
    assert download.suggested_filename == "demo--policy-block-ticket.txt"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text()
    assert "demo/policy-block" in text and world.sandbox.token not in text


def test_markup_in_a_run_log_stays_text(page: Any, world: World) -> None:
    page.goto(f"{world.url}/spaces/demo/hostile-log")
    assert page.evaluate("window.pwned") is None
    assert "<script>window.pwned = 1</script>" in page.locator("#run_log").inner_text()
    shot(page, "7-hostile-log")
