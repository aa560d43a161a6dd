"""The sandbox Hub's HTTP server: routing, auth, fault injection, start and stop.

A WSGI app (Werkzeug) served by Werkzeug's threaded server on 127.0.0.1.
`Sandbox` runs it in-process (tests, demo); `serve` runs it in the
foreground (`remedybot sandbox serve`). Routes live in `routes_*` modules;
this module only dispatches.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import ClosingIterator

from remedybot.sandbox import (
    routes_admin,
    routes_buckets,
    routes_discussions,
    routes_files,
    routes_index,
    routes_oauth,
    routes_repos,
    routes_spaces,
    routes_webhooks,
    routes_xet,
    webhook_events,
)
from remedybot.sandbox.clock import SimClock
from remedybot.sandbox.faults import FaultInjector, FaultSpec
from remedybot.sandbox.http import Ctx, error_response, token_from
from remedybot.sandbox.ratelimit import Decision, RateLimiter, check_tier
from remedybot.sandbox.scenario import load_scenarios
from remedybot.sandbox.state import HubState, HubStateError
from remedybot.sandbox.webhooks import Webhooks

log = logging.getLogger("remedybot.sandbox")
POLL = 0.02  # seconds between the serve loop's checks for shutdown (Werkzeug's default is 0.5)

OBSERVATION = "remedybot.webhook_observation"  # environ key: what a request may change (webhook_events.py)
ROUTE_MODULES = [routes_admin, routes_spaces, routes_repos, routes_files, routes_discussions, routes_buckets,
                 routes_xet, routes_webhooks, routes_oauth, routes_index]


def _git_routes() -> list[Any]:
    from remedybot.sandbox import routes_git

    return list(routes_git.ROUTES)


@functools.cache
def _url_map() -> Map:
    """The routing table, compiled once per process (about 0.25 s) and shared by every sandbox.

    Rule objects bind to one Map, so the routes are copies. A Map holds no sandbox's state (each
    request's `Ctx` carries the state), and matching is safe from many threads, so sandboxes
    running side by side in one process can share it.
    """
    rules = [rule.empty() for module in ROUTE_MODULES for rule in module.ROUTES]
    rules += [rule.empty() for rule in _git_routes()]
    return Map(rules, strict_slashes=False, merge_slashes=False)


def _listening_socket(port: int) -> socket.socket:
    """A TCP socket listening on 127.0.0.1:`port` (0: a free one); OSError when the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


