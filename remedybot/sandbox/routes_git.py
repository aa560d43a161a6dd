"""Git smart HTTP for the sandbox Hub's repos, plus the LFS routes of `routes_lfs`.

Real `git clone`/`fetch`/`push` talk to the sandbox the way they talk to
huggingface.co, so remedybot's git playbooks (history slimming, force pushes,
no-op commits) and the push errors users report can be reproduced for real:

- Every request goes through `git http-backend` as CGI: git itself speaks the
  protocol (v0/v2, gzip request bodies, sideband) and runs the pre-receive hook
  (`prereceive.py`) that applies the Hub's push rules. Bodies are streamed both
  ways, never buffered, so large packs cost no memory.
- Auth is the Hub's (`routes_lfs.authorize`): HTTP basic with the token as the
  password, username not checked. Anonymous reads of public repos work; private
  repos and every push answer 401 with a Basic challenge so git asks for (or
  reports missing) credentials.
- A push that moves `main` rebuilds the Space ("every push triggers a rebuild").

URLs: `/spaces/<ns>/<name>[.git]/...`, `/datasets/<ns>/<name>[.git]/...` and
`/<ns>/<name>[.git]/...` (models), each with `info/refs?service=...`,
`git-upload-pack`, `git-receive-pack` and `info/lfs/...`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import IO, Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from remedybot.sandbox import prereceive, routes_lfs
from remedybot.sandbox.http import Ctx
from remedybot.sandbox.repostore import GitRepo, parse_lfs_pointer
from remedybot.sandbox.routes_lfs import CHALLENGE, Refused, authorize, repo_ident
from remedybot.sandbox.state import HubState, Repo, format_limit

log = logging.getLogger("remedybot.sandbox.git")

SERVICES = ("git-upload-pack", "git-receive-pack")
CHUNK = 1 << 16


def _plain(status: int, message: str, challenge: bool = False) -> Response:
    # text/plain bodies are shown by git as "remote: ..." lines.
    resp = Response(message + "\n", status=status, mimetype="text/plain")
    if challenge:
        resp.headers["WWW-Authenticate"] = CHALLENGE
    return resp


# -- smart HTTP through git http-backend ------------------------------------------
def info_refs(ctx: Ctx, ns: str, name: str, prefix: str) -> Response:
    service = ctx.request.args.get("service", "")
    if service not in SERVICES:
        return _plain(403, "Only the smart HTTP protocol is supported: please upgrade git.")
    return _serve(ctx, prefix, ns, name, service, "info/refs")


def rpc(ctx: Ctx, ns: str, name: str, service: str, prefix: str) -> Response:
    return _serve(ctx, prefix, ns, name, service, service)


def hooks_dir(state: HubState) -> Path:
    """Write (idempotently) the shared hooks directory every sandbox repo uses via core.hooksPath.

    One shared directory instead of each repo's hooks/: repos created or copied
    by any code path (create, duplicate, persisted state) get the rules without
    being touched, and the hook always runs the current interpreter and code.
    """
    directory = state.root / "git-hooks"
    hook = directory / "pre-receive"
    script = (f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -I -S "
              f"{shlex.quote(str(Path(prereceive.__file__).resolve()))}\n")
    if not hook.exists() or hook.read_text() != script:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".pre-receive.{threading.get_ident()}"
        tmp.write_text(script)
        tmp.chmod(0o755)
        os.replace(tmp, hook)
    return directory


def _cgi_env(ctx: Ctx, repo: Repo, git: GitRepo, suffix: str) -> dict[str, str]:
    """CGI variables for http-backend, plus the push rules' inputs for the pre-receive hook."""
    request = ctx.request
    root = ctx.state.root / "repos"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    config = {"http.receivepack": "true", "http.uploadpack": "true",
              "receive.denyNonFastForwards": "false", "uploadpack.allowAnySHA1InWant": "true"}
    env.update({
        "GIT_PROJECT_ROOT": str(root),
        "PATH_INFO": f"/{git.path.relative_to(root).as_posix()}/{suffix}",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.query_string.decode("latin-1"),
        "CONTENT_TYPE": request.headers.get("Content-Type", ""),
        "GIT_HTTP_EXPORT_ALL": "1",
        "REMOTE_ADDR": request.remote_addr or "127.0.0.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LC_ALL": "C",
    })
    if ctx.user is not None:
        env["REMOTE_USER"] = ctx.user.name
    if request.content_length is not None:
        env["CONTENT_LENGTH"] = str(request.content_length)
    for header in ("Content-Encoding", "Git-Protocol", "Accept"):
        if header in request.headers:
            env["HTTP_" + header.upper().replace("-", "_")] = request.headers[header]
    if suffix == "git-receive-pack":
        config["core.hooksPath"] = str(hooks_dir(ctx.state))
        env.update({
            "REMEDYBOT_STORAGE_LIMIT": str(repo.storage_limit),
            "REMEDYBOT_STORAGE_LIMIT_TEXT": format_limit(repo.storage_limit),
            "REMEDYBOT_USED_STORAGE": str(ctx.state.used_storage(repo)),
        })
    env["GIT_CONFIG_COUNT"] = str(len(config))
    for i, (key, value) in enumerate(config.items()):
        env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
    return env


