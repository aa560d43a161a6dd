"""Collect a Space's evidence from the Hub, every source at once, none of them fatal.

The sources are independent, so they run concurrently in a small thread
pool; each has its own deadline. A source that fails (a 403 on the logs, a
status page that does not answer) is recorded in `Evidence.missing` with the
reason and diagnosis goes on with the rest. Only a Space that does not exist
or a token the Hub rejects stops collection, because then nothing else can
be read either.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from remedybot.core.errors import AuthError, HubUnavailableError, NotFoundError, RemedyError
from remedybot.diagnose.history import gather_history, gather_index
from remedybot.hub import SpaceDisabledError, log_tail
from remedybot.model.evidence import Evidence
from remedybot.model.history import SeenRecord

if TYPE_CHECKING:
    from remedybot.hub import Hub

CONFIG_FILES = ("README.md", "requirements.txt", "pre-requirements.txt", "packages.txt", "Dockerfile")
SOURCES = ("info", "runtime", "build_log", "run_log", "status_page", "commits", "files")
# One read of the Space's info: every field the evidence uses, usedStorage included (an expand-only
# field), and the runtime, so no separate runtime request is needed. `host` cannot be expanded: the
# app probe reads it with a plain info request, only for a RUNNING Space.
INFO_FIELDS = ["author", "cardData", "createdAt", "disabled", "lastModified", "private", "runtime", "sdk", "sha",
               "siblings", "subdomain", "usedStorage"]
SOURCE_TIMEOUT = 20.0  # seconds for any one source
MAX_CONFIG_BYTES = 200_000


def collect_evidence(hub: Hub, space_id: str, *, log_lines: int = 400, log_bytes: int = 256_000,
                     timeout: float = SOURCE_TIMEOUT, seen: Sequence[SeenRecord] = ()) -> Any:
    """Return an Evidence snapshot of `space_id`.

    `seen` are remedybot's own records of seeing Spaces RUNNING (remedybot/remedy/lastseen.py); with the
    commit history they decide the last known good revision (remedybot/diagnose/history.py).

    Raises:
        NotFoundError: the Space does not exist (or is private to someone else); nothing to diagnose.
        AuthError: the Hub rejected the token; fix the token first.
    """
    pool = ThreadPoolExecutor(max_workers=len(SOURCES), thread_name_prefix="evidence")
    read = pool.submit(_info, hub, space_id)  # first: the runtime and the file listing come with it
    sources: dict[str, Callable[[], Any]] = {
        "runtime": lambda: _runtime(hub, space_id, read),
        "build_log": lambda: log_tail(hub, space_id, build=True, max_lines=log_lines, max_bytes=log_bytes,
                                      timeout=min(timeout, 10.0)),
        "run_log": lambda: log_tail(hub, space_id, build=False, max_lines=log_lines, max_bytes=log_bytes,
                                    timeout=min(timeout, 10.0)),
        "status_page": lambda: hub.status_page(),
        "commits": lambda: hub.list_commits(space_id, repo_type="space", limit=10),
        "files": lambda: _config_files(hub, space_id, read),
    }
    results: dict[str, Any] = {}
    missing: dict[str, str] = {}
    unreachable: dict[str, HubUnavailableError] = {}  # sources lost to connection errors, 5xx or 429 after retries
    disabled = False  # the Hub refused a call with "Access to this resource is disabled"
    try:
        futures = {"info": _first(read), **{name: pool.submit(fn) for name, fn in sources.items()}}
        deadline = time.monotonic() + timeout
        for name, future in futures.items():
            try:
                results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                missing[name] = f"timed out after {timeout:g}s"
            except SpaceDisabledError as exc:
                disabled = True
                missing[name] = exc.message
            except (NotFoundError, AuthError):
                if name in ("info", "runtime"):
                    raise
                missing[name] = "not readable with this token"
            except HubUnavailableError as exc:
                unreachable[name] = exc
                missing[name] = exc.message
            except RemedyError as exc:
                missing[name] = exc.message
            except Exception as exc:  # a broken source must not stop the diagnosis
                missing[name] = f"{type(exc).__name__}: {exc}"
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if "info" in unreachable and "runtime" in unreachable:
        # Nothing about the Space itself was read: that is "could not look", not "looked and found nothing".
        raise HubUnavailableError(f"Could not collect the evidence of '{space_id}': {unreachable['info'].message}",
                                  hint="check HF_ENDPOINT and the network, or https://status.huggingface.co; "
                                       "nothing was diagnosed")

    info = results.get("info")
    app_probe = _probe(hub, info, results.get("runtime"), missing)
    storage = None
    if info is not None:
        storage = {"used_storage": info.get("usedStorage")}
    elif disabled:
        # A disabled Space answers every call with that 403; the refusal itself is the evidence
        # (policy_block), so it is kept the way the Hub's own info would say it.
        info = {"id": space_id, "disabled": True}
    evidence = Evidence(
        space_id=space_id,
        info=info,
        runtime=results.get("runtime"),
        build_log=results.get("build_log"),
        run_log=results.get("run_log"),
        status_page=results.get("status_page"),
        files=results.get("files"),
        commits=results.get("commits"),
        storage=storage,
        app_probe=app_probe,
        collected_at=datetime.now(UTC).isoformat(),
        missing=missing,
    )
    _history(hub, evidence, seen)
    return evidence


def _history(hub: Hub, evidence: Evidence, seen: Sequence[SeenRecord]) -> None:
    """The last known good, its files and the index's releases: evidence, never a reason to stop."""
    if evidence.info is None or evidence.info.get("disabled"):
        return
    try:
        gather_history(hub, evidence, seen)
        gather_index(hub, evidence)
    except Exception as exc:
        evidence.missing["history"] = f"{type(exc).__name__}: {exc}"


