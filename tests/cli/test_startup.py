"""Start-up work the CLI must not do: `remedybot --help` is measured in bench/bench_cli_startup.py; these
tests pin the causes, so a regression fails here and not only in a benchmark nobody runs."""

from __future__ import annotations

import subprocess
import sys

import typer.main


def test_building_the_commands_compiles_no_annotation() -> None:
    """String annotations (`from __future__ import annotations` in a command module) make Typer compile each
    one at every start-up; a command module must keep real annotations."""
    from remedybot.cli.app import app

    compiled: list[str] = []
    counting = [True]

    def hook(event: str, args: tuple[object, ...]) -> None:
        if event == "compile" and counting[0]:
            compiled.append(str(args[1]))

    sys.addaudithook(hook)
    try:
        typer.main.get_command(app)
    finally:
        counting[0] = False
    assert compiled == []


def test_help_imports_no_engine_module() -> None:
    """`remedybot --help` loads the command line only: no huggingface_hub, GitPython, Jinja, YAML or engine."""
    code = ("import sys; from remedybot.cli.app import main\n"
            "try: main(['--help'])\nexcept SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'huggingface_hub', 'git', 'jinja2', 'yaml', 'pydantic', 'json', 'logging'} or "
            "m.startswith(('remedybot.remedy', 'remedybot.diagnose', 'remedybot.hub', 'remedybot.sandbox'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
