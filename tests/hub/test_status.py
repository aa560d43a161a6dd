"""The status page: fetched without a token, retried like the Hub, summarised whatever its shape."""

from __future__ import annotations

import pytest
from hubserver import Reply, ScriptedServer

from remedybot.core.errors import HubError
from remedybot.hub import aggregate_state, status_components

PAGE = {
    "data": {"id": "87641", "type": "status_page", "attributes": {"aggregate_state": "degraded"}},
    "included": [
        {"id": "51200", "type": "status_page_section", "attributes": {"name": "Spaces"}},
        {"id": "4102300", "type": "status_page_resource",
         "attributes": {"public_name": "Spaces", "status": "degraded", "availability": 0.997,
                        "status_page_section_id": 51200}},
        {"id": "4102301", "type": "status_page_resource",
         "attributes": {"public_name": "Website", "status": "operational", "status_page_section_id": None}},
    ],
}


def test_the_status_page_is_read_without_the_token(server: ScriptedServer, hub,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_STATUS_URL", f"{server.url}/index.json")
    server.script("GET", "/index.json", Reply(503, "maintenance"), Reply(200, PAGE))

    doc = hub.status_page()

    assert aggregate_state(doc) == "degraded"
    assert server.hit_count("GET", "/index.json") == 2
    assert all("authorization" not in {k.lower() for k in headers} for headers in server.seen_headers)


def test_a_page_that_is_not_json_is_a_hub_error(server: ScriptedServer, hub) -> None:
    server.script("GET", "/status.html", Reply(200, "<html>status</html>", {"Content-Type": "text/html"}))

    with pytest.raises(HubError, match="did not answer with a JSON object"):
        hub.status_page(f"{server.url}/status.html")


def test_components_are_summarised_with_their_section() -> None:
    assert status_components(PAGE) == [
        {"name": "Spaces", "status": "degraded", "section": "Spaces"},
        {"name": "Website", "status": "operational", "section": None},
    ]


@pytest.mark.parametrize("doc", [None, [], {}, {"data": None}, {"included": "x"},
                                 {"included": [1, {"type": 2}]}])
def test_unknown_shapes_summarise_to_unknown(doc: object) -> None:
    assert aggregate_state(doc) == "unknown"
    assert status_components(doc) == []
