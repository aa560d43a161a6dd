"""classify(): the real corpus, noise ordering, unknowns, culprits and config-file evidence."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from remedybot.diagnose.classify import classify
from remedybot.model.diagnosis import confidence_label, render_text
from remedybot.model.evidence import Evidence

DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = [json.loads(line) for name in ("corpus_dev.jsonl", "extra_cases.jsonl")
          for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
# Cases collected after the catalog was written, measured as a set, misses included: four are Spaces
# that showed RUNNING with clean logs while their users saw them stuck, which no evidence field can show.
MORE = [json.loads(line) for line in (DATA / "more_cases.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()]
PIP_NOTICE = ["", "[notice] A new release of pip is available: 24.0 -> 25.3",
              "[notice] To update, run: pip install --upgrade pip"]


def diagnose(**evidence: Any) -> Any:
    return classify(Evidence.from_dict({"space_id": "alice/demo", **evidence}))


@pytest.mark.parametrize("case", CORPUS, ids=[f"{i}-{c['source_url'][-40:]}" for i, c in enumerate(CORPUS)])
def test_real_case_top_branch_is_accepted(case: dict[str, Any]) -> None:
    diagnosis = classify(Evidence.from_dict(case["evidence"]))
    assert diagnosis.branch in case["accept"], (case["title"], diagnosis.to_dict())


ACCURACY: dict[str, str] = {}  # printed by tests/conftest.py's terminal summary


def _figure(cases: list[dict[str, Any]]) -> tuple[float, float, str]:
    branches = [classify(Evidence.from_dict(c["evidence"])).branch for c in cases]
    in_accept = sum(b in c["accept"] for b, c in zip(branches, cases, strict=True))
    exact = sum(b == c["accept"][0] for b, c in zip(branches, cases, strict=True))
    n = len(cases)
    return in_accept / n, exact / n, f"{in_accept}/{n} in accept ({in_accept / n:.0%}), {exact}/{n} first answer"


def test_corpus_accuracy_figure() -> None:
    """The issue's bar: at least 90 % of the real cases with the top branch in `accept`."""
    dev = [json.loads(line) for line in (DATA / "corpus_dev.jsonl").read_text(encoding="utf-8").splitlines()
           if line.strip()]
    dev_in, dev_exact, dev_text = _figure(dev)
    all_in, _, all_text = _figure(CORPUS)
    more_in, _, more_text = _figure(MORE)
    ACCURACY["corpus"] = (f"shared dev corpus {dev_text}; with our own research cases {all_text}; "
                          f"later research cases {more_text}")
    print(f"\nclassifier accuracy: {ACCURACY['corpus']}")
    assert dev_in >= 0.9 and all_in >= 0.9 and dev_exact >= 0.9 and more_in >= 0.9


# -- the last fatal line wins; noise never decides ----------------------------------------


def test_warnings_notices_and_retries_do_not_decide() -> None:
    d = diagnose(runtime={"stage": "BUILD_ERROR"}, build_log=[
        "WARNING: Retrying (Retry(total=4, connect=None, read=None)) after connection broken by "
        "'NewConnectionError: Failed to establish a new connection: [Errno -3] Temporary failure in name resolution'",
        "ERROR: pip's dependency resolver does not currently take into account all the packages that are installed.",
        "/usr/local/lib/python3.10/site-packages/huggingface_hub/file_download.py:797: FutureWarning: "
        "`resume_download` is deprecated and will be removed in version 1.0.0.",
        "E: Package 'libgl1-mesa-glx' has no installation candidate", *PIP_NOTICE,
        '--> ERROR: process "/bin/sh -c apt-get install -y libgl1-mesa-glx" did not complete successfully: '
        "exit code: 100"])
    assert d.branch == "apt_package"
    assert d.culprit["package"] == "libgl1-mesa-glx"
    assert d.evidence[0].signature == "apt_no_candidate"


