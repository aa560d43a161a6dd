"""Helpers for tests that start their own sandbox Hub (the fixtures in conftest.py use them too).

A module of its own, not conftest.py: several test folders have a conftest.py, so
`from conftest import ...` would depend on which one Python imported first.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from remedybot.sandbox.server import Sandbox


def subprocess_env(sb: Sandbox) -> dict[str, str]:
    """The environment for a `remedybot` child process. The child runs on real time (the test's simulated clock
    is in-process only), so its waits are scaled to the sandbox clock's speed: 10 simulated seconds between
    two reads of a Space, as the default of 10 seconds is on the Hub, instead of 10 real seconds."""
    return {**os.environ, "REMEDYBOT_VERIFY_POLL": f"{10 / sb.state.clock.speed:g}"}


def point_at(sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point huggingface_hub and remedybot at `sb`, with a private HF_HOME and state home."""
    for key, value in sb.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("REMEDYBOT_HOME", str(tmp_path / "remedybot-home"))


def copy_state(template: Path, state_dir: Path) -> None:
    """A private copy of a saved sandbox state. Content-addressed files are hard links to the template's: git
    never rewrites an object file in place (it writes a new one and renames), nor does the sandbox an LFS object
    (`LfsStore` writes a temporary file and renames it), so copies can share them. Copying the LFS objects cost
    every test 14 MB of writes."""
    shared = (f"{os.sep}objects{os.sep}", f"{template}{os.sep}lfs{os.sep}")

    def link_or_copy(src: str, dst: str) -> object:
        if any(part in src for part in shared):
            try:
                os.link(src, dst)
                return dst
            except OSError:
                pass
        return shutil.copy2(src, dst)

    shutil.copytree(template, state_dir, copy_function=link_or_copy)
