"""How fast `remedybot diagnose` is, and what it costs: prints figures, asserts nothing.

(a) Evidence collection against a sandbox Hub that delays every request by
    0.1, 0.2 and 0.3 s: each source timed alone (called the way collect.py calls
    it), then the concurrent `collect_evidence`; printed as ratios to the slowest
    single source and to the sum of them all.
(b) HTTP requests per diagnosis, counted in the sandbox's request log, per
    source and per demo Space, for `collect_evidence` + `classify` and for the
    CLI command.
(c) A 100 MB build log with the real error on its last lines, against
    `grep -E` over the catalog's build-log regexes. The product never holds a
    whole log: collection keeps a bounded tail of the SSE stream (log_tail) and
    classify scans at most the last 5 000 lines. So three product figures are
    printed, each saying what it measures: the real path (stream 100 MB of SSE
    through log_tail, classify the tail), classify over a whole log already in
    memory (what `--evidence` gets from a huge file; still scans only the end),
    and the catalog's regexes over every line (the scan bound lifted: not a
    product path, only the like-for-like match against grep). Each runs in its
    own child process so its peak RSS (VmHWM) is its own, next to a baseline
    child that only imports remedybot and loads the catalog.

Usage: python bench/bench_diagnose.py [--log-mb 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
os.environ.pop("HF_TOKEN", None)

SPACE = "demo/dependency"
LATENCIES = (0.1, 0.2, 0.3)
LATENCY_ROUTES = "/api/*,/spaces/*,/_sandbox/status/*"  # every Hub route collection uses, and the status page
TAIL = ["E: Package 'libgl1-mesa-glx' has no installation candidate",
        '--> ERROR: process "/bin/sh -c apt-get install -y libgl1-mesa-glx" did not complete successfully: '
        "exit code: 100"]


# -- (a) collection wall time vs the single calls ---------------------------------------------


def sources(hub: Any, space_id: str) -> dict[str, Callable[[], Any]]:
    """The sources exactly as collect.collect_evidence builds them (same functions, same bounds)."""
    from remedybot.diagnose import collect
    from remedybot.hub import log_tail

    bound = min(collect.SOURCE_TIMEOUT, 10.0)
    return {
        "info": lambda: collect._info(hub, space_id),
        "runtime": lambda: hub.runtime(space_id),
        "build_log": lambda: log_tail(hub, space_id, build=True, max_lines=400, max_bytes=256_000, timeout=bound),
        "run_log": lambda: log_tail(hub, space_id, build=False, max_lines=400, max_bytes=256_000, timeout=bound),
        "status_page": lambda: hub.status_page(),
        "commits": lambda: hub.list_commits(space_id, repo_type="space", limit=10),
        "files": lambda: collect._config_files(hub, space_id),
    }


def timed(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_collection(repeat: int) -> None:
    from remedybot.diagnose.collect import collect_evidence
    from remedybot.hub import Hub
    from remedybot.sandbox.faults import FaultInjector, FaultSpec
    from remedybot.sandbox.server import Sandbox

    print(f"(a) evidence collection for {SPACE}: each source alone vs collect_evidence (concurrent); "
          f"median of {repeat}")
    print(f"    every request to {LATENCY_ROUTES} delayed by the sandbox (fault kind 'latency', rate 1.0)")
    with Sandbox() as sb:
        os.environ["REMEDYBOT_STATUS_URL"] = sb.status_url
        hub = Hub(sb.token, endpoint=sb.endpoint)
        collect_evidence(hub, SPACE)  # warm-up: imports, connections
        for latency in LATENCIES:
            spec = f"rate=1.0;kinds=latency;latency={latency};routes={LATENCY_ROUTES}"
            sb.app.faults = FaultInjector(FaultSpec.parse(spec), seed=0)
            singles: dict[str, float] = {}
            requests: dict[str, int] = {}
            for name, fn in sources(hub, SPACE).items():
                before = len(sb.app.request_log)
                singles[name] = timed(fn, repeat)
                requests[name] = (len(sb.app.request_log) - before) // repeat
            concurrent = timed(lambda: collect_evidence(hub, SPACE), repeat)
            slowest = max(singles, key=lambda k: singles[k])
            total = sum(singles.values())
            detail = ", ".join(f"{k} {v:.2f}s/{requests[k]}req" for k, v in singles.items())
            print(f"  latency {latency:.1f}s per request: {detail}")
            print(f"    slowest single {slowest} {singles[slowest]:.2f}s, sum of singles {total:.2f}s, "
                  f"collect_evidence {concurrent:.2f}s -> {concurrent / singles[slowest]:.2f}x the slowest, "
                  f"{concurrent / total:.2f}x the sum ({total / concurrent:.1f}x faster than one after another)")
        sb.app.faults = None
    print()


# -- (b) HTTP requests per diagnosis ----------------------------------------------------------

_ROUTES = [
    (re.compile(r"^/api/spaces/[^/]+/[^/]+$"), "info (space_info, twice: plain + expand=usedStorage)"),
    (re.compile(r"/runtime$"), "runtime"),
    (re.compile(r"/logs/build$"), "build_log (SSE)"),
    (re.compile(r"/logs/run$"), "run_log (SSE)"),
    (re.compile(r"^/_sandbox/status/"), "status_page"),
    (re.compile(r"/commits/"), "commits"),
    (re.compile(r"^/spaces/.+/resolve/"), "files (one GET per config file)"),
    (re.compile(r"^/_sandbox/app/"), "app probe (only when the Space says RUNNING)"),
]


def route_of(path: str) -> str:
    return next((label for pattern, label in _ROUTES if pattern.search(path)), f"other: {path}")


def bench_requests() -> None:
    import contextlib
    import io

    from remedybot.cli.app import main as cli_main
    from remedybot.diagnose.catalog.schema import BRANCH_IDS
    from remedybot.diagnose.classify import classify
    from remedybot.diagnose.collect import collect_evidence
    from remedybot.hub import Hub
    from remedybot.sandbox.server import Sandbox

    print("(b) HTTP requests per diagnosis (sandbox request log, no faults)")
    with Sandbox() as sb:
        os.environ.update({"REMEDYBOT_STATUS_URL": sb.status_url, "HF_ENDPOINT": sb.endpoint, "HF_TOKEN": sb.token})
        hub = Hub(sb.token, endpoint=sb.endpoint)
        collect_evidence(hub, SPACE)  # warm-up
        counts: dict[str, int] = {}
        for branch in BRANCH_IDS:
            space = "demo/" + branch.replace("_", "-")
            before = len(sb.app.request_log)
            classify(collect_evidence(hub, space))
            log = sb.app.request_log[before:]
            counts[space] = len(log)
            if space == SPACE:
                by_route = Counter(route_of(path) for _, path, _ in log)
                statuses = Counter(status for _, _, status in log)
        print(f"  collect_evidence + classify, {SPACE}: {counts[SPACE]} requests "
              f"(statuses {dict(sorted(statuses.items()))})")
        for label, n in by_route.items():
            print(f"    {n:2d}  {label}")
        running = sorted(k for k, v in counts.items() if v == max(counts.values()))
        print(f"  across the {len(counts)} demo Spaces: min {min(counts.values())}, max {max(counts.values())} "
              f"requests per diagnosis (max: {', '.join(running)})")
        before = len(sb.app.request_log)
        quiet = (contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()))
        with quiet[0], quiet[1], contextlib.suppress(SystemExit):  # the CLI always exits with its code
            cli_main(["diagnose", SPACE, "--json"])
        print(f"  `remedybot diagnose {SPACE} --json` (CLI, in-process): {len(sb.app.request_log) - before} requests")
        os.environ.pop("HF_TOKEN", None)
    print()


# -- (c) a 100 MB log: the product vs grep -E -------------------------------------------------


def noise_line(rng: random.Random) -> str:
    """Realistic build-log noise: pip progress and retries, notices, warnings with "error" in them."""
    pick = rng.randrange(10)
    pkg = rng.choice(("torch", "transformers", "errorhandler", "pyerrors", "gradio", "safetensors"))
    if pick == 0:
        return f"Collecting {pkg}>=1.{rng.randint(0, 9)}"
    if pick == 1:
        return f"  Downloading {pkg}-2.{rng.randint(0, 9)}.0-py3-none-any.whl ({rng.randint(1, 900)}.4 MB)"
    if pick == 2:
        bar = "━" * rng.randint(1, 40)
        return f"     {bar}   {rng.randint(1, 99)}.{rng.randint(0, 9)}/120.0 MB 31.2 MB/s eta 0:00:0{rng.randint(1, 9)}"
    if pick == 3:
        return ("WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after "
                "connection broken by 'ReadTimeoutError(\"HTTPSConnectionPool(host='files.pythonhosted.org', "
                "port=443): Read timed out.\")': /packages/torch.whl")
    if pick == 4:
        return "[notice] A new release of pip is available: 23.0.1 -> 25.3"
    if pick == 5:
        return f"Requirement already satisfied: {pkg} in /usr/local/lib/python3.10/site-packages (1.2.3)"
    if pick == 6:
        return ("/usr/local/lib/python3.10/site-packages/pandas/io/parsers.py:12: FutureWarning: error_bad_lines "
                "is deprecated and will be removed in a future version")
    if pick == 7:
        return "Setting up liberror-perl (0.17029-2) ..."
    if pick == 8:
        return "WARNING: error reporting is disabled for this build (set SENTRY_DSN to enable)"
    return f"  Building wheel for {pkg} (setup.py): finished with status 'done'"


def write_logs(folder: Path, megabytes: int) -> tuple[Path, Path, int, int]:
    """The log as text, and as the Hub's SSE replay served at /api/spaces/bench/big/logs/build."""
    rng = random.Random(42)
    text_path = folder / "build.log"
    sse_path = folder / "www" / "api" / "spaces" / "bench" / "big" / "logs" / "build"
    sse_path.parent.mkdir(parents=True)
    size = count = 0
    with text_path.open("w", encoding="utf-8") as text, sse_path.open("w", encoding="utf-8") as sse:
        def emit(line: str) -> None:
            nonlocal size, count
            text.write(line + "\n")
            sse.write("data: " + json.dumps({"data": line + "\n", "timestamp": "2025-04-21T09:12:03Z"}) + "\n\n")
            size += len(line.encode()) + 1
            count += 1

        while size < megabytes * 1_000_000:
            emit(noise_line(rng))
        for line in TAIL:
            emit(line)
    return text_path, sse_path, size, count