class SandboxApp:
    """The WSGI application: one instance per sandbox Hub."""

    def __init__(self, state: HubState, faults: FaultInjector | None = None,
                 limiter: RateLimiter | None = None) -> None:
        self.state = state
        self.faults = faults
        self.limiter = limiter
        self.url_map = _url_map()
        self.request_log: list[tuple[str, str, int]] = []
        self._log_lock = threading.Lock()
        state.webhooks = Webhooks(state, self._log)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        fault = None
        if self.faults is not None:
            fault = self.faults.decide(request.method, request.path)
        if fault is not None:
            if fault.kind == "latency":
                time.sleep(fault.seconds)
            elif fault.kind == "reset":
                _reset_socket(environ)
                # Werkzeug treats ConnectionError as a dropped connection and closes the
                # socket quietly; with SO_LINGER 0 the close sends the peer an RST.
                raise ConnectionResetError("injected connection reset")
            elif fault.kind == "status":
                resp = error_response(fault.code, _FAULT_MESSAGES.get(fault.code, "Server error"))
                if fault.code == 429:
                    resp.headers["Retry-After"] = str(fault.retry_after)
                self._record(request, resp.status_code)
                return resp(environ, start_response)
        decision = self._limit(request)
        if decision is not None and not decision.allowed:
            refused = error_response(429, decision.message())
            refused.headers.update(decision.headers())
            self._record(request, 429)
            return refused(environ, start_response)
        response = self.dispatch(request)
        if decision is not None:
            response.headers.update(decision.headers())
        self._record(request, response.status_code)
        observation = environ.get(OBSERVATION)
        if observation is None:
            return response(environ, start_response)
        if not request.path.endswith("/git-receive-pack"):
            # Compare before answering: the client's next request must not be observed while this one's
            # changes are still unreported (they would be reported twice, or out of order).
            webhook_events.after(self.state, observation)
            return response(environ, start_response)
        # A push moves its refs while its answer streams: compare once the stream is closed.
        return ClosingIterator(response(environ, start_response), partial(webhook_events.after, self.state,
                                                                          observation))

    def _limit(self, request: Request) -> Decision | None:
        """Count the request against its rate-limit bucket (ratelimit.py); None when not counted."""
        if self.limiter is None:
            return None
        user = self.state.user_for_token(token_from(request))
        return self.limiter.check(request.path, user, request.remote_addr or "")

    def _record(self, request: Request, status: int) -> None:
        self._log(request.method, request.path, status)

    def _log(self, method: str, path: str, status: int) -> None:
        with self._log_lock:
            self.request_log.append((method, path, status))

    def _names_no_repo(self, path: str) -> bool:
        """A repo-shaped path no route matched (an id without a namespace, say) whose repo does not exist."""
        match = _REPO_PATH.match(path)
        if match is None:
            return False
        kind = {"models": "model", "datasets": "dataset", "spaces": "space", "datasets/": "dataset",
                "spaces/": "space"}.get(match.group(1) or match.group(3) or "", "model")
        parts = path.split("/")
        first = 3 if match.group(1) else 2 if match.group(3) else 1
        return self.state.find(kind, "/".join(parts[first:first + 2])) is None

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except MethodNotAllowed:
            return error_response(405, "Method not allowed")
        except NotFound:
            if self._names_no_repo(request.path):
                return error_response(404, "Repository not found", "RepoNotFound")
            return error_response(404, f"Not found: {request.path}")
        except HTTPException as exc:
            return error_response(exc.code or 400, exc.description or "Bad request")
        token = token_from(request)
        user = self.state.user_for_token(token)
        ctx = Ctx(request=request, state=self.state, user=user, token_given=token is not None)
        observation = self._observe(request, args)
        try:
            response = endpoint(ctx, **args)
        except HubStateError as exc:
            response = error_response(exc.status, exc.message, exc.code)
        except BaseException:
            if observation is not None:
                webhook_events.after(self.state, observation)
            raise
        if observation is not None:  # after the answer is sent: a push moves its refs at the end of the stream
            request.environ[OBSERVATION] = observation
        return response

    def _observe(self, request: Request, args: dict[str, Any]) -> webhook_events.Observation | None:
        """Snapshot what a request may change, when some webhook would hear of it (webhook_events.py)."""
        if request.method in ("GET", "HEAD") or request.path.startswith("/_sandbox/") \
                or not self.state.webhooks.active():
            return None
        self.state.webhooks.observing(1)
        try:
            return webhook_events.before(self.state, request.path, args)
        except BaseException:
            self.state.webhooks.observing(-1)
            raise


# Repo-shaped paths no route matched (`/api/models/no-namespace`, `/no-namespace/resolve/main/f`).
_REPO_PATH = re.compile(r"^/api/(models|datasets|spaces)/[^/]+(/|$)|^/(datasets/|spaces/)?[^/_][^/]*/resolve/")

