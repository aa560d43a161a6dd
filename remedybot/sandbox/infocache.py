"""What a repo's info JSON takes from git, remembered per commit, so a listing does not re-read git.

A listing of 2 000 Spaces built every Space's JSON from git: the head, the tree, the README and the
object store's size, four git processes a Space, every time (bench/bench_scan.py measures it). None of
them changes until the repo changes: the tree and the README are fixed by the commit (the object store's size is
remembered by `state.used_storage`, `repostore.cached_git_size`). The head of `main` is read from the ref
files directly (`GitRepo.head`). Copies are handed out, so a caller may change what it gets.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any

from remedybot.sandbox.repostore import GitRepo, parse_lfs_pointer
from remedybot.sandbox.state import HubState, HubStateError, Repo, front_matter

MAX_ENTRIES = 8192
_lock = threading.Lock()
_views: OrderedDict[tuple[str, str, bool], tuple[dict[str, Any], list[dict[str, Any]]]] = OrderedDict()


def _remember(table: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    with _lock:
        table[key] = value
        while len(table) > MAX_ENTRIES:
            table.popitem(last=False)


def _recall(table: OrderedDict[Any, Any], key: Any) -> Any:
    with _lock:
        return table.get(key)


def git_view(state: HubState, repo: Repo, revision: str | None,
             blobs: bool) -> tuple[str | None, dict[str, Any], list[dict[str, Any]]]:
    """(commit, README front matter, siblings) of `repo` at `revision` (default main); 404 for a bad revision."""
    git = state.git(repo)
    sha = git.resolve(revision) if revision else git.head("main")
    if revision and sha is None:
        raise HubStateError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
    if sha is None:
        return None, {}, []
    key = (str(git.path), sha, blobs)
    cached = _recall(_views, key)
    if cached is None:
        cached = (front_matter(git.read_file(sha, "README.md")), _siblings(git, sha, blobs))
        _remember(_views, key, cached)
    return sha, copy.deepcopy(cached[0]), [dict(s) for s in cached[1]]


def _siblings(git: GitRepo, sha: str, blobs: bool) -> list[dict[str, Any]]:
    siblings = []
    for entry in git.tree(sha):
        sib: dict[str, Any] = {"rfilename": entry.path}
        if blobs:
            sib["size"] = entry.size
            sib["blobId"] = entry.oid
            if entry.size < 1024:
                pointer = parse_lfs_pointer(git.read_blob(entry.oid))
                if pointer:
                    sib["size"] = pointer[1]
                    sib["lfs"] = {"size": pointer[1], "sha256": pointer[0], "pointerSize": entry.size}
        siblings.append(sib)
    return siblings
