"""Bad input is a usage error: one line, exit 2, nothing left behind (issue 13.14, CONTRIBUTING "Messages").

Every file, path, number and environment variable a user can hand to remedybot, with a value
that is wrong in one of the ways people get them wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from clirun import CliResult, run

from remedybot.remedy.keys import plan_key
from remedybot.sandbox.server import Sandbox

EXIT_USAGE = 2


def error_line(result: CliResult) -> str:
    assert result.code == EXIT_USAGE, result.err
    errors = [line for line in result.err_lines if line.startswith("Error: ")]
    assert len(errors) == 1, result.err
    assert "please report it" not in result.err and "Traceback" not in result.err
    return errors[0]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.startswith("."))


@pytest.fixture
def plan_file(sandbox: Sandbox, tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    assert run("fix", "demo/dependency", "--dry-run", "--out", str(path)).code == 0
    return path


# -- files handed to remedybot -----------------------------------------------------------------------
BAD_FILES = {
    "binary": (b"\x00\xff\xfe\x00garbage", "is binary, not text."),
    "latin-1": ('{"space_id": "caf\xe9"}'.encode("latin-1"), "is not UTF-8 text (byte 17)."),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
@pytest.mark.parametrize("command", [("apply",), ("approve", "--steps", "1"), ("diagnose", "--evidence")])
def test_a_binary_or_non_utf8_file_is_a_usage_error(sandbox: Sandbox, tmp_path: Path, kind: str,
                                                     command: tuple[str, ...]) -> None:
    data, phrase = BAD_FILES[kind]
    path = tmp_path / "input.json"
    path.write_bytes(data)
    args = (*command, str(path)) if command[0] == "diagnose" else (command[0], str(path), *command[1:])
    line = error_line(run(*args))
    assert line.endswith(f"'{path}' {phrase}")
    assert path.read_bytes() == data  # the file is left as it was


def test_a_directory_given_as_a_plan_is_a_usage_error(sandbox: Sandbox, tmp_path: Path) -> None:
    assert error_line(run("apply", str(tmp_path))) == f"Error: Plan file '{tmp_path}' is a directory, not a file."


def test_a_plan_over_the_size_cap_is_refused_before_it_is_read(sandbox: Sandbox, tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with open(big, "w") as out:
        out.write('{"space_id": "' + "a" * (9 * 1024 * 1024) + '"}')
    assert error_line(run("apply", str(big))) == \
        f"Error: Plan file '{big}' is 9.0 MiB, more than a plan file can be (8.0 MiB)."


@pytest.mark.parametrize(("value", "phrase"), [
    ("2030-01-01T00:00:00", "must say its time zone"),
    ("tomorrow", "must be an ISO-8601 timestamp"),
    ("", "must be an ISO-8601 timestamp"),
])
def test_a_resealed_plan_with_a_naive_or_malformed_expiry_is_a_usage_error(plan_file: Path, value: str,
                                                                           phrase: str) -> None:
    data = json.loads(plan_file.read_text())
    data["expires_at"] = value
    # Sealed with this installation's key, as Plan.canonical would (the model itself refuses the value).
    canonical = {k: v for k, v in data.items() if k not in ("approvals", "fingerprint")}
    body = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    data["fingerprint"] = hmac.new(plan_key(), body, hashlib.sha256).hexdigest()
    plan_file.write_text(json.dumps(data))
    for command in (("apply", str(plan_file)), ("approve", str(plan_file), "--steps", "1")):
        line = error_line(run(*command))
        assert line.startswith(f"Error: Plan file '{plan_file}' is malformed (expires_at: ") and phrase in line


# -- paths remedybot writes to -------------------------------------------------------------------------
@pytest.mark.parametrize("command", [("fix", "demo/dependency", "--dry-run", "--out"),
                                     ("diagnose", "demo/dependency", "--save-evidence")])
def test_writing_to_a_directory_or_an_unwritable_path_is_a_usage_error(sandbox: Sandbox, tmp_path: Path,
                                                                      command: tuple[str, ...]) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    line = error_line(run(*command, str(folder)))
    assert line.endswith(f"to '{folder}': it is a directory. Give a file name.")
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    line = error_line(run(*command, str(blocked / "plan.json")))
    assert line.startswith("Error: Cannot write the ") and f"'{blocked / 'plan.json'}'" in line
    assert leftovers(tmp_path) == [] and blocked.read_text() == "x"


# -- numbers ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "option"), [
    (("fix", "demo/repo-too-large", "--dry-run", "--keep-recent", "nan"), "--keep-recent"),
    (("fix", "demo/repo-too-large", "--dry-run", "--keep-recent", "-5"), "--keep-recent"),
    (("fix", "demo/repo-too-large", "--dry-run", "--keep-recent", "inf"), "--keep-recent"),
    (("fix", "demo/capacity", "--dry-run", "--max-cost-per-hour", "-1"), "--max-cost-per-hour"),
    (("fix", "demo/capacity", "--dry-run", "--max-cost-per-hour", "nan"), "--max-cost-per-hour"),
    (("watch", "demo", "--once", "--interval", "nan"), "--interval"),
    (("watch", "demo", "--once", "--interval", "0"), "--interval"),
    (("watch", "demo", "--once", "--interval", "-inf"), "--interval"),
    (("sandbox", "serve", "--clock-speed", "nan"), "--clock-speed"),
    (("sandbox", "serve", "--clock-speed", "0"), "--clock-speed"),
])
def test_a_number_out_of_range_is_a_usage_error(sandbox: Sandbox, args: tuple[str, ...], option: str) -> None:
    assert error_line(run(*args)).startswith(f"Error: Invalid value for '{option}': ")


# -- environment ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "value", "args"), [
    ("REMEDYBOT_WATCH_TIMEOUT", "abc", ("fix", "demo/platform-incident", "--dry-run")),
    ("REMEDYBOT_WATCH_POLL", "-1", ("fix", "demo/platform-incident", "--dry-run")),
    ("REMEDYBOT_VERIFY_TIMEOUT", "abc", ("fix", "demo/wedged-space", "--yes")),
    ("REMEDYBOT_HTTP_TIMEOUT", "nan", ("diagnose", "demo/healthy")),
    ("REMEDYBOT_RETRY_MAX_ATTEMPTS", "2.5", ("diagnose", "demo/healthy")),
    ("REMEDYBOT_RETRY_BASE", "inf", ("diagnose", "demo/healthy")),
])
def test_a_bad_number_in_the_environment_is_a_usage_error_and_nothing_runs(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, name: str, value: str, args: tuple[str, ...]) -> None:
    before = sandbox.state.snapshot()
    monkeypatch.setenv(name, value)
    assert error_line(run(*args)).startswith(f"Error: {name} must be a positive ")
    assert sandbox.state.snapshot() == before


@pytest.mark.parametrize("value", ["ftp://index.example", "pypi.org", "https://", "http://a b"])
def test_a_bad_package_index_url_is_a_usage_error_and_nothing_runs(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    before = sandbox.state.snapshot()
    monkeypatch.setenv("REMEDYBOT_PYPI_URL", value)
    line = error_line(run("diagnose", "demo/upstream-drift"))
    assert line == f"Error: REMEDYBOT_PYPI_URL must be an http:// or https:// URL, not {value!r}. Fix or unset it."
    assert sandbox.state.snapshot() == before


def test_remedybot_home_that_is_a_file_is_a_usage_error(sandbox: Sandbox, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home-file"
    home.write_text("not a folder")
    monkeypatch.setenv("REMEDYBOT_HOME", str(home))
    line = error_line(run("fix", "demo/dependency", "--dry-run"))
    assert line == f"Error: REMEDYBOT_HOME '{home}' is a file, not a folder. Point it at a folder " \
                   "(it is created when missing)."
    assert home.read_text() == "not a folder"


def test_remedybot_home_that_cannot_be_created_is_a_usage_error(sandbox: Sandbox, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    monkeypatch.setenv("REMEDYBOT_HOME", str(blocker / "home"))
    line = error_line(run("fix", "demo/dependency", "--dry-run"))
    assert line.startswith("Error: Cannot use the plan key ") and "Check REMEDYBOT_HOME." in line


def test_fix_without_a_terminal_says_what_to_do_without_naming_a_plan_that_does_not_exist(sandbox: Sandbox) -> None:
    """Issue 13.15: `fix` has no PLAN file, so its refusal must not tell the user to approve one."""
    before = sandbox.state.snapshot()
    result = run("fix", "demo/dependency")  # stdin is not a terminal here
    assert result.code == 3
    line = next(line for line in result.err_lines if line.startswith("Error: Refusing to apply plan "))
    assert "there is no terminal to ask; re-run with --yes" in line and "PLAN" not in line
    assert line.endswith("Nothing was changed.")
    assert sandbox.state.snapshot() == before
