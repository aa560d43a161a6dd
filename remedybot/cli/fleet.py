"""`remedybot scan` and `watch`: a whole fleet of Spaces. Thin: parse, call fleet/scan.py / fleet/watch.py, print.

Engine modules are imported inside each command, never at module level: `remedybot --help` must not
load them (bench/bench_cli_startup.py keeps it under 0.2x of `hf --help`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from remedybot.cli.common import AUDIT_LOG_OPT, BUDGET_OPT, JSON_OPT, apply_budget, concurrency_range, positive
from remedybot.cli.root import app
from remedybot.core import output
from remedybot.core.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from remedybot.fleet.scan import FleetScan

_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._\-]{0,94}[A-Za-z0-9])?$")
CONCURRENCY_OPT = typer.Option(8, "--concurrency",
                               callback=concurrency_range, help="Spaces diagnosed at once (each runs its own few "
                                                        "requests in parallel).")
DEEP_OPT = typer.Option(False, "--deep", help="Collect full evidence (logs, files) for healthy-looking Spaces too "
                                              "(about 10 more requests each).")


def parse_owner(value: str) -> str:
    """A user or organisation name, checked like the Hub checks it."""
    owner = value.strip()
    if "/" in owner:
        raise UsageError(f"'{value}' looks like a Space id; scan and watch take an OWNER (user or organisation), "
                         f"e.g. '{owner.split('/')[0]}'. For one Space use 'remedybot diagnose {owner}'.")
    if not _OWNER.match(owner):
        raise UsageError(f"'{value}' is not a user or organisation name.")
    return owner


@app.command("scan")
def fleet_scan(
    owner: str = typer.Argument(..., metavar="OWNER"),
    json_out: bool = JSON_OPT,
    concurrency: int = CONCURRENCY_OPT,
    deep: bool = DEEP_OPT,
    budget: str = BUDGET_OPT,
) -> None:
    """Diagnose every Space of a user or organisation; a table sorted by severity.

    Spaces failing the same way at once are reported as one platform incident.
    Exits 0 when every Space is healthy, 7 when some fail, 1 when some could not be read.
    """
    from remedybot.fleet.scan import announce_waits, progress_bar, render_table, running_sightings, scan_fleet
    from remedybot.hub import Hub
    from remedybot.remedy.lastseen import record_running

    owner = parse_owner(owner)
    apply_budget(budget)
    hub = Hub()
    with progress_bar(not json_out) as (on_total, on_result), announce_waits(json_out):
        scan = scan_fleet(hub, owner, concurrency=concurrency, deep=deep, on_total=on_total, on_result=on_result)
    record_running(running_sightings(scan), "remedybot scan")
    if json_out:
        output.result_json([r.to_dict() for r in scan.results])
    elif not scan.results:
        output.warning(f"'{owner}' has no Spaces visible with this token.")
        output.hint("check the name, or run 'hf auth login' to see private Spaces")
    else:
        output.result(render_table(scan))
        if any(r.known.branch == "platform_incident" for r in scan.failing):
            output.hint(f"Spaces hit by a platform incident need no fix: wait, then scan again (or 'remedybot watch "
                        f"{owner}')")
        blocked = next((r for r in scan.failing if r.known.branch == "policy_block"), None)
        if blocked is not None:
            output.hint(f"a policy block is lifted only by Hugging Face: 'remedybot report {blocked.space_id}' "
                        "writes the ticket")
        fixable = next((r for r in scan.failing if r.known.branch not in ("platform_incident", "policy_block")),
                       None)
        if fixable is not None:
            output.hint(f"run 'remedybot fix {fixable.space_id} --dry-run' to see the plan for the most urgent one")
    raise typer.Exit(int(scan_exit_code(scan)))


def scan_exit_code(scan: FleetScan) -> ExitCode:
    """0 all healthy, 7 some failing (like `diagnose`), 1 when Spaces could not be read and none fail."""
    if scan.failing:
        return ExitCode.UNHEALTHY
    return ExitCode.FAILED if scan.errors else ExitCode.OK


@app.command("watch")
def fleet_watch(
    owner: str = typer.Argument(..., metavar="OWNER"),
    interval: float = typer.Option(300.0, "--interval",
                                   callback=positive, help="Seconds between the starts of two scans."),
    once: bool = typer.Option(False, "--once", help="Scan (and act) once, then exit with scan's exit code "
                                                    "(for cron and CI)."),
    auto: str = typer.Option(None, "--auto", help="none: only report. safe: apply the steps the policy allows "
                                                  "(default: the policy file's 'auto', else none)."),
    notify: str = typer.Option(None, "--notify", help="Webhook URL: a JSON POST for each new problem, action "
                                                      "and recovery (no token is ever sent)."),
    policy_file: Path = typer.Option(None, "--policy", help="Policy file (default: ./remedybot.toml if present, "
                                     "else built-in: auto none; restart and factory_rebuild only, never paid, "
                                     "never destructive).", dir_okay=False),
    concurrency: int = CONCURRENCY_OPT,
    deep: bool = DEEP_OPT,
    json_out: bool = typer.Option(False, "--json", help="One JSON object per scan on stdout (JSON lines)."),
    audit_log: Path = AUDIT_LOG_OPT,
    budget: str = BUDGET_OPT,
) -> None:
    """Keep watching a fleet: report what is new, apply what the policy allows, write tickets for the rest.

    Cooldowns, budgets and the last-seen state live under $REMEDYBOT_HOME, so restarting watch
    never repeats an action. Exits (with --once) 0 when every Space is healthy, 7 when some still fail.
    """
    from remedybot.fleet.policy import load_policy
    from remedybot.fleet.watch import Watcher, check_webhook

    owner = parse_owner(owner)
    if auto not in (None, "none", "safe"):
        raise UsageError(f"--auto must be 'none' or 'safe', not '{auto}'.")
    if notify:
        check_webhook(notify)
    policy = load_policy(policy_file)
    apply_budget(budget, policy.request_budget)
    mode = auto or policy.auto
    output.info(f"watching '{owner}' (auto: {mode}; policy: {policy.source})")
    watcher = Watcher(owner, policy=policy, auto=mode, notify_url=notify, concurrency=concurrency, deep=deep,
                      audit_path=audit_log, json_out=json_out)
    code = watcher.run(interval=interval, once=once)
    raise typer.Exit(int(code))
