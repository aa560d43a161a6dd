"""Storage calls: trees, paths-info, refs, LFS listings and deletions, squash, buckets, streamed hashes.

A mixin of `Hub`, like `RepoCalls`: `hub.list_tree(...)`, `hub.delete_lfs_objects(...)`.
Each goes through `self._call`, so it is retried by the one policy and its errors
are translated into RemedyError.

Most are plain HTTP through huggingface_hub's shared session instead of HfApi
methods: HfApi's paginated and bucket helpers retry on their own with real
1-8 s sleeps of their own, which would stack under our policy, and several
storage answers we need (xetHash, pushedAt) are easier to read raw.

Retry stance: reads, LFS deletions (deleting a deleted oid is a no-op) and
bucket copies (copying onto the same path and hash is a no-op) are idempotent.
A super-squash is checked before a re-attempt (is the branch already one
commit with our message?).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from huggingface_hub import constants
from huggingface_hub.utils import get_session, hf_raise_for_status

from remedybot.core.errors import HubError, NotFoundError
from remedybot.hub.repos import RepoCalls

CHUNK = 1 << 20
LFS_MIME = "application/vnd.git-lfs+json"
DELETE_BATCH = 1000  # the Hub's batch size for lfs-files/batch
Progress = Callable[[int], None]  # called with the number of bytes just read



class StorageCalls(RepoCalls):
    """The storage calls of `Hub` (a mixin, like RepoCalls): each through `self._call` and its retry policy."""

    def _api(self, repo_id: str, repo_type: str, tail: str) -> str:
        return f"{self.endpoint}/api/{repo_type}s/{repo_id}/{tail}"

    def web_url(self, repo_id: str, repo_type: str) -> str:
        """The repo's web/git URL (`{E}/spaces/o/n`, `{E}/datasets/o/n`, `{E}/o/n`)."""
        return f"{self.endpoint}/{constants.REPO_TYPES_URL_PREFIXES.get(repo_type, '')}{repo_id}"

    def get_json(self, url: str, *, what: str, repo_id: str, repo_type: str,
                 params: dict[str, Any] | None = None) -> Any:
        """One GET of Hub JSON under the retry policy, errors worded for `repo_type` (model, bucket...)."""
        return self._call(lambda: self._get(url, params=params).json(), what=what, repo_id=repo_id, repo_type=repo_type)

    def _post(self, url: str, **kwargs: Any) -> Any:
        response = get_session().post(url, headers={**self.request_headers(), **kwargs.pop("headers", {})}, **kwargs)
        hf_raise_for_status(response)
        return response

    def _post_json(self, url: str, **kwargs: Any) -> Any:
        """POST and return the decoded JSON answer."""
        return self._post(url, **kwargs).json()


    # -- repository content ---------------------------------------------------------------

    def used_storage(self, repo_id: str, repo_type: str = "space") -> int | None:
        """The repo's `usedStorage` in bytes as the Hub reports it now (an expand-only field)."""
        url = f"{self.endpoint}/api/{repo_type}s/{repo_id}"
        data = self.get_json(url, what="read the storage of", repo_id=repo_id, repo_type=repo_type,
                         params={"expand": ["usedStorage"]})
        value = data.get("usedStorage")
        return int(value) if value is not None else None

    def list_tree(self, repo_id: str, *, repo_type: str = "space", revision: str = "main") -> list[dict[str, Any]]:
        """Every file at `revision` (recursive), as the Hub's JSON: path, size, oid, lfs{oid,size}, xetHash.

        Raises:
            NotFoundError: the repo or revision does not exist. HubUnavailableError: retries ran out.
        """
        url = self._api(repo_id, repo_type, f"tree/{quote(revision, safe='')}")
        items = self._paged(url, what="list the files of", repo_id=repo_id, repo_type=repo_type,
                           params={"recursive": "true"})
        return [item for item in items if item.get("type") == "file"]

    def paths_info(self, repo_id: str, paths: list[str], *, repo_type: str = "space",
                   revision: str = "main") -> dict[str, dict[str, Any]]:
        """What the Hub knows about `paths` at `revision` (missing paths are simply absent)."""
        url = self._api(repo_id, repo_type, f"paths-info/{quote(revision, safe='')}")
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(paths), 500):
            batch = paths[start:start + 500]
            items = self._call(partial(self._post_json, url, data={"paths": batch, "expand": "false"}),
                              what="read file details of", repo_id=repo_id, repo_type=repo_type)
            out.update({item["path"]: item for item in items if item.get("type") == "file"})
        return out

    def list_refs(self, repo_id: str, repo_type: str = "space") -> dict[str, str]:
        """Every ref the Hub holds for the repo (branches, tags, converts, pull requests) -> its commit sha."""
        url = self._api(repo_id, repo_type, "refs")
        data = self.get_json(url, what="list the refs of", repo_id=repo_id, repo_type=repo_type,
                         params={"include_prs": 1})
        refs: dict[str, str] = {}
        for kind in ("branches", "tags", "converts", "pullRequests"):
            for ref in data.get(kind) or []:
                if ref.get("targetCommit"):
                    refs[ref["ref"]] = ref["targetCommit"]
        return refs

    def list_lfs_objects(self, repo_id: str, repo_type: str = "space") -> list[dict[str, Any]]:
        """Every LFS/Xet object the repo stores, raw: fileOid (sha256), filename, size, pushedAt, xetHash."""
        return self._paged(self._api(repo_id, repo_type, "lfs-files"), what="list the LFS files of", repo_id=repo_id,
                          repo_type=repo_type)

    def delete_lfs_objects(self, repo_id: str, oids: list[str], *, repo_type: str = "space") -> None:
        """Permanently delete LFS objects by sha256, leaving every commit as it is (`rewriteHistory: false`).

        With `rewriteHistory: true` (huggingface_hub's default) the Hub would also rewrite every commit
        that holds a pointer to them: new commit ids, so the planned parent of the next commit would no
        longer match (SAFETY.md: the purge keeps every commit). Cannot be undone. Callers check first
        that no ref's tip references them (slim.py does).
        """
        url = self._api(repo_id, repo_type, "lfs-files/batch")
        for start in range(0, len(oids), DELETE_BATCH):
            batch = oids[start:start + DELETE_BATCH]

            def took_effect(batch: list[str] = batch) -> bool:
                """After a lost answer: the batch is done if none of its objects is listed any more."""
                left = {obj.get("fileOid") for obj in self.list_lfs_objects(repo_id, repo_type)}
                return not left.intersection(batch)

            self._call(partial(self._post, url, json={"deletions": {"sha": batch, "rewriteHistory": False}}),
                      what="delete LFS objects of", repo_id=repo_id, repo_type=repo_type, before_retry=took_effect)

    def super_squash(self, repo_id: str, message: str, *, repo_type: str = "space", branch: str = "main") -> None:
        """Squash the branch into one commit (super_squash_history); cannot be undone."""

        def took_effect() -> bool:
            commits = self.list_commits(repo_id, repo_type=repo_type, limit=2, revision=branch)
            return len(commits) == 1 and commits[0].get("title") == message.splitlines()[0]

        self._call(lambda: self.api.super_squash_history(repo_id, branch=branch, commit_message=message,
                                                       repo_type=repo_type),
                  what="squash the history of", repo_id=repo_id, repo_type=repo_type, before_retry=took_effect)

    def resolve_url(self, repo_id: str, repo_type: str, path: str, revision: str = "main") -> str:
        return f"{self.web_url(repo_id, repo_type)}/resolve/{quote(revision, safe='')}/{quote(path, safe='/')}"


    # -- bytes ------------------------------------------------------------------------------

    def stream_sha256(self, url: str, *, what: str, repo_id: str, repo_type: str = "space",
                      sink: Path | None = None, progress: Progress | None = None,
                      headers: dict[str, str] | None = None) -> tuple[str, int]:
        """GET `url` streaming, hash it (and write it to `sink` atomically); returns (sha256, bytes).

        The token goes only to the Hub's own host; a CDN URL gets `headers` (from the LFS batch answer).
        A failed attempt is retried from the start, so a partial file is never kept.
        """
        send = dict(headers or {})
        if url.startswith(self.endpoint):
            send = {**self.request_headers(), **send}

        def fetch() -> tuple[str, int]:
            digest = hashlib.sha256()
            total = 0
            tmp = sink.with_name(sink.name + ".part") if sink else None
            fh = open(tmp, "wb") if tmp else None  # noqa: SIM115 - closed below
            try:
                with get_session().stream("GET", url, headers=send) as response:
                    if response.status_code >= 400:
                        response.read()
                        hf_raise_for_status(response)
                    for chunk in response.iter_bytes(CHUNK):
                        digest.update(chunk)
                        total += len(chunk)
                        if fh:
                            fh.write(chunk)
                        if progress:
                            progress(len(chunk))
            finally:
                if fh:
                    fh.close()
            if tmp and sink:
                tmp.replace(sink)
            return digest.hexdigest(), total

        return self._call(fetch, what=what, repo_id=repo_id, repo_type=repo_type)

    def lfs_download_action(self, repo_id: str, repo_type: str, oid: str, size: int) -> tuple[str, dict[str, str]]:
        """Ask the repo's git-LFS batch API where to download one object: (href, headers).

        Raises:
            HubError: the Hub no longer has the object; it cannot be backed up from this repo.
        """
        url = f"{self.web_url(repo_id, repo_type)}.git/info/lfs/objects/batch"
        body = {"operation": "download", "transfers": ["basic"], "hash_algo": "sha256",
                "objects": [{"oid": oid, "size": size}]}
        answer = self._call(lambda: self._post(url, json=body, headers={"Accept": LFS_MIME,
                                                                        "Content-Type": LFS_MIME}).json(),
                           what=f"locate LFS object {oid[:12]} of", repo_id=repo_id, repo_type=repo_type)
        obj = (answer.get("objects") or [{}])[0]
        action = (obj.get("actions") or {}).get("download")
        if not action:
            reason = (obj.get("error") or {}).get("message", "no download action")
            raise HubError(f"Cannot download LFS object {oid[:12]} of {repo_type} '{repo_id}': {reason}.")
        return action["href"], dict(action.get("header") or {})


    # -- buckets -------------------------------------------------------------------------

    def bucket_info(self, bucket_id: str) -> dict[str, Any] | None:
        """The bucket's JSON (id, private, size, totalFiles), or None when it does not exist."""
        try:
            return self.get_json(f"{self.endpoint}/api/buckets/{bucket_id}", what="read", repo_id=bucket_id,
                             repo_type="bucket")
        except NotFoundError:
            return None

    def create_bucket(self, bucket_id: str, *, private: bool) -> None:
        """Create the bucket; an existing one is fine (a 409 is the same result)."""
        from huggingface_hub.errors import HfHubHTTPError

        def create() -> None:
            try:
                self._post(f"{self.endpoint}/api/buckets/{bucket_id}",
                      json={"visibility": "private" if private else "public"})
            except HfHubHTTPError as exc:
                if exc.response.status_code != 409:
                    raise

        self._call(create, what="create bucket", repo_id=bucket_id)

    def bucket_paths_info(self, bucket_id: str, paths: list[str]) -> dict[str, dict[str, Any]]:
        """What the bucket holds at `paths`: path -> {size, xetHash, mtime}; missing paths are absent."""
        url = f"{self.endpoint}/api/buckets/{bucket_id}/paths-info"
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(paths), 1000):
            batch = paths[start:start + 1000]
            items = self._call(partial(self._post_json, url, json={"paths": batch}), what="read files of bucket",
                              repo_id=bucket_id)
            out.update({item["path"]: item for item in items})
        return out

    def bucket_copy(self, bucket_id: str, copies: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Server-side copies into a bucket (`copyFile` NDJSON lines); returns the Hub's `failed` list."""
        lines = [json.dumps({"type": "copyFile", **c}) for c in copies]
        url = f"{self.endpoint}/api/buckets/{bucket_id}/batch"
        failed: list[dict[str, Any]] = []
        for start in range(0, len(lines), 1000):
            data = ("\n".join(lines[start:start + 1000]) + "\n").encode()

            def send(d: bytes = data) -> list[dict[str, Any]]:
                response = get_session().post(url, content=d, headers={**self.request_headers(),
                                                                      "Content-Type": "application/x-ndjson"})
                if response.status_code in (200, 422):
                    return list(response.json().get("failed") or [])
                hf_raise_for_status(response)
                return []

            failed += self._call(send, what="copy files into bucket", repo_id=bucket_id)
        return failed

    def bucket_resolve_url(self, bucket_id: str, path: str) -> str:
        return f"{self.endpoint}/buckets/{bucket_id}/resolve/{quote(path, safe='/')}"

    def set_space_volumes(self, space_id: str, volumes: list[dict[str, Any]]) -> None:
        """Replace the Space's volume mounts (PUT /volumes); setting the same list twice is harmless."""
        url = self._api(space_id, "space", "volumes")

        def put() -> None:
            response = get_session().put(url, json={"volumes": volumes}, headers=self.request_headers())
            hf_raise_for_status(response)

        self._call(put, what="mount volumes on", repo_id=space_id)
