"""The GitHub Action (action.yml): each `run:` step's script, run locally with the env the action sets.

GitHub would substitute `${{ inputs.* }}` and `${{ github.* }}` into each step's `env:` and evaluate its `if:`;
`Runner` does the same for the few forms action.yml uses (and fails on any other, so a new form is noticed), then
runs the script with bash as a runner would: GITHUB_STEP_SUMMARY and GITHUB_OUTPUT are files, and `remedybot` is
the one of this checkout. Lint runs on the sample Spaces of tests/data/spaces/, watch against the sandbox Hub.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from clirun import run

from remedybot.sandbox.server import Sandbox

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
EXPRESSION = re.compile(r"\$\{\{\s*([a-z_]+)\.([A-Za-z_-]+)\s*\}\}")
CONDITION = re.compile(r"^inputs\.([A-Za-z_-]+) == '([^']*)'$")


@dataclass
class Outcome:
    code: int
    stdout: str
    summary: str
    outputs: dict[str, str]
    ran: list[str]


class Runner:
    def __init__(self, tmp_path: Path, event: str, env: dict[str, str]) -> None:
        self.tmp_path, self.event, self.env = tmp_path, event, env

    def value(self, text: str, inputs: dict[str, str]) -> str:
        def one(match: re.Match[str]) -> str:
            scope, name = match.groups()
            known = {("github", "event_name"): self.event, ("github", "action_path"): str(ROOT)}
            if scope == "inputs":
                return inputs[name]
            assert (scope, name) in known, f"action.yml uses ${{{{ {scope}.{name} }}}}: teach this test its value"
            return known[(scope, name)]

        return EXPRESSION.sub(one, str(text))

    def run(self, cwd: Path, **given: str) -> Outcome:
        inputs = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
        assert set(given) <= set(inputs), set(given) - set(inputs)
        inputs.update(given)
        summary, outputs = self.tmp_path / "summary.md", self.tmp_path / "output.txt"
        summary.write_text(""), outputs.write_text("")
        code, stdout, ran = 0, "", []
        for step in ACTION["runs"]["steps"]:
            condition = step.get("if")
            if condition is not None:
                match = CONDITION.match(condition)
                assert match, f"action.yml has an if: this test cannot evaluate: {condition}"
                if inputs[match[1]] != match[2]:
                    continue
            env = {**self.env, "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs),
                   "GITHUB_EVENT_NAME": self.event}
            env.update({key: self.value(value, inputs) for key, value in step.get("env", {}).items()})
            assert step["shell"] == "bash"  # which GitHub runs as `bash --noprofile --norc -eo pipefail {0}`
            done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=cwd,
                                  env=env, capture_output=True, text=True, timeout=120)
            ran.append(step["name"])
            code, stdout = done.returncode, stdout + done.stdout + done.stderr
            if code:
                break
        pairs = [line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line]
        return Outcome(code, stdout, summary.read_text(), dict(pairs), ran)


def runner(tmp_path: Path, event: str, extra: dict[str, str] | None = None) -> Runner:
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path),
           **{k: v for k, v in os.environ.items() if k.startswith(("HF_", "REMEDYBOT_"))}, **(extra or {})}
    env.pop("HF_TOKEN", None)
    return Runner(tmp_path, event, env)


def sample(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(ROOT / "tests" / "data" / "spaces" / name, tmp_path / name,
                               ignore=shutil.ignore_patterns("__pycache__")))  # only what git would hold


def test_lint_on_a_pull_request_annotates_and_fails(tmp_path: Path) -> None:
    result = runner(tmp_path, "pull_request").run(sample("broken", tmp_path), install="false")
    assert result.ran == ["Run remedybot"]  # install: false skips the pip step
    assert result.code == 1 and result.outputs == {"exit-code": "1"}
    assert ("::error file=app.py,line=1,title=remedybot lint::imports cv2, but nothing installed provides it: add "
            "opencv-python-headless to requirements.txt [dependency]") in result.stdout.splitlines()
    assert result.summary.startswith("### remedybot lint: `.`\n\n```\napp.py:1: imports cv2")
    assert "packages.txt:1: libgl1-mesa-glx is not in Debian trixie" in result.summary


def test_lint_of_a_clean_space_in_a_subfolder_passes(tmp_path: Path) -> None:
    sample("clean", tmp_path / "repo")
    result = runner(tmp_path, "pull_request").run(tmp_path / "repo", install="false", path="clean")
    assert (result.code, result.outputs) == (0, {"exit-code": "0"})
    assert result.summary == "### remedybot lint: `clean`\n\nNo problems found.\n"
    assert "::error" not in result.stdout


def test_watch_on_a_schedule_writes_the_fleet_table(sandbox: Sandbox, tmp_path: Path) -> None:
    result = runner(tmp_path, "schedule").run(tmp_path, install="false", owner="demo", token=sandbox.token)
    assert result.code == 0, result.stdout  # Spaces still failing: a warning, not a failed job
    assert result.outputs == {"exit-code": "7"}
    assert f"::add-mask::{sandbox.token}" in result.stdout  # the runner hides it from every later line
    assert "::warning::remedybot: some Spaces of demo are still failing; see the job summary." in result.stdout
    lines = result.summary.splitlines()
    assert lines[0] == "### remedybot: Spaces of `demo`"
    assert "| Space | Stage | Branch | Confidence | Why |" in lines
    assert any(re.match(r"^\| demo/healthy \| RUNNING \| healthy \| [01]\.\d\d \| +\|$", line) for line in lines), lines
    assert any(line.startswith("| demo/dependency | ") and "| dependency |" in line for line in lines)
    assert sandbox.token not in result.summary


def test_watch_without_an_owner_and_a_bad_mode_are_errors(tmp_path: Path) -> None:
    run = runner(tmp_path, "schedule")
    missing = run.run(tmp_path, install="false")
    assert missing.code == 2 and missing.outputs == {"exit-code": "2"}
    assert "::error::remedybot: set the 'owner' input" in missing.stdout
    bad = run.run(tmp_path, install="false", mode="fix")
    assert bad.code == 2 and "::error::remedybot: the 'mode' input must be lint or watch, not 'fix'." in bad.stdout


def test_every_input_is_documented_and_read_through_env() -> None:
    steps: list[dict[str, Any]] = ACTION["runs"]["steps"]
    used = {m[2] for step in steps for value in step.get("env", {}).values() for m in EXPRESSION.finditer(str(value))
            if m[1] == "inputs"}
    used |= {CONDITION.match(step["if"])[1] for step in steps if "if" in step}  # type: ignore[index]
    assert used == set(ACTION["inputs"])
    assert all(spec["description"] for spec in ACTION["inputs"].values())
    assert not any("${{" in step["run"] for step in steps)  # no expression inside a script: no injection


def test_scan_summary_appends_markdown_and_a_bad_path_is_a_usage_error(empty_sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    target.write_text("earlier step\n")
    result = run("scan", "demo", "--summary", str(target))  # the fleet table itself: the watch test above
    assert result.code == 0
    assert target.read_text().splitlines() == [
        "earlier step", "### remedybot: Spaces of `demo`", "", "0 Spaces of 'demo': 0 failing, 0 healthy", "",
        "| Space | Stage | Branch | Confidence | Why |", "|---|---|---|---:|---|", ""]
    bad = run("watch", "demo", "--once", "--summary", str(tmp_path / "missing" / "summary.md"))
    assert bad.code == 2
    assert bad.err_lines[-1].startswith(f"Error: Cannot write the summary to '{tmp_path / 'missing' / 'summary.md'}'")


def test_the_example_workflow_uses_the_action_with_its_inputs() -> None:
    workflow = yaml.safe_load((ROOT / "examples" / "github-action.yml").read_text(encoding="utf-8"))
    uses = [step for job in workflow["jobs"].values() for step in job["steps"] if step.get("uses") == "REMEDYBOT_REF"]
    assert [step["with"]["mode"] for step in uses] == ["lint", "watch"]
    for step in uses:
        assert set(step["with"]) <= set(ACTION["inputs"]), set(step["with"]) - set(ACTION["inputs"])
