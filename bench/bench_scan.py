"""How fast `remedybot scan` is over a large fleet, and what it costs per Space: prints figures, asserts nothing.

A sandbox Hub with N Spaces of the user 'demo' (default 500), made straight in the
sandbox's state (no HTTP, no git push): most healthy, a share failing in the
builder's ways (wedged, no capacity, out of memory, unexplained crash). Then, in the
same run and on the same fleet, the sandbox in a child process of its own:

* the concurrent scan (`scan_fleet`, --concurrency workers, default 8);
* the sequential scan (concurrency 1), the baseline;
* the deep scan (`--deep`: full evidence for healthy Spaces too), to show what
  settling healthy Spaces from the listing saves.

Each scan is timed (wall clock, and the part after the listing request, which on the
sandbox is dominated by building 500 Space JSONs from git) and its requests counted in the sandbox's request log:
per Space on average, per failing Space, per healthy Space (requests whose path names
the Space), and per scan (the listing and the status page). Every request can be
delayed by `--latency` seconds (the sandbox's latency fault, rate 1.0) to stand in for
the real Hub's round trip; the sandbox itself answers in about a millisecond.

With `--tier free` the sandbox enforces the Hub's rate limits for that tier (free: 1 000 API
requests per 5-minute window) on a clock at real pace, remedybot runs under its default request
budget (half of each window, the rest kept for the user's other tools), and its waits jump the
sandbox's clock instead of sleeping. It then reports, on the sandbox's clock: the 429s (should be 0),
the lowest `remaining` seen against the reserve, and the wall time against the minimum the quota
allows for the API requests the scan needed (a scan that starts at a window's start and may spend
`quota * share` per window needs at least `(ceil(requests / (quota * share)) - 1) * 300` seconds).
Without it the quota is lifted (`rate_limits=False`) and concurrency 8 is compared with sequential.

Usage: python bench/bench_scan.py [--spaces 500] [--failing 0.2] [--latency 0.05] [--concurrency 8] [--no-deep]
       python bench/bench_scan.py --spaces 2000 --tier free [--latency 0]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from collections import Counter
from typing import Any

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
os.environ.pop("HF_TOKEN", None)
os.environ.setdefault("REMEDYBOT_HTTP_TIMEOUT", "600")  # a first listing of thousands of Spaces is slow on a busy host

README = b"---\ntitle: Echo\nsdk: gradio\nsdk_version: 5.9.1\napp_file: app.py\n---\n"
APP = b"import gradio as gr\n\ngr.Interface(lambda text: text, 'text', 'text').launch()\n"
# Builder conditions (remedybot/sandbox/builder.py), cycled through the failing Spaces.
FAILURES = [{"wedged": True}, {"no_capacity": ["cpu-basic"]}, {"memory_gb": 100}, {"unknown": True}]
_SPACE_IN_PATH = re.compile(r"/(demo/[^/?]+)")


def build_fleet(sb: Any, total: int, failing_share: float) -> set[str]:
    """Create `total` Spaces, every 1/failing_share-th one failing; returns the failing ids."""
    failing: set[str] = set()
    every = max(1, round(1 / failing_share)) if failing_share > 0 else 0
    for n in range(total):
        space_id = f"demo/space-{n:04d}"
        repo = sb.state.create_repo("space", space_id, sdk="gradio", author="demo",
                                    initial_files={"README.md": README, "app.py": APP})
        if every and n % every == 0:
            repo.space.conditions.update(FAILURES[(n // every) % len(FAILURES)])
            sb.state.start_build(repo, "restart")
            failing.add(space_id)
    sb.state.clock.advance(3600)  # every build reaches its final stage
    return failing


def serve(conn: Any, total: int, failing_share: float, latency: float, tier: str | None = None) -> None:
    """Child process: build the fleet, serve it, answer the parent's questions about the request log.

    The sandbox runs in its own process so its CPU work (every answer is built from git) does
    not share the scanning client's interpreter lock, as with the real Hub.
    """
    from remedybot.sandbox.faults import FaultInjector, FaultSpec
    from remedybot.sandbox.server import Sandbox

    options: dict[str, Any] = {"clock_speed": 1.0} if tier else {"rate_limits": False}
    with Sandbox(load_default_scenarios=False, users={"demo": ("hf_bench_demo_token", tier or "free")},
                 **options) as sb:
        started = time.perf_counter()
        failing = build_fleet(sb, total, failing_share)
        if latency > 0:
            spec = f"rate=1.0;kinds=latency;latency={latency};routes=/api/*,/spaces/*,/_sandbox/status/*"
            sb.app.faults = FaultInjector(FaultSpec.parse(spec), 0)
        conn.send({"env": sb.env(), "failing": sorted(failing), "seconds": time.perf_counter() - started})
        while True:
            command, arg = conn.recv()
            if command == "log":
                conn.send(sb.app.request_log[arg:])
            elif command == "now":
                conn.send(sb.state.clock.now())
            elif command == "advance":
                conn.send(sb.state.clock.advance(arg))
            elif command == "refused":
                conn.send(sb.app.limiter.refused if sb.app.limiter else 0)
            elif command == "mark":
                conn.send(len(sb.app.request_log))
            else:
                break


class Child:
    """The pipe to the sandbox's process, safe to share between the scan's threads."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.lock = threading.Lock()
        self.wake = threading.Condition()
        self.targets: list[float] = []

    def ask(self, command: str, arg: Any = None) -> Any:
        with self.lock:
            self.conn.send((command, arg))
            return self.conn.recv()

    # the product's clock (remedybot.core.clock): the sandbox's, and sleeping jumps it
    def monotonic(self) -> float:
        return float(self.ask("now"))

    def sleep(self, seconds: float, /) -> None:
        """Jump the sandbox's clock to `seconds` from now, unless another thread's sleep already took it there.

        Threads sleep in parallel in real time; jumping by `seconds` for each of them would add the
        eight waits of eight workers waiting for the same window.
        """
        if seconds <= 0:
            return
        with self.lock:
            self.conn.send(("now", None))
            target = self.conn.recv() + seconds
        with self.wake:
            self.targets.append(target)
            while self.monotonic() < target:
                if min(self.targets) == target:  # the earliest sleeper moves time
                    self.ask("advance", target - self.monotonic())
                else:
                    self.wake.wait(0.001)
            self.targets.remove(target)
            self.wake.notify_all()


