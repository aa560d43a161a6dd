"""Bare git repositories on disk for the sandbox Hub, driven with git plumbing.

Every sandbox repo (Space, model, dataset) is a real bare repository, so
`git clone`/`push` through `git http-backend` and the API's commits see the
same history. API commits are built with a temporary index file
(read-tree, update-index, write-tree, commit-tree) and published with a
compare-and-swap `update-ref`, the way the Hub's own commit endpoint must
behave under concurrent writers.

LFS content lives outside git (see `LfsStore`); git holds the pointer files.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

T = TypeVar("T")

LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1\n"
EMPTY_GITATTRIBUTES = (
    "*.7z filter=lfs diff=lfs merge=lfs -text\n"
    "*.bin filter=lfs diff=lfs merge=lfs -text\n"
    "*.ckpt filter=lfs diff=lfs merge=lfs -text\n"
    "*.gz filter=lfs diff=lfs merge=lfs -text\n"
    "*.h5 filter=lfs diff=lfs merge=lfs -text\n"
    "*.onnx filter=lfs diff=lfs merge=lfs -text\n"
    "*.pkl filter=lfs diff=lfs merge=lfs -text\n"
    "*.pt filter=lfs diff=lfs merge=lfs -text\n"
    "*.pth filter=lfs diff=lfs merge=lfs -text\n"
    "*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
    "*.tar filter=lfs diff=lfs merge=lfs -text\n"
    "*.zip filter=lfs diff=lfs merge=lfs -text\n"
)
ZERO_SHA = "0" * 40


class GitError(RuntimeError):
    """A git plumbing command failed."""


class RefMovedError(GitError):
    """The branch moved while a commit was being built (compare-and-swap lost)."""


@dataclass(frozen=True)
class TreeEntry:
    path: str
    mode: str
    oid: str  # git blob sha1
    size: int  # size of the blob in git (pointer size for LFS files)


@dataclass(frozen=True)
class CommitRecord:
    oid: str
    title: str
    message: str
    author: str
    date: str  # ISO 8601
    parents: tuple[str, ...]


def lfs_pointer(oid: str, size: int) -> bytes:
    return LFS_POINTER_PREFIX + f"oid sha256:{oid}\nsize {size}\n".encode()


def parse_lfs_pointer(data: bytes) -> tuple[str, int] | None:
    """Return (sha256, size) if `data` is a git-lfs pointer file."""
    if not data.startswith(LFS_POINTER_PREFIX) or len(data) > 1024:
        return None
    oid = size = None
    for line in data.decode("utf-8", "replace").splitlines():
        if line.startswith("oid sha256:"):
            oid = line[len("oid sha256:"):].strip()
        elif line.startswith("size "):
            try:
                size = int(line[5:].strip())
            except ValueError:
                return None
    if oid and size is not None:
        return oid, size
    return None


def ref_name(branch: str) -> str:
    """A branch name as a full ref; a full ref (refs/pr/1, a commit to a pull request) stays as it is."""
    return branch if branch.startswith("refs/") else f"refs/heads/{branch}"


def git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_HEX = re.compile(r"[0-9a-f]+")
LOOSE_COMPRESSION = 1  # git's core.looseCompression default (best speed)
_PLAIN_PATH = re.compile(r"^[^/\x00\n\r\\][^\x00\n\r\\]*(?<!/)$")
_PLAIN_AUTHOR = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$")
SMALL_BLOB = 4096  # bytes; blobs up to this size are remembered by id
SMALL_COMMIT = 1024 * 1024  # bytes of files in a commit, up to which `read_file` reads the whole commit once
_SMALL_BLOBS: dict[str, bytes] = {}
_PLAIN_REF = re.compile(r"^refs/(?:heads|pr)/[A-Za-z0-9_][A-Za-z0-9_./-]*$")


def _plain_parts(path: str) -> bool:
    """Whether every part of `path` is a name git stores as it is (not empty, '.', '..', or .git in any case)."""
    return all(part and part not in (".", "..") and part.lower() != ".git" for part in path.split("/"))


def _scan(folder: Path) -> list[os.DirEntry[str]]:
    try:
        return list(os.scandir(folder))
    except FileNotFoundError:
        return []


_BY_COMMIT: OrderedDict[tuple[str, str], Any] = OrderedDict()  # (what, commit sha) -> answer; bounded LRU
_BY_COMMIT_MAX = 1024
_BY_COMMIT_LOCK = threading.Lock()


def _per_commit(what: str, rev: str, compute: Callable[[], T]) -> T:
    """`compute()`, remembered by commit: what a commit holds never changes, in any copy of any repo.

    Every sandbox restored from a saved state rebuilds each Space from the same commits, so this
    saves the git processes that would read them again. Only full shas are keys (a branch moves).
    """
    if not _FULL_SHA.match(rev):
        return compute()
    key = (what, rev)
    with _BY_COMMIT_LOCK:
        if key in _BY_COMMIT:
            _BY_COMMIT.move_to_end(key)
            return cast(T, _BY_COMMIT[key])
    value = compute()
    with _BY_COMMIT_LOCK:
        _BY_COMMIT[key] = value
        while len(_BY_COMMIT) > _BY_COMMIT_MAX:
            _BY_COMMIT.popitem(last=False)
    return value
_SIZES: dict[tuple[object, ...], int] = {}
_SIZES_LOCK = threading.Lock()


def cached_git_size(git: GitRepo) -> int:
    """`git.git_size()`, remembered until the object store or a ref file changes (their modification times).

    A listing asks every Space's size; `git count-objects` is a process each time.
    """
    stamps: list[object] = [str(git.path)]
    for part in ("objects", "objects/pack", "refs/heads", "refs/heads/main", "packed-refs"):
        try:
            stamps.append((git.path / part).stat().st_mtime_ns)
        except OSError:
            stamps.append(None)
    key = tuple(stamps)
    with _SIZES_LOCK:
        if key in _SIZES:
            return _SIZES[key]
    size = git.git_size()
    with _SIZES_LOCK:
        if len(_SIZES) > 8192:
            _SIZES.clear()
        _SIZES[key] = size
    return size


class GitRepo:
    """One bare repository and the plumbing the sandbox needs on it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()

    # -- low level ---------------------------------------------------------
    def git(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None,
            check: bool = True) -> bytes:
        full_env = {**os.environ, "GIT_DIR": str(self.path), "GIT_TERMINAL_PROMPT": "0",
                    "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
        if env:
            full_env.update(env)
        proc = subprocess.run(["git", *args], input=input, capture_output=True, env=full_env)
        if check and proc.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout

    @classmethod
    def init(cls, path: Path) -> GitRepo:
        path.mkdir(parents=True, exist_ok=True)
        # No template: its sample hooks and description are a dozen files per repo that every copy of a
        # saved sandbox would copy again (the sandbox's own hooks come through core.hooksPath).
        subprocess.run(["git", "init", "--bare", "-q", "--template=", "--initial-branch=main", str(path)],
                       check=True, capture_output=True)
        repo = cls(path)
        repo.git("config", "http.receivepack", "true")
        repo.git("config", "uploadpack.allowAnySHA1InWant", "true")
        repo.git("config", "receive.denyNonFastForwards", "false")
        repo.git("config", "gc.auto", "0")
        return repo

    # -- reading -----------------------------------------------------------
    def resolve(self, rev: str) -> str | None:
        """The commit `rev` names, or None. A full sha stored as a loose commit is answered from its file
        (the first bytes of a loose object say its type): downloads name their commit that way every time."""
        if _FULL_SHA.match(rev):
            kind = self._loose_type(rev)
            if kind == "commit":
                return rev
            if kind in ("blob", "tree"):
                return None
        return self._resolve_with_git(rev)

    def _loose_type(self, oid: str) -> str | None:
        try:
            with open(self.path / "objects" / oid[:2] / oid[2:], "rb") as fh:
                header = zlib.decompressobj().decompress(fh.read(64), 32)
        except (OSError, zlib.error):
            return None
        return header.split(b" ", 1)[0].decode("ascii", "replace")

    def _resolve_with_git(self, rev: str) -> str | None:
        out = self.git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        sha = out.decode().strip()
        return sha or None

    def head(self, branch: str = "main") -> str | None:
        """The commit a branch (or a full ref such as refs/pr/1) points at; None when it does not exist.

        Read from the ref files, as git stores them (a loose file, else a line of packed-refs), without a git
        process: every request and every Space a sandbox restores reads heads, and a process each cost a
        test's sandbox 32 of them before it answered anything. An unusual name or file is left to git.
        """
        ref = ref_name(branch)
        if not _PLAIN_REF.match(ref) or ".." in ref or "/." in ref or ref.endswith((".lock", "/", ".")):
            return self.resolve(ref)
        try:
            text = (self.path / ref).read_text().strip()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return self._packed_ref(ref)
        except OSError:
            return self.resolve(ref)
        return text if _FULL_SHA.match(text) else self.resolve(ref)

    def _packed_ref(self, ref: str) -> str | None:
        try:
            lines = (self.path / "packed-refs").read_text().splitlines()
        except FileNotFoundError:
            return None
        for line in lines:
            sha, _, name = line.partition(" ")
            if name == ref and _FULL_SHA.match(sha):
                return sha
        return None

    def branches(self) -> dict[str, str]:
        return self._refs("refs/heads/")

    def tags(self) -> dict[str, str]:
        return self._refs("refs/tags/")

    def _refs(self, prefix: str) -> dict[str, str]:
        """Refs under `prefix` (name without it -> the object it names), in git's order, read from the ref files
        as `git for-each-ref` would list them (loose files over packed-refs); anything unusual is left to git."""
        found: dict[str, str] = {}
        try:
            packed = (self.path / "packed-refs").read_text().splitlines()
        except FileNotFoundError:
            packed = []
        for line in packed:
            sha, _, name = line.partition(" ")
            if name.startswith(prefix) and _FULL_SHA.match(sha):
                found[name] = sha
        for folder, _subfolders, files in os.walk(self.path / prefix):
            for file in files:
                path = Path(folder, file)
                try:
                    text = "" if file.endswith(".lock") else path.read_text().strip()
                except FileNotFoundError:  # deleted since the listing
                    continue
                if not text:
                    continue
                if not _FULL_SHA.match(text):
                    return self._refs_from_git(prefix)
                found[path.relative_to(self.path).as_posix()] = text
        return {name[len(prefix):]: sha for name, sha in sorted(found.items())}

    def _refs_from_git(self, prefix: str) -> dict[str, str]:
        out = self.git("for-each-ref", "--format=%(refname) %(objectname)", prefix).decode()
        refs = {}
        for line in out.splitlines():
            name, sha = line.split(" ", 1)
            refs[name[len(prefix):]] = sha
        return refs

    def tree(self, rev: str) -> list[TreeEntry]:
        return list(_per_commit("tree", rev, lambda: self._tree(rev)))

    def _tree(self, rev: str) -> list[TreeEntry]:
        out = self.git("ls-tree", "-r", "-l", "-z", rev).decode("utf-8", "replace")
        entries = []
        for record in out.split("\0"):
            if not record:
                continue
            meta, path = record.split("\t", 1)
            mode, kind, oid, size = meta.split()
            if kind != "blob":
                continue
            entries.append(TreeEntry(path=path, mode=mode, oid=oid, size=int(size)))
        return entries

    def read_blob(self, oid: str) -> bytes:
        """A blob's bytes. Small blobs (LFS pointers, READMEs: what listings read again and again) are
        remembered by their id, which their content fixes."""
        with _BY_COMMIT_LOCK:
            known = _SMALL_BLOBS.get(oid)
        if known is not None:
            return known
        data = self.git("cat-file", "blob", oid)
        if len(data) <= SMALL_BLOB and _FULL_SHA.match(oid):
            with _BY_COMMIT_LOCK:
                if len(_SMALL_BLOBS) >= 8192:
                    _SMALL_BLOBS.clear()
                _SMALL_BLOBS[oid] = data
        return data

    def read_file(self, rev: str, path: str) -> bytes | None:
        """The bytes of `path` at `rev`, None when there is no such file. At a commit whose files are small in
        all, they come from `files_at` (one git process a commit, remembered), not a process a file."""
        if _FULL_SHA.match(rev) and sum(e.size for e in self.tree(rev)) <= SMALL_COMMIT:
            return self.files_at(rev).get(path)
        try:
            return self.git("cat-file", "blob", f"{rev}:{path}")
        except GitError:
            return None

    def files_at(self, rev: str) -> dict[str, bytes]:
        """Every file at `rev`, as bytes (LFS files as their pointer text)."""
        return dict(_per_commit("files", rev, lambda: self._files_at(rev)))

    def _files_at(self, rev: str) -> dict[str, bytes]:
        entries = self.tree(rev)
        if not entries:
            return {}
        oids = "\n".join(e.oid for e in entries).encode() + b"\n"
        out = self.git("cat-file", "--batch", input=oids)
        files: dict[str, bytes] = {}
        pos = 0
        for entry in entries:
            header_end = out.index(b"\n", pos)
            _, _, size = out[pos:header_end].split(b" ")
            start = header_end + 1
            end = start + int(size)
            files[entry.path] = out[start:end]
            pos = end + 1
        return files

    def log(self, rev: str, limit: int | None = None) -> list[CommitRecord]:
        """The history of `rev`, newest first; remembered by commit, since a commit fixes its whole history."""
        return list(_per_commit(f"log-{limit}", rev, lambda: self._log(rev, limit)))

    def _log(self, rev: str, limit: int | None) -> list[CommitRecord]:
        fmt = "%H%x1f%P%x1f%an%x1f%aI%x1f%B%x1e"
        args = ["log", f"--format={fmt}", rev]
        if limit:
            args.insert(1, f"-n{limit}")
        out = self.git(*args, check=False).decode("utf-8", "replace")
        commits = []
        for chunk in out.split("\x1e"):
            chunk = chunk.strip("\n")
            if not chunk:
                continue
            oid, parents, author, date, body = chunk.split("\x1f", 4)
            body = body.strip("\n")
            title = body.splitlines()[0] if body else ""
            commits.append(CommitRecord(oid=oid, title=title, message=body, author=author, date=date,
                                        parents=tuple(parents.split())))
        return commits

    def all_lfs_oids(self) -> dict[str, int]:
        """Every LFS object referenced anywhere in history (oid -> size)."""
        out = self.git("rev-list", "--objects", "--all", check=False).decode()
        candidates = []
        for line in out.splitlines():
            parts = line.split(" ", 1)
            if len(parts) == 2:
                candidates.append(parts[0])
        return self._pointer_oids(candidates)

    def head_lfs_oids(self, rev: str) -> dict[str, int]:
        return self._pointer_oids([e.oid for e in self.tree(rev) if e.size < 1024])

    def _pointer_oids(self, blob_oids: list[str]) -> dict[str, int]:
        if not blob_oids:
            return {}
        check = self.git("cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)",
                         input="\n".join(blob_oids).encode() + b"\n").decode()
        small = [ln.split()[0] for ln in check.splitlines()
                 if len(ln.split()) == 3 and ln.split()[1] == "blob" and int(ln.split()[2]) < 1024]
        found: dict[str, int] = {}
        for oid in small:
            parsed = parse_lfs_pointer(self.read_blob(oid))
            if parsed:
                found[parsed[0]] = parsed[1]
        return found

    def git_size(self) -> int:
        """Bytes the git object store takes, counted as `git count-objects -v` counts them (its `size` plus
        `size-pack`, each in whole KiB): loose objects by the disk blocks they use, packs by their .pack and
        .idx files. Counted here rather than in a git process: a restored sandbox asks it of every Space."""
        objects = self.path / "objects"
        loose = 0
        for fan in _scan(objects):
            if len(fan.name) == 2 and _HEX.fullmatch(fan.name) and fan.is_dir():
                loose += sum(entry.stat().st_blocks * 512 for entry in _scan(Path(fan.path))
                             if len(entry.name) == 38 and _HEX.fullmatch(entry.name))
        packed = 0
        for entry in _scan(objects / "pack"):
            index = objects / "pack" / (entry.name[:-len(".pack")] + ".idx")
            if entry.name.endswith(".pack") and index.exists():
                packed += entry.stat().st_size + index.stat().st_size
        return (loose // 1024 + packed // 1024) * 1024

    # -- writing -----------------------------------------------------------
    def commit(self, branch: str, *, message: str, author: str, adds: dict[str, bytes],
               deletes: list[str], parent: str | None = None, expected_head: str | None = None,
               allow_empty: bool = False, date: float | None = None) -> str:
        """Create a commit on `branch` and move the branch to it (compare-and-swap).

        `parent` defaults to the branch head. `expected_head` guards against a
        concurrent writer; the Hub answers such races with a 412/409.
        """
        with self.lock:
            current = self.head(branch)
            if expected_head is not None and current != expected_head:
                raise RefMovedError(f"branch {branch} moved to {current}")
            base = parent if parent is not None else current
            tree = self._tree_after(base, adds, deletes)
            if tree is None:  # a path or name git would treat specially: git's own index builds it
                tree = self._tree_after_with_git(base, adds, deletes)
            if base and not allow_empty and self._tree_of(base) == tree:
                return base
            sha = self._write_commit(tree, base, message, author, date)
            self.git("update-ref", ref_name(branch), sha, current or ZERO_SHA)
            return sha

    # -- objects written without a git process ------------------------------------------
    # A commit through the API took seven git processes (read-tree, hash-object, update-index, write-tree, rev-parse,
    # commit-tree, update-ref); building the demo world alone made 660. Blobs, trees and commits are written here as
    # git writes loose objects (zlib at git's loose level, read-only files, renamed into place), and only the
    # compare-and-swap of the branch is left to git. Anything unusual (a path git would refuse or treat specially,
    # an author name git would clean up) goes the old way, through git itself.

    def _write_object(self, kind: str, body: bytes) -> str:
        data = b"%s %d\0" % (kind.encode(), len(body)) + body
        oid = hashlib.sha1(data).hexdigest()
        path = self.path / "objects" / oid[:2] / oid[2:]
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            tmp = path.parent / f"tmp_obj_{os.getpid()}_{threading.get_ident()}"
            tmp.write_bytes(zlib.compress(data, LOOSE_COMPRESSION))
            tmp.chmod(0o444)
            os.replace(tmp, path)
        return oid

    def _entries(self, rev: str) -> dict[str, tuple[str, str]]:
        """Every entry below the trees of commit `rev` that is not a tree: path -> (mode, object id)."""
        def listing() -> dict[str, tuple[str, str]]:
            out = self.git("ls-tree", "-r", "-z", rev).decode("utf-8", "surrogateescape")
            found = {}
            for record in filter(None, out.split("\0")):
                meta, path = record.split("\t", 1)
                mode, _kind, oid = meta.split()
                found[path] = (mode, oid)
            return found
        return dict(_per_commit("entries", rev, listing))

    def _tree_after(self, base: str | None, adds: dict[str, bytes], deletes: list[str]) -> str | None:
        """The root tree of `base` with `deletes` removed and `adds` written; None for an input git treats
        specially (left to `_tree_after_with_git`)."""
        if not all(_PLAIN_PATH.match(path) and _plain_parts(path) for path in adds):
            return None
        entries = self._entries(base) if base else {}
        for path in deletes:
            prefix = path.rstrip("/") + "/"
            for doomed in [p for p in entries if p == path or p.startswith(prefix)]:
                del entries[doomed]
        for path, data in adds.items():
            entries[path] = ("100644", self._write_object("blob", data))
        return self._write_tree(entries)

    def _write_tree(self, entries: dict[str, tuple[str, str]]) -> str | None:
        files: dict[str, tuple[str, str]] = {}
        folders: dict[str, dict[str, tuple[str, str]]] = {}
        for path, entry in entries.items():
            name, slash, rest = path.partition("/")
            if slash:
                folders.setdefault(name, {})[rest] = entry
            else:
                files[name] = entry
        if files.keys() & folders.keys():  # a file where a folder is: git's index refuses it in its own words
            return None
        items = [(name.encode("utf-8", "surrogateescape"), mode, oid) for name, (mode, oid) in files.items()]
        for name, below in folders.items():
            sub = self._write_tree(below)
            if sub is None:
                return None
            items.append((name.encode("utf-8", "surrogateescape"), "40000", sub))
        items.sort(key=lambda item: item[0] + (b"/" if item[1] == "40000" else b""))  # git's order
        return self._write_object("tree", b"".join(b"%s %s\0" % (mode.encode(), name) + bytes.fromhex(oid)
                                                   for name, mode, oid in items))

    def _tree_of(self, commit: str) -> str:
        body = self._loose_body(commit)
        if body is not None and body.startswith(b"tree "):
            return body[5:45].decode()
        return self.git("rev-parse", f"{commit}^{{tree}}").decode().strip()

    def _loose_body(self, oid: str) -> bytes | None:
        try:
            data = zlib.decompress((self.path / "objects" / oid[:2] / oid[2:]).read_bytes())
        except (OSError, zlib.error):
            return None
        return data[data.index(b"\0") + 1:]

    def _write_commit(self, tree: str, parent: str | None, message: str, author: str, date: float | None) -> str:
        email = f"{author}@users.noreply.sandbox.local"
        when = int(time.time()) if date is None else int(date)
        if not _PLAIN_AUTHOR.match(author):
            return self._commit_with_git(tree, parent, message, author, email, date)
        ident = f"{author} <{email}> {when} +0000"
        head = f"tree {tree}\n" + (f"parent {parent}\n" if parent else "") + f"author {ident}\ncommitter {ident}\n\n"
        return self._write_object("commit", head.encode() + message.encode())

    def _commit_with_git(self, tree: str, parent: str | None, message: str, author: str, email: str,
                         date: float | None) -> str:
        cenv = {"GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": email,
                "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": email}
        if date is not None:  # a scenario's history, pushed long ago
            cenv["GIT_AUTHOR_DATE"] = cenv["GIT_COMMITTER_DATE"] = f"@{int(date)} +0000"
        args = ["commit-tree", tree, "-F", "-"]
        if parent:
            args[2:2] = ["-p", parent]
        return self.git(*args, input=message.encode(), env=cenv).decode().strip()

    def _tree_after_with_git(self, base: str | None, adds: dict[str, bytes], deletes: list[str]) -> str:
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if base:
                self.git("read-tree", base, env=env)
            else:
                self.git("read-tree", "--empty", env=env)
            if deletes:
                # Mode 0 in --index-info removes a path (works without a work tree).
                listed = set(self.git("ls-files", "-z", env=env).decode().split("\0")) if base else set()
                doomed = set()
                for path in deletes:
                    prefix = path.rstrip("/") + "/"
                    doomed.update(p for p in listed if p == path or p.startswith(prefix))
                if doomed:
                    lines = "".join(f"0 {ZERO_SHA}\t{p}\n" for p in sorted(doomed))
                    self.git("update-index", "--index-info", input=lines.encode(), env=env)
            if adds:
                oids = self._write_blobs(list(adds.values()), Path(tmp))
                infos = [f"100644 {oid}\t{path}" for path, oid in zip(adds, oids, strict=True)]
                self.git("update-index", "--add", "--index-info",
                         input=("\n".join(infos) + "\n").encode(), env=env)
            return self.git("write-tree", env=env).decode().strip()

    def _write_blobs(self, blobs: list[bytes], scratch: Path) -> list[str]:
        """Store `blobs` as git objects with one `git hash-object` for all of them (not one process per file:
        loading the demo world made 629 git processes, a third of them for this); their ids in order."""
        paths = []
        for number, data in enumerate(blobs):
            path = scratch / f"blob-{number}"
            path.write_bytes(data)
            paths.append(str(path))
        listing = ("\n".join(paths) + "\n").encode()
        return self.git("hash-object", "-w", "--no-filters", "--stdin-paths", input=listing).decode().split()

    def squash(self, branch: str, message: str, author: str) -> str:
        """Replace the branch history with one commit holding the same tree."""
        with self.lock:
            head = self.head(branch)
            if head is None:
                raise GitError(f"no branch {branch}")
            tree = self.git("rev-parse", f"{head}^{{tree}}").decode().strip()
            cenv = {"GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": f"{author}@users.noreply.sandbox.local",
                    "GIT_COMMITTER_NAME": author,
                    "GIT_COMMITTER_EMAIL": f"{author}@users.noreply.sandbox.local"}
            sha = self.git("commit-tree", tree, "-F", "-", input=message.encode(), env=cenv).decode().strip()
            self.git("update-ref", ref_name(branch), sha, head)
            self.prune()
            return sha

    def strip_lfs_pointers(self, oids: set[str]) -> dict[str, str]:
        """Rewrite every ref's history without the pointer files of `oids` (the Hub's `rewriteHistory`).

        Commits whose tree and parents do not change keep their ids; every other commit is
        re-created with the same message, author and dates. Returns the refs that moved (ref -> new sha).
        """
        with self.lock:
            refs = {name: sha for name, sha in (line.split(" ", 1) for line in self.git(
                "for-each-ref", "--format=%(refname) %(objectname)").decode().splitlines())}
            order = self.git("rev-list", "--reverse", "--topo-order", *refs.values(), check=False).decode().split()
            mapped: dict[str, str] = {}
            for sha in order:
                mapped[sha] = self._rewrite_commit(sha, oids, mapped)
            moved = {}
            for name, sha in refs.items():
                new = mapped.get(sha, sha)
                if new != sha:
                    self.git("update-ref", name, new, sha)
                    moved[name] = new
            if moved:
                self.prune()
            return moved

    def _rewrite_commit(self, sha: str, oids: set[str], mapped: dict[str, str]) -> str:
        fmt = "%T%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cn%x1f%ce%x1f%cI"
        tree, parents, an, ae, ad, cn, ce, cd = self.git("show", "-s", f"--format={fmt}", sha).decode().strip() \
            .split("\x1f")
        doomed = [e.path for e in self.tree(sha) if e.size < 1024
                  and (parse_lfs_pointer(self.read_blob(e.oid)) or ("", 0))[0] in oids]
        new_parents = [mapped.get(p, p) for p in parents.split()]
        if not doomed and new_parents == parents.split():
            return sha
        if doomed:
            with tempfile.TemporaryDirectory() as tmp:
                env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
                self.git("read-tree", tree, env=env)
                lines = "".join(f"0 {ZERO_SHA}\t{path}\n" for path in doomed)
                self.git("update-index", "--index-info", input=lines.encode(), env=env)
                tree = self.git("write-tree", env=env).decode().strip()
        message = self.git("show", "-s", "--format=%B", sha)
        args = ["commit-tree", tree]
        for parent in new_parents:
            args += ["-p", parent]
        env = {"GIT_AUTHOR_NAME": an, "GIT_AUTHOR_EMAIL": ae, "GIT_AUTHOR_DATE": ad,
               "GIT_COMMITTER_NAME": cn, "GIT_COMMITTER_EMAIL": ce, "GIT_COMMITTER_DATE": cd}
        return self.git(*args, input=message, env=env).decode().strip()

    def prune(self) -> None:
        """Drop unreachable objects now, so storage figures fall at once."""
        self.git("reflog", "expire", "--expire=now", "--all", check=False)
        self.git("gc", "--prune=now", "--quiet", check=False)

    def set_ref(self, ref: str, sha: str | None) -> None:
        if sha is None:
            self.git("update-ref", "-d", ref, check=False)
        else:
            self.git("update-ref", ref, sha)


class LfsStore:
    """Content-addressed LFS objects shared by all repos (ownership is tracked per repo)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, oid: str) -> Path:
        if len(oid) != 64 or any(c not in "0123456789abcdef" for c in oid):
            raise ValueError("invalid LFS oid")
        return self.root / oid[:2] / oid[2:4] / oid

    def has(self, oid: str) -> bool:
        return self.path(oid).exists()

    def put_bytes(self, data: bytes) -> str:
        oid = hashlib.sha256(data).hexdigest()
        target = self.path(oid)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(f".tmp{threading.get_ident()}")
            tmp.write_bytes(data)
            os.replace(tmp, target)
        return oid

    def put_stream(self, oid: str, stream, size: int) -> None:
        """Store an upload, checking its sha256 and size before it becomes visible."""
        target = self.path(oid)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".tmp{threading.get_ident()}")
        digest = hashlib.sha256()
        written = 0
        with open(tmp, "wb") as fh:
            while True:
                chunk = stream.read(1024 * 1024)
                if not chunk:
                    break
                digest.update(chunk)
                fh.write(chunk)
                written += len(chunk)
        if digest.hexdigest() != oid or written != size:
            tmp.unlink(missing_ok=True)
            raise ValueError(f"LFS upload does not match its oid/size ({written} bytes)")
        os.replace(tmp, target)

    def size(self, oid: str) -> int:
        return self.path(oid).stat().st_size
