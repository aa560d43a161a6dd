"""The sandbox reads heads and the object store's size from git's files, without a git process: what it reads
must be what git itself answers, for loose and packed refs and objects alike."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from remedybot.sandbox.repostore import GitRepo


def git_says_head(repo: GitRepo, ref: str) -> str | None:
    return repo.resolve(ref)


def git_says_size(repo: GitRepo) -> int:
    out = repo.git("count-objects", "-v").decode()
    stats = dict(line.split(": ") for line in out.splitlines() if ": " in line)
    return (int(stats["size"]) + int(stats["size-pack"])) * 1024


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    git = GitRepo.init(tmp_path / "r.git")
    first = git.commit("main", message="one", author="demo", adds={"a.txt": b"a" * 5000}, deletes=[])
    git.commit("main", message="two", author="demo", adds={"b.bin": os.urandom(70_000)}, deletes=[])
    git.set_ref("refs/heads/feature/x", first)
    git.set_ref("refs/pr/1", first)
    return git


REFS = ["main", "feature/x", "refs/pr/1", "missing", "feature", "refs/pr/2", "a..b", "x.lock"]


def test_heads_and_size_match_git_with_loose_refs_and_objects(repo: GitRepo) -> None:
    assert (repo.path / "refs" / "heads" / "main").is_file()
    assert repo.git_size() == git_says_size(repo) > 0
    for name in REFS:
        ref = name if name.startswith("refs/") else f"refs/heads/{name}"
        assert repo.head(name) == git_says_head(repo, ref), name
    assert repo.head("main") is not None and repo.head("missing") is None


def test_heads_and_size_match_git_once_everything_is_packed(repo: GitRepo) -> None:
    before = {name: repo.head(name) for name in REFS}
    repo.git("pack-refs", "--all", "--prune")
    repo.git("repack", "-a", "-d", "-q")
    repo.git("prune-packed")
    assert not (repo.path / "refs" / "heads" / "main").exists()
    assert {name: repo.head(name) for name in REFS} == before
    assert repo.git_size() == git_says_size(repo) > 0
    assert list((repo.path / "objects" / "pack").glob("*.pack"))


def test_a_ref_file_git_would_not_read_as_a_sha_is_left_to_git(repo: GitRepo) -> None:
    main = repo.head("main")
    (repo.path / "refs" / "heads" / "alias").write_text("ref: refs/heads/main\n")
    assert repo.head("alias") == main == git_says_head(repo, "refs/heads/alias")


def test_branches_and_tags_match_git_loose_and_packed(repo: GitRepo) -> None:
    first = repo.log(repo.head("main") or "")[-1].oid
    repo.git("tag", "-a", "-m", "annotated", "v1", first)
    repo.set_ref("refs/tags/v0", first)

    def git_lists(prefix: str) -> dict[str, str]:
        return repo._refs_from_git(prefix)

    assert repo.branches() == git_lists("refs/heads/") and list(repo.branches()) == ["feature/x", "main"]
    assert repo.tags() == git_lists("refs/tags/") and set(repo.tags()) == {"v0", "v1"}
    repo.git("pack-refs", "--all", "--prune")
    repo.set_ref("refs/heads/after-pack", first)
    assert repo.branches() == git_lists("refs/heads/") and "after-pack" in repo.branches()
    assert repo.tags() == git_lists("refs/tags/")


def test_a_full_sha_resolves_as_git_resolves_it(repo: GitRepo) -> None:
    main = repo.head("main") or ""
    blob = repo.tree(main)[0].oid
    tree = repo.git("rev-parse", f"{main}^{{tree}}").decode().strip()
    repo.git("tag", "-a", "-m", "annotated", "v1", main)
    tag_object = repo.git("rev-parse", "refs/tags/v1").decode().strip()
    for rev in (main, blob, tree, tag_object, "0" * 40, main.upper()):
        assert repo.resolve(rev) == repo._resolve_with_git(rev), rev
    assert repo.resolve(main) == main and repo.resolve(tag_object) == main and repo.resolve(blob) is None
    repo.git("repack", "-a", "-d", "-q")
    repo.git("prune-packed")
    assert repo.resolve(main) == main and repo.resolve(blob) is None


def test_commits_written_without_git_are_the_commits_git_writes(tmp_path: Path) -> None:
    """The same changes, once through the sandbox's own object writer and once through git's index and
    commit-tree, give the same commit ids, and git finds nothing wrong with the repository."""
    ours, theirs = GitRepo.init(tmp_path / "ours.git"), GitRepo.init(tmp_path / "theirs.git")
    changes = [
        ({"README.md": b"# hi\n", "a.txt": b"a", "a/b.txt": b"b", "a-b/c.py": b"c", "déjà vu.txt": "é".encode()}, []),
        ({"a/deeper/d.bin": os.urandom(3000), "z.txt": b""}, ["a.txt"]),
        ({"README.md": b"# changed\n"}, ["a"]),
        ({}, ["missing.txt"]),
    ]
    parent_ours = parent_theirs = None
    for number, (adds, deletes) in enumerate(changes):
        date = 1_700_000_000 + number
        parent_ours = ours.commit("main", message=f"change {number}\n\nbody", author="demo-user", adds=adds,
                                  deletes=deletes, date=date)
        tree = theirs._tree_after_with_git(parent_theirs, adds, deletes)
        if parent_theirs and theirs._tree_of(parent_theirs) == tree:
            continue  # nothing changed: no commit, on both sides
        parent_theirs = theirs._commit_with_git(tree, parent_theirs, f"change {number}\n\nbody", "demo-user",
                                                "demo-user@users.noreply.sandbox.local", date)
        theirs.set_ref("refs/heads/main", parent_theirs)
        assert parent_ours == parent_theirs, number
    assert ours.head("main") == theirs.head("main")
    assert ours.git("fsck", "--strict", "--no-progress").decode() == ""
    assert ours.files_at(ours.head("main") or "")["a-b/c.py"] == b"c"


def test_an_unusual_path_or_author_is_left_to_git(repo: GitRepo) -> None:
    base = repo.head("main")
    assert repo._tree_after(base, {"a//b.txt": b"x"}, []) is None
    assert repo._tree_after(base, {".git/config": b"x"}, []) is None
    assert repo._tree_after(base, {"a.txt/inside": b"x"}, []) is None  # a file where a folder would go
    sha = repo.commit("main", message="m", author="Ünïcode <name>", adds={"n.txt": b"n"}, deletes=[])
    assert repo.log(sha)[0].author == repo._log(sha, 1)[0].author
