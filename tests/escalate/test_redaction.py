"""No token, secret value, Authorization header or URL credential reaches a ticket, in any format.

Property-based: hypothesis draws a credential of each shape and injects it into every string
field the ticket is built from (evidence: logs, errorMessage, push/restart errors, file
contents and README front matter, status page names, commits; the diagnosis; the audit
records: details, call errors, reasons), glued to its neighbours in every way, then renders
every format and looks for the secret part in the output.
"""

from __future__ import annotations

import copy
import json
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remedybot.core import redact as redact_module
from remedybot.core.redact import MARK, redact, register_secret
from remedybot.escalate.context import build_context, clean
from remedybot.escalate.tickets import FORMATS, render_ticket
from remedybot.model.evidence import Evidence

DATA = Path(__file__).resolve().parents[1] / "data" / "evidence"
NOW = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
ALNUM = string.ascii_letters + string.digits
SAMPLES = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(DATA.glob("*.json"))}
STRUCTURAL = {"event"}  # left alone so the audit records still read as steps (more fields reach the ticket)


@st.composite
def credentials(draw: st.DrawFn) -> tuple[str, str, str]:
    """(kind, text to inject, the part that must never appear)."""
    kind = draw(st.sampled_from(["hf_token", "org_token", "bearer", "basic", "url", "registered"]))
    secret = draw(st.text(ALNUM, min_size=20, max_size=40))
    if kind == "hf_token":
        secret = "hf_" + draw(st.text(ALNUM, min_size=34, max_size=34))
        return kind, secret, secret
    if kind == "org_token":
        secret = "api_org_" + draw(st.text(ALNUM, min_size=34, max_size=34))
        return kind, secret, secret
    if kind == "bearer":
        header = draw(st.sampled_from(["Authorization: Bearer ", "authorization=Bearer ", "Authorization:Bearer "]))
        return kind, header + secret, secret
    if kind == "basic":
        return kind, "Authorization: Basic " + secret, secret
    if kind == "url":
        user = draw(st.text(string.ascii_lowercase, min_size=2, max_size=10))
        host = draw(st.sampled_from(["huggingface.co/spaces/demo/x", "proxy.example.com:8080", "10.0.0.2"]))
        scheme = draw(st.sampled_from(["https", "http", "git+https"]))
        return kind, f"{scheme}://{user}:{secret}@{host}", secret
    secret = "sv" + draw(st.text(string.ascii_lowercase + string.digits, min_size=18, max_size=30))
    return kind, secret, secret


