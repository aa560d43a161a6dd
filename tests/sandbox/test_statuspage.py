"""The sandbox status page speaks Better Stack's index.json, with Hugging Face's component names."""

from __future__ import annotations

import threading

import pytest

from remedybot.sandbox.statuspage import COMPONENTS, StatusPage


def resources(page: dict) -> dict[str, dict]:
    return {e["attributes"]["public_name"]: e["attributes"] for e in page["included"]
            if e["type"] == "status_page_resource"}


def test_all_operational_by_default() -> None:
    page = StatusPage().to_json()
    assert page["data"]["type"] == "status_page"
    assert page["data"]["attributes"]["aggregate_state"] == "operational"
    components = resources(page)
    assert {"Website", "Hub API", "Git Hosting and Serving", "Inference Providers", "Spaces", "Spaces Proxy",
            "ZeroGPU", "Datasets Server"} <= set(components)
    assert all(c["status"] == "operational" and 0 < c["availability"] <= 1 for c in components.values())


def test_every_resource_belongs_to_a_named_section() -> None:
    page = StatusPage().to_json()
    sections = {int(e["id"]): e["attributes"]["name"] for e in page["included"]
                if e["type"] == "status_page_section"}
    assert "Spaces" in sections.values()
    by_name = resources(page)
    assert sections[by_name["Spaces Proxy"]["status_page_section_id"]] == "Spaces"
    assert all(r["status_page_section_id"] in sections for r in by_name.values())
    assert len(page["data"]["relationships"]["status_page_resources"]["data"]) == len(COMPONENTS)


def test_degrade_and_restore() -> None:
    status = StatusPage()
    status.degrade("Spaces")
    status.degrade("Hub API", "downtime")
    page = status.to_json()
    assert page["data"]["attributes"]["aggregate_state"] == "downtime"
    assert resources(page)["Spaces"]["status"] == "degraded"
    status.restore("Hub API")
    assert status.aggregate_state() == "degraded"
    status.degrade("ZeroGPU", "maintenance")
    status.restore()
    assert set(status.states().values()) == {"operational"}


def test_unknown_component_or_state() -> None:
    status = StatusPage()
    with pytest.raises(ValueError, match="unknown status page component 'Spacez'"):
        status.degrade("Spacez")
    with pytest.raises(ValueError, match="unknown status page state 'meltdown'"):
        status.degrade("Spaces", "meltdown")
    with pytest.raises(ValueError, match="unknown status page component"):
        status.restore("Nope")


def test_thread_safe_updates() -> None:
    status = StatusPage()

    def flap(component: str) -> None:
        for _ in range(200):
            status.degrade(component)
            status.to_json()
            status.restore(component)

    threads = [threading.Thread(target=flap, args=(c,)) for c in COMPONENTS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert status.aggregate_state() == "operational"
