"""`remedybot skill`: the agent skill is generated from the CLI, and the committed copy matches it."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from clirun import run

from remedybot.cli.app import app
from remedybot.cli.assistant import build_skill_md
from remedybot.core.errors import ExitCode

COMMITTED = Path(__file__).resolve().parents[2] / "skills" / "remedybot" / "SKILL.md"


def test_committed_skill_matches_the_cli() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == build_skill_md(), (
        "skills/remedybot/SKILL.md is out of date: run '.venv/bin/remedybot skill > skills/remedybot/SKILL.md'")


def test_skill_names_every_command_option_and_exit_code() -> None:
    text = build_skill_md()
    _, front, body = text.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["name"] == "remedybot" and meta["description"].startswith("Diagnose and fix stuck")
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subs = getattr(command, "commands", {"": command})
        for sub_name, sub in subs.items():
            assert f"### `remedybot {' '.join(filter(None, [name, sub_name]))}" in body
            for param in sub.params:
                if param.param_type_name == "option" and not param.hidden:
                    assert f"`{param.opts[0]}" in body
    for code in ExitCode:
        assert f"| {int(code)} | {code.name} |" in body


def test_skill_prints_and_installs(tmp_path: Path) -> None:
    printed = run("skill")
    assert printed.code == 0 and printed.out == build_skill_md()
    installed = run("skill", "--install", str(tmp_path / "skills"))
    assert installed.code == 0
    assert (tmp_path / "skills" / "remedybot" / "SKILL.md").read_text(encoding="utf-8") == build_skill_md()


def test_skill_install_into_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = run("skill", "--install", str(tmp_path / "file"))
    assert result.code == 2
    assert result.err_lines[-1].startswith("Error: ") or "Invalid value for '--install'" in result.err