def test_a_later_fatal_error_supersedes_an_earlier_one() -> None:
    d = diagnose(runtime={"stage": "RUNTIME_ERROR"}, run_log=[
        "Traceback (most recent call last):", "ModuleNotFoundError: No module named 'xformers'",
        "xformers not available, falling back", "Loading checkpoint shards: 100%",
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"])
    assert d.branch == "resource_limit"
    assert "dependency" in {a.branch for a in d.alternatives}


def test_only_the_last_run_segment_counts() -> None:
    d = diagnose(runtime={"stage": "RUNTIME_ERROR", "errorMessage": "Memory limit exceeded (16Gi)"}, run_log=[
        "===== Application Startup at 2025-01-01 10:00:00 =====", "ModuleNotFoundError: No module named 'cv2'",
        "===== Application Startup at 2025-01-02 10:00:00 =====", "Loading model..."])
    assert d.branch == "resource_limit"
    assert d.culprit == {"memory": "16Gi"}


def test_a_swallowed_error_is_the_cause_of_a_later_copy_failure() -> None:
    d = diagnose(runtime={"stage": "BUILD_ERROR"}, build_log=[
        "--> RUN python -c \"import sentence_transformers\" || true",
        "ModuleNotFoundError: No module named 'sentence_transformers'", "DONE 0.1s",
        "--> COPY --from=builder /root/.cache/huggingface/ /root/.cache/huggingface/",
        '--> ERROR: failed to calculate checksum of ref ab::cd: "/root/.cache/huggingface": not found'])
    assert d.branch == "dependency"
    assert d.culprit["module"] == "sentence_transformers"
    assert {e.signature for e in d.evidence} >= {"module_not_found", "copy_source_missing"}


def test_an_error_word_in_a_successful_build_log_is_stale_at_runtime() -> None:
    d = diagnose(runtime={"stage": "RUNTIME_ERROR", "errorMessage": "Launch timed out, workload was not healthy "
                          "after 30 min"},
                 build_log=["ERROR: No matching distribution found for flash-attn"])
    assert d.branch == "unhealthy_startup"


def test_dockerfile_parse_error_on_an_apt_line_is_not_an_apt_problem() -> None:
    d = diagnose(runtime={"stage": "BUILD_ERROR"}, build_log=[
        "   7 |     RUN apt-get update && apt-get install -y /", "   8 | >>>     gcc /",
        "error: failed to solve: dockerfile parse error on line 8: unknown instruction: gcc"])
    assert d.branch == "config_error"
    assert d.culprit == {"line": "8", "instruction": "gcc"}


# -- unknown with low confidence ----------------------------------------------------------


@pytest.mark.parametrize("evidence", [
    {"runtime": {"stage": "RUNTIME_ERROR", "errorMessage": "Exit code: ?. Reason:"},
     "run_log": ["Failed to retrieve error logs: SSE is not enabled"]},
    {"runtime": {"stage": "RUNTIME_ERROR", "errorMessage": "Space failed. Exit code: 1. Reason:"}},
    {"runtime": {"stage": "BUILD_ERROR", "errorMessage": "Job failed with exit code: 1. Reason: cache miss: "
                 "[8/8] COPY static/ ./static/"}},
    {"runtime": {"stage": "RUNTIME_ERROR"}},
    {},
])
def test_generic_evidence_is_unknown_with_low_confidence(evidence: dict[str, Any]) -> None:
    d = diagnose(**evidence)
    assert d.branch == "unknown"
    assert d.confidence < 0.5
    assert d.confidence_label == "low"


def test_a_generic_exit_code_defers_to_the_run_log() -> None:
    d = diagnose(runtime={"stage": "RUNTIME_ERROR", "errorMessage": "Exit code: 1. Reason:"},
                 run_log=["Traceback (most recent call last):", "KeyError: 'OPENAI_API_KEY'"])
    assert d.branch == "startup_crash"
    assert d.culprit["secret"] == "OPENAI_API_KEY"


# -- culprits -----------------------------------------------------------------------------


@pytest.mark.parametrize(("evidence", "branch", "culprit"), [
    ({"runtime": {"stage": "RUNTIME_ERROR", "hardware": {"current": None, "requested": "t4-small"},
                  "errorMessage": "Scheduling failure: not enough hardware capacity"}},
     "capacity", {"flavor": "t4-small"}),
    ({"runtime": {"stage": "RUNTIME_ERROR", "errorMessage": "Memory limit exceeded (32Gi)"}},
     "resource_limit", {"memory": "32Gi"}),
    ({"runtime": {"stage": "PAUSED", "errorMessage": "Blocked by abuse-handler by rule: VNC Server"}},
     "policy_block", {"rule": "VNC Server"}),
    ({"push_error": "remote: Your push was rejected because it contains files larger than 10 MiB.\n"
                    "remote: Offending files:\nremote:   - model.ckpt (ref: refs/heads/main)\n"
                    "remote:   - data/big.bin (ref: refs/heads/main)"},
     "repo_too_large", {"limit": "10 MiB", "files": ["model.ckpt", "data/big.bin"]}),
    ({"runtime": {"stage": "RUNTIME_ERROR"}, "run_log": ["ModuleNotFoundError: No module named 'cv2.aruco'"]},
     "dependency", {"module": "cv2.aruco"}),
    ({"runtime": {"stage": "BUILD_ERROR"}, "build_log": ["E: Unable to locate package libgl1-mesa-glx"]},
     "apt_package", {"package": "libgl1-mesa-glx"}),
])
def test_culprit_is_named(evidence: dict[str, Any], branch: str, culprit: dict[str, Any]) -> None:
    d = diagnose(**evidence)
    assert d.branch == branch
    for key, value in culprit.items():
        assert d.culprit[key] == value


# -- config files are evidence ------------------------------------------------------------

DOCKERFILE_8000 = ("FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
                   'CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]\n')


def test_run_log_port_differs_from_default_app_port() -> None:
    d = diagnose(info={"sdk": "docker"}, runtime={"stage": "APP_STARTING"},
                 files={"README.md": "---\ntitle: API\nsdk: docker\n---\n"},
                 run_log=["INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)"])
    assert d.branch == "port_mismatch"
    assert d.culprit == {"app_port": 7860, "listen_port": 8000}
    assert d.evidence[0].source == "run_log"


def test_port_mismatch_explains_a_launch_timeout() -> None:
    d = diagnose(info={"sdk": "docker"}, runtime={"stage": "RUNTIME_ERROR", "errorMessage":
                 "Launch timed out, workload was not healthy after 30 min"},
                 files={"README.md": "---\nsdk: docker\n---\n", "Dockerfile": DOCKERFILE_8000})
    assert d.branch == "port_mismatch"
    assert d.culprit == {"app_port": 7860, "listen_port": 8000}
    assert "unhealthy_startup" in {a.branch for a in d.alternatives}


def test_matching_app_port_is_not_a_mismatch() -> None:
    d = diagnose(info={"sdk": "docker"}, runtime={"stage": "RUNTIME_ERROR", "errorMessage":
                 "Launch timed out, workload was not healthy after 30 min"},
                 files={"README.md": "---\nsdk: docker\napp_port: 8000\n---\n", "Dockerfile": DOCKERFILE_8000})
    assert d.branch == "unhealthy_startup"


def test_uvicorn_without_host_binds_localhost() -> None:
    dockerfile = 'FROM python:3.11\nENV PORT=7860\nCMD uvicorn app:app --port ${PORT}\n'
    d = diagnose(info={"sdk": "docker"}, runtime={"stage": "APP_STARTING"},
                 files={"README.md": "---\nsdk: docker\n---\n", "Dockerfile": dockerfile})
    assert d.branch == "port_mismatch"
    assert d.culprit["host"] == "127.0.0.1"


def test_flask_all_addresses_is_not_a_localhost_bind() -> None:
    d = diagnose(info={"sdk": "docker"}, runtime={"stage": "RUNNING"},
                 files={"README.md": "---\nsdk: docker\napp_port: 5000\n---\n"},
                 run_log=[" * Running on all addresses (0.0.0.0)", " * Running on http://127.0.0.1:5000",
                          " * Running on http://10.0.0.5:5000"])
    assert d.branch == "healthy"


@pytest.mark.parametrize(("version", "flagged"), [("4.44.1", False), ("5.50.0", False), ("3.", True),
                                                  ("4.99.0", True), ("9.1.0", True), ("6.31.0", False)])
def test_sdk_version_that_does_not_exist(version: str, flagged: bool) -> None:
    d = diagnose(info={"sdk": "gradio"}, runtime={"stage": "BUILD_ERROR"},
                 files={"README.md": f"---\nsdk: gradio\nsdk_version: '{version}'\napp_file: app.py\n---\n"})
    assert (d.branch == "dependency") is flagged
    if flagged:
        assert d.culprit["sdk_version"] == version
        assert d.evidence[0].source == "files/README.md" and d.evidence[0].line == 3


def test_unquoted_python_version_is_a_config_error() -> None:
    d = diagnose(runtime={"stage": "BUILD_ERROR"},
                 files={"README.md": "---\nsdk: gradio\npython_version: 3.10\n---\n"},
                 build_log=["BUILD FAILED (Ubuntu 22.04 using python-build 2.6.12)"])
    assert d.branch == "config_error"
    assert d.culprit["field"] == "python_version"


def test_broken_readme_yaml_names_the_line() -> None:
    d = diagnose(runtime={"stage": "CONFIG_ERROR"}, files={"README.md": (
        "---\ntitle: Recipe Finder: from your fridge\nsdk: gradio\n---\n")})
    assert d.branch == "config_error"
    readme = [e for e in d.evidence if e.source == "files/README.md"]
    assert readme and readme[0].line == 2 and "problem" in d.culprit


def test_dockerfile_tunnel_line_is_policy_evidence_when_paused() -> None:
    paused = diagnose(runtime={"stage": "PAUSED"}, files={"Dockerfile": "RUN curl -L -o /usr/bin/ttyd x\n"})
    running = diagnose(runtime={"stage": "RUNNING"}, files={"Dockerfile": "RUN curl -L -o /usr/bin/ttyd x\n"},
                       run_log=["Running on local URL:  http://0.0.0.0:7860"])
    assert paused.branch == "policy_block" and paused.culprit == {"rule": "ttyd"}
    assert running.branch == "healthy"
    assert "policy_block" in {a.branch for a in running.alternatives}


# -- platform first, stage-only evidence, healthy -----------------------------------------


def test_degraded_status_page_comes_first_unless_the_space_names_its_own_failure() -> None:
    status = {"data": {"attributes": {"aggregate_state": "degraded"}},
              "included": [{"type": "status_page_resource", "attributes": {"public_name": "Spaces",
                                                                           "status": "degraded"}}]}
    alone = diagnose(runtime={"stage": "BUILDING"}, build_log=[], status_page=status)
    generic = diagnose(runtime={"stage": "RUNTIME_ERROR", "errorMessage": "Exit code: 1. Reason:"},
                       status_page=status)
    specific = diagnose(runtime={"stage": "RUNTIME_ERROR"}, status_page=status,
                        run_log=["ModuleNotFoundError: No module named 'cv2'"])
    assert alone.branch == "platform_incident" and alone.confidence >= 0.8
    assert generic.branch == "platform_incident"
    assert specific.branch == "dependency"
    assert specific.alternatives[0].branch == "platform_incident"


def test_platform_lines_in_the_space_logs_win_but_are_marked_contested() -> None:
    d = diagnose(runtime={"stage": "RUNTIME_ERROR"}, run_log=[
        "ModuleNotFoundError: No module named 'cv2'",
        "fatal: unable to access 'https://huggingface.co/datasets/x/y/': Could not resolve host: huggingface.co"])
    assert d.branch == "platform_incident" and d.confidence_label == "medium"
    assert d.alternatives[0].branch == "dependency"


def test_fleet_failing_the_same_way_is_a_platform_incident() -> None:
    d = diagnose(runtime={"stage": "BUILD_ERROR"}, fleet={"spaces_checked": 30, "spaces_failing_same_way": 9})
    assert d.branch == "platform_incident"
    few = diagnose(runtime={"stage": "BUILD_ERROR"}, fleet={"spaces_checked": 30, "spaces_failing_same_way": 1})
    assert few.branch == "unknown"


def test_building_with_only_the_queued_header_is_wedged() -> None:
    d = diagnose(runtime={"stage": "BUILDING"}, build_log=[
        "===== Build Queued at 2026-01-21 18:25:38 / Commit SHA: 64da653 =====", ""])
    assert d.branch == "wedged_space"
    progressing = diagnose(runtime={"stage": "BUILDING"}, build_log=[
        "===== Build Queued at 2026-01-21 18:25:38 / Commit SHA: 64da653 =====", "--> FROM python:3.10", "DONE"])
    assert progressing.branch != "wedged_space"


def test_restart_503_with_crash_clues_is_a_crash_not_a_wedge() -> None:
    d = diagnose(runtime={"stage": "RUNTIME_ERROR"}, restart_error="503 Something went wrong when restarting",
                 run_log=["Error: .ini file does not include supervisord section",
                          "For help, use /usr/bin/supervisord -h"])
    assert d.branch == "startup_crash"
    assert "wedged_space" in {a.branch for a in d.alternatives}


def test_a_rich_boxed_traceback_is_a_crash() -> None:
    """typer/rich print tracebacks in a box, and the exception may not end in "Error"."""
    d = diagnose(runtime={"stage": "RUNTIME_ERROR"}, run_log=[
        "╭───────────────────── Traceback (most recent call last) ─────────────────────╮",
        "│ /home/user/app/app.py:12 in <module>                                         │",
        "╰──────────────────────────────────────────────────────────────────────────────╯",
        "ConnectTimeout: HTTPSConnectionPool(host='example.org', port=443): Max retries exceeded"])
    assert d.branch == "startup_crash"
    assert d.culprit.get("exception") == "ConnectTimeout"
    assert d.evidence[0].line == 4


def test_a_silent_start_is_unhealthy_only_once_its_start_up_window_has_passed() -> None:
    header = "===== Application Startup at 2026-01-10 10:00:00 ====="
    late = diagnose(runtime={"stage": "APP_STARTING"}, run_log=[header, ""], collected_at="2026-01-10T10:45:00+00:00")
    assert late.branch == "unhealthy_startup"  # silent, and past startup_duration_timeout too
    assert late.evidence[0].source == "run_log" and late.evidence[0].text == header
    early = diagnose(runtime={"stage": "APP_STARTING"}, run_log=[header, ""], collected_at="2026-01-10T10:02:00+00:00")
    assert early.branch == "unknown"  # two minutes in: nothing to say yet
    printing = diagnose(runtime={"stage": "APP_STARTING"}, run_log=["Loading model weights..."])
    assert "starting_silently" not in {e.signature for e in printing.evidence}


def test_running_space_with_clean_log_is_healthy() -> None:
    d = diagnose(runtime={"stage": "RUNNING"}, run_log=["===== Application Startup at 2026-01-01 =====",
                                                        "* Running on local URL:  http://0.0.0.0:7860"])
    assert d.branch == "healthy" and d.confidence >= 0.8
    assert d.evidence == [] and d.culprit == {}
    assert "healthy" in render_text(d, color=False).lower()


# -- output, scale, performance -----------------------------------------------------------


def test_confidence_scale_labels() -> None:
    assert [confidence_label(x) for x in (0.95, 0.8, 0.79, 0.5, 0.49, 0.0)] == \
        ["high", "high", "medium", "medium", "low", "low"]


def test_json_shape_and_redaction() -> None:
    d = diagnose(runtime={"stage": "RUNTIME_ERROR"}, run_log=[
        # a fake token (the shape redaction must catch)
        "calling with token hf_abcdefghijklmnopqrstuvwxyz0123", "KeyError: 'HF_TOKEN'"])
    data = json.loads(json.dumps(d.to_dict()))
    assert {"space_id", "branch", "confidence", "evidence", "alternatives", "culprit", "next_step"} <= set(data)
    assert {"source", "line", "text", "signature"} <= set(data["evidence"][0])
    assert "hf_abcdefghij" not in json.dumps(data)
    assert data["next_step"].endswith("remedybot fix alice/demo --dry-run")


def test_render_text_highlights_the_matched_part() -> None:
    d = diagnose(runtime={"stage": "BUILD_ERROR"}, build_log=[
        "E: Package 'libgl1-mesa-glx' has no installation candidate"])
    plain, colored = render_text(d, color=False), render_text(d, color=True)
    assert "build_log:1" in plain and "»E: Package 'libgl1-mesa-glx' has no installation candidate«" in plain
    assert "package=libgl1-mesa-glx" in plain and "Next: remedybot fix alice/demo --dry-run" in plain
    assert "\x1b[" in colored and "\x1b[" not in plain


def test_render_text_keeps_the_logs_escape_sequences_off_the_terminal() -> None:
    """A log's colour codes, cursor moves and carriage returns are the Space's, not ours to replay."""
    d = diagnose(runtime={"stage": "BUILD_ERROR"}, build_log=[
        "\x1b[31mE: Package 'libgl1-mesa-glx' has no installation candidate\x1b[0m\r\x1b[2K\x1b]0;title\x07"])
    plain = render_text(d, color=False)
    assert d.branch == "apt_package" and "\x1b" not in plain and "\r" not in plain and "\x07" not in plain
    assert "E: Package 'libgl1-mesa-glx' has no installation candidate" in plain


def test_large_logs_are_bounded_and_fast() -> None:
    noise = [f"Downloading shard {i}: 45%|████      | 2.1G/4.6G [00:10<00:12, 200MB/s]" for i in range(100_000)]
    evidence = Evidence.from_dict({"space_id": "a/b", "runtime": {"stage": "RUNTIME_ERROR"},
                                   "run_log": [*noise, "ModuleNotFoundError: No module named 'cv2'"]})
    start = time.perf_counter()
    d = classify(evidence)
    assert time.perf_counter() - start < 2.0
    assert d.branch == "dependency" and d.evidence[0].line == 100_001
