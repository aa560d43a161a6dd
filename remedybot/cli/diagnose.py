"""`remedybot diagnose`: collect evidence, classify, print the diagnosis.

Engine modules are imported inside each command, never at module level: `remedybot --help` must not
load them (bench/bench_cli_startup.py keeps it under 0.2x of `hf --help`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from remedybot.cli.common import BUDGET_OPT, JSON_OPT, apply_budget
from remedybot.cli.root import app
from remedybot.core import output
from remedybot.core.errors import ExitCode, UsageError
from remedybot.model.space_id import parse_space_id

if TYPE_CHECKING:
    from remedybot.model.diagnosis import Diagnosis


def exit_code_for(diagnosis: Diagnosis) -> ExitCode:
    if diagnosis.branch == "healthy":
        return ExitCode.OK
    if diagnosis.branch == "unknown":
        return ExitCode.NO_MATCH
    return ExitCode.UNHEALTHY


@app.command("diagnose")
def diagnose_run(
    space: str = typer.Argument(None, metavar="OWNER/SPACE", help="The Space to diagnose."),
    json_out: bool = JSON_OPT,
    save_evidence: Path = typer.Option(None, "--save-evidence", help="Write the collected evidence here (JSON)."),
    evidence: Path = typer.Option(None, "--evidence", help="Diagnose offline from a saved evidence file."),
    budget: str = BUDGET_OPT,
) -> None:
    """Collect a Space's evidence, classify the failure and show the lines that prove it.

    Exits 0 when the Space is healthy, 7 when it fails with a known cause, 5 when no known cause matched.
    """
    from remedybot.diagnose.classify import classify
    from remedybot.model.diagnosis import render_text
    from remedybot.model.evidence import Evidence

    apply_budget(budget)
    if evidence is not None:
        if space is not None:
            raise UsageError("Give either OWNER/SPACE or --evidence FILE, not both.")
        ev = Evidence.load(evidence)
    elif space is None:
        raise UsageError("Missing OWNER/SPACE (or --evidence FILE). Example: remedybot diagnose alice/my-demo")
    else:
        from remedybot.diagnose.collect import collect_evidence
        from remedybot.hub import Hub
        from remedybot.remedy.lastseen import record_running, seen_records

        space_id = parse_space_id(space)
        ev = collect_evidence(Hub(), space_id, seen=seen_records(space_id))
        if ev.stage == "RUNNING" and (ev.info or {}).get("sha"):
            record_running([(space_id, str((ev.info or {})["sha"]))], "remedybot diagnose")
    if save_evidence is not None:
        ev.save(save_evidence)
        output.info(f"evidence saved to {save_evidence}")
    diagnosis = classify(ev)
    if json_out:
        output.result_json(diagnosis.to_dict())
    else:
        output.result(render_text(diagnosis, color=sys.stdout.isatty()))
        for source, reason in (ev.missing or {}).items():
            output.warning(f"{source} could not be read: {reason}")
    raise typer.Exit(int(exit_code_for(diagnosis)))
