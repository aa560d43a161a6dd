"""The plumbing under `Hub`: one HfApi, one way to call it (retry, then translate).

Every public Hub method is a thin `self._call(...)` around an HfApi method or a
plain GET through huggingface_hub's shared session. `_call` is where the retry
policy and the error translation meet, so no method can skip either.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import httpx2
from huggingface_hub import HfApi
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

from remedybot import __version__
from remedybot.core.redact import register_secret
from remedybot.hub.errors import TRANSLATABLE, translate
from remedybot.hub.retry import RetryPolicy, retrying
from remedybot.hub.session import install_client_factory, read_bounded, resolve_endpoint, resolve_token

T = TypeVar("T")

PAGE_LIMIT = 1000  # pages followed at most by _paged, so a server looping its Link header cannot spin us


class HubCore:
    """Endpoint, token, the HfApi instance and the call wrapper shared by every Hub method."""

    def __init__(self, token: str | None = None, *, endpoint: str | None = None,
                 policy: RetryPolicy | None = None) -> None:
        """Build a client for one Hub.

        Args:
            token: the Hugging Face token; default huggingface_hub's sources (HF_TOKEN, token file).
            endpoint: the Hub URL; default HF_ENDPOINT read now, else https://huggingface.co.
            policy: retry caps; default read from the REMEDYBOT_RETRY_* variables at each call.
        """
        install_client_factory()
        self.endpoint = resolve_endpoint(endpoint)
        self.token = resolve_token(token)
        register_secret(self.token)
        self.policy = policy
        self.api = HfApi(endpoint=self.endpoint, token=self.token, library_name="remedybot",
                         library_version=__version__)

    def __repr__(self) -> str:  # never the token
        return f"{type(self).__name__}(endpoint={self.endpoint!r}, token={'set' if self.token else 'none'})"

    def request_headers(self) -> dict[str, str]:
        """Headers for a raw request to the Hub (authorization, user-agent); do not log them."""
        return build_hf_headers(token=self.token, library_name="remedybot", library_version=__version__)

    def _call(self, fn: Callable[[], T], *, what: str, repo_id: str | None = None, repo_type: str = "space",
              before_retry: Callable[[], Any] | None = None, policy: RetryPolicy | None = None,
              service: str = "the Hub") -> Any:
        """Run `fn` under the retry policy; translate what escapes into a RemedyError."""
        subject = f"'{repo_id}'" if repo_id else ""
        label = what.replace("{space}", subject) if "{space}" in what else f"{what} {subject}"
        try:
            return retrying(fn, what=label.strip(), before_retry=before_retry, policy=policy or self.policy)
        except TRANSLATABLE as exc:
            raise translate(exc, what=what, space_id=repo_id, repo_type=repo_type, service=service) from exc

    def _get(self, url: str, *, params: dict[str, Any] | None = None) -> httpx2.Response:
        """One authenticated GET; raises huggingface_hub's typed errors. Not retried: wrap it in _call."""
        response = get_session().get(url, params=params, headers=self.request_headers())
        hf_raise_for_status(response)
        return response

    def _get_json(self, url: str, *, what: str, repo_id: str | None = None,
                  params: dict[str, Any] | None = None) -> Any:
        return self._call(lambda: self._get(url, params=params).json(), what=what, repo_id=repo_id)

    def _paged(self, url: str, *, what: str, repo_id: str | None = None, repo_type: str = "space",
               params: dict[str, Any] | None = None, limit: int | None = None) -> list[Any]:
        """Every item of a Link-paginated listing (or the first `limit`), each page under the policy.

        huggingface_hub's own `paginate` retries each page with its http_backoff (1-8 s real
        sleeps, up to 5 times) beneath our policy; paging here keeps one policy in charge.
        """
        items: list[Any] = []
        next_url: str | None = url
        page_params = params
        for _ in range(PAGE_LIMIT):
            if next_url is None or (limit is not None and len(items) >= limit):
                break
            page_url, query = next_url, page_params
            response = self._call(partial(self._get, page_url, params=query), what=what,
                                  repo_id=repo_id, repo_type=repo_type)
            items.extend(response.json())
            next_url = response.links.get("next", {}).get("url")
            page_params = None  # the next link carries its own query
        return items if limit is None else items[:limit]

    def _download(self, url: str, *, limit: int, what: str) -> bytes:
        """GET a body of at most `limit` bytes, streamed so no more than that is ever held."""
        with get_session().stream("GET", url, headers=self.request_headers()) as response:
            if response.status_code >= 400:
                response.read()  # error bodies are small; hf_raise_for_status reads the message from it
                hf_raise_for_status(response)
            return read_bounded(response, limit, what=what)
