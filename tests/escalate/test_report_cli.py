"""`remedybot report`: options, output, user templates and its one-line errors, on the sandbox Hub."""

from __future__ import annotations

import json
from pathlib import Path

from clirun import run

from remedybot.sandbox.server import Sandbox


def test_prints_the_ticket_on_stdout(sandbox: Sandbox) -> None:
    result = run("report", "demo/policy-block", "--format", "email")
    assert result.code == 0, result.err
    assert result.out.startswith("To: website@huggingface.co\nSubject: ")
    assert f"{sandbox.endpoint}/spaces/demo/policy-block" in result.out


def test_out_writes_the_file_and_prints_its_path(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "tickets" / "ticket.md"
    out.parent.mkdir()
    result = run("report", "demo/unknown", "--format", "github", "--out", str(out))
    assert result.code == 0, result.err
    assert result.out == ""
    assert f"✓ Ticket written to {out}" in result.err_lines[0]
    assert "github.com/huggingface" in result.err
    assert out.read_text().startswith("<!-- Title: Space demo/unknown")


def test_report_changes_nothing_on_the_hub(sandbox: Sandbox) -> None:
    before = sandbox.state.snapshot()
    assert run("report", "demo/wedged-space", "--format", "json").code == 0
    after = sandbox.state.snapshot()
    for key in before:  # the simulated build clock moves on its own; nothing else may
        before[key].pop("build_started", None), after[key].pop("build_started", None)
        assert before[key] == after[key], key


def test_unknown_format_is_a_usage_error(sandbox: Sandbox) -> None:
    result = run("report", "demo/unknown", "--format", "pdf")
    assert result.code == 2
    assert result.err_lines == ["Error: Unknown --format 'pdf'. Use one of: email, forum, github, markdown, json."]


def test_malformed_space_id_and_missing_space(sandbox: Sandbox) -> None:
    bad = run("report", "not-a-space-id")
    assert bad.code == 2 and len(bad.err_lines) == 1 and bad.err_lines[0].startswith("Error: ")
    missing = run("report", "demo/no-such-space")
    assert missing.code == 1 and "not found" in missing.err_lines[0]


def test_user_templates_override_by_file_name(sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "ticket_markdown.md.j2").write_text("Our format for {{ space.id }}: {{ request.ask }}\n")
    (tmp_path / "escalation.yaml").write_text(
        "channels: {email: support@example.org}\n"
        "requests:\n"
        "  unknown: {subject: 'Help {{ space.id }}', ask: 'Please call us about {{ space.stage }}.'}\n")
    mine = run("report", "demo/unknown", "--templates", str(tmp_path))
    assert mine.code == 0, mine.err
    assert mine.out == "Our format for demo/unknown: Please call us about RUNTIME_ERROR.\n"
    email = run("report", "demo/unknown", "--templates", str(tmp_path), "--format", "email")
    assert email.out.startswith("To: support@example.org\nSubject: Help demo/unknown\n")  # built-in layout


def test_missing_variable_names_the_template_and_the_variable(sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "ticket_forum.md.j2").write_text("Hello\n{{ space.id }} on {{ space.flavour }}\n")
    result = run("report", "demo/unknown", "--format", "forum", "--templates", str(tmp_path))
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith("Error: Template ticket_forum.md.j2 line 2 uses an undefined variable: ")
    assert "flavour" in result.err_lines[0]


def test_missing_variable_in_a_request_names_escalation_yaml(sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "escalation.yaml").write_text(
        "requests:\n  unknown: {subject: 'x', ask: 'Fix {{ space.colour }}'}\n")
    result = run("report", "demo/unknown", "--templates", str(tmp_path))
    assert result.code == 2 and len(result.err_lines) == 1
    assert "escalation.yaml (unknown.ask) uses an undefined variable" in result.err_lines[0]
    assert "colour" in result.err_lines[0]


def test_template_syntax_error_and_missing_directory(sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "ticket_github.md.j2").write_text("{% if space.id %}\nunclosed\n")
    broken = run("report", "demo/unknown", "--format", "github", "--templates", str(tmp_path))
    assert broken.code == 2 and "ticket_github.md.j2" in broken.err_lines[0] and "not valid Jinja" in broken.err
    nowhere = run("report", "demo/unknown", "--templates", str(tmp_path / "nope"))
    assert nowhere.code == 2 and "does not exist" in nowhere.err_lines[0]


def test_json_is_the_context(sandbox: Sandbox) -> None:
    result = run("report", "demo/platform-incident", "--format", "json")
    data = json.loads(result.out)
    assert set(data) >= {"subject", "generated_at", "space", "sdk", "status_page", "diagnosis", "logs", "plans",
                         "request_ids", "plan_fingerprint", "request"}