_CLASS_ESCAPES = {"d": "0-9", "w": "[:alnum:]_", "s": "[:space:]"}


def to_ere(pattern: str) -> str | None:
    """A Python regex as a GNU `grep -E` pattern, or None when it uses something ERE cannot say.

    Named and non-capturing groups become plain groups, lazy quantifiers greedy (the same lines
    match), `\\d` becomes [0-9], `\\w`/`\\s` inside brackets become POSIX classes, a leading (?i)
    is spelled out as [xX] pairs. GNU grep knows `\\w \\W \\s \\S \\b` outside brackets.
    Lookarounds, inline flags elsewhere, negated classes inside brackets and other letter escapes
    are refused (None).
    """
    ci = pattern.startswith("(?i)")
    p = pattern[4:] if ci else pattern
    if any(tok in p for tok in ("(?=", "(?!", "(?<=", "(?<!", "(?i)", "(?s)", "(?m)")):
        return None
    out: list[str] = []
    i, in_class = 0, False
    while i < len(p):
        c = p[i]
        if c == "\\" and i + 1 < len(p):
            escaped = _ere_escape(p[i + 1], in_class)
            if escaped is None:
                return None
            out.append(escaped)
            i += 2
            continue
        if in_class:
            in_class = c != "]"
            out.append(c.swapcase() + c if ci and c.isalpha() else c)
            i += 1
        elif c == "[":
            in_class = True
            negate = p[i + 1:i + 2] == "^"
            out.append("[^" if negate else "[")
            i += 2 if negate else 1
        elif p.startswith("(?P<", i):
            i = p.index(">", i) + 1
            out.append("(")
        elif p.startswith("(?:", i):
            i += 3
            out.append("(")
        elif c in "*+?}" and p[i + 1:i + 2] == "?":
            out.append(c)
            i += 2
        else:
            out.append(f"[{c.lower()}{c.upper()}]" if ci and c.isalpha() else c)
            i += 1
    return "".join(out)


