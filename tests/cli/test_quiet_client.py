"""huggingface_hub's own retry chatter never reaches remedybot's stderr (issue 13.15)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sandboxes import copy_state

from remedybot.sandbox.server import Sandbox

SCRIPT = """
import sys
from remedybot.cli.app import main
try:
    main(["diagnose", "demo/healthy"])
except SystemExit:
    pass
from huggingface_hub.utils import http_backoff
try:
    http_backoff("GET", sys.argv[1], max_retries=2, base_wait_time=0.01, retry_on_status_codes=(503,))
except Exception as exc:
    print("retries ran out:", type(exc).__name__)
"""


def test_huggingface_hubs_retry_lines_stay_out_of_our_output(sandbox_template: Path, tmp_path: Path) -> None:
    copy_state(sandbox_template, tmp_path / "hub")  # the demo Spaces, without building them again
    with Sandbox(state_dir=tmp_path / "hub", faults="rate=1;kinds=503;routes=/api/spaces/demo/x/*") as sb:
        env = {**os.environ, **sb.env(), "REMEDYBOT_HOME": str(tmp_path / "home"), "HF_HOME": str(tmp_path / "hf")}
        env.pop("HF_HUB_VERBOSITY", None)
        done = subprocess.run([sys.executable, "-c", SCRIPT, f"{sb.endpoint}/api/spaces/demo/x/runtime"],
                              capture_output=True, text=True, env=env, timeout=120)
    assert "demo/healthy" in done.stdout and "retries ran out" in done.stdout  # the diagnosis ran, then the retries
    assert "Retry" not in done.stderr and "503" not in done.stderr, done.stderr