def _probe(hub: Hub, info: dict[str, Any] | None, runtime: Any, missing: dict[str, str]) -> dict[str, Any] | None:
    """GET the app once when the Space says RUNNING: the runtime cannot show an app that stopped answering.

    Sequential on purpose: only a RUNNING Space pays for it (one request), and only then is it evidence.
    """
    stage = runtime.get("stage") if isinstance(runtime, dict) else None
    if stage != "RUNNING" or info is None:
        return None
    try:
        if not info.get("host"):  # not expandable: a plain info read names it
            info["host"] = getattr(hub.space_info(info["id"]), "host", None)
        host = info["host"]
        return {"url": host, "status": hub.probe(host)} if host else None
    except Exception as exc:  # evidence, never fatal
        missing["app_probe"] = f"{type(exc).__name__}: {exc}"
        return None


def _first(future: Future[tuple[dict[str, Any], Any]]) -> Future[dict[str, Any]]:
    """The info part of `_info`'s answer, as a future of its own."""
    out: Future[dict[str, Any]] = Future()

    def done(f: Future[tuple[dict[str, Any], Any]]) -> None:
        error = f.exception()
        if error is not None:
            out.set_exception(error)
        else:
            out.set_result(f.result()[0])

    future.add_done_callback(done)
    return out


def _info(hub: Hub, space_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The info fields the evidence keeps, and the runtime that came with them (None if it did not)."""
    info = hub.space_info(space_id, expand=INFO_FIELDS)
    data = {
        "id": info.id,
        "author": info.author,
        "sha": info.sha,
        "sdk": info.sdk,
        "private": info.private,
        "disabled": info.disabled,
        "createdAt": info.created_at.isoformat() if info.created_at else None,
        "lastModified": info.last_modified.isoformat() if info.last_modified else None,
        "usedStorage": info.used_storage,
        "host": getattr(info, "host", None),
        "cardData": info.card_data.to_dict() if info.card_data is not None else None,
        "siblings": [s.rfilename for s in (info.siblings or [])],
    }
    return data, (dict(info.runtime.raw) if info.runtime is not None and info.runtime.raw else None)


def _runtime(hub: Hub, space_id: str, read: Future[tuple[dict[str, Any], Any]]) -> dict[str, Any]:
    """The runtime from the info read; its own request only when the info came without one or failed."""
    try:
        runtime = read.result()[1]
    except Exception:  # the info read failing says nothing about the runtime: ask for it
        runtime = None
    return runtime if runtime is not None else hub.runtime(space_id)


def _config_files(hub: Hub, space_id: str, read: Future[tuple[dict[str, Any], Any]]) -> dict[str, str]:
    """The small config files the Space has (from the info's file listing), fetched at once.

    Files the listing does not name are not asked for (each would cost a 404); without a listing
    every candidate is tried.
    """
    try:
        listed = set(read.result()[0].get("siblings") or [])
    except Exception:
        listed = set(CONFIG_FILES)
    names = [name for name in CONFIG_FILES if name in listed]
    if not names:
        return {}
    with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="evidence-file") as pool:
        texts = pool.map(lambda name: hub.read_file(space_id, name, repo_type="space"), names)
        return {name: text[:MAX_CONFIG_BYTES] for name, text in zip(names, texts, strict=True)
                if text is not None}
