"""The console over HTTP: sign-in, the fleet page, a Space's page, tickets, and what must be refused."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx

from tests.serve.conftest import World, csrf_of, signed_in, viewer_console


def test_login_link_works_once(world: World) -> None:
    link = world.running.login_link().removeprefix(world.url)
    with httpx.Client(base_url=world.url) as first, httpx.Client(base_url=world.url) as second:
        assert first.get(link).status_code == 303
        assert "demo/wedged-space" in first.get("/").text
        answer = second.get(link)
        assert answer.status_code == 401
        assert "each link works once" in answer.text
        assert second.get("/").status_code == 401  # the sign-in page, no fleet
        assert "demo/wedged-space" not in second.get("/").text


def test_fleet_page_lists_every_demo_space_failing_first(world: World) -> None:
    with signed_in(world.running) as client:
        _fleet(world, client)


def _fleet(world: World, client: httpx.Client) -> None:
    page = client.get("/").text
    spaces = [e.space_id for e in world.console.store.entries()]
    assert len(spaces) >= 10
    for space_id in spaces:
        assert f'href="/spaces/{space_id}"' in page
    assert page.index("demo/dependency") < page.index("demo/healthy")  # failing before healthy
    rows = client.get("/fleet/rows", params={"q": "wedged"}).text
    assert "demo/wedged-space" in rows and "demo/healthy" not in rows
    failing = client.get("/fleet/rows", params={"failing": "true"}).text
    assert "demo/healthy\"" not in failing and "demo/dependency" in failing


def test_space_page_shows_evidence_highlighted_and_ticket_downloads(world: World) -> None:
    with signed_in(world.running) as client:
        _space_and_ticket(client)


def _space_and_ticket(client: httpx.Client) -> None:
    page = client.get("/spaces/demo/dependency").text
    assert "<mark>" in page and "Evidence" in page
    assert "dependency" in page
    assert client.get("/spaces/demo/nothing-here").status_code == 404
    pushed = client.get("/spaces/demo/bad-push").text  # issue 16's analysis, on the Space page too
    assert "Since it last ran" in pushed and "changed since: requirements.txt (changed) (named in the log)" in pushed
    assert "Since it last ran" not in client.get("/spaces/demo/healthy").text
    answer = client.get("/spaces/demo/policy-block/ticket", params={"format": "email", "download": "true"})
    assert answer.status_code == 200
    assert 'filename="demo--policy-block-ticket.txt"' in answer.headers["content-disposition"]
    assert "demo/policy-block" in answer.text
    assert client.get("/spaces/demo/policy-block/ticket", params={"format": "pdf"}).status_code == 400


def test_no_state_change_without_session_csrf_or_approver(world: World) -> None:
    plan_file = world.home / "serve" / "plans" / "demo--port-mismatch.json"
    with httpx.Client(base_url=world.url) as anonymous:
        assert anonymous.post("/spaces/demo/port-mismatch/plan", data={"csrf": "x"}).status_code == 401
    with signed_in(world.running) as client:
        _refusals(world, client, plan_file)


def _refusals(world: World, client: httpx.Client, plan_file: Path) -> None:
    assert client.post("/spaces/demo/port-mismatch/plan").status_code == 403  # no CSRF token
    assert client.post("/spaces/demo/port-mismatch/plan", data={"csrf": "wrong"}).status_code == 403
    assert not plan_file.exists()
    viewing = viewer_console(world)
    try:
        with signed_in(viewing) as viewer:
            token = csrf_of(viewer, "/")  # the sign-out form carries it
            answer = viewer.post("/spaces/demo/port-mismatch/plan", data={"csrf": token})
            assert answer.status_code == 403 and "may view but not approve" in answer.text
            assert 'id="make-plan"' not in viewer.get("/spaces/demo/port-mismatch").text
        assert not plan_file.exists()
    finally:
        viewing.stop()
    token = csrf_of(client, "/spaces/demo/port-mismatch")
    assert client.post("/spaces/demo/port-mismatch/plan", data={"csrf": token}).status_code == 303
    assert plan_file.exists()


def test_the_token_appears_in_no_page_or_response(world: World) -> None:
    token = world.sandbox.token
    paths = ["/", "/fleet/rows", "/spaces/demo/wedged-space", "/spaces/demo/dependency",
             "/spaces/demo/policy-block/ticket?format=json", "/static/console.js", "/healthz"]
    with signed_in(world.running) as client:
        for path in paths:
            answer = client.get(path)
            assert answer.status_code == 200, path
            assert token not in answer.text and token not in str(answer.headers), path
        assert "Content-Security-Policy" in client.get("/").headers


def test_markup_in_a_run_log_is_shown_as_text(world: World) -> None:
    with signed_in(world.running) as client:
        page = client.get("/spaces/demo/hostile-log").text
    assert "<script>window.pwned" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;&lt;img src=x onerror=" in page
