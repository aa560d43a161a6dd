"""Bench: the storage playbook's history rewrite against plain git filter-repo and git filter-branch.

Generates one repository with `git fast-import` (default: 2000 commits; every 20th adds a 2 MB random
binary that a later commit deletes, ~200 MB of large blobs; the last one stays at HEAD), makes a fresh
`--mirror --no-local` clone of it per contender, and runs on each copy:

  remedybot   what `history_slim --slim rewrite` does locally: the plan's analysis (`git filter-repo
              --analyze`, large blobs no ref tip uses), then its rewrite step (`slim.strip_history`:
              tip guard + `git filter-repo --strip-blobs-with-ids`); printed with and without the analysis
  filter-repo `git filter-repo --strip-blobs-bigger-than 1M` (also strips the blob HEAD still uses)
  filter-branch `git filter-branch --index-filter 'git rm --cached ... data/*.bin' --prune-empty -- --all`

Each contender runs in its own child process; peak memory is the largest resident set of that process
and everything it waited for (getrusage RUSAGE_SELF/RUSAGE_CHILDREN). Prints wall time, peak RSS, the
history left, and remedybot's ratios. Not a test: `python bench/bench_history_rewrite.py [--commits N]
[--every K] [--blob-mb M] [--skip-filter-branch]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

THRESHOLD = 1_000_000
ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C",
       "FILTER_BRANCH_SQUELCH_WARNING": "1"}


def generate(path: Path, commits: int, every: int, blob_mb: float) -> int:
    """The bench repository, written by git fast-import; returns the bytes of large blobs in it."""
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(path)], check=True, env=ENV)
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE, env=ENV)
    assert proc.stdin is not None
    out, large, alive = proc.stdin, 0, {}  # alive: path of a large blob -> commit that deletes it
    size = int(blob_mb * 1_000_000)
    for i in range(commits):
        lines = [f"commit refs/heads/main\nmark :{i + 1}\n"
                 f"committer Bench <bench@example.com> {1_700_000_000 + i * 60} +0000\n"]
        message = f"commit {i}\n".encode()
        lines.append(f"data {len(message)}\n")
        out.write("".join(lines).encode() + message)
        if i:
            out.write(f"from :{i}\n".encode())
        text = f"step {i}\n".encode() * 20
        out.write(f"M 100644 inline src/file-{i % 50}.txt\ndata {len(text)}\n".encode() + text + b"\n")
        if i % every == 0:
            blob = os.urandom(size)
            name = f"data/blob-{i // every}.bin"
            out.write(f"M 100644 inline {name}\ndata {len(blob)}\n".encode() + blob + b"\n")
            large += size
            if i + every < commits:
                alive[name] = i + every // 2
        for name, when in list(alive.items()):
            if when == i:
                out.write(f"D {name}\n".encode())
                del alive[name]
        out.write(b"\n")
    out.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "gc", "-q"], cwd=path, check=True, env=ENV)
    return large


def fresh_copy(source: Path, dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", "--mirror", "--no-local", str(source), str(dest)], check=True, env=ENV)
    return dest


def contender(name: str, repo: Path) -> dict[str, float]:
    """Run one contender in this (child) process; report wall seconds and phases."""
    phases: dict[str, float] = {}
    start = time.perf_counter()
    if name == "remedybot":
        from remedybot.remedy.storage import gitio
        from remedybot.remedy.storage.inventory import analyze
        from remedybot.remedy.storage.slim import strip_history

        tips = {b for sha in set(gitio.refs(repo).values()) for b in gitio.tree_blobs(repo, sha).values()}
        blobs = [b["blob_id"] for b in analyze(repo, tips) if not b["at_tip"] and b["size"] >= THRESHOLD]
        phases["analysis"] = time.perf_counter() - start
        strip_history(repo, strip_oids=[], strip_blobs=blobs, label="bench")
        phases["rewrite"] = time.perf_counter() - start - phases["analysis"]
    elif name == "filter-repo":
        subprocess.run([sys.executable, "-m", "git_filter_repo", "--quiet", "--strip-blobs-bigger-than", "1M"],
                       cwd=repo, check=True, env=ENV, capture_output=True)
    else:
        subprocess.run(["git", "filter-branch", "-f", "--prune-empty", "--index-filter",
                        "git rm -q -r --cached --ignore-unmatch 'data/*.bin'", "--", "--all"],
                       cwd=repo, check=True, env=ENV, capture_output=True)
    phases["wall"] = time.perf_counter() - start
    # ru_maxrss is in KiB on Linux. remedybot's own Python process does part of the work, so it counts;
    # for the other two this process is only a launcher, so only what it waited for counts.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss if name == "remedybot" else 0
    phases["peak_mb"] = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return phases


def measure(name: str, repo: Path) -> dict[str, float]:
    proc = subprocess.run([sys.executable, __file__, "--child", name, str(repo)], capture_output=True, text=True,
                          env=ENV)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    backups = subprocess.run(["git", "for-each-ref", "--format=%(refname)", "refs/original/"], cwd=repo,
                             capture_output=True, text=True, env=ENV).stdout.split()
    for ref in backups:  # filter-branch keeps the old history under refs/original/
        subprocess.run(["git", "update-ref", "-d", ref], cwd=repo, env=ENV, check=True)
    subprocess.run(["git", "reflog", "expire", "--expire=now", "--all"], cwd=repo, env=ENV, check=True)
    subprocess.run(["git", "gc", "-q", "--prune=now"], cwd=repo, env=ENV, check=True)
    size = subprocess.run(["git", "count-objects", "-v"], cwd=repo, capture_output=True, text=True, env=ENV).stdout
    stats = dict(line.split(": ") for line in size.splitlines())
    result["pack_mb"] = int(stats.get("size-pack", 0)) / 1024
    result["commits"] = int(subprocess.run(["git", "rev-list", "--count", "main"], cwd=repo, capture_output=True,
                                           text=True, env=ENV).stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--every", type=int, default=20)
    parser.add_argument("--blob-mb", type=float, default=2.0)
    parser.add_argument("--skip-filter-branch", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "REPO"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(contender(args.child[0], Path(args.child[1]))))
        return
    with tempfile.TemporaryDirectory(prefix="bench-rewrite-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        large = generate(root / "source.git", args.commits, args.every, args.blob_mb)
        print(f"generated {args.commits} commits, {large / 1e6:.0f} MB of large blobs in "
              f"{time.perf_counter() - started:.1f}s")
        names = ["remedybot", "filter-repo"] + ([] if args.skip_filter_branch else ["filter-branch"])
        results = {}
        for name in names:
            results[name] = measure(name, fresh_copy(root / "source.git", root / f"{name}.git"))
            shutil.rmtree(root / f"{name}.git")
        print(f"{'contender':<14}{'wall s':>9}{'peak MB':>9}{'pack MB':>9}{'commits':>9}")
        for name, r in results.items():
            print(f"{name:<14}{r['wall']:>9.2f}{r['peak_mb']:>9.1f}{r['pack_mb']:>9.1f}{r['commits']:>9}")
        ours = results["remedybot"]
        print(f"remedybot phases: analysis {ours['analysis']:.2f}s, rewrite step {ours['rewrite']:.2f}s")
        for other in names[1:]:
            r = results[other]
            print(f"ratio remedybot/{other}: wall {ours['wall'] / r['wall']:.2f}x "
                  f"(rewrite step alone {ours['rewrite'] / r['wall']:.2f}x), peak memory "
                  f"{ours['peak_mb'] / r['peak_mb']:.2f}x")


if __name__ == "__main__":
    main()
