"""Fault injection: the spec parses strictly, the rate holds, and decisions are reproducible by seed."""

from __future__ import annotations

import random
import threading

import pytest

from remedybot.sandbox.faults import DEFAULT_KINDS, Fault, FaultInjector, FaultSpec

SPEC = ("rate=0.3;kinds=429,500,502,503,reset,latency;routes=/api/spaces/*,/api/whoami-v2;"
        "latency=0.05;retry_after=0")
ROUTES = [("GET", "/api/spaces/demo/a/runtime"), ("POST", "/api/spaces/demo/a/restart"),
          ("GET", "/api/whoami-v2")]


def decisions(injector: FaultInjector, method: str, path: str, n: int) -> list[Fault | None]:
    return [injector.decide(method, path) for _ in range(n)]


def test_parse_full_spec() -> None:
    spec = FaultSpec.parse(SPEC)
    assert spec == FaultSpec(rate=0.3, kinds=("429", "500", "502", "503", "reset", "latency"),
                             routes=("/api/spaces/*", "/api/whoami-v2"), latency=0.05, retry_after=0)


def test_parse_defaults_and_whitespace() -> None:
    spec = FaultSpec.parse(" rate = 0.1 ; methods = get, post ;")
    assert spec.kinds == DEFAULT_KINDS and spec.routes == ("/api/*",)
    assert spec.methods == ("GET", "POST") and spec.retry_after == 1


@pytest.mark.parametrize(("text", "message"), [
    ("", "'rate' is required"),
    ("kinds=429", "'rate' is required"),
    ("rate=0.1;burst=3", "unknown key 'burst'"),
    ("rate=0.1;kinds=429,418", "unknown fault kind '418'"),
    ("rate=1.5", "rate must be between 0 and 1"),
    ("rate=lots", "rate must be a number"),
    ("rate=0.1;retry_after=1.5", "retry_after must be an integer"),
    ("rate=0.1;routes=", "routes must not be empty"),
    ("rate=0.1;rate=0.2", "given twice"),
    ("rate", "expected key=value"),
])
def test_parse_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FaultSpec.parse(text)


def test_observed_rate_is_close_to_configured() -> None:
    injector = FaultInjector(FaultSpec.parse(SPEC), seed=7)
    for i in range(2000):
        injector.decide(*ROUTES[i % len(ROUTES)])
    stats = injector.stats()
    assert stats["requests"] == stats["eligible"] == 2000
    assert 0.26 <= stats["injected"] / 2000 <= 0.34  # ±4 standard deviations of a binomial(2000, 0.3)
    assert set(stats["by_kind"]) == set(DEFAULT_KINDS) and sum(stats["by_kind"].values()) == stats["injected"]


def test_same_seed_same_faults_other_seed_other_faults() -> None:
    spec = FaultSpec.parse(SPEC)
    run = [decisions(FaultInjector(spec, seed=7), "GET", "/api/whoami-v2", 2000) for _ in range(2)]
    other = decisions(FaultInjector(spec, seed=8), "GET", "/api/whoami-v2", 2000)
    assert run[0] == run[1]
    assert other != run[0]


def test_decisions_do_not_depend_on_interleaving() -> None:
    spec = FaultSpec.parse(SPEC)
    sequential, interleaved = FaultInjector(spec, seed=3), FaultInjector(spec, seed=3)
    reference = {route: decisions(sequential, *route, 900) for route in ROUTES}  # route by route
    seen: dict[tuple[str, str], list[Fault | None]] = {route: [] for route in ROUTES}
    order = random.Random(5)
    for _ in range(900):  # the same routes, shuffled together
        route = order.choice(ROUTES)
        seen[route].append(interleaved.decide(*route))
    for route in ROUTES:
        assert seen[route] == reference[route][: len(seen[route])]


def test_decisions_from_threads_are_counted_and_reproducible() -> None:
    spec = FaultSpec.parse(SPEC)
    injector = FaultInjector(spec, seed=11)
    results: dict[tuple[str, str], list[Fault | None]] = {}

    def worker(route: tuple[str, str]) -> None:
        results[route] = decisions(injector, *route, 400)

    threads = [threading.Thread(target=worker, args=(route,)) for route in ROUTES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert injector.stats()["requests"] == 1200
    reference = FaultInjector(spec, seed=11)
    assert all(results[route] == decisions(reference, *route, 400) for route in ROUTES)


def test_routes_methods_and_admin_paths() -> None:
    everything = FaultInjector(FaultSpec.parse("rate=1;routes=*"), seed=0)
    assert everything.decide("GET", "/_sandbox/status/index.json") is None  # admin routes are safe by default
    assert everything.decide("GET", "/spaces/demo/a.git/info/refs") is not None
    listed = FaultInjector(FaultSpec.parse("rate=1;routes=/_sandbox/*"), seed=0)
    assert listed.decide("POST", "/_sandbox/incident") is not None
    default = FaultInjector(FaultSpec.parse("rate=1;methods=POST"), seed=0)
    assert default.decide("GET", "/api/spaces/demo/a") is None
    assert default.decide("POST", "/spaces/demo/a.git/git-receive-pack") is None  # default routes are /api/*
    assert default.decide("POST", "/api/spaces/demo/a/restart") is not None
    assert default.stats() == {"requests": 3, "eligible": 1, "injected": 1,
                               "by_kind": {next(iter(default.stats()["by_kind"])): 1}}


def first(spec: str) -> Fault | None:
    return FaultInjector(FaultSpec.parse(spec), 0).decide("GET", "/api/x")


def test_fault_shapes() -> None:
    throttled = Fault(kind="status", label="429", code=429, retry_after=5)
    assert first("rate=1;kinds=429;retry_after=5") == throttled
    assert first("rate=1;kinds=503") == Fault(kind="status", label="503", code=503)
    assert first("rate=1;kinds=reset") == Fault(kind="reset", label="reset")
    assert first("rate=1;kinds=latency;latency=0.2") == Fault(kind="latency", label="latency", seconds=0.2)
    assert first("rate=0") is None
