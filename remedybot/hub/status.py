"""The Hugging Face status page (Better Stack `index.json`): fetch and summarise.

The page is a third-party host, so no Hub token is ever sent to it. Its shape
is JSON:API: `data.attributes.aggregate_state`, and `included[]` entries of type
`status_page_resource` (components: `public_name`, `status`,
`status_page_section_id`) and `status_page_section` (`name`). Component names
are read at run time, never assumed. The summaries accept any JSON and return
"unknown"/[] for shapes they do not recognise: the page is evidence, not a
reason to crash.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx2
from huggingface_hub.utils import get_session

from remedybot.core.errors import HubError
from remedybot.hub.session import read_bounded

DEFAULT_STATUS_URL = "https://status.huggingface.co/index.json"
STATUS_TIMEOUT = httpx2.Timeout(10.0, connect=5.0)
MAX_STATUS_BYTES = 5_000_000


def status_url(url: str | None = None) -> str:
    """The status page JSON URL: the argument, else REMEDYBOT_STATUS_URL, else the public page."""
    return url or os.environ.get("REMEDYBOT_STATUS_URL") or DEFAULT_STATUS_URL


def fetch_status_page(url: str) -> dict[str, Any]:
    """GET the page once (no token, 10 s timeout); raises httpx2 errors for the retry policy.

    Raises:
        httpx2.HTTPStatusError / TransportError: retried and translated by the caller.
        HubError: the answer is too big or not a JSON object; nothing to retry.
    """
    headers = {"accept": "application/json"}  # and no authorization: this is not the Hub
    with get_session().stream("GET", url, timeout=STATUS_TIMEOUT, headers=headers) as resp:
        if resp.status_code >= 400:
            resp.read()
            resp.raise_for_status()
        body = read_bounded(resp, MAX_STATUS_BYTES, what="read the status page")
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise HubError(f"Cannot read the status page: {url} did not answer with a JSON object. "
                       "Check REMEDYBOT_STATUS_URL.")
    return doc


def aggregate_state(doc: Any) -> str:
    """The page's overall state ("operational", "degraded", "downtime", "maintenance"...), or "unknown"."""
    try:
        state = doc["data"]["attributes"]["aggregate_state"]
    except (KeyError, TypeError):
        return "unknown"
    return state if isinstance(state, str) and state else "unknown"


def status_components(doc: Any) -> list[dict[str, str | None]]:
    """Each component as {"name", "status", "section"}, in page order; section None when unnamed."""
    included = doc.get("included") if isinstance(doc, dict) else None
    if not isinstance(included, list):
        return []
    entries = [e for e in included if isinstance(e, dict) and isinstance(e.get("attributes"), dict)]
    sections = {str(e.get("id")): e["attributes"].get("name") for e in entries
                if e.get("type") == "status_page_section"}
    components: list[dict[str, str | None]] = []
    for entry in entries:
        if entry.get("type") != "status_page_resource":
            continue
        attrs = entry["attributes"]
        section_id = attrs.get("status_page_section_id")
        components.append({
            "name": attrs.get("public_name") or attrs.get("name") or str(entry.get("id")),
            "status": attrs.get("status") or "unknown",
            "section": sections.get(str(section_id)) if section_id is not None else None,
        })
    return components
