"""The drift analysis on real "worked before, broke on rebuild" reports (tests/data/drift_cases.jsonl).

Each case is a public report (its `source_url`) with the failure text, the date reported, and the
package that moved under it (`drifted_package`, from the report or its fix). The analysis must name
that package from the failure alone, offline: the package index is not needed to say which package
drifted, only when and to what. The figure is printed in the pytest summary (conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from packaging.utils import canonicalize_name

from remedybot.diagnose.classify import classify
from remedybot.diagnose.drift import suspects
from remedybot.model.evidence import Evidence

CASES = [json.loads(line) for line in
         (Path(__file__).resolve().parents[1] / "data" / "drift_cases.jsonl").read_text().splitlines() if line.strip()]
PIP_CASES = [c for c in CASES if c["drifted_package"]]
FIGURE: dict[str, str] = {}


def test_every_case_cites_its_source_and_date() -> None:
    assert len(CASES) == 25
    for case in CASES:
        assert case["source_url"].startswith("https://") and case["reported"][:2] == "20", case["id"]


def test_the_drift_analysis_names_the_drifted_package_in_at_least_15_real_cases() -> None:
    first = among = 0
    for case in PIP_CASES:
        named = suspects(Evidence.from_dict(case["evidence"]))
        want = canonicalize_name(case["drifted_package"])
        first += bool(named) and named[0] == want
        among += want in named
    FIGURE["drift"] = (f"{first}/{len(PIP_CASES)} real drift cases name the drifted package first, "
                       f"{among}/{len(PIP_CASES)} among the suspects")
    assert first >= 15


def test_without_a_last_known_good_the_diagnosis_still_names_the_suspects() -> None:
    case = next(c for c in CASES if c["id"] == "drift-hfhub1-hffolder-gradio-example")
    history = classify(Evidence.from_dict(case["evidence"])).history
    assert history is not None and history.last_good is None and history.suspects == ["huggingface-hub"]
    assert history.cause == "unknown" and "huggingface-hub" in history.summary


def test_the_base_image_cases_say_which_apt_package_the_new_debian_dropped() -> None:
    base = [c for c in CASES if c["base_image_drift"]]
    assert len(base) == 3
    for case in base:
        history = classify(Evidence.from_dict(case["evidence"])).history
        assert history is not None and history.cause == "drift", case["id"]
        assert history.base_image == ("the base image moved: libgl1-mesa-glx is gone from Debian trixie; "
                                      "libgl1 replaces it")
