"""Validation of `OWNER/SPACE` ids, the same rules the Hub applies to repo names."""

from __future__ import annotations

import os
import re

from remedybot.core.errors import UsageError

# huggingface_hub's own rules (utils/_validators.py, validate_repo_id): letters, digits, "-", "_", ".";
# no "--" or ".." anywhere; no "-" or "." at either end; a name of at most 96 characters.
_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._\-]{0,94}[A-Za-z0-9])?"
# Pattern text, compiled by `re` on first use (its cache), so importing this costs nothing at start-up.
_ID = rf"^{_PART}/{_PART}$"
OWNER = rf"^{_PART}$"
_URL = r"^https?://([^/]+)/(.*)$"
SHOWN = 80  # characters of a rejected id echoed back


def parse_space_id(value: str) -> str:
    """Return `value` if it is a well-formed `owner/name` Space id.

    Accepts the forms people paste: `owner/name`, `spaces/owner/name` and a Space URL on the configured
    Hub (`HF_ENDPOINT`, default https://huggingface.co): `https://huggingface.co/spaces/owner/name`.

    Raises:
        UsageError: the id is malformed, a URL of another host, or not a Space's URL.
    """
    raw = value.strip()
    text = raw
    url = re.match(_URL, raw)
    if url:
        host, path = url.group(1).lower(), url.group(2)
        if host != _endpoint_host():
            raise UsageError(f"{shown(raw)} is a URL on {shown(host)}, not on the Hub remedybot talks to "
                             f"({_endpoint_host()}). Use OWNER/SPACE, or a Space URL of that Hub.")
        if not path.startswith("spaces/"):
            raise UsageError(f"{shown(raw)} is not a Space URL (Space URLs start with /spaces/). "
                             "Use the form OWNER/SPACE.")
        text = path
    text = text.strip("/")
    if text.startswith("spaces/"):
        text = text[len("spaces/"):]
    if not re.match(_ID, text) or ".." in text or "--" in text:
        raise UsageError(f"{shown(raw)} is not a Space id. Use the form OWNER/SPACE, e.g. 'alice/my-demo'.")
    return text


def shown(text: str) -> str:
    """`text` as it can be echoed in one line: quoted, control characters escaped, at most SHOWN characters."""
    clipped = text if len(text) <= SHOWN else text[:SHOWN] + f"… ({len(text)} characters)"
    return repr(clipped)


def _endpoint_host() -> str:
    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    match = re.match(_URL, endpoint.rstrip("/") + "/")
    return (match.group(1) if match else endpoint).lower()