def _ere_escape(e: str, in_class: bool) -> str | None:
    """The ERE spelling of the escape `\\e` (inside brackets or not); None when ERE cannot say it."""
    if e.isalnum() and e not in (_CLASS_ESCAPES if in_class else "dwWsSb"):
        return None
    if in_class:
        return _CLASS_ESCAPES.get(e, e)  # \\- \\. \\' are literal inside brackets
    if e == "d":
        return "[0-9]"
    if e in "wWsSb.()[]{}*+?|^$\\":
        return "\\" + e
    return e  # \\- \\' \\" \\/ are plain characters (GNU reads \\' as an anchor)


def catalog_patterns(field: str) -> list[tuple[str, str]]:
    from remedybot.diagnose.catalog.schema import load_catalog

    return [(s.id, m.pattern) for s in load_catalog().signatures for m in s.match
            if m.field == field and m.pattern is not None]


def vm_hwm_mb(pid: int | str) -> float | None:
    """Peak resident set size of a live process (VmHWM in /proc/<pid>/status), in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found[1]) / 1024 if found else None


def run_child(args: list[str], env: dict[str, str] | None = None) -> tuple[dict[str, Any], float, float]:
    """Run a child; return (its JSON stdout, or {"stdout": text}), wall seconds, peak RSS in MB.

    Peak RSS is VmHWM: the child's own figure when it reports one (the Python children do, at
    exit), else polled every 2 ms while it runs. Not ru_maxrss: on Linux that carries over the
    RSS of the forking parent (this process, with a sandbox in it), which would swamp grep's.
    """
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out_file, stderr=err_file, env=env)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, vm_hwm_mb(proc.pid) or 0.0)
            time.sleep(0.002)
        wall = time.perf_counter() - start
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if proc.returncode not in (0, 1):  # grep exits 1 when nothing matched
        sys.exit(f"child {args[:3]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    try:
        data = json.loads(out) if out.strip().startswith(b"{") else {"stdout": out.decode().strip()}
    except ValueError:
        data = {"stdout": out.decode().strip()}
    return data, wall, float(data.get("peak_rss_mb") or peak)


def child(mode: str, arg: str) -> None:
    """Measurements that need a process of their own (for an honest peak RSS)."""
    import remedybot.diagnose.catalog.scan as scan
    from remedybot.diagnose.catalog.schema import load_catalog
    from remedybot.diagnose.classify import classify
    from remedybot.hub import Hub, log_tail
    from remedybot.model.evidence import Evidence

    load_catalog()
    classify(Evidence(space_id="warm/up", build_log=TAIL))  # compiles the regexes, as any earlier call would
    result: dict[str, Any] = {}
    if mode == "tail":
        hub = Hub(None, endpoint=arg)
        start = time.perf_counter()
        lines = log_tail(hub, "bench/big", build=True, max_lines=400, max_bytes=256_000, timeout=10.0)
        result["read_s"] = time.perf_counter() - start
        start = time.perf_counter()
        d = classify(Evidence(space_id="bench/big", runtime={"stage": "BUILD_ERROR"}, build_log=lines))
        result.update(classify_s=time.perf_counter() - start, lines=len(lines), branch=d.branch,
                      culprit=d.culprit, last_line=lines[-1] if lines else "")
    elif mode in ("memory", "fullscan"):
        start = time.perf_counter()
        with open(arg, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
        result["read_s"] = time.perf_counter() - start
        if mode == "fullscan":
            scan.MAX_SCAN_LINES = len(lines) + 1
        start = time.perf_counter()
        d = classify(Evidence(space_id="bench/big", runtime={"stage": "BUILD_ERROR"}, build_log=lines))
        result.update(classify_s=time.perf_counter() - start, lines=len(lines), branch=d.branch,
                      culprit=d.culprit)
    result["peak_rss_mb"] = vm_hwm_mb("self")
    print(json.dumps(result))


def bench_big_log(megabytes: int) -> None:
    from remedybot.diagnose.catalog.scan import MAX_SCAN_LINES

    grep = shutil.which("grep")
    pats = catalog_patterns("build_log")
    converted = [(sid, p, to_ere(p)) for sid, p in pats]
    usable = [(sid, p, e) for sid, p, e in converted if e is not None]
    skipped = [sid for sid, _, e in converted if e is None]
    folder = Path(tempfile.mkdtemp(prefix="bench-diagnose-"))
    server = None
    try:
        start = time.perf_counter()
        text_path, sse_path, size, count = write_logs(folder, megabytes)
        mb = size / 1e6
        print(f"(c) a {mb:.0f} MB build log ({count:,} lines; SSE replay {sse_path.stat().st_size / 1e6:.0f} MB), "
              f"real apt error on the last 2 lines; written in {time.perf_counter() - start:.1f}s")
        print(f"    patterns: the catalog's {len(pats)} build_log regexes; {len(usable)} converted to ERE for grep"
              + (f", skipped (not expressible in ERE): {', '.join(skipped)}" if skipped else ""))
        print("    grep gets only these regexes; the product also applies its 11 noise regexes and `unless` filters")

        # The converted patterns must find the same lines as Python's regexes (checked on a sample).
        sample = folder / "sample.log"
        sample_lines = [noise_line(random.Random(i)) for i in range(2_000)] + TAIL + example_lines()
        sample.write_text("\n".join(sample_lines) + "\n", encoding="utf-8")
        pattern_file = folder / "patterns.ere"
        pattern_file.write_text("\n".join(e for _, _, e in usable) + "\n", encoding="utf-8")
        env = {**os.environ, "LC_ALL": "C.UTF-8"}
        found = subprocess.run([grep, "-E", "-n", "-f", str(pattern_file), str(sample)], env=env,
                               capture_output=True, text=True, check=False).stdout
        grep_hits = {int(line.split(":", 1)[0]) for line in found.splitlines()}
        py = [re.compile(p) for _, p, _ in usable]
        py_hits = {n for n, line in enumerate(sample_lines, 1) if any(r.search(line) for r in py)}
        print(f"    check on a {len(sample_lines):,}-line sample with the catalog's own example lines: grep and "
              f"Python agree on {len(sample_lines) - len(grep_hits ^ py_hits):,}/{len(sample_lines):,} lines "
              f"({len(py_hits)} matching)")

        rows: dict[str, tuple[str, float, float, str]] = {}  # key -> (label, seconds, peak RSS MB, note)
        base_rss = run_child([sys.executable, __file__, "--child", "baseline", "-"])[2]
        for locale in ("C", "C.UTF-8"):
            out, wall, rss = run_child([grep, "-E", "-c", "-f", str(pattern_file), str(text_path)],
                                       env={**os.environ, "LC_ALL": locale})
            rows[f"grep {locale}"] = (f"grep -E -c -f, LC_ALL={locale} (process wall time)", wall, rss,
                                      f"{out.get('stdout', '?')} matching lines")

        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                   "--directory", str(folder / "www")], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        wait_for_port(port)
        out, _, rss = run_child([sys.executable, __file__, "--child", "tail", f"http://127.0.0.1:{port}"])
        reached = "reached the end" if out.get("last_line") == TAIL[-1] else "did NOT reach the end"
        rows["tail"] = ("product: log_tail over the SSE replay (server ignores ?tail) + classify",
                        out["read_s"] + out["classify_s"], rss,
                        f"{out['branch']} ({out['culprit'].get('package', '')}); kept {out['lines']} lines, "
                        f"{reached}; classify {1000 * out['classify_s']:.0f} ms")
        out, _, rss = run_child([sys.executable, __file__, "--child", "memory", str(text_path)])
        rows["memory"] = (f"product: classify a whole log held in memory (scans the last {MAX_SCAN_LINES:,})",
                          out["classify_s"], rss, f"{out['branch']}; reading the file into lines: {out['read_s']:.1f}s")
        out, _, rss = run_child([sys.executable, __file__, "--child", "fullscan", str(text_path)])
        rows["full"] = ("catalog regexes over every line (scan bound lifted; not a product path)",
                        out["classify_s"], rss, out["branch"])

        print(f"    {'method':<78} {'wall s':>7} {'MB/s':>7} {'peak RSS':>9}  result")
        for label, seconds, rss_mb, note in rows.values():
            print(f"    {label:<78} {seconds:7.2f} {mb / seconds:7.1f} {rss_mb:6.0f} MB  {note}")
        print(f"    (a Python child that only imports remedybot and loads the catalog peaks at {base_rss:.0f} MB; "
              f"MB/s is {mb:.0f} MB of log text over the time, whatever part was scanned; classify is timed warm)")
        grep_s, grep_rss = rows["grep C"][1], rows["grep C"][2]
        print("    ratios against grep -E (LC_ALL=C):")
        for key, what in (("grep C.UTF-8", "grep -E in C.UTF-8"), ("full", "same regexes, every line, Python"),
                          ("tail", "product path (HTTP + SSE JSON + tail)"), ("memory", "whole log in memory")):
            label, seconds, rss_mb, _ = rows[key]
            extra = f", {rss_mb - base_rss:+.0f} MB over the Python baseline" if not key.startswith("grep") else ""
            print(f"      {what:<40} throughput {grep_s / seconds:6.3f}x ({seconds / grep_s:5.1f}x the time), "
                  f"peak RSS {rss_mb / grep_rss:5.1f}x{extra}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def example_lines() -> list[str]:
    """Every build_log line of the catalog's real examples (the lines the patterns were written for)."""
    from remedybot.diagnose.catalog.schema import load_catalog

    lines: list[str] = []
    for s in load_catalog().signatures:
        for ex in s.examples:
            log = ex.evidence.get("build_log")
            if isinstance(log, list):
                lines += [str(x) for x in log]
            elif isinstance(log, str):
                lines += log.splitlines()
    return [line for line in lines if "\n" not in line]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"the log server on port {port} did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-mb", type=int, default=100, help="size of the big log in (c), in MB")
    parser.add_argument("--repeat", type=int, default=3, help="timings per figure in (a); the median is printed")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "ARG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="bench-hf-home-"))
    os.environ.setdefault("REMEDYBOT_HOME", tempfile.mkdtemp(prefix="bench-remedybot-home-"))
    bench_collection(args.repeat)
    bench_requests()
    bench_big_log(args.log_mb)


if __name__ == "__main__":
    main()
