"""`remedybot diagnose` end to end: CLI -> Hub access -> sandbox Hub over HTTP -> classify -> output.

Every demo Space must come out as the branch it was built for, in text and in
JSON, with evidence lines whose source and line number really point at that
text in the collected evidence (checked against the saved evidence file, so a
line number that is off by one fails). A saved evidence file must replay to the
same diagnosis with no Hub at all. Bad input must end in one `Error:` line and
the documented exit code, never a traceback and never a token.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import CliResult, run

from remedybot.diagnose.catalog.scan import status_lines
from remedybot.diagnose.catalog.schema import BRANCH_IDS
from remedybot.sandbox.faults import FaultInjector, FaultSpec
from remedybot.sandbox.server import Sandbox

EXIT_HEALTHY, EXIT_FAILED, EXIT_USAGE, EXIT_NO_MATCH, EXIT_UNHEALTHY = 0, 1, 2, 5, 7
# Fake tokens in the Hub's token shape: sandbox users or deliberately wrong ones, never valid on huggingface.co.
READER_TOKEN = "hf_readonly0123456789abcdef0123456789"
WRONG_TOKEN = "hf_notavalidtoken0123456789abcdef0123"


def demo_space(branch: str) -> str:
    """Demo Spaces are named after their branch: demo/<branch-with-dashes> (and demo/healthy)."""
    return "demo/" + branch.replace("_", "-")


def expected_exit(branch: str) -> int:
    return {"healthy": EXIT_HEALTHY, "unknown": EXIT_NO_MATCH}.get(branch, EXIT_UNHEALTHY)


def source_lines(saved: dict[str, Any], source: str) -> list[str]:
    """The lines of one evidence source, numbered the way the classifier numbers them."""
    if source in ("build_log", "run_log"):
        return [part for entry in saved[source]
                for part in entry.replace("\r\n", "\n").replace("\r", "\n").removesuffix("\n").split("\n")]
    if source == "runtime.errorMessage":
        return saved["runtime"]["errorMessage"].splitlines()
    if source == "runtime.stage":
        return [saved["runtime"]["stage"]]
    if source == "runtime.abuse":
        return saved["runtime"]["abuse"]["reason"].splitlines()
    if source == "status_page":
        return status_lines(saved["status_page"])
    if source == "info.disabled":
        return ["disabled: true"]
    if source.startswith("files/"):
        return saved["files"][source.removeprefix("files/")].splitlines()
    raise AssertionError(f"evidence cites a source this test does not know: {source}")


def assert_cited_lines_exist(diagnosis: dict[str, Any], saved: dict[str, Any]) -> None:
    """Each evidence line's (source, line) must hold its text (clipped text and stage notes allowed)."""
    for item in diagnosis["evidence"]:
        assert set(item) >= {"source", "line", "text", "signature"}, item
        lines = source_lines(saved, item["source"])
        assert 1 <= item["line"] <= len(lines), item
        actual = lines[item["line"] - 1]
        cited = item["text"].strip("…")
        assert cited in actual or actual in cited, (item, actual)


def text_evidence(out: str) -> list[tuple[str, int]]:
    """(source, line) pairs from the text rendering's "Evidence:" block."""
    return [(m[1], int(m[2])) for m in re.finditer(r"^    (\S+):(\d+)  ", out, re.MULTILINE)]


def assert_one_line_error(result: CliResult, code: int, *needles: str) -> str:
    assert result.code == code, (result.code, result.out, result.err)
    assert result.out == ""
    assert len(result.err_lines) == 1, result.err_lines
    line = result.err_lines[0]
    assert line.startswith("Error: ")
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in line, line
    return line


