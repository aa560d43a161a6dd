"""`remedybot lint`: the diagnosis checks on a local checkout, before a push.

Engine modules are imported inside each command, never at module level: `remedybot --help` must not
load them (bench/bench_cli_startup.py keeps it under 0.2x of `hf --help`).
"""

# No `from __future__ import annotations` in a module of commands: Typer reads every command's annotations
# at each start-up, and a string annotation costs it a compile() (most of its time building the commands;
# tests/cli/test_startup.py). Names imported only for type checking are quoted instead.
from pathlib import Path

import typer

from remedybot.cli.common import JSON_OPT
from remedybot.cli.root import app


@app.command("lint", epilog="Exit codes: 0 clean · 1 findings · 2 usage (PATH is not a directory).")
def lint_run(
    path: Path = typer.Argument(Path("."), help="A local checkout of a Space."),
    json_out: bool = JSON_OPT,
) -> None:
    """Check a Space checkout for problems that would break its build or start (for pre-commit and CI).

    Prints one finding per line, 'file:line: message [branch]', the branch being the failure the
    Hub would show.
    """
    from remedybot.core import output
    from remedybot.core.errors import UsageError
    from remedybot.diagnose.lint import lint_path

    if not path.is_dir():
        raise UsageError(f"'{path}' is not a directory. Give the path of a Space checkout, e.g. 'remedybot lint .'.")
    findings = lint_path(path)
    if json_out:
        output.result_json({"path": str(path), "count": len(findings), "findings": [f.to_dict() for f in findings]})
    else:
        for finding in findings:
            output.result(finding.render())
        if findings:
            output.hint(f"{len(findings)} problem(s); once pushed, 'remedybot fix OWNER/SPACE --dry-run' plans fixes")
        else:
            output.info(f"✓ no problems found in {path}")
    raise typer.Exit(1 if findings else 0)