def tier_run(child: Child, concurrency: int) -> None:
    """One scan under the tier's rate limits and the default request budget, timed on the sandbox's clock."""
    import math

    from remedybot.core import clock as clocks
    from remedybot.fleet.scan import scan_fleet
    from remedybot.hub import Hub
    from remedybot.hub import budget as budgets
    from remedybot.sandbox.ratelimit import LIMITS, bucket_of

    window = LIMITS["window_seconds"]
    clocks.set_clock(child)
    budget = budgets.configure(budgets.DEFAULT_SHARE)
    waits: list[float] = []
    budget.on_wait(lambda _bucket, seconds: waits.append(seconds))
    listed = time.perf_counter()
    Hub().list_spaces("demo", expand_runtime=True)  # warm-up: the sandbox remembers each Space's JSON from git
    print(f"  first listing (the sandbox builds {len(Hub().list_spaces('demo', expand_runtime=False))} Space JSONs "
          f"from git): {time.perf_counter() - listed:.1f} s real")
    now = child.ask("now")
    child.ask("advance", window - now % window + 0.001)  # start at a window's start
    start_log, started, real = child.ask("mark"), child.ask("now"), time.perf_counter()
    scan = scan_fleet(Hub(), "demo", concurrency=concurrency)
    seconds, real = child.ask("now") - started, time.perf_counter() - real
    log = child.ask("log", start_log)
    api = sum(1 for _m, path, _s in log if bucket_of(path) == "api")
    quota = LIMITS["tiers"]["free"]["api"]
    allowed = quota - budget.reserve(quota)
    minimum = (math.ceil(api / allowed) - 1) * window
    failing = [r for r in scan.results if r.failing]
    per_space = Counter(m.group(1) for _m, p, _s in log if (m := _SPACE_IN_PATH.search(p)))
    print(f"scan under the free tier ({quota} API requests per {window} s), budget {budget.share:g} "
          f"(reserve {budget.reserve(quota)}), concurrency {concurrency}:")
    print(f"  requests: {len(log)} in all, {api} API; {len(log) / len(scan.results):.2f} per Space, "
          f"{sum(per_space[r.space_id] for r in failing) / max(1, len(failing)):.2f} per failing Space "
          f"({len(failing)} failing)")
    print(f"  429s: {sum(1 for _m, _p, s in log if s == 429)} (sandbox refusals: {child.ask('refused')}); "
          f"lowest API 'remaining' seen: {budget.lowest.get('api')} (reserve {budget.reserve(quota)}: "
          f"{'untouched' if budget.lowest.get('api', quota) >= budget.reserve(quota) else 'TOUCHED'})")
    print(f"  wall time on the sandbox clock: {seconds:.1f} s; minimum the quota allows for {api} API requests "
          f"at {allowed} per window: {minimum:.0f} s; ratio {seconds / minimum if minimum else float('nan'):.3f}; "
          f"waited {len(waits)} times, {sum(waits):.1f} s; real time {real:.1f} s")


