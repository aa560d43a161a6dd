"""`remedybot sandbox serve` as a user runs it: banner line, extra users, clean stop on SIGTERM/SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx2
import pytest


def start(*args: str) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen([sys.executable, "-m", "remedybot", "sandbox", "serve", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, json.loads(line)


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=20)  # also closes the pipes
    assert "Traceback" not in err
    return proc.returncode


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_banner_serves_and_stops_cleanly(sig: signal.Signals) -> None:
    proc, banner = start("--user", "alice:hf_alicealicealicealicealice00")
    try:
        assert set(banner) == {"endpoint", "token", "user", "status_url"}
        assert banner["endpoint"].startswith("http://127.0.0.1:") and banner["user"] == "demo"
        me = httpx2.get(f"{banner['endpoint']}/api/whoami-v2",
                        headers={"Authorization": f"Bearer {banner['token']}"}).json()
        assert me["name"] == "demo"
        alice = httpx2.get(f"{banner['endpoint']}/api/whoami-v2",
                           headers={"Authorization": "Bearer hf_alicealicealicealicealice00"}).json()
        assert alice["name"] == "alice"
        status = httpx2.get(banner["status_url"]).json()
        assert "aggregate_state" in status["data"]["attributes"]
        spaces = httpx2.get(f"{banner['endpoint']}/api/spaces", params={"author": "demo"}).json()
        assert len(spaces) >= 14
    finally:
        rc = stop(proc, sig)
    assert rc == 0
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"{banner['endpoint']}/api/whoami-v2", timeout=2)


def test_serve_state_dir_survives_restart(tmp_path) -> None:
    proc, banner = start("--state-dir", str(tmp_path / "hub"))
    try:
        headers = {"Authorization": f"Bearer {banner['token']}"}
        r = httpx2.post(f"{banner['endpoint']}/api/repos/create", headers=headers,
                        json={"name": "kept", "organization": "demo", "type": "model"})
        assert r.status_code == 200
    finally:
        assert stop(proc) == 0
    proc, banner2 = start("--state-dir", str(tmp_path / "hub"))
    try:
        assert banner2["token"] == banner["token"]
        r = httpx2.get(f"{banner2['endpoint']}/api/models/demo/kept")
        assert r.status_code == 200
    finally:
        assert stop(proc) == 0


@pytest.mark.parametrize("args, phrase", [
    (["--faults", "rate=2"], "rate"),
    (["--faults", "kinds=teapot;rate=0.1"], "teapot"),
    (["--user", "nocolon"], "NAME:TOKEN"),
    (["--user", "bob:tok:gold"], "unknown rate-limit tier 'gold'"),
])
def test_serve_bad_options_are_one_line_usage_errors(args: list[str], phrase: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "remedybot", "sandbox", "serve", "--port", "0", *args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and phrase in lines[0]
    assert proc.stdout == ""


def test_a_port_in_use_is_a_one_line_error() -> None:
    """Issue 13.15: Werkzeug's own text ("Address already in use / Port N is in use...") never shows."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "remedybot", "sandbox", "serve", "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"Error: cannot listen on 127.0.0.1:{port}: Address already in use."]
    assert done.stdout == ""
