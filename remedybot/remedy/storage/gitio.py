"""Git for the storage engine: authenticated mirror clones and pushes, and reading LFS pointers.

The token travels in an `http.extraHeader` set through git's environment config
(GIT_CONFIG_COUNT/KEY/VALUE), never in a URL, argv or a config file, so it
cannot leak into `ps`, the clone's remote URL or an error message. User and
system git config are ignored (GIT_CONFIG_GLOBAL=/dev/null), so a global
credential helper, LFS filter or hook cannot change what a clone or push does.
LFS content is never smudged: the storage engine works on pointers and fetches
objects through the LFS API itself when it needs their bytes.
"""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path
from typing import Any

from remedybot.core.errors import HubError
from remedybot.core.progress import progress_bar
from remedybot.core.redact import redact

POINTER_MAX = 1024  # git-lfs pointer files are far smaller than this
POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1\n"


def git_env(token: str | None) -> dict[str, str]:
    """Environment for every git command the storage engine runs against the Hub."""
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_LFS_SKIP_SMUDGE": "1", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C",
           "GIT_AUTHOR_NAME": "remedybot", "GIT_AUTHOR_EMAIL": "remedybot@users.noreply.huggingface.co",
           "GIT_COMMITTER_NAME": "remedybot", "GIT_COMMITTER_EMAIL": "remedybot@users.noreply.huggingface.co"}
    if token:
        basic = base64.b64encode(f"remedybot:{token}".encode()).decode()
        env.update({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader",
                    "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}"})
    return env


def run_git(args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, what: str,
            data: bytes | None = None) -> bytes:
    """Run one git command (an argument list, never a shell string); raise HubError with git's reason.

    Raises:
        HubError: git failed; the message ends with git's last stderr line, redacted.
    """
    full = {**os.environ, **(env or {})}
    proc = subprocess.run(["git", *args], cwd=cwd, env=full, input=data, capture_output=True)
    if proc.returncode != 0:
        raise HubError(f"Cannot {what}: {_reason(proc.stderr)}.")
    return proc.stdout


def _reason(stderr: bytes) -> str:
    lines = [ln.strip() for ln in redact(stderr.decode("utf-8", "replace")).splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(("hint:", "remote: -"))]
    return (useful or lines or ["git failed"])[-1].rstrip(".")


def mirror_clone(url: str, dest: Path, *, token: str | None, what: str) -> Path:
    """`git clone --mirror` (every ref, no checkout, no LFS content) with a progress bar.

    Raises:
        HubError: the clone failed (auth, network, a missing repo); nothing is left at `dest`.
    """
    import git  # GitPython, imported late so the CLI starts fast

    class _Progress(git.RemoteProgress):
        def __init__(self, bar: Any) -> None:
            super().__init__()
            self.bar = bar

        def update(self, op_code: int, cur_count: Any, max_count: Any = None, message: str = "") -> None:
            self.bar.set(float(cur_count or 0), float(max_count) if max_count else None)

    with progress_bar(f"Cloning {what}") as bar:
        try:
            git.Repo.clone_from(url, str(dest), mirror=True, env=git_env(token), progress=_Progress(bar))  # type: ignore[arg-type]  # GitPython accepts a RemoteProgress
        except git.GitCommandError as exc:
            raise HubError(f"Cannot clone {what}: {_reason(str(exc.stderr or exc).encode())}.") from exc
    return dest


def read_pointers(repo: Path, blob_ids: list[str]) -> dict[str, tuple[str, int]]:
    """Which of these blobs are LFS pointers: blob id -> (sha256 oid, size)."""
    if not blob_ids:
        return {}
    check = run_git(["cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)"], cwd=repo,
                    data="\n".join(blob_ids).encode() + b"\n", what="read blob sizes").decode()
    small = [f[0] for f in (line.split() for line in check.splitlines())
             if len(f) == 3 and f[1] == "blob" and int(f[2]) < POINTER_MAX]
    if not small:
        return {}
    out = run_git(["cat-file", "--batch"], cwd=repo, data="\n".join(small).encode() + b"\n", what="read blobs")
    found: dict[str, tuple[str, int]] = {}
    pos = 0
    for blob in small:
        end = out.index(b"\n", pos)
        size = int(out[pos:end].split()[2])
        content = out[end + 1:end + 1 + size]
        pos = end + 1 + size + 1
        pointer = parse_pointer(content)
        if pointer:
            found[blob] = pointer
    return found


def parse_pointer(data: bytes) -> tuple[str, int] | None:
    """(sha256, size) of a git-lfs pointer file, or None for any other content."""
    if not data.startswith(POINTER_PREFIX) or len(data) >= POINTER_MAX:
        return None
    fields = dict(line.split(" ", 1) for line in data.decode("utf-8", "replace").splitlines() if " " in line)
    oid = fields.get("oid", "").removeprefix("sha256:")
    size = fields.get("size", "")
    return (oid, int(size)) if len(oid) == 64 and size.isdigit() else None


def refs(repo: Path) -> dict[str, str]:
    """Every ref of a (mirror) clone -> the commit it points at (annotated tags peeled)."""
    out = run_git(["for-each-ref", "--format=%(refname) %(*objectname) %(objectname)"], cwd=repo,
                  what="list refs").decode()
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if parts:
            found[parts[0]] = parts[1] if len(parts) == 3 else parts[-1]
    return found


def tree_blobs(repo: Path, rev: str) -> dict[str, str]:
    """Every file of a commit: path -> blob id."""
    out = run_git(["ls-tree", "-r", "-z", rev], cwd=repo, what=f"list the files of {rev[:12]}").decode()
    blobs = {}
    for record in out.split("\0"):
        if record:
            meta, path = record.split("\t", 1)
            _mode, kind, oid = meta.split()
            if kind == "blob":
                blobs[path] = oid
    return blobs


def history_pointers(repo: Path) -> dict[str, tuple[str, int]]:
    """Every LFS pointer blob anywhere in history: blob id -> (sha256 oid, size)."""
    out = run_git(["rev-list", "--objects", "--all"], cwd=repo, what="list history objects").decode()
    candidates = [line.split(" ", 1)[0] for line in out.splitlines() if " " in line]
    return read_pointers(repo, candidates)