def measure(conn: Any, label: str, **options: Any) -> dict[str, Any]:
    from remedybot.fleet.scan import scan_fleet
    from remedybot.hub import Hub

    conn.send(("mark", None))
    start_log = conn.recv()
    started = time.perf_counter()
    scan = scan_fleet(Hub(), "demo", **options)
    seconds = time.perf_counter() - started
    conn.send(("log", start_log))
    log = conn.recv()
    per_space: Counter[str] = Counter()
    fleet_level = 0
    for _method, path, _status in log:
        match = _SPACE_IN_PATH.search(path)
        if match:
            per_space[match.group(1)] += 1
        else:
            fleet_level += 1
    failing = [r.space_id for r in scan.results if r.failing]
    healthy = [r.space_id for r in scan.results if r.diagnosis is not None and not r.failing]
    return {"label": label, "seconds": seconds, "after_listing": seconds - scan.listing_seconds,
            "requests": len(log), "fleet_level": fleet_level,
            "spaces": len(scan.results), "failing": len(failing), "healthy": len(healthy),
            "errors": len(scan.errors), "incidents": len(scan.incidents),
            "per_failing": sum(per_space[s] for s in failing) / max(1, len(failing)),
            "per_healthy": sum(per_space[s] for s in healthy) / max(1, len(healthy)),
            "branches": Counter(r.diagnosis.branch for r in scan.results if r.diagnosis is not None)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spaces", type=int, default=500)
    parser.add_argument("--failing", type=float, default=0.2, help="share of failing Spaces (0..1)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every Hub request")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-deep", action="store_true", help="skip the deep scan")
    parser.add_argument("--tier", choices=["free", "pro", "team", "enterprise", "enterprise-plus"],
                        help="enforce this tier's rate limits, scan once under the default request budget")
    args = parser.parse_args(argv)

    import multiprocessing

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(child, args.spaces, args.failing, args.latency, args.tier), daemon=True)
    server.start()
    try:
        ready = parent.recv()
        os.environ.update(ready["env"])
        if args.tier:
            print(f"fleet: {args.spaces} Spaces of 'demo' ({len(ready['failing'])} failing), created in "
                  f"{ready['seconds']:.1f} s; latency {args.latency * 1000:g} ms")
            tier_run(Child(parent), args.concurrency)
            return
        print(f"fleet: {args.spaces} Spaces of 'demo' ({len(ready['failing'])} made to fail: wedged, no capacity, "
              f"out of memory, unexplained crash), created in {ready['seconds']:.1f} s; sandbox in its own process")
        print(f"latency: every Hub request delayed by {args.latency * 1000:g} ms (sandbox latency fault, rate 1.0)")
        from remedybot.fleet.scan import scan_fleet
        from remedybot.hub import Hub

        scan_fleet(Hub(), "demo", concurrency=args.concurrency)  # warm-up: imports, catalog, connections
        started = time.perf_counter()
        Hub().list_spaces("demo", expand_runtime=True)
        print(f"listing alone (1 request; the sandbox builds every Space's JSON from git): "
              f"{time.perf_counter() - started:.2f} s")
        runs = [measure(parent, f"concurrent ({args.concurrency} workers)", concurrency=args.concurrency),
                measure(parent, "sequential (1 worker)", concurrency=1)]
        if not args.no_deep:
            runs.append(measure(parent, f"deep, concurrent ({args.concurrency})", concurrency=args.concurrency,
                                deep=True))
    finally:
        parent.send(("stop", None))
        server.join(timeout=10)
    first = runs[0]
    print(f"result: {first['failing']} failing, {first['healthy']} healthy, {first['errors']} unreadable, "
          f"{first['incidents']} incident(s); branches: "
          + ", ".join(f"{b} {n}" for b, n in sorted(first["branches"].items())))
    print()
    header = (f"{'scan':<26} {'wall s':>8} {'after listing':>14} {'requests':>9} {'req/Space':>10} "
              f"{'req/failing':>12} {'req/healthy':>12} {'per scan':>9}")
    print(header)
    print("-" * len(header))
    for r in runs:
        print(f"{r['label']:<26} {r['seconds']:>8.2f} {r['after_listing']:>14.2f} {r['requests']:>9} "
              f"{r['requests'] / r['spaces']:>10.2f} {r['per_failing']:>12.2f} {r['per_healthy']:>12.2f} "
              f"{r['fleet_level']:>9}")
    print()
    print(f"speed-up, concurrent vs sequential: {runs[1]['seconds'] / runs[0]['seconds']:.1f}x wall, "
          f"{runs[1]['after_listing'] / runs[0]['after_listing']:.1f}x after the listing")
    if len(runs) > 2:
        print(f"requests saved by settling healthy Spaces from the listing: "
              f"{runs[2]['requests'] - runs[0]['requests']} of {runs[2]['requests']} "
              f"({1 - runs[0]['requests'] / runs[2]['requests']:.0%})")


if __name__ == "__main__":
    sys.exit(main())
