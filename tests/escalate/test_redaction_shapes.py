"""Issue 13, findings 10 and 11: one redaction, at every boundary where text leaves the process.

Hypothesis builds log lines that carry a credential of a common shape, glued to
other words or not, and feeds them through every output: the terminal and
`--json` of `diagnose`, a saved evidence file, the audit log, a rendered ticket
and a webhook payload. The secret value must appear in none of them.
"""

from __future__ import annotations

import json
from pathlib import Path

from clirun import run
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from remedybot.core.redact import redact, redact_data
from remedybot.diagnose.classify import classify
from remedybot.escalate.context import build_context
from remedybot.escalate.tickets import render_ticket
from remedybot.model.evidence import Evidence
from remedybot.remedy.audit import AuditLog

ALNUM = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=40, max_size=48)
UPPER = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=16, max_size=16)
WORD = st.sampled_from(["", "MY_", "token", "x=", "url:", "(", "prefix-"])


@st.composite
def secret_lines(draw: st.DrawFn) -> tuple[str, str]:
    """(a log line, the secret value in it that must never be seen again)."""
    body = draw(ALNUM)
    shape = draw(st.sampled_from(["hf", "org", "openai", "aws", "github", "password", "cookie", "url", "bearer",
                                  "env"]))
    secret, text = {
        "hf": (f"hf_{body[:34]}", f"hf_{body[:34]}"),
        "org": (f"api_org_{body[:30]}", f"api_org_{body[:30]}"),
        "openai": (f"sk-proj-{body}", f"sk-proj-{body}"),
        "aws": (f"AKIA{draw(UPPER)}", None),
        "github": (f"ghp_{body[:36]}", f"ghp_{body[:36]}"),
        "password": (body[:20], f"password={body[:20]}"),
        "cookie": (body[:24], f"cookie: session={body[:24]}"),
        "url": (f"pw{body[:12]}", f"https://bob:pw{body[:12]}@host.example/x"),
        "bearer": (body[:32], f"Authorization: Bearer {body[:32]}"),
        "env": (body[:24], f"OPENAI_API_KEY={body[:24]}"),
    }[shape]
    text = text or secret
    return f"{draw(WORD)}{text}{draw(st.sampled_from(['', ' ', '!', 'suffix']))}", secret


def _outputs(tmp_path: Path, line: str) -> list[str]:
    evidence = Evidence(space_id="demo/leaky", runtime={"stage": "RUNTIME_ERROR", "errorMessage": line},
                        run_log=["Traceback (most recent call last):", line, f"RuntimeError: {line}"])
    source = tmp_path / "in.json"
    source.write_text(json.dumps(evidence.to_dict()))
    saved = tmp_path / "saved.json"
    shown = run("diagnose", "--evidence", str(source), "--save-evidence", str(saved))
    as_json = run("diagnose", "--evidence", str(source), "--json")
    audit = AuditLog(tmp_path / "audit.jsonl")
    audit.write("step-end", detail=line, data={"log": [line]})
    context = build_context(evidence, classify(evidence))
    return [shown.out, shown.err, as_json.out, as_json.err, saved.read_text(), audit.path.read_text(),
            render_ticket(context, "email"), render_ticket(context, "json"), json.dumps(redact_data({"text": line}))]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret_lines())
@example(("tokenpassword=abcdefgh12345678", "abcdefgh12345678"))  # glued names: found by hand, kept
@example(("MY_hf_" + "q" * 34, "hf_" + "q" * 34))
@example(("tokenhf_" + "r" * 34 + "!", "hf_" + "r" * 34))
def test_no_secret_shape_reaches_any_output(tmp_path: Path, case: tuple[str, str]) -> None:
    line, secret = case
    assert secret not in redact(line)
    for number, text in enumerate(_outputs(tmp_path, line)):
        assert secret not in text, f"output {number} leaks {secret!r}"


def test_save_evidence_writes_no_token_or_url_credentials(tmp_path: Path) -> None:
    token = "hf_" + "a1B2c3D4" * 4 + "zz"
    evidence = Evidence(space_id="demo/leaky", run_log=[f"HF_TOKEN={token}", "fetching https://bob:pw@host/x"])
    source, saved = tmp_path / "in.json", tmp_path / "saved.json"
    source.write_text(json.dumps(evidence.to_dict()))
    run("diagnose", "--evidence", str(source), "--save-evidence", str(saved))
    text = saved.read_text()
    assert token not in text and "bob:pw" not in text and "[REDACTED]" in text
