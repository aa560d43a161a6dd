"""pre-commit: the hook of .pre-commit-hooks.yaml, run by `pre-commit try-repo` on a broken and a clean sample Space.

`pre-commit try-repo` clones this repository as any user's config would name it and runs the hook in a git
repository holding the sample Space (tests/data/spaces/). The `remedybot-lint-system` hook is the one run here: it
uses the remedybot on PATH, so nothing is installed and the test stays offline. `remedybot-lint` differs only in
`language: python` (pre-commit builds remedybot into its own environment, which needs PyPI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPACES = ROOT / "tests" / "data" / "spaces"
BIN = Path(sys.executable).parent


def space_repo(sample: str, tmp_path: Path) -> Path:
    repo = tmp_path / sample
    shutil.copytree(SPACES / sample, repo, ignore=shutil.ignore_patterns("__pycache__"))  # as git would
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "sample"], cwd=repo, check=True)
    return repo


def try_repo(repo: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "NO_COLOR": "1"}
    return subprocess.run([str(BIN / "pre-commit"), "try-repo", str(ROOT), "remedybot-lint-system", "--all-files",
                           "--color", "never"], cwd=repo, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize(("sample", "code", "lines"), [
    ("broken", 1, ["app.py:1: imports cv2, but nothing installed provides it: add opencv-python-headless to "
                   "requirements.txt [dependency]",
                   "packages.txt:1: libgl1-mesa-glx is not in Debian trixie (the Spaces base image), apt exits 100: "
                   "use libgl1 [apt_package]"]),
    ("clean", 0, []),
])
def test_hook_on_a_sample_space(tmp_path: Path, sample: str, code: int, lines: list[str]) -> None:
    done = try_repo(space_repo(sample, tmp_path), tmp_path)
    assert done.returncode == code, done.stdout + done.stderr
    verdict = "Failed" if code else "Passed"
    assert any(line.startswith("remedybot lint (Hugging Face Space; the remedybot on PATH)") and
               line.endswith(verdict) for line in done.stdout.splitlines()), done.stdout
    for line in lines:
        assert line in done.stdout.splitlines()
