"""The end-to-end demonstration behind `make demo`, run on a fresh sandbox Hub.

It starts the embedded sandbox (nothing leaves 127.0.0.1), points remedybot
at it through the same environment variables a user would set for the real
Hub, and runs the real `remedybot` commands one after another, showing each
command line and its output.

Engine modules are imported inside each command, never at module level: `remedybot --help` must not
load them (bench/bench_cli_startup.py keeps it under 0.2x of `hf --help`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

DIAGNOSE = ["demo/wedged-space", "demo/dependency", "demo/port-mismatch", "demo/policy-block", "demo/healthy"]


class Demo:
    def __init__(self, console: Console, env: dict[str, str], workdir: Path) -> None:
        self.console = console
        self.env = env
        self.workdir = workdir

    def section(self, title: str) -> None:
        self.console.rule(f"[bold]{title}")

    def run(self, *args: str, show: bool = True) -> int:
        """Run one real remedybot command and print it the way a terminal would."""
        self.console.print(f"[bold cyan]$ remedybot {' '.join(args)}[/]")
        proc = subprocess.run([sys.executable, "-m", "remedybot", *args], env=self.env, cwd=self.workdir,
                              capture_output=True, text=True)
        text = (proc.stdout + proc.stderr).rstrip()
        if show and text:
            self.console.print(text, markup=False, highlight=False)
        self.console.print(f"[dim](exit code {proc.returncode})[/]\n")
        return proc.returncode


def step_of(plan_file: Path, playbook: str) -> int:
    """The number of the plan's first step of `playbook` that changes something (0 when there is none)."""
    import json

    steps = json.loads(plan_file.read_text()).get("steps", []) if plan_file.exists() else []
    return next((s["number"] for s in steps if s["playbook"] == playbook and s.get("diff")), 0)


def run_demo() -> int:
    """Run the demonstration; returns the exit code."""
    from rich.console import Console
    from rich.table import Table

    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    from remedybot.sandbox.server import Sandbox

    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 120)
    workdir = Path(tempfile.mkdtemp(prefix="remedybot-demo-"))
    failures = 0
    with Sandbox() as sandbox:
        env = {**os.environ, **sandbox.env(), "HF_HOME": str(workdir / "hf-home"),
               "REMEDYBOT_HOME": str(workdir / "state"),
               # The sandbox's clock runs 1000x faster than real time: 30 simulated minutes of
               # "Starting" take under two seconds, so verification can wait briefly.
               "REMEDYBOT_VERIFY_TIMEOUT": "6", "REMEDYBOT_VERIFY_POLL": "0.05",
               "REMEDYBOT_WATCH_TIMEOUT": "1", "REMEDYBOT_WATCH_POLL": "0.1"}
        os.environ.update(sandbox.env())
        demo = Demo(console, env, workdir)
        console.print(f"[bold]Sandbox Hub[/] at {sandbox.endpoint} (user 'demo'; status page {sandbox.status_url})\n")

        demo.section("1. The demo Spaces, each stuck in its own way")
        from remedybot.hub import Hub, aggregate_state

        hub = Hub()
        table = Table(show_lines=False)
        for column in ("Space", "Stage", "Hardware", "Error message"):
            table.add_column(column, overflow="fold", max_width=70 if column == "Error message" else None)
        for info in hub.list_spaces("demo"):
            runtime = hub.runtime(info.id)
            error = (runtime.get("errorMessage") or "").strip().splitlines()
            table.add_row(info.id, runtime.get("stage", "?"), (runtime.get("hardware") or {}).get("requested") or "-",
                          error[-1] if error else "")
        console.print(table)
        console.print(f"Status page: [bold]{aggregate_state(hub.status_page())}[/]\n")

        demo.section("2. Diagnose: the branch, and the lines that prove it")
        for space in DIAGNOSE:
            demo.run("diagnose", space)

        demo.section("3. Plan → approve → apply, on two Spaces")
        for space, plan_name in (("demo/wedged-space", "wedged.json"), ("demo/resource-limit", "memory.json")):
            demo.run("fix", space, "--dry-run", "--out", plan_name)
            demo.run("approve", plan_name, "--by", "demo-user")
            failures += demo.run("apply", plan_name) != 0
            failures += demo.run("diagnose", space) != 0

        demo.section("4. A fix in the Space's own files: the exact diff first, then one commit")
        failures += demo.run("fix", "demo/apt-package", "--yes") != 0

        demo.section("5. Over its storage limit: backup, move the large files, slim the history (approved plan)")
        demo.run("fix", "demo/repo-too-large", "--dry-run", "--out", "storage.json")
        demo.run("approve", "storage.json", "--by", "demo-user")
        failures += demo.run("apply", "storage.json") != 0

        demo.section("6. The whole fleet at once: scan every Space of 'demo'")
        failures += demo.run("scan", "demo") not in (0, 7)  # 7: some Spaces still fail, as they should

        demo.section("7. A Space remedybot must not touch: the policy block")
        demo.run("fix", "demo/policy-block", "--yes")

        demo.section("8. It could not be fixed, so: the support ticket for Hugging Face, ready to send")
        failures += demo.run("report", "demo/policy-block", "--format", "email") != 0

        demo.section("9. It worked yesterday: what changed, what drifted upstream, and the way back")
        for space, plan_name, playbook in (("demo/upstream-drift", "drift.json", "time_travel_pin"),
                                           ("demo/bad-push", "rollback.json", "rollback")):
            failures += demo.run("diagnose", space) != 7
            demo.run("fix", space, "--dry-run", "--out", plan_name)
            number = step_of(workdir / plan_name, playbook)
            demo.run("approve", plan_name, "--by", "demo-user", "--steps", str(number))
            failures += demo.run("apply", plan_name) != 0
    console.print("Sandbox stopped cleanly." if not failures else f"[red]{failures} demo step(s) failed[/]")
    return 1 if failures else 0