@pytest.fixture(scope="module")
def hub(sandbox_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One sandbox Hub shared by the tests that only read from it (diagnose changes nothing).

    Starting a sandbox costs about a second; tests that change the Hub (disable a Space, add a
    private one, inject faults) use the per-test `sandbox` fixture instead.
    """
    root = tmp_path_factory.mktemp("diagnose-hub")
    shutil.copytree(sandbox_template, root / "hub")
    with Sandbox(state_dir=root / "hub") as sb, pytest.MonkeyPatch.context() as mp:
        for key, value in sb.env().items():
            mp.setenv(key, value)
        mp.setenv("HF_HOME", str(root / "hf-home"))
        mp.setenv("REMEDYBOT_HOME", str(root / "remedybot-home"))
        yield sb


def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was just free)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/index.json"


# -- every demo Space, end to end ---------------------------------------------------------


# A push refused for a secret is evidence a person pastes (push_error); no Space state shows it, so it has no
# demo Space: its real cases are in tests/data and tests/playbooks/test_harm.py plans them.
DEMO_BRANCHES = [b for b in BRANCH_IDS if b != "secret_detected"]


@pytest.mark.parametrize("branch", DEMO_BRANCHES)
def test_demo_space_is_diagnosed_as_its_branch(hub: Sandbox, tmp_path: Path, branch: str) -> None:
    space, saved_file = demo_space(branch), tmp_path / "evidence.json"

    as_json = run("diagnose", space, "--json", "--save-evidence", str(saved_file))
    assert as_json.code == expected_exit(branch), (as_json.out, as_json.err)
    diagnosis = json.loads(as_json.out)
    assert (diagnosis["space_id"], diagnosis["branch"]) == (space, branch)
    assert 0.0 <= diagnosis["confidence"] <= 1.0 and isinstance(diagnosis["alternatives"], list)
    assert diagnosis["missing"] == {}  # the sandbox answers every source
    saved = json.loads(saved_file.read_text(encoding="utf-8"))
    assert saved["space_id"] == space and saved["runtime"]["stage"]
    if branch == "healthy":
        assert diagnosis["evidence"] == [] and diagnosis["confidence_label"] != "low"
    else:
        assert diagnosis["evidence"], "a failing Space must show the lines that prove it"
        assert_cited_lines_exist(diagnosis, saved)
    replayed = run("diagnose", "--evidence", str(saved_file), "--json")
    assert (replayed.code, json.loads(replayed.out)) == (as_json.code, diagnosis)

    as_text = run("diagnose", space)
    assert as_text.code == expected_exit(branch), as_text.err
    assert as_text.out.startswith(f"{space}: ") and f"({branch})" in as_text.out.splitlines()[0]
    assert "Next: " in as_text.out
    assert text_evidence(as_text.out) == [(e["source"], e["line"]) for e in diagnosis["evidence"]]
    assert "Traceback" not in as_text.err and hub.token not in as_text.out + as_text.err


@pytest.mark.parametrize("space, culprit", [
    ("demo/dependency", {"module": "cv2"}),
    ("demo/apt-package", {"package": "libgl1-mesa-glx"}),
    ("demo/port-mismatch", {"app_port": 7860, "listen_port": 8000}),
    ("demo/resource-limit", {"memory": "16Gi"}),
])
def test_demo_culprit_is_named(hub: Sandbox, space: str, culprit: dict[str, Any]) -> None:
    diagnosis = json.loads(run("diagnose", space, "--json").out)
    assert diagnosis["culprit"].items() >= culprit.items(), diagnosis["culprit"]


def test_healthy_space_is_reported_healthy(hub: Sandbox) -> None:
    result = run("diagnose", "demo/healthy")
    assert result.code == EXIT_HEALTHY
    assert result.out.startswith("demo/healthy: ") and "(healthy)" in result.out
    assert "Evidence:" not in result.out and "Culprit:" not in result.out
    assert result.err_lines == []


def test_saved_evidence_replays_offline_to_the_same_diagnosis(hub: Sandbox, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    saved_file = tmp_path / "evidence.json"
    online = run("diagnose", "demo/apt-package", "--json", "--save-evidence", str(saved_file))
    assert online.code == EXIT_UNHEALTHY
    assert any(line.startswith("evidence saved to") or str(saved_file) in line for line in online.err_lines)

    requests_before = len(hub.app.request_log)
    monkeypatch.setenv("HF_ENDPOINT", dead_url().rsplit("/", 1)[0])  # offline means no Hub at all
    monkeypatch.setenv("REMEDYBOT_STATUS_URL", dead_url())
    offline = run("diagnose", "--evidence", str(saved_file), "--json")
    assert offline.code == EXIT_UNHEALTHY, offline.err
    assert json.loads(offline.out) == json.loads(online.out)
    offline_text = run("diagnose", "--evidence", str(saved_file))
    assert offline_text.code == EXIT_UNHEALTHY and "(apt_package)" in offline_text.out
    assert len(hub.app.request_log) == requests_before


def test_evidence_file_with_only_a_space_id_is_unknown(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence.json"
    evidence.write_text('{"space_id": "alice/demo"}', encoding="utf-8")
    result = run("diagnose", "--evidence", str(evidence), "--json")
    assert result.code == EXIT_NO_MATCH
    diagnosis = json.loads(result.out)
    assert diagnosis["branch"] == "unknown" and diagnosis["confidence_label"] == "low"


# -- a source that fails is recorded, and diagnosis goes on ---------------------------------


def test_dead_status_page_is_recorded_missing_and_branch_stays_right(
        hub: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_STATUS_URL", dead_url())
    result = run("diagnose", "demo/dependency", "--json")
    assert result.code == EXIT_UNHEALTHY, result.err
    diagnosis = json.loads(result.out)
    assert diagnosis["branch"] == "dependency"
    assert set(diagnosis["missing"]) == {"status_page"} and diagnosis["missing"]["status_page"]

    text = run("diagnose", "demo/dependency")
    assert text.code == EXIT_UNHEALTHY and "(dependency)" in text.out and "Not collected: status_page" in text.out
    assert [line for line in text.err_lines if line.startswith("Warning: status_page could not be read")]
    assert "Traceback" not in text.err


def test_log_endpoint_failing_with_503_is_recorded_missing(sandbox: Sandbox,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_RETRY_MAX_ATTEMPTS", "2")
    sandbox.app.faults = FaultInjector(FaultSpec.parse("rate=1.0;kinds=503;routes=/api/spaces/*/logs/*"))
    result = run("diagnose", "demo/dependency", "--json")
    diagnosis = json.loads(result.out)
    assert set(diagnosis["missing"]) == {"build_log", "run_log"}
    assert all("503" in reason or "unavailable" in reason.lower() for reason in diagnosis["missing"].values())
    # runtime.errorMessage still names the missing module.
    assert (result.code, diagnosis["branch"]) == (EXIT_UNHEALTHY, "dependency")


# -- bad input: one line, the documented exit code ------------------------------------------


@pytest.mark.parametrize("bad_id", ["not a space", "alice", "a/b/c", "_alice/demo", "alice/demo!", "alice/",
                                    "alice/de..mo", ""])
def test_malformed_space_id_is_a_usage_error(bad_id: str) -> None:
    assert_one_line_error(run("diagnose", bad_id), EXIT_USAGE, "is not a Space id", "OWNER/SPACE")


def test_unknown_space_is_not_found(hub: Sandbox) -> None:
    assert_one_line_error(run("diagnose", "demo/no-such-space"), EXIT_FAILED, "'demo/no-such-space' not found")


def test_private_space_without_a_token_is_not_found(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.state.create_repo("space", "demo/private-notes", private=True, sdk="gradio")
    assert run("diagnose", "demo/private-notes").code != EXIT_FAILED  # the owner's token sees it
    monkeypatch.delenv("HF_TOKEN")
    line = assert_one_line_error(run("diagnose", "demo/private-notes"), EXIT_FAILED, "not found")
    assert "hf auth login" in line  # the Hub cannot tell "private" from "missing"; the hint covers both


def test_public_space_without_a_token_is_diagnosed_without_its_logs(
        hub: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN")
    result = run("diagnose", "demo/dependency", "--json")
    diagnosis = json.loads(result.out)
    assert (result.code, diagnosis["branch"]) == (EXIT_UNHEALTHY, "dependency")  # runtime.errorMessage suffices
    assert set(diagnosis["missing"]) == {"build_log", "run_log"}


def test_wrong_token_is_one_line_and_never_printed(hub: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", WRONG_TOKEN)
    for space in ("demo/dependency", "demo/no-such-space"):
        result = run("diagnose", space)
        assert_one_line_error(result, EXIT_FAILED, "rejected the token", "HF_TOKEN")
        assert WRONG_TOKEN not in result.err and WRONG_TOKEN[3:12] not in result.err


def test_read_only_token_gets_403_on_logs_and_diagnosis_goes_on(
        hub: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.state.add_user("reader", READER_TOKEN, write=False)
    monkeypatch.setenv("HF_TOKEN", READER_TOKEN)

    result = run("diagnose", "demo/dependency", "--json")
    assert result.code == EXIT_UNHEALTHY, result.err
    diagnosis = json.loads(result.out)
    assert diagnosis["branch"] == "dependency" and diagnosis["culprit"]["module"] == "cv2"
    assert {e["source"] for e in diagnosis["evidence"]} == {"runtime.errorMessage"}
    assert set(diagnosis["missing"]) == {"build_log", "run_log"}
    for reason in diagnosis["missing"].values():
        assert "403" in reason and "write token" in reason

    text = run("diagnose", "demo/dependency")
    assert text.code == EXIT_UNHEALTHY and "Not collected: build_log" in text.out
    warnings = [line for line in text.err_lines if line.startswith("Warning: ")]
    assert [w.split(" could not")[0] for w in warnings] == ["Warning: build_log", "Warning: run_log"]
    assert "Traceback" not in text.err
    assert READER_TOKEN not in result.out + result.err + text.out + text.err


def test_disabled_space_403_everywhere_is_a_policy_block(sandbox: Sandbox) -> None:
    sandbox.state.find("space", "demo/dependency").disabled = True
    result = run("diagnose", "demo/dependency", "--json")
    diagnosis = json.loads(result.out)
    assert (result.code, diagnosis["branch"]) == (EXIT_UNHEALTHY, "policy_block")
    assert diagnosis["evidence"][0]["source"] == "info.disabled"
    assert "disabled" in diagnosis["missing"]["runtime"]


@pytest.mark.parametrize("content, needle", [
    ("{not json", "is not valid JSON"),
    ("", "is not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"runtime": {"stage": "BUILD_ERROR"}}', "'space_id' is missing"),
    ('{"space_id": ""}', "'space_id' is missing"),
    ('{"space_id": "alice/demo", "build_log": 5}', "'build_log' must be"),
    ('{"space_id": "alice/demo", "runtime": "RUNNING"}', "'runtime' must be"),
])
def test_malformed_evidence_file_is_a_usage_error(tmp_path: Path, content: str, needle: str) -> None:
    evidence = tmp_path / "evidence.json"
    evidence.write_text(content, encoding="utf-8")
    assert_one_line_error(run("diagnose", "--evidence", str(evidence)), EXIT_USAGE, needle, "evidence.json")


def test_missing_evidence_file_is_a_usage_error(tmp_path: Path) -> None:
    assert_one_line_error(run("diagnose", "--evidence", str(tmp_path / "nope.json")), EXIT_USAGE, "nope.json")


def test_space_and_evidence_together_is_a_usage_error(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence.json"
    evidence.write_text('{"space_id": "alice/demo"}', encoding="utf-8")
    assert_one_line_error(run("diagnose", "alice/demo", "--evidence", str(evidence)), EXIT_USAGE, "not both")


def test_neither_space_nor_evidence_is_a_usage_error() -> None:
    assert_one_line_error(run("diagnose"), EXIT_USAGE, "OWNER/SPACE")
