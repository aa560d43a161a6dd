"""The Typer app every command group adds its commands to, and the root options (--version, -v).

Kept apart from app.py (which imports every group) so that the groups depend on
this module and app.py on them, with no cycle.
"""

# No `from __future__ import annotations` in a module of commands: Typer reads every command's annotations
# at each start-up, and a string annotation costs it a compile() (most of its time building the commands;
# tests/cli/test_startup.py). Names imported only for type checking are quoted instead.
import os
import sys

import typer

from remedybot import __version__
from remedybot.core.env import check_environment
from remedybot.core.errors import EXIT_CODE_HELP

app = typer.Typer(
    name="remedybot",
    help="Get Hugging Face Spaces unstuck: diagnose, plan, approve, apply, escalate.",
    epilog=EXIT_CODE_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"remedybot {__version__}")
        raise typer.Exit()


def quiet_huggingface_hub() -> None:
    """Keep huggingface_hub's own warnings ("Retrying in 1s [Retry 1/5]") off our stderr.

    Our retry policy reports what matters in our own words; its lines would interleave with ours,
    unredacted. huggingface_hub reads HF_HUB_VERBOSITY when it is first imported (commands import it
    lazily, after this); `-v` leaves it alone.
    """
    os.environ.setdefault("HF_HUB_VERBOSITY", "error")
    if "huggingface_hub" in sys.modules:  # already imported (a test, an embedding program): it read the variable
        import logging

        logging.getLogger("huggingface_hub").setLevel(logging.ERROR)


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Log developer detail to stderr."),
) -> None:
    """Get Hugging Face Spaces unstuck: diagnose, plan, approve, apply, escalate."""
    if verbose:
        import logging  # loaded only for -v: `--help` does not pay for it

        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    else:
        quiet_huggingface_hub()
    check_environment()  # a bad REMEDYBOT_* number stops every command before it acts
