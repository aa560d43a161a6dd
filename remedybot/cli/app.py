"""Wires the command groups into one Typer app and translates errors once.

Commands stay thin: they parse arguments, call the engine and print through
`remedybot.core.output`. Heavy modules (huggingface_hub, GitPython, the sandbox)
are imported inside the command functions so `remedybot --help` stays fast.
"""

from __future__ import annotations

import os
import sys

import typer

from remedybot import __version__
from remedybot.core.errors import EXIT_CODE_HELP, ExitCode, RemedyError

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


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Log developer detail to stderr."),
) -> None:
    """Get Hugging Face Spaces unstuck: diagnose, plan, approve, apply, escalate."""
    if verbose:
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")


def _register() -> None:
    # One import per command group; each module adds its commands to `app`.
    from remedybot.cli import (  # noqa: F401
        diagnose,
        fix,
        fleet,
        lint,
        report,
        sandbox,
    )


_register()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app and turn RemedyError into one line and an exit code."""
    try:
        code = app(args=argv, prog_name="remedybot", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except RemedyError as exc:
        from remedybot.core import output

        output.error(exc.message)
        if exc.hint:
            output.hint(exc.hint)
        if os.environ.get("REMEDYBOT_DEBUG") == "1":
            import traceback

            traceback.print_exc()
        sys.exit(int(exc.exit_code))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        from remedybot.core import output

        output.error("Aborted.")
        sys.exit(int(ExitCode.REFUSED))
    except KeyboardInterrupt:
        sys.exit(130)
    except typer.exceptions.TyperException as exc:  # Typer's (vendored click) usage errors
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        sys.exit(int(ExitCode.USAGE) if getattr(exc, "exit_code", 2) == 2 else int(exc.exit_code))
    except Exception as exc:  # the unexpected: one line, never locals (they may hold a token)
        from remedybot.core import output

        output.error(f"unexpected {type(exc).__name__}: {exc}")
        output.hint("run again with REMEDYBOT_DEBUG=1 for a traceback, and please report it")
        if os.environ.get("REMEDYBOT_DEBUG") == "1":
            raise
        sys.exit(int(ExitCode.FAILED))
