"""CLI start-up: `remedybot --help` against `hf --help`, measured in the same run.

remedybot imports huggingface_hub, GitPython and the sandbox lazily, so its
help should cost little more than the Python interpreter itself. Prints the
median wall time of each over interleaved runs and the ratio.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = int(os.environ.get("BENCH_RUNS", "15"))
BIN = Path(sys.executable).parent


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "remedybot --help": [str(BIN / "remedybot"), "--help"],
        "hf --help": [str(BIN / "hf"), "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():  # warm the file cache once
        wall(cmd)
    for _ in range(RUNS):
        for name, cmd in commands.items():
            times[name].append(wall(cmd))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"CLI start-up, median of {RUNS} interleaved runs")
    for name, value in medians.items():
        print(f"  {name:<18} {value * 1000:8.1f} ms")
    ratio = medians["remedybot --help"] / medians["hf --help"]
    print(f"  ratio remedybot/hf  {ratio:8.2f}  (lower is faster)")


if __name__ == "__main__":
    main()
