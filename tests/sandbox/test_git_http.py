"""Real git, git-lfs and huggingface_hub against the sandbox Hub's git smart HTTP and LFS API.

These are the paths remedybot's git playbooks (history slimming, force push,
no-op commit) and users' own pushes take, so each test asserts what git
prints and what the Hub state becomes, not how the server got there.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import HfApi, constants

from remedybot.sandbox.server import Sandbox

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is required")
needs_lfs = pytest.mark.skipif(
    subprocess.run(["git", "lfs", "version"], capture_output=True).returncode != 0,
    reason="git-lfs is not installed (make git-lfs)")

MB = 1024 * 1024


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(load_default_scenarios=False) as sandbox:
        yield sandbox


@pytest.fixture
def genv(tmp_path: Path) -> dict[str, str]:
    """An environment isolated from the user's git config and credentials, never prompting."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "HF_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), GIT_CONFIG_NOSYSTEM="1",
               GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="", SSH_ASKPASS="")
    return env


def git(env: dict[str, str], *args: str, cwd: Path | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", "-c", "credential.helper=", "-c", "user.name=Tester",
                           "-c", "user.email=tester@example.com", "-c", "init.defaultBranch=main", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def url(sb: Sandbox, repo_id: str, prefix: str = "spaces/", token: str | None = "") -> str:
    host = sb.endpoint.removeprefix("http://")
    auth = "" if token is None else f"demo:{token or sb.token}@"
    return f"http://{auth}{host}/{prefix}{repo_id}"


def clone(sb: Sandbox, env: dict[str, str], tmp_path: Path, repo_id: str, *, lfs: bool = False,
          prefix: str = "spaces/", token: str | None = "") -> Path:
    dest = tmp_path / repo_id.replace("/", "_")
    git(env, "clone", "-q", url(sb, repo_id, prefix, token), str(dest))
    if lfs:
        git(env, "lfs", "install", "--local", cwd=dest)
        git(env, "lfs", "pull", cwd=dest)  # the clone ran before the smudge filter was configured
    return dest


def commit_file(env: dict[str, str], work: Path, name: str, data: bytes, message: str = "add") -> str:
    (work / name).write_bytes(data)
    git(env, "add", name, cwd=work)
    git(env, "commit", "-q", "-m", message, cwd=work)
    return git(env, "rev-parse", "HEAD", cwd=work).stdout.strip()


def head(sb: Sandbox, repo_id: str, repo_type: str = "space") -> str | None:
    repo = sb.state.find(repo_type, repo_id)
    assert repo is not None
    return sb.state.git(repo).head("main")


def test_clone_push_and_force_push(sb: Sandbox, genv: dict[str, str], tmp_path: Path) -> None:
    sb.state.create_repo("space", "demo/basic", sdk="gradio", author="demo")
    work = clone(sb, genv, tmp_path, "demo/basic")
    assert (work / ".gitattributes").exists()
    first = commit_file(genv, work, "app.py", b"import gradio\n", "add app")
    git(genv, "push", "-q", "origin", "main", cwd=work)
    assert head(sb, "demo/basic") == first

    # Rewrite history (what a history-slimming playbook does) and force-push.
    git(genv, "commit", "-q", "--amend", "-m", "rewritten", cwd=work)
    rewritten = git(genv, "rev-parse", "HEAD", cwd=work).stdout.strip()
    assert git(genv, "push", "-q", "origin", "main", cwd=work, check=False).returncode != 0
    git(genv, "push", "-q", "--force", "origin", "main", cwd=work)
    assert head(sb, "demo/basic") == rewritten
    repo = sb.state.find("space", "demo/basic")
    assert repo is not None
    log = [c.title for c in sb.state.git(repo).log("main")]
    assert log[0] == "rewritten" and "add app" not in log


def test_fetch_with_many_local_commits(sb: Sandbox, genv: dict[str, str], tmp_path: Path) -> None:
    """Many `have` lines make git gzip its upload-pack request: the backend must get the encoding."""
    repo = sb.state.create_repo("space", "demo/fetch", sdk="gradio", author="demo")
    work = clone(sb, genv, tmp_path, "demo/fetch")
    # 300 local commits in one process: enough `have` lines for a request over git's gzip threshold.
    # Dated after the server's commits, so git offers every one of them as a `have`.
    stream = "".join(f"commit refs/heads/main\ncommitter T <t@example.com> {2 * 10**9 + i} +0000\n"
                     f"data 5\nc{i:03d}\n" + ("from refs/heads/main^0\n" if i == 0 else "") + "\n"
                     for i in range(300))
    subprocess.run(["git", "fast-import", "--quiet"], input=stream, cwd=work, env=genv, text=True, check=True)
    remote = sb.state.commit(repo, user="demo", message="remote change", adds={"app.py": b"x = 1\n"},
                             lfs_adds={}, deletes=[])
    traced = git({**genv, "GIT_TRACE_CURL": "1", "GIT_TRACE_CURL_NO_DATA": "1"}, "fetch", "-q", "origin",
                 cwd=work)
    assert "Content-Encoding: gzip" in traced.stderr
    assert git(genv, "rev-parse", "origin/main", cwd=work).stdout.strip() == remote


def test_empty_commit_push_starts_a_rebuild(sb: Sandbox, genv: dict[str, str], tmp_path: Path) -> None:
    repo = sb.state.create_repo("space", "demo/rebuild", sdk="gradio", author="demo", initial_files={
        "README.md": b"---\ntitle: Rebuild\nsdk: gradio\nsdk_version: 4.44.0\napp_file: app.py\n---\n",
        "app.py": b"import gradio as gr\n\ngr.Interface(lambda x: x, 'text', 'text').launch()\n"})
    assert repo.space is not None
    sb.state.start_build(repo, "restart", backdate=3600.0)
    started, modified = repo.space.build_started, repo.last_modified
    work = clone(sb, genv, tmp_path, "demo/rebuild")
    git(genv, "commit", "-q", "--allow-empty", "-m", "Trigger rebuild", cwd=work)
    git(genv, "push", "-q", "origin", "main", cwd=work)
    assert repo.space.build_started > started
    assert repo.space.build_trigger == "push"
    # The new build starts by building (read from the build itself: at the sandbox's speed a loaded machine can
    # reach the runtime call after the build already ended).
    assert repo.space.build is not None and repo.space.build.stage_at(0.0) == "BUILDING"
    assert repo.last_modified > modified


def test_large_file_without_lfs_is_rejected(sb: Sandbox, genv: dict[str, str], tmp_path: Path) -> None:
    sb.state.create_repo("space", "demo/large", sdk="gradio", author="demo")
    before = head(sb, "demo/large")
    work = clone(sb, genv, tmp_path, "demo/large")
    commit_file(genv, work, "weights.dat", os.urandom(11 * MB))
    proc = git(genv, "push", "origin", "main", cwd=work, check=False)
    assert proc.returncode != 0
    for line in ("remote: Your push was rejected because it contains files larger than 10 MiB.",
                 "remote: Please use https://git-lfs.github.com/ to store large files.",
                 "remote: Offending files:",
                 "remote:   - weights.dat (ref: refs/heads/main)",
                 "(pre-receive hook declined)"):
        assert line in proc.stderr
    assert head(sb, "demo/large") == before


def test_binary_file_without_lfs_is_rejected(sb: Sandbox, genv: dict[str, str], tmp_path: Path) -> None:
    sb.state.create_repo("space", "demo/binary", sdk="gradio", author="demo")
    work = clone(sb, genv, tmp_path, "demo/binary")
    commit_file(genv, work, "logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + os.urandom(2000))
    proc = git(genv, "push", "origin", "main", cwd=work, check=False)
    assert proc.returncode != 0
    assert "remote: Your push was rejected because it contains binary files." in proc.stderr
    assert "remote:   - logo.png (ref: refs/heads/main)" in proc.stderr
    assert "(pre-receive hook declined)" in proc.stderr


def test_git_push_over_storage_limit_is_rejected(sb: Sandbox, genv: dict[str, str], tmp_path: Path) -> None:
    repo = sb.state.create_repo("space", "demo/gitfull", sdk="gradio", author="demo")
    repo.storage_limit = sb.state.used_storage(repo) + 100_000
    work = clone(sb, genv, tmp_path, "demo/gitfull")
    commit_file(genv, work, "data.txt", os.urandom(MB).hex().encode())
    proc = git(genv, "push", "origin", "main", cwd=work, check=False)
    assert proc.returncode != 0
    assert "remote: Repository storage limit reached (Max: " in proc.stderr
    assert "(pre-receive hook declined)" in proc.stderr


@needs_lfs
def test_lfs_push_counts_in_storage_and_clones_back(sb: Sandbox, genv: dict[str, str],
                                                    tmp_path: Path) -> None:
    repo = sb.state.create_repo("space", "demo/lfs", sdk="gradio", author="demo")
    used = sb.state.used_storage(repo)
    work = clone(sb, genv, tmp_path, "demo/lfs", lfs=True)
    data = os.urandom(3 * MB)
    oid = hashlib.sha256(data).hexdigest()
    commit_file(genv, work, "model.bin", data)  # *.bin is LFS-tracked by the default .gitattributes
    git(genv, "push", "origin", "main", cwd=work)
    assert oid in repo.lfs
    assert sb.state.used_storage(repo) >= used + 3 * MB
    listed = {f.file_oid: f for f in HfApi(endpoint=sb.endpoint, token=sb.token)
              .list_lfs_files("demo/lfs", repo_type="space")}
    assert listed[oid].size == 3 * MB and listed[oid].filename == "model.bin"

    # An anonymous clone of the public Space downloads the object through the batch API.
    again = clone(sb, genv, tmp_path / "again", "demo/lfs", lfs=True, token=None)
    assert (again / "model.bin").read_bytes() == data


@needs_lfs
def test_lfs_push_over_storage_limit_is_rejected(sb: Sandbox, genv: dict[str, str],
                                                 tmp_path: Path) -> None:
    repo = sb.state.create_repo("space", "demo/lfsfull", sdk="gradio", author="demo",
                                storage_limit=2_000_000)
    before = head(sb, "demo/lfsfull")
    work = clone(sb, genv, tmp_path, "demo/lfsfull", lfs=True)
    commit_file(genv, work, "model.bin", os.urandom(3 * MB))
    proc = git(genv, "push", "origin", "main", cwd=work, check=False)
    assert proc.returncode != 0
    assert "batch response: Repository storage limit reached (Max: 2 MB)" in proc.stderr
    assert repo.lfs == {}
    assert head(sb, "demo/lfsfull") == before


def test_anonymous_push_is_refused(sb: Sandbox, genv: dict[str, str], tmp_path: Path) -> None:
    sb.state.create_repo("space", "demo/anon", sdk="gradio", author="demo")
    before = head(sb, "demo/anon")
    work = clone(sb, genv, tmp_path, "demo/anon", token=None)  # public: anonymous clone works
    commit_file(genv, work, "app.py", b"print('hi')\n")
    proc = git(genv, "push", "origin", "main", cwd=work, check=False)
    assert proc.returncode != 0
    assert "could not read Username" in proc.stderr
    assert head(sb, "demo/anon") == before


def test_wrong_token_push_is_refused(sb: Sandbox, genv: dict[str, str], tmp_path: Path) -> None:
    sb.state.create_repo("space", "demo/wrongtok", sdk="gradio", author="demo")
    before = head(sb, "demo/wrongtok")
    work = clone(sb, genv, tmp_path, "demo/wrongtok")
    commit_file(genv, work, "app.py", b"print('hi')\n")
    git(genv, "remote", "set-url", "origin", url(sb, "demo/wrongtok", token="hf_wrong"), cwd=work)
    proc = git(genv, "push", "origin", "main", cwd=work, check=False)
    assert proc.returncode != 0
    assert "Authentication failed" in proc.stderr
    assert head(sb, "demo/wrongtok") == before


def test_push_without_write_access_is_refused(sb: Sandbox, genv: dict[str, str], tmp_path: Path) -> None:
    sb.state.create_repo("space", "demo/theirs", sdk="gradio", author="demo")
    other = sb.state.add_user("mallory")
    work = clone(sb, genv, tmp_path, "demo/theirs", token=other.token)
    commit_file(genv, work, "app.py", b"print('hi')\n")
    proc = git(genv, "push", "origin", "main", cwd=work, check=False)
    assert proc.returncode != 0
    assert "403" in proc.stderr


def test_private_repo_needs_a_token_to_clone(sb: Sandbox, genv: dict[str, str], tmp_path: Path) -> None:
    sb.state.create_repo("space", "demo/secret", sdk="gradio", author="demo", private=True)
    proc = git(genv, "clone", "-q", url(sb, "demo/secret", token=None), str(tmp_path / "anon"), check=False)
    assert proc.returncode != 0
    assert "could not read Username" in proc.stderr
    work = clone(sb, genv, tmp_path, "demo/secret")
    assert (work / ".gitattributes").exists()


def test_model_and_dataset_urls_with_git_suffix(sb: Sandbox, genv: dict[str, str], tmp_path: Path) -> None:
    sb.state.create_repo("model", "demo/m", author="demo")
    sb.state.create_repo("dataset", "demo/d", author="demo")
    for repo_type, prefix in (("model", ""), ("dataset", "datasets/")):
        work = clone(sb, genv, tmp_path / repo_type, "demo/" + repo_type[0] + ".git", prefix=prefix)
        sha = commit_file(genv, work, "README.md", b"# hello\n")
        git(genv, "push", "-q", "origin", "main", cwd=work)
        assert head(sb, "demo/" + repo_type[0], repo_type) == sha


# huggingface_hub 2.4 PUTs the file with httpx2's deprecated `data=<file>`: the client's warning, not ours.
@pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")
def test_upload_file_without_xet_goes_through_lfs_batch(sb: Sandbox, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    api = HfApi(endpoint=sb.endpoint, token=sb.token)
    api.create_repo("demo/weights", repo_type="model")
    data = b"\0" + os.urandom(2 * MB - 1)  # a NUL in the preupload sample: the Hub answers "lfs"
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    api.upload_file(path_or_fileobj=str(path), path_in_repo="model.bin", repo_id="demo/weights")
    oid = hashlib.sha256(data).hexdigest()
    repo = sb.state.find("model", "demo/weights")
    assert repo is not None and oid in repo.lfs
    assert sb.state.lfs_store.path(oid).read_bytes() == data
    info = api.get_paths_info("demo/weights", ["model.bin"])[0]
    assert info.lfs is not None and info.lfs.sha256 == oid
    batches = [p for m, p, s in sb.app.request_log if p == "/demo/weights.git/info/lfs/objects/batch"]
    assert batches
