"""The package index's JSON API (`$REMEDYBOT_PYPI_URL/pypi/<name>/json`): release versions and upload times.

Only read, never sent a token (the index is not the Hub), each answer bounded. A release's date is the
earliest upload time of its files; a release whose files are all yanked, or that has no files, is left
out, as pip would never pick it. The caller decides what a missing package means (`None`): an index
that does not answer raises, and the caller reports that the drift could not be checked.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx2
from huggingface_hub.utils import get_session

from remedybot.core.env import url_setting
from remedybot.core.errors import HubError
from remedybot.hub.retry import RetryPolicy
from remedybot.hub.session import read_bounded

INDEX_TIMEOUT = httpx2.Timeout(10.0, connect=5.0)
MAX_INDEX_BYTES = 20_000_000  # gradio's JSON is a few MB: every release and file
# Drift is one line of a diagnosis: an index that does not answer gets two quick tries, not the Hub's minute.
INDEX_POLICY = RetryPolicy(max_attempts=2, max_seconds=15.0, base=0.2, max_wait=2.0)


def index_url() -> str:
    """REMEDYBOT_PYPI_URL (validated), default https://pypi.org."""
    return url_setting("REMEDYBOT_PYPI_URL")


def fetch_releases(name: str, base: str | None = None) -> dict[str, str] | None:
    """{version: first upload time (ISO 8601)} of every release of `name` that has an unyanked file,
    or None when the index does not know the package (404).

    Raises:
        httpx2.HTTPStatusError / TransportError: for the retry policy (the caller translates).
        HubError: the answer is too big or not the index's JSON; nothing to retry.
    """
    url = f"{base or index_url()}/pypi/{quote(name, safe='')}/json"
    with get_session().stream("GET", url, timeout=INDEX_TIMEOUT, headers={"accept": "application/json"}) as resp:
        if resp.status_code == 404:
            resp.read()
            return None
        if resp.status_code >= 400:
            resp.read()
            resp.raise_for_status()
        body = read_bounded(resp, MAX_INDEX_BYTES, what=f"read the package index's page of {name}")
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("releases"), dict):
        raise HubError(f"Cannot read the package index: {url} did not answer with the JSON API's "
                       "'releases'. Check REMEDYBOT_PYPI_URL.")
    return release_dates(doc["releases"])


def release_dates(releases: dict[str, Any]) -> dict[str, str]:
    """{version: earliest upload time} from the JSON API's `releases`, skipping empty and all-yanked ones."""
    out: dict[str, str] = {}
    for version, files in releases.items():
        if not isinstance(files, list):
            continue
        times = [str(f.get("upload_time_iso_8601") or f.get("upload_time") or "") for f in files
                 if isinstance(f, dict) and not f.get("yanked")]
        times = [t for t in times if t]
        if times:
            out[str(version)] = min(times)
    return out
