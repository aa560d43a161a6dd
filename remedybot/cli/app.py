"""The console entry point: the command groups wired into one Typer app, and errors translated once.

Commands stay thin: they parse arguments, call the engine and print through
`remedybot.core.output`. Heavy modules (huggingface_hub, GitPython, the sandbox)
are imported inside the command functions so `remedybot --help` stays fast.
"""

from __future__ import annotations

import os
import sys

import typer

from remedybot.cli import diagnose, fix, fleet, lint, report, sandbox, serve  # noqa: F401  (each adds its commands)

# isort: off
from remedybot.cli import assistant  # noqa: F401  (mcp, skill; after the pipeline's commands in --help)
# isort: on
from remedybot.cli.root import app
from remedybot.core import output
from remedybot.core.errors import ExitCode, RemedyError

__all__ = ["app", "hf_main", "main"]

def main(argv: list[str] | None = None, prog_name: str = "remedybot") -> None:
    """Console entry point: run the app and turn RemedyError into one line and an exit code."""
    try:
        code = app(args=argv, prog_name=prog_name, standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except RemedyError as exc:
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
        output.error("Aborted.")
        sys.exit(int(ExitCode.REFUSED))
    except KeyboardInterrupt:
        output.error("Interrupted. An apply stopped this way resumes where it left off: run the same command "
                     "again (the audit log records what finished).")
        sys.exit(130)
    except typer.exceptions.TyperException as exc:  # Typer's (vendored click) usage errors
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        sys.exit(int(ExitCode.USAGE) if getattr(exc, "exit_code", 2) == 2 else int(exc.exit_code))
    except Exception as exc:  # the unexpected: one line, never locals (they may hold a token)
        output.error(f"unexpected {type(exc).__name__}: {exc}")
        output.hint("run again with REMEDYBOT_DEBUG=1 for a traceback, and please report it")
        if os.environ.get("REMEDYBOT_DEBUG") == "1":
            raise
        sys.exit(int(ExitCode.FAILED))


def hf_main(argv: list[str] | None = None) -> None:
    """The `hf-remedy` console script: the same commands, run by `hf remedy ...` once installed as an hf extension."""
    main(argv, prog_name="hf remedy")
