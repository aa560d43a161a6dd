"""What a repo's `.gitattributes` and `.gitignore` say about a path, as the Hub's preupload reads them.

The Hub answers `preupload` with `uploadMode: "lfs"` for a path its `.gitattributes` tracks with
`filter=lfs` (whatever its size), and with `shouldIgnore: true` for a path the `.gitignore` of the
commit (the client's `gitIgnore` payload) or of the repo ignores. Patterns follow git's wildmatch
rules (pathspec's GitIgnoreSpec).
"""

from __future__ import annotations

from functools import lru_cache

import pathspec


@lru_cache(maxsize=256)
def _lfs_spec(gitattributes: str) -> pathspec.GitIgnoreSpec:
    patterns = []
    for line in gitattributes.splitlines():
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        attrs = parts[1:]
        if "filter=lfs" in attrs:
            patterns.append(parts[0])
        elif "-filter" in attrs or "!filter" in attrs:
            patterns.append("!" + parts[0])
    return pathspec.GitIgnoreSpec.from_lines(patterns)


@lru_cache(maxsize=256)
def _ignore_spec(gitignore: str) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(gitignore.splitlines())


def tracked_by_lfs(gitattributes: str | None, path: str) -> bool:
    return bool(gitattributes) and _lfs_spec(gitattributes).match_file(path)


def ignored(gitignore: str | None, path: str) -> bool:
    return bool(gitignore) and _ignore_spec(gitignore).match_file(path)
