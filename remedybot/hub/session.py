"""The HTTP client every Hub call shares: timeouts, endpoint, token, bounded reads.

huggingface_hub builds one shared `httpx2.Client` with `timeout=None`, so a
stalled Hub would hang remedybot forever. `install_client_factory`
replaces that client once per process with the same settings plus timeouts.
The endpoint is read from HF_ENDPOINT when a Hub is built, not when
huggingface_hub was imported, so pointing remedybot at the sandbox works late.
"""

from __future__ import annotations

import os
import threading

# huggingface_hub's telemetry call (/api/agent-harnesses) goes to the endpoint read at
# import time, not to HfApi(endpoint=...): it could reach huggingface.co while remedybot
# is pointed elsewhere. remedybot never needs it.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import httpx2
from huggingface_hub import get_token, set_client_factory
from huggingface_hub.utils._http import hf_request_event_hook

from remedybot.core.env import setting
from remedybot.core.errors import HubError
from remedybot.hub.budget import BudgetTransport

DEFAULT_ENDPOINT = "https://huggingface.co"
CONNECT_TIMEOUT = 10.0

_lock = threading.Lock()
_installed = False


def http_timeout() -> httpx2.Timeout:
    """Connect 10 s; read/write/pool 30 s or REMEDYBOT_HTTP_TIMEOUT seconds.

    Raises:
        UsageError: REMEDYBOT_HTTP_TIMEOUT is not a positive number; fix or unset it.
    """
    seconds = setting("REMEDYBOT_HTTP_TIMEOUT")
    return httpx2.Timeout(seconds, connect=min(CONNECT_TIMEOUT, seconds))


def _client_factory() -> httpx2.Client:
    # Same as huggingface_hub's default_client_factory, plus timeouts and the request budget.
    return httpx2.Client(event_hooks={"request": [hf_request_event_hook]}, follow_redirects=True,
                         timeout=http_timeout(), transport=BudgetTransport(httpx2.HTTPTransport()))


def install_client_factory() -> None:
    """Give huggingface_hub's shared client our timeouts; only the first call does anything.

    Once only, because `set_client_factory` closes the current shared client, which
    would break requests other threads have in flight.
    """
    global _installed
    with _lock:
        if not _installed:
            set_client_factory(_client_factory)
            _installed = True


def resolve_endpoint(endpoint: str | None = None) -> str:
    """The Hub URL: the argument, else HF_ENDPOINT now, else https://huggingface.co (no trailing slash)."""
    return (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).strip().rstrip("/")


def resolve_token(token: str | None = None) -> str | None:
    """The token: the argument, else huggingface_hub's usual sources (HF_TOKEN, token file, ...)."""
    return token if token is not None else get_token()


def read_bounded(response: httpx2.Response, limit: int, *, what: str) -> bytes:
    """Read a streamed response body, refusing to hold more than `limit` bytes in memory.

    Raises:
        HubError: the body is larger than `limit`; nothing to retry, the caller reports it.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HubError(f"Cannot {what}: the answer is {int(declared)} bytes, over the {limit}-byte limit.",
                       status=response.status_code)
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            raise HubError(f"Cannot {what}: the answer is over the {limit}-byte limit.",
                           status=response.status_code)
    return bytes(body)