def inject(value: Any, payload: str, glue: str, where: str, key: str = "") -> Any:
    """Put `payload` into every string of `value` (recursively), at `where`, joined by `glue`."""
    if isinstance(value, str) and key not in STRUCTURAL:
        if where == "prefix":
            return payload + glue + value
        if where == "suffix":
            return value + glue + payload
        if where == "replace":
            return payload
        middle = len(value) // 2
        return value[:middle] + glue + payload + glue + value[middle:]
    if isinstance(value, dict):
        return {k: inject(v, payload, glue, where, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [inject(v, payload, glue, where, key) for v in value]
    return value


def poisoned(sample: dict[str, Any], payload: str, glue: str, where: str) -> dict[str, Any]:
    data = inject(copy.deepcopy(sample), payload, glue, where)
    # Front matter that stays valid YAML, so sdk_version and python_version reach the ticket too.
    data["files"]["README.md"] = (f"---\nsdk: gradio\nsdk_version: \"{payload}\"\npython_version: \"{payload}\"\n"
                                  f"---\n{data['files']['README.md']}")
    data["files"]["Dockerfile"] = f"FROM {payload}\n"
    data["audit"].append({"time": "2026-06-10T08:00:00+00:00", "event": "step-end", "fingerprint": payload,
                          "step": 9, "status": "failed", "detail": payload,
                          "params": {"Authorization": payload.rsplit(" ", 1)[-1], "token": payload},
                          "calls": [{"call": f"POST {payload}", "at": "2026-06-10T08:00:00+00:00", "error": payload}]})
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(branch=st.sampled_from(sorted(SAMPLES)), credential=credentials(),
       glue=st.sampled_from(["", " ", "=", ":", "\n", "/", "'", '"', "(", ",", "\t", "?token="]),
       where=st.sampled_from(["prefix", "suffix", "middle", "replace"]))
def test_no_credential_reaches_any_ticket(branch: str, credential: tuple[str, str, str], glue: str,
                                          where: str) -> None:
    kind, payload, secret = credential
    with mock.patch.object(redact_module, "_extra_secrets", set()):
        if kind == "registered":
            register_secret(secret)
        data = poisoned(SAMPLES[branch], payload, glue, where)
        context = build_context(Evidence.from_dict(data), data["diagnosis"], records=data["audit"], now=NOW)
        for fmt in FORMATS:
            text = render_ticket(context, fmt)
            assert secret not in text, f"{kind} leaked into the {fmt} ticket of {branch} ({where}, glue {glue!r})"
            assert MARK in text


def test_secret_keys_are_dropped_but_secret_names_are_kept() -> None:
    """A header dict's value has no "Authorization:" text for redact to see; the name of a secret is no secret."""
    data = {"headers": {"Authorization": "opaque-oauth-value-123456", "Cookie": "session=abcdef"},
            "culprit": {"secret": "OPENAI_API_KEY"}, "params": {"token": "opaque-token-value-98765"}}
    cleaned = clean(data)
    text = json.dumps(cleaned)
    assert "opaque-oauth-value-123456" not in text and "abcdef" not in text and "98765" not in text
    assert cleaned["culprit"] == {"secret": "OPENAI_API_KEY"}


def test_tokens_are_redacted_before_logs_are_cut() -> None:
    """A long log line cut at the excerpt limit must not leave half a token behind."""
    token = "hf_" + "A1b2C3d4" * 5
    sample = copy.deepcopy(SAMPLES["dependency"])
    sample["run_log"] = ["x" * 395 + token]  # the cut (400 characters) falls inside the token
    context = build_context(Evidence.from_dict(sample), sample["diagnosis"], records=[], now=NOW)
    for fmt in FORMATS:
        text = render_ticket(context, fmt)
        assert "hf_A1b2" not in text and token[:12] not in text


def test_terminal_escape_sequences_do_not_reach_a_ticket() -> None:
    """Colour codes from a build log are noise to support, and a hazard in a terminal or an email client."""
    sample = copy.deepcopy(SAMPLES["apt_package"])
    sample["build_log"] = [*sample.get("build_log", []), "\x1b[1;31mE: Unable to locate package foo\x1b[0m\x1b]0;t\x07"]
    context = build_context(Evidence.from_dict(sample), sample["diagnosis"], records=[], now=NOW)
    for fmt in FORMATS:
        text = render_ticket(context, fmt)
        assert "\x1b" not in text and "\\u001b" not in text and "\x07" not in text, fmt
        assert "E: Unable to locate package foo" in text, fmt


def test_a_long_log_line_is_redacted_in_linear_time() -> None:
    """A build log can hold a base64 blob thousands of characters long. The name-glued-to-a-word patterns used to
    be retried from every position of such a word (quadratic backtracking: 2 000 characters took 1.8 s, so a
    40 000-character line would take about ten minutes); the budget below is a hundred times what it takes now."""
    import time

    blob = "QUJD" * 10_000
    lines = [f"{blob} secret", f"{blob}_PASSWORD=hunter2-value", f"{blob}://user:pw-value@host"]
    start = time.perf_counter()
    redacted = [redact(line) for line in lines]
    assert time.perf_counter() - start < 5
    assert redacted[0] == f"{blob} secret"  # nothing to redact, and nothing lost
    assert "hunter2-value" not in redacted[1] and redacted[1].endswith(f"_PASSWORD={MARK}")
    assert "pw-value" not in redacted[2] and redacted[2].endswith(f"://{MARK}@host")
