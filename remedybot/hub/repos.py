"""Repository calls: commits, files, LFS listings, existence, creation.

`create_commit` and `create_repo` are not idempotent: a commit whose answer was
lost (timeout, reset, 502) may already be on the branch, and sending it again
would make a second commit. They are retried only after checking the branch:
did HEAD move to a commit with our message (or, for a PR, did a new PR with it
appear)? If so, the earlier attempt is reported as the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from huggingface_hub import CommitInfo, CommitOperation, constants
from huggingface_hub.errors import (
    DisabledRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import Discussion, DiscussionWithDetails, LFSFileInfo

if TYPE_CHECKING:
    from huggingface_hub import SpaceHardware

from remedybot.core.errors import UsageError
from remedybot.hub.core import HubCore

MAX_FILE_BYTES = 1_000_000  # config files only; anything bigger is not evidence we can use


def _title(message: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines()]
    return lines[0] if lines else ""


class RepoCalls(HubCore):
    """Calls on a repository's content and existence (Spaces by default)."""

    def _api_url(self, repo_id: str, repo_type: str, tail: str) -> str:
        return f"{self.endpoint}/api/{repo_type}s/{repo_id}/{tail}"

    def _web_url(self, repo_id: str, repo_type: str) -> str:
        return f"{self.endpoint}/{constants.REPO_TYPES_URL_PREFIXES.get(repo_type, '')}{repo_id}"

    def _latest_commit(self, repo_id: str, repo_type: str, revision: str) -> dict[str, Any] | None:
        """The newest commit of a revision, or None if the revision does not exist. Not retried."""
        url = self._api_url(repo_id, repo_type, f"commits/{quote(revision, safe='')}")
        try:
            commits = self._get(url, params={"limit": 1}).json()
        except RevisionNotFoundError:
            return None
        return commits[0] if commits else None

    def _commit_info(self, repo_id: str, repo_type: str, sha: str, message: str, description: str | None,
                     pr_url: str | None = None) -> CommitInfo:
        return CommitInfo(commit_url=f"{self._web_url(repo_id, repo_type)}/commit/{sha}",
                          commit_message=message, commit_description=description or "", oid=sha,
                          pr_url=pr_url, _endpoint=self.endpoint)

    def _pr_refs(self, repo_id: str, repo_type: str) -> dict[str, str]:
        refs = self.api.list_repo_refs(repo_id, repo_type=repo_type, include_pull_requests=True)
        return {ref.ref: ref.target_commit for ref in refs.pull_requests or []}

    def create_commit(self, repo_id: str, operations: Iterable[CommitOperation], message: str, *,
                      repo_type: str = "space", create_pr: bool = False, parent_commit: str | None = None,
                      description: str | None = None, revision: str | None = None) -> CommitInfo:
        """Commit `operations` to a branch (or open a PR), at most once.

        Before a re-attempt it checks whether the failed one landed: HEAD moved to a commit
        whose title is our message's first line (with create_pr: a new PR ref with it).

        Raises:
            NotFoundError: the repo or revision does not exist; check the id.
            ForbiddenError: the token cannot write to it; use a write token of the owner.
            HubError: the Hub refused the commit (e.g. 412: `parent_commit` is no longer HEAD; re-plan).
            HubUnavailableError: retries ran out; try again later.
        """
        ops = list(operations)
        rev = revision or constants.DEFAULT_REVISION
        title = _title(message)
        what = "commit to"
        head_before = self._call(lambda: self._latest_commit(repo_id, repo_type, rev), what=what,
                                 repo_id=repo_id, repo_type=repo_type)
        prs_before = (self._call(lambda: self._pr_refs(repo_id, repo_type), what=what, repo_id=repo_id,
                                 repo_type=repo_type) if create_pr else {})

        def took_effect() -> CommitInfo | None:
            if create_pr:
                for ref in sorted(set(self._pr_refs(repo_id, repo_type)) - set(prs_before)):
                    commit = self._latest_commit(repo_id, repo_type, ref)
                    if commit and _title(commit.get("title", "")) == title:
                        pr_url = f"{self._web_url(repo_id, repo_type)}/discussions/{ref.rsplit('/', 1)[-1]}"
                        return self._commit_info(repo_id, repo_type, commit["id"], message, description,
                                                 pr_url)
                return None
            head = self._latest_commit(repo_id, repo_type, rev)
            before_id = head_before["id"] if head_before else None
            if head and head["id"] != before_id and _title(head.get("title", "")) == title:
                return self._commit_info(repo_id, repo_type, head["id"], message, description)
            return None

        return self._call(
            lambda: self.api.create_commit(repo_id, ops, commit_message=message,
                                           commit_description=description, repo_type=repo_type,
                                           revision=revision, create_pr=create_pr,
                                           parent_commit=parent_commit),
            what=what, repo_id=repo_id, repo_type=repo_type, before_retry=took_effect)

    def list_commits(self, repo_id: str, repo_type: str = "space", limit: int = 20,
                     revision: str | None = None) -> list[dict[str, Any]]:
        """The newest `limit` commits, as the Hub's JSON (`id`, `title`, `message`, `authors`, `date`)."""
        rev = quote(revision or constants.DEFAULT_REVISION, safe="")
        url = self._api_url(repo_id, repo_type, f"commits/{rev}")
        return self._paged(url, what="list the commits of", repo_id=repo_id, repo_type=repo_type,
                           params={"limit": limit}, limit=limit)

    def read_file(self, repo_id: str, path: str, repo_type: str = "space", revision: str | None = None, *,
                  max_bytes: int = MAX_FILE_BYTES) -> str | None:
        """The text of one file (UTF-8, invalid bytes replaced), or None when the file does not exist.

        Streamed from the resolve URL through the shared session, so nothing lands in the HF cache.

        Raises:
            HubError: the file is larger than `max_bytes`; it is not something to read whole.
            NotFoundError: the repo or the revision does not exist.
        """
        rev = quote(revision or constants.DEFAULT_REVISION, safe="")
        url = f"{self._web_url(repo_id, repo_type)}/resolve/{rev}/{quote(path, safe='/')}"
        what = f"read '{path}' of"

        def fetch() -> bytes | None:
            try:
                return self._download(url, limit=max_bytes, what=f"{what} {repo_type} '{repo_id}'")
            except RemoteEntryNotFoundError:
                return None
            except HfHubHTTPError as exc:
                # A bare 404 (no X-Error-Code) on resolve means the file; repo/revision 404s are typed.
                if type(exc) is HfHubHTTPError and exc.response.status_code == 404:
                    return None
                raise

        body = self._call(fetch, what=what, repo_id=repo_id, repo_type=repo_type)
        return None if body is None else body.decode("utf-8", errors="replace")

    def list_lfs_files(self, repo_id: str, repo_type: str = "space") -> list[LFSFileInfo]:
        """Every LFS/Xet object stored for the repo (what counts against its storage quota)."""
        items = self._paged(self._api_url(repo_id, repo_type, "lfs-files"), what="list the LFS files of",
                            repo_id=repo_id, repo_type=repo_type)
        return [LFSFileInfo(**item) for item in items]

    def open_pull_requests(self, repo_id: str, repo_type: str = "space") -> list[Discussion]:
        """The repo's open pull requests (drafts included)."""
        return self._call(lambda: list(self.api.get_repo_discussions(repo_id, repo_type=repo_type,
                                                                      discussion_type="pull_request",
                                                                      discussion_status="open")),
                          what="list the pull requests of", repo_id=repo_id, repo_type=repo_type)

    def pull_request(self, repo_id: str, num: int, repo_type: str = "space") -> DiscussionWithDetails:
        """One pull request with its status and merge commit."""
        return self._call(lambda: self.api.get_discussion_details(repo_id, num, repo_type=repo_type),
                          what=f"read pull request #{num} of", repo_id=repo_id, repo_type=repo_type)

    def repo_exists(self, repo_id: str, repo_type: str = "space") -> bool:
        """Whether the repo exists (a gated or disabled one does; someone else's private one does not)."""

        def check() -> bool:
            try:
                return self.api.repo_exists(repo_id, repo_type=repo_type)
            except DisabledRepoError:
                return True

        return self._call(check, what="check whether {space} exists", repo_id=repo_id, repo_type=repo_type)

    def create_repo(self, repo_id: str, *, repo_type: str = "space", space_sdk: str | None = None,
                    private: bool | None = None, exist_ok: bool = True, space_hardware: str | None = None,
                    space_variables: list[dict[str, str]] | None = None) -> str:
        """Create a repo and return its URL; with exist_ok (default) an existing repo is fine.

        Without exist_ok a re-attempt first checks whether the failed one created it.

        Raises:
            UsageError: a Space without `space_sdk`; pass gradio, docker or static.
            HubError: 409 (exists, without exist_ok); ForbiddenError: no right to create it here.
        """
        if repo_type == "space" and not space_sdk:
            raise UsageError(f"Cannot create Space '{repo_id}': space_sdk is required "
                             "(gradio, docker or static).")
        url = self._web_url(repo_id, repo_type)

        def create() -> str:
            try:
                return str(self.api.create_repo(repo_id, repo_type=repo_type, space_sdk=space_sdk,
                                                private=private, exist_ok=False,
                                                space_hardware=cast("SpaceHardware | None", space_hardware),
                                                space_variables=space_variables))
            except HfHubHTTPError as exc:
                # Not hf's own exist_ok: it reads `url` from the 409 body, which may lack it (KeyError).
                if exist_ok and exc.response.status_code == 409:
                    return url
                raise

        def took_effect() -> str | bool:
            return self.api.repo_exists(repo_id, repo_type=repo_type) and url

        existed = True if exist_ok else self.repo_exists(repo_id, repo_type)
        return self._call(create, what="create", repo_id=repo_id, repo_type=repo_type,
                          before_retry=None if existed else took_effect)

    # -- webhooks and Space secrets (remedybot serve --register-webhook / --deploy) ---------------------
    def list_webhooks(self) -> list[Any]:
        """The token's user's webhooks (`WebhookInfo`: id, url, watched, domains, disabled)."""
        return cast("list[Any]", self._call(lambda: self.api.list_webhooks(), what="list the webhooks of the token's "
                                                                                      "user"))

    def create_webhook(self, url: str, watched: list[dict[str, str]], *, secret: str | None,
                       domains: list[str] | None = None) -> Any:
        """Create a webhook to `url` watching `watched` (`[{"type": "user", "name": ...}]`); its `WebhookInfo`.

        Not idempotent: a re-attempt first looks for a webhook to the same URL watching the same items.

        Raises:
            ForbiddenError: the token may not manage webhooks (a fine-grained token needs that right).
        """
        wanted = sorted((w["type"], w["name"]) for w in watched)

        def took_effect() -> Any:
            for hook in self.api.list_webhooks():
                if hook.url == url and sorted((w.type, w.name) for w in hook.watched) == wanted:
                    return hook
            return None

        return self._call(lambda: self.api.create_webhook(url=url, watched=list(watched), secret=secret,
                                                          domains=cast("Any", domains or ["repo"])),
                          what="create a webhook to " + url, before_retry=took_effect)

    def add_space_secret(self, space_id: str, key: str, value: str) -> None:
        """Set a Space secret (idempotent: the same key and value again change nothing)."""
        self._call(lambda: self.api.add_space_secret(space_id, key, value), what=f"set the secret {key} of",
                   repo_id=space_id)
