"""Evidence: the offline evidence file round-trips, tolerates missing keys, refuses malformed files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from remedybot.core.errors import ExitCode, UsageError
from remedybot.diagnose.classify import classify
from remedybot.model.evidence import Evidence, front_matter

FULL = {
    "space_id": "alice/demo",
    "info": {"sdk": "docker", "sha": "abc123", "disabled": False, "usedStorage": 1234},
    "runtime": {"stage": "BUILD_ERROR", "hardware": {"current": None, "requested": "cpu-basic"},
                "errorMessage": "Job failed with exit code: 100"},
    "build_log": ["===== Build Queued at 2026-01-01 00:00:00 / Commit SHA: abc1234 =====", "E: Package 'x' has no "
                  "installation candidate"],
    "run_log": [],
    "status_page": {"data": {"attributes": {"aggregate_state": "operational"}}, "included": []},
    "push_error": "remote: error",
    "restart_error": "503",
    "files": {"README.md": "---\nsdk: docker\napp_port: 8000\n---\n", "Dockerfile": "FROM python:3.11\n"},
    "fleet": {"spaces_checked": 3, "spaces_failing_same_way": 1},
    "commits": [{"id": "abc123", "title": "Update", "date": "2026-01-01T00:00:00+00:00"}],
    "storage": {"used_storage": 1234, "limit": 1_000_000_000},
    "collected_at": "2026-01-01T00:00:05+00:00",
    "missing": {"run_log": "not readable with this token"},
}


def test_round_trip_through_a_file(tmp_path: Path) -> None:
    evidence = Evidence.from_dict(FULL)
    path = tmp_path / "evidence.json"
    evidence.save(path)
    loaded = Evidence.load(path)
    assert loaded == evidence
    assert loaded.to_dict() == FULL
    assert classify(loaded).to_dict() == classify(evidence).to_dict()


def test_only_space_id_is_required_and_unknown_keys_are_ignored() -> None:
    evidence = Evidence.from_dict({"space_id": " alice/demo ", "from_the_future": {"x": 1}})
    assert evidence.space_id == "alice/demo"
    assert evidence.runtime is None and evidence.build_log is None and evidence.missing == {}
    assert evidence.to_dict() == {"space_id": "alice/demo"}
    assert evidence.stage is None and evidence.error_message is None


def test_a_log_given_as_one_string_is_split_into_lines() -> None:
    evidence = Evidence.from_dict({"space_id": "a/b", "run_log": "line one\nline two\n"})
    assert evidence.run_log == ["line one", "line two"]


def test_views_read_the_raw_runtime() -> None:
    evidence = Evidence.from_dict(FULL)
    assert evidence.stage == "BUILD_ERROR"
    assert evidence.error_message == "Job failed with exit code: 100"
    assert evidence.requested_hardware == "cpu-basic"
    assert evidence.sdk == "docker"


@pytest.mark.parametrize(("content", "phrase"), [
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"runtime": {}}', "'space_id' is missing"),
    ('{"space_id": ""}', "'space_id' is missing"),
    ('{"space_id": "a/b", "runtime": "RUNNING"}', "'runtime' must be a JSON object"),
    ('{"space_id": "a/b", "build_log": 3}', "'build_log' must be a list of lines or a string"),
])
def test_malformed_files_are_refused_clearly(tmp_path: Path, content: str, phrase: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError) as err:
        Evidence.load(path)
    assert phrase in err.value.message
    assert str(path) in err.value.message
    assert err.value.exit_code == ExitCode.USAGE


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"Evidence file .*nope.json. not found"):
        Evidence.load(tmp_path / "nope.json")


def test_front_matter_parses_and_reports_errors() -> None:
    ok = front_matter(Evidence.from_dict({"space_id": "a/b", "files": {"README.md": "---\nsdk: gradio\n---\nhi"}}))
    assert ok == {"found": True, "meta": {"sdk": "gradio"}, "error": None, "error_line": None}
    broken = front_matter(Evidence.from_dict({"space_id": "a/b", "files": {
        "README.md": "---\ntitle: A: B\nsdk: gradio\n---\n"}}))
    assert broken["found"] and broken["meta"] == {} and broken["error_line"] == 2
    assert "mapping values are not allowed" in broken["error"]
    unclosed = front_matter(Evidence.from_dict({"space_id": "a/b", "files": {"README.md": "---\nsdk: gradio\n"}}))
    assert "not closed" in unclosed["error"]
    card = front_matter(Evidence.from_dict({"space_id": "a/b", "info": {"cardData": {"sdk": "docker"}}}))
    assert card == {"found": False, "meta": {"sdk": "docker"}, "error": None, "error_line": None}


def test_saved_file_is_plain_json(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    Evidence.from_dict({"space_id": "a/b", "push_error": "é"}).save(path)
    assert json.loads(path.read_text(encoding="utf-8")) == {"space_id": "a/b", "push_error": "é"}
