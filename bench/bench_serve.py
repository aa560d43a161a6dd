"""How fast the console's pages are, and how little it asks of the Hub when idle: prints figures, asserts nothing.

A sandbox Hub (in this process) with N Spaces of the user 'demo' (default 2 000; `build_fleet` of
bench_scan.py, a share failing), scanned once. Then, in the same run:

* **Pages.** The console (uvicorn on 127.0.0.1) holds that scan. The fleet page (`/`, every Space in one table)
  and a failing Space's page are built R times each (default 50): the server time (the route's work: the
  page's data and its template, called in this process), and the response time on loopback (one signed-in
  client; the server's time plus HTTP and a loopback round trip), p50 and p95. The baseline is
  rendering the same data as `remedybot scan` does (`render_table` of the same FleetScan) and as
  `remedybot diagnose` does (`render_text` of that Space's diagnosis), timed R times in this process; the
  ratio is page p50 / baseline p50. The Hub requests sent while the pages were served are counted (should
  be 0: pages read the store).
* **Idle Hub request rate.** The sandbox enforces the free tier's rate limits on a clock at real pace whose
  waits jump instead of sleeping (the product's `remedybot.core.clock`), and the console's refresh loop runs
  one round under the default request budget (half of each 5-minute window). Its requests in that round
  over the time from one round's start to the next (the round plus the wait the loop chose,
  `RequestBudget.interval_for`) give the idle rate per window, shown against the budget (the API quota
  times the share) and the quota; 429s are counted too.

Usage: python bench/bench_serve.py [--spaces 2000] [--failing 0.2] [--repeat 50] [--interval 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
os.environ.pop("HF_TOKEN", None)
os.environ.setdefault("REMEDYBOT_HTTP_TIMEOUT", "600")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scan import build_fleet


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def line(label: str, samples: list[float], baseline: list[float] | None = None) -> str:
    p50, p95 = percentiles(samples)
    text = f"  {label:<52} p50 {p50 * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms"
    if baseline is not None:
        text += f"   ratio p50 {p50 / percentiles(baseline)[0]:6.1f}x"
    return text


def pages(args: argparse.Namespace, home: Path) -> None:
    import httpx2

    from remedybot.fleet.policy import Policy
    from remedybot.fleet.scan import FleetScan, render_table, scan_fleet
    from remedybot.hub import Hub
    from remedybot.hub import budget as budgets
    from remedybot.model.diagnosis import render_text
    from remedybot.sandbox.server import Sandbox
    from remedybot.serve import server
    from remedybot.serve.access import identity_from_whoami
    from remedybot.serve.app import Console, ServeConfig, fleet_context, space_context

    with Sandbox(state_dir=home / "hub", load_default_scenarios=False, rate_limits=False) as sb:
        for key, value in sb.env().items():
            os.environ[key] = value
        failing = build_fleet(sb, args.spaces, args.failing)
        hub = Hub()
        started = time.perf_counter()
        scan = scan_fleet(hub, "demo")
        print(f"fleet: {len(scan.results)} Spaces, {len(failing)} failing; scanned once in "
              f"{time.perf_counter() - started:.1f} s")
        console = Console(ServeConfig(owners=["demo"], policy=Policy()), hub,
                          local_person=identity_from_whoami(hub.whoami()))
        console.store.put_scan(scan)
        running = server.start(console, refresh=False)
        target = next(r for r in scan.results if r.failing)
        one = FleetScan(owner="demo", results=[target])
        try:
            with httpx2.Client(base_url=running.url, timeout=120) as client:
                client.get(running.login_link().removeprefix(running.url))
                sent_before = dict(budgets.current().sent)
                assert target.space_id in client.get("/").text
                fleet = timed(lambda: client.get("/").raise_for_status(), args.repeat)
                space = timed(lambda: client.get(f"/spaces/{target.space_id}").raise_for_status(), args.repeat)
                size = len(client.get("/").content)
                hub_requests = sum(budgets.current().sent_since(sent_before).values())
        finally:
            running.stop()
        session = console.sessions.open(console.local_person)  # type: ignore[arg-type]
        session.role = console.role(session)
        fleet_server = timed(lambda: console.render("serve_fleet.html.j2",
                                                    **fleet_context(console, session, "", "", False, "severity")),
                             args.repeat)
        space_server = timed(lambda: console.render("serve_space.html.j2",
                                                    **space_context(console, session, target.space_id)), args.repeat)
        table = timed(lambda: render_table(scan), args.repeat)
        text = timed(lambda: render_text(target.known, color=False), args.repeat)
        one_row = timed(lambda: render_table(one), args.repeat)
        print(f"pages ({args.repeat} requests each, one client, loopback; fleet page {size / 1e6:.1f} MB):")
        print(line(f"fleet page, {len(scan.results)} Spaces: server time", fleet_server, table))
        print(line("  the same over HTTP (loopback response time)", fleet, table))
        print(line("  baseline: `remedybot scan`'s table (render_table)", table))
        print(line(f"Space page ({target.space_id}): server time", space_server, text))
        print(line("  the same over HTTP (loopback response time)", space, text))
        print(line("  baseline: `remedybot diagnose`'s text (render_text)", text))
        print(line("  (scan's table for that one Space)", one_row))
        print(f"  Hub requests while serving {2 * args.repeat + 2} pages: {hub_requests}")


def idle_rate(args: argparse.Namespace, home: Path) -> None:
    from remedybot.core import clock as clocks
    from remedybot.hub import Hub
    from remedybot.hub import budget as budgets
    from remedybot.remedy.audit import AuditLog
    from remedybot.sandbox.clock import SimWaits
    from remedybot.sandbox.server import Sandbox
    from remedybot.serve.store import FleetStore, Refresher

    with Sandbox(state_dir=home / "hub-limited", load_default_scenarios=False, clock_speed=1.0,
                 users={"demo": ("hf_bench_demo_token", "free")}) as sb:
        build_fleet(sb, args.spaces, args.failing)
        for key, value in sb.env().items():
            os.environ[key] = value
        previous = clocks.set_clock(SimWaits(sb.state.clock))
        budget = budgets.configure()
        try:
            store = FleetStore(["demo"], AuditLog(home / "audit.jsonl"))
            loop = Refresher(store, Hub(), interval=args.interval, concurrency=1)
            start = sb.state.clock.now()
            loop.refresh()
            took = sb.state.clock.now() - start
        finally:
            clocks.set_clock(previous)
        sent = budget.sent.get("api", 0)
        statuses = [status for _method, _path, status in sb.app.request_log if status == 429]
        quota = next((w.quota for (_h, b), w in budget._windows.items() if b == "api"), None)
        period = took + loop.wait
        rate = sent / period * 300 if period else float("nan")
        print(f"idle Hub request rate (refresh loop, free tier, default budget share {budget.share:g}, "
              f"--interval {args.interval:g}):")
        print(f"  one round: {sent} API requests in {took:.0f} s (sandbox clock); the loop then waits "
              f"{loop.wait:.0f} s (stretched by the budget from {args.interval:g} s)")
        if quota:
            print(f"  idle rate {rate:.0f} API requests per 5-minute window = {rate / (quota * budget.share):.2f} of "
                  f"the budget ({quota * budget.share:.0f}) and {rate / quota:.2f} of the quota ({quota})")
        print(f"  429 answers: {len(statuses)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spaces", type=int, default=2000)
    parser.add_argument("--failing", type=float, default=0.2)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--interval", type=float, default=300.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        os.environ["HF_HOME"] = str(Path(tmp) / "hf-home")
        os.environ["REMEDYBOT_HOME"] = str(Path(tmp) / "remedybot-home")
        pages(args, Path(tmp))
        idle_rate(args, Path(tmp))


if __name__ == "__main__":
    main()
