"""Faults injected over real HTTP: at the configured rate, reproducible by seed."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import httpx2

from remedybot.sandbox.server import Sandbox

SPEC = "rate=0.3;kinds=429,500,502,503,reset;routes=/api/spaces/*;retry_after=0"


def statuses(seed: int, n: int = 150) -> list[str]:
    out = []
    with Sandbox(load_default_scenarios=False, faults=SPEC, seed=seed) as sb:
        sb.state.create_repo("space", "demo/x", sdk="gradio", author="demo")
        headers = {"Authorization": f"Bearer {sb.token}"}
        host = urlsplit(sb.endpoint)
        for _ in range(n):
            # A fresh connection for each request, so a reset cannot leak over (a plain socket: an httpx
            # client per request costs 0.1 s of TLS set-up the loopback does not need).
            conn = http.client.HTTPConnection(host.hostname or "127.0.0.1", host.port, timeout=5)
            try:
                conn.request("GET", "/api/spaces/demo/x/runtime", headers=headers)
                r = conn.getresponse()
                r.read()
                out.append(str(r.status) + (f":{r.getheader('Retry-After')}" if r.status == 429 else ""))
            except (ConnectionError, http.client.HTTPException):
                out.append("reset")
            finally:
                conn.close()
        # Routes outside the spec never see faults.
        with httpx2.Client(timeout=5) as client:
            assert all(client.get(f"{sb.endpoint}/api/whoami-v2", headers=headers).status_code == 200
                       for _ in range(20))
        stats = sb.injector.stats() if sb.injector else {}
        assert stats["injected"] == sum(1 for s in out if not s.startswith("200"))
    return out


def test_faults_rate_and_seed() -> None:
    first = statuses(seed=7)
    again = statuses(seed=7)
    other = statuses(seed=8)
    assert first == again
    assert first != other
    faults = sum(1 for s in first if not s.startswith("200"))
    assert 0.18 <= faults / len(first) <= 0.42
    kinds = {s.split(":")[0] for s in first}
    assert {"200", "429", "503", "reset"} <= kinds
    assert all(s == "429:0" for s in first if s.startswith("429"))
