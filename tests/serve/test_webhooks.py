"""The webhook bot: a push that breaks a watched Space is diagnosed in the console and, with the policy
allowing it, gets a fix pull request, within the build the push started and with no scan or command; a
replayed delivery does nothing more; deliveries without the secret, or that are not Hub payloads, are refused."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2 as httpx
from huggingface_hub import HfApi

from remedybot.fleet.policy import parse_policy
from remedybot.serve import deploy
from tests.serve.conftest import README, SECRET, World, signed_in, start_console

APP = "import gradio as gr\n{extra}\ngr.Interface(lambda text: text, 'text', 'text').launch()\n"
SPACE = "demo/watched-app"


def _deliveries(world: World) -> list[dict]:
    answer = httpx.get(f"{world.sandbox.endpoint}/_sandbox/webhooks/deliveries", params={"wait": 1},
                       headers={"Authorization": f"Bearer {world.sandbox.token}"}, timeout=30)
    return answer.json()["deliveries"]


def test_a_breaking_push_gets_a_diagnosis_and_a_fix_pull_request_once(world: World) -> None:
    world.sandbox.state.create_repo("space", SPACE, sdk="gradio", author="demo",
                                    initial_files={"README.md": README, "app.py": APP.format(extra="").encode()})
    policy = parse_policy({"auto": "safe", "allow": ["dependency_fix"]}, where="bot.toml")
    heard: list[dict] = []
    receiver = _receiver(heard)
    bot = start_console(policy, notify_url=f"http://127.0.0.1:{receiver.server_port}/hook")
    try:
        console = bot.console
        deploy.register(console.hub, f"{bot.url}/webhooks/hub", ["demo"], SECRET)
        api = HfApi(endpoint=world.sandbox.endpoint, token=world.sandbox.token)
        api.upload_file(path_or_fileobj=APP.format(extra="import emoji\n").encode(), path_in_repo="app.py",
                        repo_id=SPACE, repo_type="space", commit_message="use emoji")
        pushes = [d for d in _deliveries(world) if d["url"] == f"{bot.url}/webhooks/hub"]
        assert pushes and all(d["state"] == "delivered" for d in pushes)
        console.hooks.join()
        entry = console.store.entry(SPACE)
        assert entry is not None and entry.result.known.branch == "dependency"
        assert console.refresher.rounds == 0  # no scan: the webhook alone brought the diagnosis
        prs = [d for d in api.get_repo_discussions(SPACE, repo_type="space") if d.is_pull_request]
        assert len(prs) == 1 and "emoji" in prs[0].title
        with signed_in(bot) as client:
            page = client.get(f"/spaces/{SPACE}").text
            assert "No module named &#39;emoji&#39;" in page
            assert "outcome: proposed" in page  # the timeline: the run that opened the pull request
            assert "the build after the push failed: dependency" in client.get("/").text
        records = len(console.audit.records(space_id=SPACE))

        payload = _payload_of_last_push(world, bot.url)
        answer = httpx.post(f"{bot.url}/webhooks/hub", json=payload, headers={"X-Webhook-Secret": SECRET})
        assert answer.status_code == 200 and answer.json()["message"].startswith("Already handled")
        console.hooks.join()
        assert len(console.audit.records(space_id=SPACE)) == records
        assert len([d for d in api.get_repo_discussions(SPACE, repo_type="space") if d.is_pull_request]) == 1
        assert [e["event"] for e in heard] == ["problem", "action"]  # notified once, not again for the replay
        assert heard[0]["space_id"] == SPACE and heard[0]["branch"] == "dependency"
    finally:
        bot.stop()
        receiver.shutdown()
        receiver.server_close()


def _receiver(heard: list[dict]) -> ThreadingHTTPServer:
    """A webhook receiver on 127.0.0.1 that keeps each JSON body it is sent."""
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            heard.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _payload_of_last_push(world: World, url: str) -> dict:
    deliveries = [d for d in world.sandbox.state.webhooks.deliveries if d.url == f"{url}/webhooks/hub"
                  and any(r["ref"] == "refs/heads/main" for r in d.payload.get("updatedRefs") or [])]
    return deliveries[-1].payload


def test_deliveries_without_the_secret_or_a_payload_are_refused(world: World) -> None:
    body = {"event": {"action": "update", "scope": "repo.content"}}
    with httpx.Client(base_url=world.url) as client:
        assert client.post("/webhooks/hub", json=body).status_code == 401
        assert client.post("/webhooks/hub", json=body, headers={"X-Webhook-Secret": "wrong"}).status_code == 401
        answer = client.post("/webhooks/hub", json=body, headers={"X-Webhook-Secret": SECRET})
        assert answer.status_code == 400 and answer.json()["message"].startswith("Not a Hub webhook payload")
