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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from remedybot.core.errors import AuthError, HubUnavailableError, NotFoundError, RemedyError
from remedybot.hub import SpaceDisabledError, log_tail
from remedybot.model.evidence import Evidence

if TYPE_CHECKING:
    from remedybot.hub import Hub

CONFIG_FILES = ("README.md", "requirements.txt", "pre-requirements.txt", "packages.txt", "Dockerfile")
SOURCE_TIMEOUT = 20.0  # seconds for any one source
MAX_CONFIG_BYTES = 200_000


def collect_evidence(hub: Hub, space_id: str, *, log_lines: int = 400, log_bytes: int = 256_000,
                     timeout: float = SOURCE_TIMEOUT) -> Any:
    """Return an Evidence snapshot of `space_id`.

    Raises:
        NotFoundError: the Space does not exist (or is private to someone else); nothing to diagnose.
        AuthError: the Hub rejected the token; fix the token first.
    """
    sources: dict[str, Callable[[], Any]] = {
        "info": lambda: _info(hub, space_id),
        "runtime": lambda: hub.runtime(space_id),
        "build_log": lambda: log_tail(hub, space_id, build=True, max_lines=log_lines, max_bytes=log_bytes,
                                      timeout=min(timeout, 10.0)),
        "run_log": lambda: log_tail(hub, space_id, build=False, max_lines=log_lines, max_bytes=log_bytes,
                                    timeout=min(timeout, 10.0)),
        "status_page": lambda: hub.status_page(),
        "commits": lambda: hub.list_commits(space_id, repo_type="space", limit=10),
        "files": lambda: _config_files(hub, space_id),
    }
    results: dict[str, Any] = {}
    missing: dict[str, str] = {}
    unreachable: dict[str, HubUnavailableError] = {}  # sources lost to connection errors, 5xx or 429 after retries
    disabled = False  # the Hub refused a call with "Access to this resource is disabled"
    pool = ThreadPoolExecutor(max_workers=len(sources), thread_name_prefix="evidence")
    try:
        futures = {name: pool.submit(fn) for name, fn in sources.items()}
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
    return Evidence(
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


def _probe(hub: Hub, info: dict[str, Any] | None, runtime: Any, missing: dict[str, str]) -> dict[str, Any] | None:
    """GET the app once when the Space says RUNNING: the runtime cannot show an app that stopped answering.

    Sequential on purpose: only a RUNNING Space pays for it (one request), and only then is it evidence.
    """
    stage = runtime.get("stage") if isinstance(runtime, dict) else None
    host = (info or {}).get("host")
    if stage != "RUNNING" or not host:
        return None
    try:
        return {"url": host, "status": hub.probe(host)}
    except Exception as exc:  # evidence, never fatal
        missing["app_probe"] = f"{type(exc).__name__}: {exc}"
        return None


def _info(hub: Hub, space_id: str) -> dict[str, Any]:
    info = hub.space_info(space_id)
    # usedStorage is an expand-only field on the Hub: ask for it separately.
    storage = hub.space_info(space_id, expand=["usedStorage"]).used_storage
    data = {
        "id": info.id,
        "author": info.author,
        "sha": info.sha,
        "sdk": info.sdk,
        "private": info.private,
        "disabled": info.disabled,
        "createdAt": info.created_at.isoformat() if info.created_at else None,
        "lastModified": info.last_modified.isoformat() if info.last_modified else None,
        "usedStorage": storage if storage is not None else info.used_storage,
        "host": getattr(info, "host", None),
        "cardData": info.card_data.to_dict() if info.card_data is not None else None,
        "siblings": [s.rfilename for s in (info.siblings or [])],
    }
    return data


def _config_files(hub: Hub, space_id: str) -> dict[str, str]:
    """The small config files, fetched at once (a missing file costs one 404, not a sequential wait)."""
    with ThreadPoolExecutor(max_workers=len(CONFIG_FILES), thread_name_prefix="evidence-file") as pool:
        texts = pool.map(lambda name: hub.read_file(space_id, name, repo_type="space"), CONFIG_FILES)
        return {name: text[:MAX_CONFIG_BYTES] for name, text in zip(CONFIG_FILES, texts, strict=True)
                if text is not None}
