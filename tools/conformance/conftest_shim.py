"""The conftest that `make conformance` puts beside huggingface_hub's own tests.

The sdist ships the tests without their conftest.py, so this one supplies what
the Hub-API classes use (`api`, `repo_factory`, `RepoFactory`, the markers),
and points the suite at the sandbox Hub instead of the Hub's staging instance:

- `ENDPOINT_STAGING` (and `HF_ENDPOINT`) become the sandbox's address, read
  from REMEDYBOT_CONFORMANCE_ENDPOINT; a request a test still sends to the
  staging host is rewritten to the sandbox, and any request to another
  non-loopback host is refused, so nothing reaches huggingface.co.
- Tests marked `production`, or using `api_prod`, are skipped with the reason;
  so are `xet` tests (the sandbox serves a repo's large files through LFS only; a bucket's go through its
  Xet CAS stand-in, which the modules listed with `xet: lfs` in classes.yaml use).
- The client's cache and token files live in a temporary folder per test.

It is copied, never imported by remedybot; run.py writes it as tests/conftest.py.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx2
import pytest
from huggingface_hub import HfApi, RepoUrl, constants
from huggingface_hub.utils import _http

from . import testing_constants

SANDBOX = os.environ["REMEDYBOT_CONFORMANCE_ENDPOINT"].rstrip("/")
STAGING_HOST = urlsplit(testing_constants.ENDPOINT_STAGING).hostname
_sandbox = urlsplit(SANDBOX)
testing_constants.ENDPOINT_STAGING = SANDBOX
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PRODUCTION = "runs against the production Hub (huggingface.co), which the conformance run never reaches"
XET = "needs Xet transfers for a repo's files (hf_xet), which the sandbox serves through git-LFS only"
SKIPS: dict[str, str] = {}  # node id -> reason, filled in by run.py through REMEDYBOT_CONFORMANCE_SKIPS
# Test files whose `xet`-marked tests run anyway (classes.yaml `xet: lfs`): the marker sits on a whole module
# there; its repo transfers run over LFS (HF_HUB_DISABLE_XET=1) and its bucket transfers through the sandbox's
# Xet CAS stand-in; a test that still cannot run is listed in classes.yaml with its reason.
RUN_XET = set(filter(None, os.environ.get("REMEDYBOT_CONFORMANCE_RUN_XET", "").split(",")))


def _load_skips() -> None:
    path = os.environ.get("REMEDYBOT_CONFORMANCE_SKIPS")
    if path:
        import json

        with open(path) as fh:
            SKIPS.update(json.load(fh))


_load_skips()


class _SandboxTransport(httpx2.HTTPTransport):
    """Send staging requests to the sandbox; refuse every other host that is not loopback."""

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        host = request.url.host
        if host == STAGING_HOST:
            request.url = request.url.copy_with(scheme=_sandbox.scheme, host=_sandbox.hostname, port=_sandbox.port)
            request.headers["Host"] = _sandbox.netloc
        elif host not in LOOPBACK:
            raise httpx2.ConnectError(f"conformance run: refusing to reach {host}", request=request)
        return super().handle_request(request)


def _client() -> httpx2.Client:
    return httpx2.Client(transport=_SandboxTransport(), event_hooks={"request": [_http.hf_request_event_hook]},
                         follow_redirects=True, timeout=None)


_http.set_client_factory(_client)

_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name not in LOOPBACK and name is not None:
        raise OSError(f"conformance run: refusing to resolve {name}")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_only


def pytest_configure(config: pytest.Config) -> None:
    for marker in ("api", "transfer", "inference", "xet", "no_xet", "production", "deprecated", "git_lfs", "vcr"):
        config.addinivalue_line("markers", f"{marker}: huggingface_hub's own marker")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        reason = SKIPS.get(item.nodeid) or SKIPS.get(item.nodeid.split("[")[0]) or \
            SKIPS.get("::".join(item.nodeid.split("::")[:2]))
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))
        elif item.get_closest_marker("production") is not None:
            item.add_marker(pytest.mark.skip(reason=PRODUCTION))
        elif "api_prod" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.skip(reason=PRODUCTION + " (api_prod)"))
        elif item.get_closest_marker("xet") is not None and item.nodeid.split("::")[0] not in RUN_XET:
            item.add_marker(pytest.mark.skip(reason=XET))


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with tempfile.TemporaryDirectory(prefix="hf-conformance-") as home:
        for name, rel in (("HF_HOME", ""), ("HF_HUB_CACHE", "hub"), ("HUGGINGFACE_HUB_CACHE", "hub"),
                          ("HF_XET_CACHE", "xet"), ("HF_ASSETS_CACHE", "assets"), ("HF_TOKEN_PATH", "token"),
                          ("HF_STORED_TOKENS_PATH", "stored_tokens")):
            if hasattr(constants, name):
                monkeypatch.setattr(constants, name, os.path.join(home, rel) if rel else home)
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_EXPERIMENTAL_WARNING", True)
        yield


@pytest.fixture(autouse=True)
def _deprecated(request: pytest.FixtureRequest) -> Iterator[None]:
    """`@pytest.mark.deprecated("fn")`: the test must emit a FutureWarning naming `fn`."""
    names = [name for marker in request.node.iter_markers("deprecated") for name in marker.args]
    with ExitStack() as stack:
        for name in names:
            stack.enter_context(pytest.warns(FutureWarning, match=rf".*'{name}'.*"))
        yield


@pytest.fixture(autouse=True)
def _git_lfs(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("git_lfs") is not None and os.environ.get("RUN_GIT_LFS_TESTS") != "1":
        pytest.skip("git-lfs test (set RUN_GIT_LFS_TESTS=1 to run)")


@pytest.fixture(scope="session")
def api() -> HfApi:
    return HfApi(endpoint=SANDBOX, token=testing_constants.TOKEN)


@pytest.fixture(scope="session")
def api_prod() -> HfApi:
    pytest.skip(PRODUCTION)


class RepoFactory(Protocol):
    """Creates a repo on the sandbox for one test and deletes it afterwards."""

    def __call__(self, repo_type: str = "model", **kwargs: Any) -> RepoUrl: ...


@pytest.fixture
def repo_factory(api: HfApi) -> Iterator[RepoFactory]:
    from .testing_utils import repo_name

    made: list[tuple[str, str]] = []

    def make(repo_type: str = "model", **kwargs: Any) -> RepoUrl:
        if repo_type == "space":
            kwargs.setdefault("space_sdk", "gradio")
        kwargs.setdefault("repo_id", repo_name(prefix=repo_type))
        url = api.create_repo(repo_type=repo_type, **kwargs)
        made.append((url.repo_id, repo_type))
        return url

    yield make
    for repo_id, repo_type in made:
        with contextlib.suppress(Exception):  # clean-up only
            api.delete_repo(repo_id=repo_id, repo_type=repo_type, missing_ok=True)
