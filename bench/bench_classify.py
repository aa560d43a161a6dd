"""Classifier accuracy, calibration and speed over the labelled real cases in tests/data/*.jsonl.

Prints, per file and overall: top-1 accuracy as "branch in accept" and as
"branch == accept[0]", the misses, the calibration table (right / total at each
confidence level: high >= 0.8, medium >= 0.5, low) over all real cases, and the
classify time per case (median and worst), plus the time for one 100 000-line
log. Then (unless --log-mb 0) the 100 MB build log of bench_diagnose.py (c):
the product's path (the SSE stream through log_tail, then classify) against
`grep -E` with the catalog's build-log patterns, in the same run, with the
ratios and the peak memory over a Python baseline. Not a test: it prints figures.

Usage: python bench/bench_classify.py [--log-mb 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from remedybot.diagnose.catalog.schema import load_catalog
from remedybot.diagnose.classify import classify
from remedybot.model.evidence import Evidence

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
REPEAT = 5


LEVELS = ("high", "medium", "low")
CALIBRATION: dict[str, list[int]] = {level: [0, 0] for level in LEVELS}  # right, total


def run(path: Path) -> tuple[int, int, int, list[float]]:
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    in_accept = exact = 0
    times: list[float] = []
    for index, case in enumerate(cases):
        evidence = Evidence.from_dict(case["evidence"])
        start = time.perf_counter()
        for _ in range(REPEAT):
            diagnosis = classify(evidence)
        times.append((time.perf_counter() - start) / REPEAT)
        in_accept += diagnosis.branch in case["accept"]
        CALIBRATION[diagnosis.confidence_label][0] += diagnosis.branch in case["accept"]
        CALIBRATION[diagnosis.confidence_label][1] += 1
        exact += diagnosis.branch == case["accept"][0]
        if diagnosis.branch not in case["accept"]:
            print(f"  miss {path.name}#{index}: {diagnosis.branch} ({diagnosis.confidence}) not in {case['accept']}"
                  f" - {case.get('title', '')[:70]}")
    return len(cases), in_accept, exact, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-mb", type=int, default=100, help="size of the big build log; 0 skips it")
    args = parser.parse_args()
    start = time.perf_counter()
    load_catalog()
    print(f"catalog load: {1000 * (time.perf_counter() - start):.1f} ms")
    total = hits = firsts = 0
    all_times: list[float] = []
    for path in sorted(DATA.glob("*.jsonl")):
        n, in_accept, exact, times = run(path)
        total, hits, firsts = total + n, hits + in_accept, firsts + exact
        all_times += times
        print(f"{path.name}: {n} cases, in accept {in_accept}/{n} ({in_accept / n:.0%}), "
              f"exact first {exact}/{n} ({exact / n:.0%})")
    if not total:
        sys.exit("no cases found in tests/data")
    print(f"overall: in accept {hits}/{total} ({hits / total:.0%}), "
          f"exact first {firsts}/{total} ({firsts / total:.0%})")
    print("calibration over all real cases (right / total at each confidence level):")
    for level in LEVELS:
        right, n = CALIBRATION[level]
        print(f"  {level:<6} {right:>4}/{n:<4} {right / n if n else 0:6.1%}")
    print(f"classify per case: median {1000 * statistics.median(all_times):.2f} ms, "
          f"worst {1000 * max(all_times):.2f} ms")
    big = Evidence.from_dict({"space_id": "bench/big", "runtime": {"stage": "RUNTIME_ERROR"},
                              "run_log": [f"step {i}: loading shard, 45% done" for i in range(100_000)]
                              + ["ModuleNotFoundError: No module named 'cv2'"]})
    start = time.perf_counter()
    branch = classify(big).branch
    print(f"100 000-line run log: {1000 * (time.perf_counter() - start):.0f} ms ({branch})")
    if args.log_mb > 0:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_diagnose import bench_big_log  # the same 100 MB log, grep run and children as bench_diagnose (c)

        bench_big_log(args.log_mb)


if __name__ == "__main__":
    main()
