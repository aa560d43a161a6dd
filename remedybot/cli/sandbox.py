"""`remedybot sandbox serve` and `remedybot demo`: the embedded sandbox Hub.

Engine modules are imported inside each command, never at module level: `remedybot --help` must not
load them (bench/bench_cli_startup.py keeps it under 0.2x of `hf --help`).
"""

# No `from __future__ import annotations` in a module of commands: Typer reads every command's annotations
# at each start-up, and a string annotation costs it a compile() (most of its time building the commands;
# tests/cli/test_startup.py). Names imported only for type checking are quoted instead.
from pathlib import Path

import typer

from remedybot.cli.common import positive
from remedybot.cli.root import app
from remedybot.core.errors import UsageError

sandbox_app = typer.Typer(help="Run the embedded sandbox Hub (a local stand-in for huggingface.co).",
                          no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")


def _parse_users(values: list[str] | None) -> dict[str, str | tuple[str, str]]:
    from remedybot.sandbox.ratelimit import check_tier

    users: dict[str, str | tuple[str, str]] = {}
    for value in values or []:
        name, sep, rest = value.partition(":")
        token, _, tier = rest.partition(":")
        if not sep or not name or not token:
            raise UsageError(f"--user expects NAME:TOKEN[:TIER], got '{name}{':' if sep else ''}...'.")
        try:
            users[name] = (token, check_tier(tier or "free"))
        except ValueError as exc:
            raise UsageError(f"--user {name}: {exc}.") from exc
    return users


@sandbox_app.command("serve")
def sandbox_serve(
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1 (0 picks a free one)."),
    state_dir: Path = typer.Option(None, "--state-dir", help="Keep repos and state here across restarts."),
    scenarios: Path = typer.Option(None, "--scenarios", help="Load scenario files from this directory."),
    faults: str = typer.Option(None, "--faults", help="Inject faults, e.g. 'rate=0.3;kinds=429,503,reset'."),
    seed: int = typer.Option(0, "--seed", help="Seed for fault injection."),
    user: list[str] = typer.Option(None, "--user", help="Add a user with a write token: NAME:TOKEN[:TIER] "
                                                        "(repeatable); TIER is the rate-limit plan: free "
                                                        "(default), pro, team, enterprise, enterprise-plus."),
    no_rate_limits: bool = typer.Option(False, "--no-rate-limits", help="Serve without the Hub's rate limits."),
    clock_speed: float = typer.Option(None, "--clock-speed",
                                   callback=positive, help="Simulated seconds per real second."),
) -> None:
    """Serve the sandbox Hub until stopped; the first stdout line is its JSON banner."""
    import signal
    import threading

    from remedybot.sandbox.server import Sandbox, banner_json

    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be a TCP port from 0 to 65535 (0 picks a free one), not {port}.")
    if scenarios is not None and not scenarios.is_dir():
        raise UsageError(f"--scenarios '{scenarios}' is not a directory.")
    try:
        sandbox = Sandbox(port=port, state_dir=state_dir, scenarios=scenarios, faults=faults, seed=seed,
                          users=_parse_users(user), clock_speed=clock_speed,
                          rate_limits=not no_rate_limits)
    except ValueError as exc:  # a bad --faults spec or scenario file
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}.") from exc
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    sandbox.start()
    typer.echo(banner_json(sandbox), nl=True)
    import sys

    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()


@app.command("demo")
def demo_run() -> None:
    """Run the end-to-end demonstration on a fresh sandbox Hub."""
    from remedybot.cli.demo import run_demo

    raise typer.Exit(run_demo())
