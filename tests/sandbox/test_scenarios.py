"""Scenario files: all load, are realistic Spaces, and the schema refuses what it does not know."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from remedybot.sandbox.scenario import (
    BRANCHES,
    ScenarioError,
    load_scenarios,
    parse_scenario,
    parse_size,
)
from remedybot.sandbox.spacefiles import SpaceFiles

# One scenario per branch, named after it; the others tell a story across branches ("it worked yesterday":
# demo/upstream-drift, demo/bad-push) and are checked below on their own.
SCENARIOS = {s.branch: s for s in load_scenarios() if s.space == "demo/" + s.branch.replace("_", "-")}
STORIES = {s.space: s for s in load_scenarios() if s.space != "demo/" + s.branch.replace("_", "-")}
PACKAGED = Path(__file__).resolve().parents[2] / "remedybot" / "sandbox" / "scenarios"

MINIMAL = """\
space: demo/minimal
branch: healthy
title: "Minimal"
sdk: gradio
hardware: cpu-basic
commits:
  - message: "initial commit"
    files: {README.md: "---\\nsdk: gradio\\n---\\n", app.py: "import gradio\\n"}
"""


def test_one_scenario_per_branch_under_demo() -> None:
    assert set(SCENARIOS) == set(BRANCHES)
    for branch, scenario in SCENARIOS.items():
        assert scenario.space == "demo/" + branch.replace("_", "-")
        assert len(scenario.commits) >= 2, f"{branch}: a Space has some history"
        assert scenario.commits[0].message == "initial commit"


def test_the_story_scenarios_are_dated_histories() -> None:
    assert set(STORIES) == {"demo/upstream-drift", "demo/bad-push"}
    for scenario in STORIES.values():
        assert scenario.branch in BRANCHES and len(scenario.commits) >= 2
        assert all(c.date for c in scenario.commits), f"{scenario.space}: when each commit was pushed matters"
        files = SpaceFiles(scenario.head_files())
        assert files.config_error() is None and files.meta["sdk"] == scenario.sdk


def test_a_commit_date_that_is_neither_a_time_nor_days_ago_is_refused() -> None:
    text = MINIMAL.replace('- message: "initial commit"', '- message: "initial commit"\n    date: "yesterday"')
    with pytest.raises(ScenarioError, match=r"commits\.0\.date"):
        parse_scenario(text, "x.yaml")


@pytest.mark.parametrize("branch", sorted(BRANCHES))
def test_readme_front_matter_is_real(branch: str) -> None:
    files = SpaceFiles(SCENARIOS[branch].head_files())
    if branch == "config_error":
        assert files.config_error() is not None
        return
    meta = files.meta
    assert files.config_error() is None
    assert {"title", "emoji", "colorFrom", "colorTo", "sdk", "pinned"} <= set(meta)
    assert meta["sdk"] == SCENARIOS[branch].sdk
    if meta["sdk"] == "gradio":
        assert "sdk_version" in meta and meta["app_file"] in SCENARIOS[branch].head_files()


def test_docker_spaces_run_as_user_1000() -> None:
    for scenario in SCENARIOS.values():
        if scenario.sdk == "docker":
            dockerfile = scenario.head_files()["Dockerfile"].decode()
            assert "useradd -m -u 1000 user" in dockerfile and "USER user" in dockerfile


def test_repo_too_large_really_holds_large_history() -> None:
    scenario = SCENARIOS["repo_too_large"]
    assert scenario.storage_limit == 12_000_000
    head = scenario.head_files()
    pointers = {p: v.decode() for p, v in head.items() if v.startswith(b"version https://git-lfs")}
    head_lfs = {p: int(v.rsplit("size ", 1)[1]) for p, v in pointers.items()}
    assert head_lfs and all(size >= 2_000_000 for size in head_lfs.values())
    deleted = {p for c in scenario.commits for p in c.lfs_files} - set(head_lfs)
    assert deleted, "some large files are gone from HEAD but still in history"
    assert sum(head_lfs.values()) < scenario.storage_limit < scenario.lfs_history_bytes()


def test_commit_specs_generate_deterministic_lfs_bytes() -> None:
    scenario = SCENARIOS["repo_too_large"]
    first, second = scenario.commit_specs(), scenario.commit_specs()
    assert first == second
    blob = first[1].lfs_files["models/ckpt-v1.pt"]
    assert len(blob) == 4_000_000
    assert all(isinstance(v, bytes) for spec in first for v in spec.files.values())
    pointer = scenario.head_files()["models/ckpt-v3.pt"].decode()
    v3 = first[-1].lfs_files["models/ckpt-v3.pt"]
    assert f"oid sha256:{hashlib.sha256(v3).hexdigest()}\nsize 4000000\n" in pointer
    assert first[2].delete == ["models/ckpt-v1.pt"]


def test_conditions_and_status_page_are_plain_dicts() -> None:
    assert SCENARIOS["wedged_space"].conditions == {"wedged": True}
    assert SCENARIOS["capacity"].conditions == {"no_capacity": ["t4-small", "t4-medium"]}
    assert SCENARIOS["platform_incident"].status_page == {}  # operational: the incident shows in the build
    assert SCENARIOS["healthy"].conditions == {} and SCENARIOS["healthy"].storage_limit is None


def test_load_from_a_directory(tmp_path: Path) -> None:
    (tmp_path / "minimal.yaml").write_text(MINIMAL)
    (tmp_path / "notes.txt").write_text("ignored")
    [scenario] = load_scenarios(tmp_path)
    assert scenario.space == "demo/minimal"
    assert scenario.commit_specs()[0].files["app.py"] == b"import gradio\n"


def test_packaged_directory_matches_default() -> None:
    assert [s.space for s in load_scenarios(PACKAGED)] == [s.space for s in load_scenarios()]


@pytest.mark.parametrize(("change", "message"), [
    ({"colour": "red"}, "minimal.yaml: unknown key 'colour' (in top level)"),
    ({"branch": "nope"}, "minimal.yaml: branch: Input should be"),
    ({"hardware": "h100x9"}, "unknown hardware flavor 'h100x9'"),
    ({"sdk": "flask"}, "minimal.yaml: sdk: Input should be"),
    ({"conditions": {"wedge": True}}, "unknown key 'wedge' (in conditions)"),
    ({"conditions": {"no_capacity": ["gpu-9000"]}}, "no_capacity: unknown hardware flavor 'gpu-9000'"),
    ({"conditions": {"platform": "dns"}}, "conditions.platform: Input should be 'registry_401'"),
    ({"status_page": {"Spacez": "degraded"}}, "unknown status page component 'Spacez'"),
    ({"status_page": {"Spaces": "on fire"}}, "unknown status page state 'on fire'"),
    ({"storage_limit": "lots"}, "not a size: 'lots'"),
    ({"space": "no-owner"}, "space: String should match pattern"),
    ({"commits": []}, "commits: List should have at least 1 item"),
])
def test_schema_rejects_with_file_and_key(change: dict, message: str) -> None:
    raw = yaml.safe_load(MINIMAL)
    raw.update(change)
    with pytest.raises(ScenarioError) as excinfo:
        parse_scenario(yaml.safe_dump(raw), "minimal.yaml")
    assert message in str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)


def test_schema_rejects_bad_commits() -> None:
    raw = yaml.safe_load(MINIMAL)
    raw["commits"].append({"message": "typo", "file": {}})
    with pytest.raises(ScenarioError, match=r"unknown key 'file' \(in commits.1\)"):
        parse_scenario(yaml.safe_dump(raw), "minimal.yaml")
    raw["commits"][1] = {"message": "oops", "delete": ["missing.txt"]}
    with pytest.raises(ScenarioError, match=r"commits.1.delete: 'missing.txt' does not exist"):
        parse_scenario(yaml.safe_dump(raw), "minimal.yaml")
    raw["commits"][1] = {"message": "w", "lfs_files": {"w.bin": {"size": "1MB", "seed": 1, "sead": 2}}}
    with pytest.raises(ScenarioError, match=r"unknown key 'sead' \(in commits.1.lfs_files.w.bin\)"):
        parse_scenario(yaml.safe_dump(raw), "minimal.yaml")


def test_invalid_yaml_and_duplicate_spaces(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"broken\.yaml: invalid YAML"):
        parse_scenario("space: [unclosed", "broken.yaml")
    (tmp_path / "a.yaml").write_text(MINIMAL)
    (tmp_path / "b.yaml").write_text(MINIMAL)
    with pytest.raises(ScenarioError, match=r"b\.yaml: Space 'demo/minimal' is already defined by a\.yaml"):
        load_scenarios(tmp_path)


@pytest.mark.parametrize(("value", "expected"), [
    (1234, 1234), ("5MB", 5_000_000), ("1GB", 10**9), ("1.5 GB", 1_500_000_000), ("512KiB", 524_288),
    ("12 mb", 12_000_000), ("100", 100),
])
def test_parse_size(value: object, expected: int) -> None:
    assert parse_size(value) == expected


def test_parse_size_rejects_nonsense() -> None:
    for bad in ("12 parsecs", True, "MB"):
        with pytest.raises(ValueError, match="not a size"):
            parse_size(bad)
