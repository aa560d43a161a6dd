"""Every real case in tests/data, through classify(): accuracy in accept, per branch, and the calibration table.

The third corpus (corpus3_*.jsonl, 122 cases weighted toward the blind spots of issue 15) was gathered and
labelled before any rule was written for it, and measured untouched first. That figure is on record in
tests/data/corpus3_untuned.json (written once by a script at commit 739b0dc, never edited):

    corpus3, untuned:   59/122 in accept (48 %)
        per branch:     dependency 4/30, config_error 13/21, port_mismatch 6/12, wedged_space 8/11,
                        repo_too_large 7/9, capacity 3/7, unknown 5/7, startup_crash 5/6,
                        platform_incident 3/5, secret_detected 0/5 (one went to repo_too_large: harm),
                        unhealthy_startup 3/4, apt_package 1/2, policy_block 1/2, healthy 0/1
        by confidence:  high 35/37, medium 11/24, low 13/61
    earlier corpora:    175/185 in accept (95 %)
    all real cases:     234/307 in accept (76 %); high 144/150, medium 47/62, low 43/95

The test prints the same figures for the catalog as it is now, and fails below 95 % in accept over all real
cases together, or when "high" is right less than 95 % of the time. Harm (a plan that changes files or
storage where it must not) is checked case by case in tests/playbooks/test_harm.py.
"""

from __future__ import annotations

import json

from realcases import DATA, LEVELS, Classified, calibration, classified, per_branch, share

BAR = 0.95
UNTUNED = json.loads((DATA / "corpus3_untuned.json").read_text(encoding="utf-8"))
ACCURACY: dict[str, str] = {}  # printed by tests/conftest.py's terminal summary


def _table(cases: list[Classified] | tuple[Classified, ...]) -> str:
    return ", ".join(f"{level} {share(*calibration(cases)[level])}" for level in LEVELS)


def test_corpus3_before_and_after_per_branch() -> None:
    corpus3 = [c for c in classified() if c.file.startswith("corpus3")]
    assert len(corpus3) == UNTUNED["corpus3"]["in_accept"][1], "corpus3 changed after its untuned measure"
    before = UNTUNED["corpus3"]["per_branch"]
    now = per_branch(corpus3)
    lines = [f"corpus3 in accept: untuned {share(*UNTUNED['corpus3']['in_accept'])}, "
             f"now {share(sum(c.right for c in corpus3), len(corpus3))}"]
    lines += [f"  {branch:<18} {share(*before[branch]):>12} -> {share(*now[branch])}" for branch in sorted(now)]
    lines.append(f"  by confidence now: {_table(corpus3)}")
    print("\n" + "\n".join(lines))
    assert set(now) == set(before)


def test_all_real_cases_in_accept_and_calibration() -> None:
    cases = classified()
    right = sum(c.right for c in cases)
    table = calibration(cases)
    misses = [f"  miss {c.name}: {c.diagnosis.branch} ({c.diagnosis.confidence_label}) not in {c.case['accept']}"
              for c in cases if not c.right]
    ACCURACY["corpus"] = (f"all {len(cases)} real cases {share(right, len(cases))} in accept "
                          f"(untuned {share(*UNTUNED['all_real']['in_accept'])}); calibration {_table(cases)}")
    print(f"\n{ACCURACY['corpus']}\n" + "\n".join(misses))
    assert right / len(cases) >= BAR, ACCURACY["corpus"]
    high_right, high_total = table["high"]
    assert high_total and high_right / high_total >= BAR, f"high is right {share(*table['high'])}"


def test_low_confidence_names_its_runner_ups_and_what_would_decide() -> None:
    """A Space the evidence cannot decide says so: low, with runner-ups (or unknown) and the deciding evidence."""
    for c in classified():
        d = c.diagnosis
        if d.confidence_label == "low" and d.branch != "unknown":
            assert d.alternatives or d.would_decide, c.name
        if d.confidence_label == "low":
            assert d.would_decide, c.name
