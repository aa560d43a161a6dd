"""`Hub`: the one object through which remedybot talks to the Hub (docs/ARCHITECTURE.md, "hub").

Space calls live here; repository calls in `repos.py`, the plumbing in `core.py`.
Every method goes through the retry policy and the error translation, so callers
see either a result or a one-line RemedyError. Runtime-shaped answers are
returned as the Hub's raw JSON (`SpaceRuntime` drops `errorMessage`, which is
the best evidence we have).

Retry stance per call: reads are idempotent and retried plainly. Every call that
acts is checked against the Hub before it is sent again after an ambiguous failure
(a lost answer, a reset, a 502 from a proxy; SAFETY.md, "Retries"): a restart,
factory rebuild or hardware request took effect if a new build or start-up header
appeared in the Space's logs since just before it was sent (the runtime cannot
tell "our restart started" from "it was already stuck in BUILDING", which is
exactly the wedged case, but every build and every start writes a new header);
a duplicate if the target now exists; `repos.py` and `storage.py` do the same for
commits, creations, LFS deletions and squashes. Pause sets a state and is repeated.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from huggingface_hub import SpaceInfo

from remedybot.core.errors import NotFoundError, RemedyError
from remedybot.hub.index import INDEX_POLICY, fetch_releases
from remedybot.hub.logs import log_tail
from remedybot.hub.status import fetch_status_page, status_url
from remedybot.hub.storage import StorageCalls

# Fields asked for when listing a fleet with runtimes; with `expand` the Hub returns only these.
log = logging.getLogger("remedybot.hub")

# The line every build ("Build Queued at ...") and every start of the app ("Application Startup at ...") opens
# its log with; a new one means the Space moved to a new build or start since we last looked.
_LOG_HEADER = re.compile(r"^===== (?:Build Queued|Application Startup) at .*=====\s*$")
MARK_LOG_LINES = 200  # tail read for the headers; a new build's header is near the end of a short new log

FLEET_FIELDS = ["author", "createdAt", "disabled", "lastModified", "private", "runtime", "sdk", "sha",
                "subdomain"]


class Hub(StorageCalls):
    """Hub access for one endpoint and token.

    Build it with `Hub()` (HF_ENDPOINT and the usual token sources) or
    `Hub(token, endpoint=...)`. Safe to share between threads.
    """

    def whoami(self) -> dict[str, Any]:
        """The token's account (`name`, `type`, `orgs`...); cached, as the endpoint is rate-limited.

        Raises:
            AuthError: no token, or the Hub rejects it; run 'hf auth login'.
        """
        return self._call(lambda: self.api.whoami(cache=True), what="check the token")

    def space_info(self, space_id: str, expand: list[str] | None = None) -> SpaceInfo:
        """The Space's metadata (sha, sdk, disabled, usedStorage with expand, cardData...).

        Raises:
            NotFoundError: no such Space, or private to someone else; check the id or log in.
        """
        return self._call(lambda: self.api.space_info(space_id, expand=expand),  # type: ignore[arg-type]
                          what="read the info of", repo_id=space_id)

    def runtime(self, space_id: str) -> dict[str, Any]:
        """The raw runtime JSON: stage, hardware{current,requested}, errorMessage, ...

        Raises:
            NotFoundError, ForbiddenError, HubUnavailableError: as translated from the Hub's answer.
        """
        return self._call(lambda: self.api.get_space_runtime(space_id).raw, what="read the runtime of",
                          repo_id=space_id)

    def restart(self, space_id: str, factory: bool = False) -> dict[str, Any]:
        """Restart the Space (factory=True rebuilds without cache); returns the raw runtime JSON.

        Raises:
            ForbiddenError: not the owner / no write token. HubError (400): a static Space cannot restart.
        """
        return self._call(lambda: self.api.restart_space(space_id, factory_reboot=factory).raw,
                          what="factory-rebuild" if factory else "restart", repo_id=space_id,
                          before_retry=self._started_anew(space_id))

    def pause(self, space_id: str) -> dict[str, Any]:
        """Pause the Space (stage PAUSED until restarted); returns the raw runtime JSON."""
        return self._call(lambda: self.api.pause_space(space_id).raw, what="pause", repo_id=space_id)

    def request_hardware(self, space_id: str, flavor: str) -> dict[str, Any]:
        """Ask for another hardware flavor (a plain string, e.g. "cpu-upgrade"); returns the raw runtime JSON.

        Raises:
            HubError (400): unknown flavor. ForbiddenError (402/403): billing or ownership.
        """
        return self._call(lambda: self.api.request_space_hardware(space_id, flavor).raw,  # type: ignore[arg-type]
                          what=f"request hardware '{flavor}' for", repo_id=space_id,
                          before_retry=self._started_anew(space_id))

    def _log_headers(self, space_id: str) -> set[str]:
        """The build and start-up headers in the tails of the Space's build and run logs."""
        lines = [*log_tail(self, space_id, build=True, max_lines=MARK_LOG_LINES),
                 *log_tail(self, space_id, build=False, max_lines=MARK_LOG_LINES)]
        return {line for line in lines if _LOG_HEADER.match(line)}

    def _started_anew(self, space_id: str) -> Callable[[], dict[str, Any] | None]:
        """A `before_retry` check for calls that make the Space build or start again.

        Reads the log headers now, before the call; after an ambiguous failure, the call took
        effect if a header appeared that was not there before (its answer is then the runtime).
        """
        try:
            before = self._log_headers(space_id)
        except RemedyError as exc:  # unread: any header then counts as new, so the call is never doubled
            log.debug("could not read the log headers of %s before acting: %s", space_id, exc.message)
            before = set()

        def took_effect() -> dict[str, Any] | None:
            if self._log_headers(space_id) - before:
                return self.runtime(space_id)
            return None

        return took_effect

    def list_hardware(self) -> list[dict[str, Any]]:
        """The Hub's Space hardware flavors as its JSON (name, prettyName, cpu, ram, accelerator...)."""
        return self._get_json(f"{self.endpoint}/api/spaces/hardware", what="list the Space hardware")

    def list_spaces(self, author: str, expand_runtime: bool = True) -> list[SpaceInfo]:
        """Every Space of a user or organisation; with expand_runtime each carries `.runtime` (one request
        per page instead of one per Space)."""
        params: dict[str, Any] = {"author": author}
        if expand_runtime:
            params["expand"] = FLEET_FIELDS
        items = self._paged(f"{self.endpoint}/api/spaces", what=f"list the Spaces of '{author}'",
                            params=params)
        return [SpaceInfo(**{"siblings": None, **item}) for item in items]

    def owner_exists(self, owner: str) -> bool:
        """Whether `owner` is a user or an organisation on the Hub (two cheap reads at most)."""
        for kind in ("users", "organizations"):
            try:
                self._get_json(f"{self.endpoint}/api/{kind}/{quote(owner, safe='')}/overview",
                               what=f"look up the owner '{owner}'")
                return True
            except NotFoundError:
                continue
        return False

    def get_variables(self, space_id: str) -> dict[str, dict[str, Any]]:
        """The Space's public variables: {key: {"value", "description"}} (secrets cannot be read)."""
        variables = self._call(lambda: self.api.get_space_variables(space_id), what="read the variables of",
                               repo_id=space_id)
        return {key: {"value": var.value, "description": var.description} for key, var in variables.items()}

    def duplicate(self, from_id: str, to_id: str, *, private: bool | None = None, hardware: str | None = None,
                  variables: list[dict[str, str]] | None = None) -> str:
        """Duplicate a Space server-side (history and LFS included) and return the new Space's URL.

        `to_id` without a namespace goes to the token's account. A re-attempt first checks
        whether the failed one created the target, so a Space is never duplicated twice.

        Raises:
            HubError (409): the target already exists; pick another name or delete it.
            ForbiddenError (402/403): a paid plan or write access is needed.
        """
        if "/" not in to_id:
            to_id = f"{self.whoami()['name']}/{to_id}"
        url = self._web_url(to_id, "space")
        existed = self.repo_exists(to_id)

        def took_effect() -> str | bool:
            return (not existed) and self.api.repo_exists(to_id, repo_type="space") and url

        def duplicate() -> str:
            self.api.duplicate_repo(from_id, to_id, repo_type="space", private=private,
                                    space_hardware=hardware, space_variables=variables)  # type: ignore[arg-type]
            return url

        return self._call(duplicate, what=f"duplicate {{space}} to '{to_id}'", repo_id=from_id,
                          before_retry=took_effect)

    def status_page(self, url: str | None = None) -> dict[str, Any]:
        """The status page JSON (REMEDYBOT_STATUS_URL, default status.huggingface.co); no token is sent.

        Summarise it with `status_components(doc)` and `aggregate_state(doc)`.
        """
        return self._call(lambda: fetch_status_page(status_url(url)), what="read the status page",
                          service="the status page")

    def package_releases(self, name: str) -> dict[str, str] | None:
        """{version: upload time} of a package on the index (REMEDYBOT_PYPI_URL), None if it has no such package.

        Not a Hub call, but it runs under the same retry policy (two quick tries: see INDEX_POLICY) and
        its errors are translated the same way, naming the package index.

        Raises:
            HubUnavailableError: the index could not be reached; report that the drift could not be checked.
        """
        return self._call(lambda: fetch_releases(name), what=f"read the releases of {name}",
                          policy=INDEX_POLICY, service="the package index")

    def probe(self, url: str, timeout: float = 10.0) -> str:
        """GET a Space's app URL once and return the status code as text ("unreachable" on errors).

        A probe is evidence, not an action, so it is not retried: the caller decides what a
        503 means. The token is sent only to the Hub's own endpoint, never to another host.
        """
        import httpx2
        from huggingface_hub import get_session

        headers = self.request_headers() if url.startswith(self.endpoint) else {}
        try:
            response = get_session().get(url, headers=headers, timeout=timeout)
        except httpx2.HTTPError:
            return "unreachable"
        return str(response.status_code)

    def secret_keys(self, space_id: str) -> list[str]:
        """The names of the Space's secrets (their values can never be read back)."""
        secrets = self._call(lambda: self.api.get_space_secrets(space_id), what="list the secrets of",
                             repo_id=space_id)
        return sorted(secrets)