def _refs(git: GitRepo) -> dict[str, str]:
    out = git.git("for-each-ref", "--format=%(refname) %(objectname)", check=False).decode()
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def _serve(ctx: Ctx, prefix: str, ns: str, name: str, service: str, suffix: str) -> Response:
    try:
        repo = authorize(ctx, *repo_ident(prefix, ns, name), write=service == "git-receive-pack")
    except Refused as exc:
        return _plain(exc.status, exc.message, exc.challenge)
    git = ctx.state.git(repo)
    pushing = suffix == "git-receive-pack"
    before = _refs(git) if pushing else {}
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in _finish
    try:
        proc = subprocess.Popen(["git", "http-backend"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=stderr, env=_cgi_env(ctx, repo, git, suffix), cwd=str(git.path))
    except OSError as exc:
        stderr.close()
        return _plain(500, f"cannot run git http-backend: {exc}")
    assert proc.stdin is not None and proc.stdout is not None
    pump = threading.Thread(target=_pump, args=(ctx.request.stream if ctx.request.method == "POST" else None,
                                                proc.stdin), daemon=True)
    pump.start()

    def finish() -> None:
        _finish(proc, pump, stderr)
        if pushing:
            _after_push(ctx.state, repo, git, before)

    status, headers = _read_cgi_headers(proc.stdout)
    if status is None:
        finish()
        return _plain(500, "git http-backend failed")
    return Response(_stream(proc.stdout, finish), status=status, headers=headers, direct_passthrough=True)


def _pump(source: IO[bytes] | None, sink: IO[bytes]) -> None:
    """Copy the (already de-chunked) request body into http-backend until EOF."""
    try:
        while source is not None and (chunk := source.read(CHUNK)):
            sink.write(chunk)
    except (BrokenPipeError, OSError, ValueError):
        pass  # git stopped reading: it will report why on stdout
    finally:
        with contextlib.suppress(OSError):
            sink.close()


def _read_cgi_headers(stdout: IO[bytes]) -> tuple[int | None, list[tuple[str, str]]]:
    status: int | None = None
    headers: list[tuple[str, str]] = []
    while True:
        line = stdout.readline()
        if not line:
            return None, headers  # EOF before the blank line: the backend died
        line = line.rstrip(b"\r\n")
        if not line:
            return status or 200, headers
        key, _, value = line.decode("latin-1").partition(":")
        if key.strip().lower() == "status":
            status = int(value.strip().split()[0])
        else:
            headers.append((key.strip(), value.strip()))


def _stream(stdout: IO[bytes], finish: Any) -> Iterator[bytes]:
    """Yield the CGI body as it comes; `finish` runs before the response ends (or on disconnect).

    Running `finish` before the last byte is flushed means a `git push` only
    returns once the rebuild it triggered has been recorded.
    """
    try:
        while chunk := stdout.read1(CHUNK):  # type: ignore[attr-defined]
            yield chunk
    finally:
        finish()


def _finish(proc: subprocess.Popen[bytes], pump: threading.Thread, stderr: IO[bytes]) -> None:
    assert proc.stdout is not None
    proc.stdout.close()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    pump.join(timeout=5)
    if proc.returncode:
        stderr.seek(0)
        log.debug("git http-backend exited %s: %s", proc.returncode, stderr.read().decode(errors="replace"))
    stderr.close()


def _after_push(state: HubState, repo: Repo, git: GitRepo, before: dict[str, str]) -> None:
    """Record what a push changed: last_modified, LFS file names, and a rebuild when main moved."""
    after = _refs(git)
    if after == before:
        return
    with state.lock:
        repo.last_modified = state.clock.now()
        main = "refs/heads/main"
        if after.get(main) and after.get(main) != before.get(main):
            _name_lfs_objects(repo, git, after[main])
            state.on_main_moved(repo, "push")


def _name_lfs_objects(repo: Repo, git: GitRepo, sha: str) -> None:
    """Give pushed LFS objects the path that points at them (the batch API never learns it)."""
    unnamed = {oid for oid, o in repo.lfs.items() if not o.filename}
    if not unnamed:
        return
    for entry in git.tree(sha):
        if 100 < entry.size < 1024:
            pointer = parse_lfs_pointer(git.read_blob(entry.oid))
            if pointer and pointer[0] in unnamed:
                repo.lfs[pointer[0]].filename = entry.path
                unnamed.discard(pointer[0])


def _routes() -> list[Rule]:
    rules = list(routes_lfs.ROUTES)
    for base, fixed in (("/<any(spaces,datasets):prefix>/<ns>/<name>", {}), ("/<ns>/<name>", {"prefix": ""})):
        rules += [
            Rule(f"{base}/info/refs", endpoint=partial(info_refs, **fixed), methods=["GET"]),
            Rule(f"{base}/<any('git-upload-pack','git-receive-pack'):service>",
                 endpoint=partial(rpc, **fixed), methods=["POST"]),
            *routes_lfs.repo_routes(base, fixed),
        ]
    return rules


ROUTES = _routes()