_FAULT_MESSAGES = {
    429: "You have exceeded our hourly quotas for action. Please retry later.",
    500: "Internal Error - We're working hard to fix this as soon as possible!",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def _reset_socket(environ: dict[str, Any]) -> None:
    """Close the client socket with SO_LINGER 0 so the peer sees a connection reset."""
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class _QuietHandler(WSGIRequestHandler):
    """Request handler that logs through `logging` (off by default) and swallows injected resets."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s %s", self.command, self.path, code)

    def log_error(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    def log(self, type: str, message: str, *args: Any) -> None:
        log.debug(message, *args)

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        self.close_connection = True


class Sandbox:
    """An in-process sandbox Hub on 127.0.0.1: `with Sandbox() as sb: sb.endpoint, sb.token`."""

    def __init__(self, *, port: int = 0, state_dir: Path | None = None, scenarios: Path | None = None,
                 load_default_scenarios: bool = True, faults: str | None = None, seed: int = 0,
                 users: dict[str, str | tuple[str, str]] | None = None, clock_speed: float | None = None,
                 rate_limits: bool = True, quotas: dict[str, dict[str, int]] | None = None) -> None:
        """A sandbox Hub, not yet serving (`start()` or `with`).

        `users` maps a name to its token, or to (token, rate-limit tier); the tier defaults to `free`.
        `rate_limits=False` turns the Hub's rate limits off; `quotas` overrides their numbers per tier
        and bucket (ratelimits.yaml). Raises ValueError for an unknown tier.
        """
        tiers = {name: ((given, "free") if isinstance(given, str) else (given[0], check_tier(given[1])))
                 for name, given in (users or {}).items()}  # before anything needs cleaning up
        fault_spec = FaultSpec.parse(faults) if faults else None  # a bad spec fails before any work
        # Bind first, so a port in use is an OSError for the caller at once (not after seconds of loading
        # scenarios); Werkzeug's own bind would print to stderr and exit.
        with contextlib.closing(_listening_socket(port)) as sock:
            self._build(port, sock, state_dir, scenarios, load_default_scenarios, fault_spec, seed, tiers,
                        clock_speed, rate_limits, quotas)

    def _build(self, port: int, sock: socket.socket, state_dir: Path | None, scenarios: Path | None,
               load_default_scenarios: bool, fault_spec: FaultSpec | None, seed: int,
               tiers: dict[str, tuple[str, str]], clock_speed: float | None, rate_limits: bool,
               quotas: dict[str, dict[str, int]] | None) -> None:
        self._tmp = None
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="remedybot-sandbox-")
            state_dir = Path(self._tmp.name)
        state_dir.mkdir(parents=True, exist_ok=True)
        self.state = HubState(state_dir, SimClock(clock_speed) if clock_speed else SimClock())
        restored = self.state.load()
        if "demo" not in self.state.users:
            self.state.add_user("demo")
        for name, (token, tier) in tiers.items():
            self.state.add_user(name, token, tier=tier)
        if not restored and (scenarios is not None or load_default_scenarios):
            for scenario in load_scenarios(scenarios):
                self.state.load_scenario(scenario)
        self.injector = FaultInjector(fault_spec, seed) if fault_spec is not None else None
        limiter = RateLimiter(self.state.clock, quotas) if rate_limits else None
        self.app = SandboxApp(self.state, self.injector, limiter)
        self.state.webhooks.load(state_dir / "webhooks.json")
        self._server: BaseWSGIServer = make_server("127.0.0.1", port, self.app, threaded=True,
                                                   request_handler=_QuietHandler, fd=sock.fileno())
        self._server.daemon_threads = True
        self.port = self._server.port
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.state.endpoint = self.endpoint
        self._thread: threading.Thread | None = None

    @property
    def token(self) -> str:
        return self.state.users["demo"].token

    @property
    def status_url(self) -> str:
        return f"{self.endpoint}/_sandbox/status/index.json"

    def banner(self) -> dict[str, str]:
        return {"endpoint": self.endpoint, "token": self.token, "user": "demo", "status_url": self.status_url}

    def start(self) -> Sandbox:
        # A short poll: shutdown() waits for the loop's next poll, and tests stop hundreds of sandboxes.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": POLL},
                                        name="sandbox-hub", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=POLL)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.state.webhooks.stop()
        if (self.state.root / "state.json").exists() or self._tmp is None:
            self.state.save()
            self.state.webhooks.save(self.state.root / "webhooks.json")
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def oauth_env(self) -> dict[str, str]:
        """What a Space with `hf_oauth: true` finds in its environment, for this sandbox (routes_oauth.py)."""
        return routes_oauth.oauth_env(self.state)

    def env(self) -> dict[str, str]:
        """Environment variables that point huggingface_hub and remedybot at this sandbox."""
        return {
            "HF_ENDPOINT": self.endpoint,
            "HF_TOKEN": self.token,
            "REMEDYBOT_STATUS_URL": self.status_url,
            "REMEDYBOT_PYPI_URL": self.endpoint,  # the package index stand-in (routes_index.py)
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_XET": "1",
        }


def banner_json(sandbox: Sandbox) -> str:
    return json.dumps(sandbox.banner())
