"""remedybot's records of seeing Spaces RUNNING (bounded, atomic), and the last known good they decide."""

from __future__ import annotations

from pathlib import Path

import pytest

from remedybot.diagnose.history import last_good
from remedybot.model import history as h
from remedybot.model.evidence import Evidence
from remedybot.model.history import SeenRecord, append_seen, load_seen


def test_records_append_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "seen.jsonl"
    append_seen(path, SeenRecord("a/b", "1" * 40, "2026-10-02T10:00:00+00:00", "remedybot watch"))
    with open(path, "a") as f:
        f.write('{"space_id": "a/b", "sha": "22')  # a writer killed mid-line
    append_seen(path, SeenRecord("c/d", "3" * 40, "2026-10-03T10:00:00+00:00", "remedybot scan"))
    assert [r.space_id for r in load_seen(path)] == ["a/b"]  # the torn line swallowed the newline-less record
    assert load_seen(tmp_path / "absent.jsonl") == []


def test_the_file_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(h, "SEEN_KEEP", 5)
    monkeypatch.setattr(h, "SEEN_MAX_LINES", 10)
    path = tmp_path / "seen.jsonl"
    for i in range(23):
        append_seen(path, SeenRecord("a/b", f"{i:040d}", f"2026-10-02T10:00:{i:02d}+00:00", "remedybot scan"))
    kept = load_seen(path)
    assert len(path.read_text().splitlines()) <= 10 and kept[-1].sha == f"{22:040d}"
    assert [int(r.sha) for r in kept] == sorted(int(r.sha) for r in kept)


def test_our_own_record_beats_the_commit_history() -> None:
    ev = Evidence.from_dict({"space_id": "a/b", "info": {"sha": "f" * 40}, "runtime": {"stage": "RUNTIME_ERROR"},
                             "commits": [{"id": "e" * 40, "date": "2026-10-01T00:00:00Z"},
                                         {"id": "d" * 40, "date": "2026-09-01T00:00:00Z"}]})
    seen = [SeenRecord("a/b", "3f2a1c0" + "0" * 33, "2026-10-02T08:00:00+00:00", "remedybot watch"),
            SeenRecord("x/y", "9" * 40, "2026-11-02T08:00:00+00:00", "remedybot scan")]
    good = last_good(ev, seen)
    assert good is not None and good.source == "remedybot" and good.confidence >= 0.8
    assert good.line() == "last seen RUNNING at 3f2a1c0 on 2026-10-02, by remedybot watch"
    fallback = last_good(ev)
    assert fallback is not None and fallback.source == "history" and fallback.sha == "d" * 40  # no build header


@pytest.mark.parametrize("history", [
    {"last_good": 5, "files_at_last_good": "x"},
    {"last_good": {"sha": "a" * 40, "date": "not a date"}, "files_at_last_good": {"requirements.txt": 3}},
    {"last_good": {"sha": "a" * 40, "date": "2026-10-01T00:00:00Z", "confidence": "high"},
     "files_at_last_good": ["requirements.txt"], "files_at_head": None},
])
@pytest.mark.parametrize("index", [None, {"releases": "x"}, {"releases": {"gradio": ["6.0.0"]}, "checked": 1},
                                   {"releases": {"gradio": {"6.0.0": 5, "x y": "2026-01-01"}}}])
def test_a_history_of_the_wrong_shape_in_an_evidence_file_is_read_as_missing(history: object, index: object) -> None:
    from remedybot.diagnose.classify import classify

    ev = Evidence.from_dict({"space_id": "a/b", "runtime": {"stage": "RUNTIME_ERROR"}, "history": history,
                             "index": index, "files": {"requirements.txt": "gradio\n"},
                             "collected_at": "2026-12-01T00:00:00Z",
                             "run_log": ["ImportError: cannot import name 'HfFolder' from 'huggingface_hub'"]})
    result = classify(ev).history
    assert result is not None and result.suspects == ["huggingface-hub"] and result.drift == []
