"""classify() against logs built to mislead it: volume, noise, "error" words, several errors, other languages.

Real build and run logs are mostly noise: pip progress bars, retried
downloads, pip's upgrade notice, deprecation warnings, packages whose names
contain "error", and the app's own chatter, often not in English. The cause is
usually the last fatal line. These tests bury that line and check that the
branch, the culprit and the cited line number survive; and that noise alone,
an empty log or a log that could not be read never produces a confident
specific answer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import pytest

from remedybot.diagnose.catalog.schema import STAGES
from remedybot.diagnose.classify import classify
from remedybot.model.diagnosis import Diagnosis
from remedybot.model.evidence import Evidence

BUILD_HEADER = "===== Build Queued at 2025-04-21 09:12:03 / Commit SHA: 1f2e3d4 ====="
RUN_HEADER = "===== Application Startup at 2025-04-21 09:30:00 ====="
PIP_STEP = "--> RUN pip install --no-cache-dir -r requirements.txt"

# Non-fatal build-log lines, many with "error" in them; none of them may decide a branch.
BUILD_NOISE: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"Collecting {r.choice(('torch', 'errorhandler', 'pyerrors', 'gradio'))}>=1.{r.randint(0, 9)}",
    lambda r: f"  Downloading transformers-4.{r.randint(30, 50)}.0-py3-none-any.whl ({r.randint(1, 900)}.4 MB)",
    lambda r: f"     {'━' * r.randint(1, 40)}   {r.randint(1, 99)}.1/120.0 MB 31.2 MB/s eta 0:00:0{r.randint(1, 9)}",
    lambda r: "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after "
              "connection broken by 'ReadTimeoutError(\"HTTPSConnectionPool(host='files.pythonhosted.org', "
              "port=443): Read timed out. (read timeout=15)\")': /packages/torch.whl",
    lambda r: "[notice] A new release of pip is available: 23.0.1 -> 25.3",
    lambda r: "[notice] To update, run: pip install --upgrade pip",
    lambda r: "Requirement already satisfied: numpy in /usr/local/lib/python3.10/site-packages (1.26.4)",
    lambda r: "/usr/local/lib/python3.10/site-packages/pandas/io/parsers.py:12: FutureWarning: error_bad_lines "
              "is deprecated and will be removed in a future version",
    lambda r: "  Building wheel for pyerrors (setup.py): finished with status 'done'",
    lambda r: "Get:12 http://deb.debian.org/debian bookworm/main amd64 liberror-perl all 0.17029-2 [30.5 kB]",
    lambda r: "Setting up liberror-perl (0.17029-2) ...",
    lambda r: "WARNING: error reporting is disabled for this build (set SENTRY_DSN to enable)",
    lambda r: "0 errors, 3 warnings generated.",
    lambda r: "ERROR: pip's dependency resolver does not currently take into account all the packages that are "
              "installed. This behaviour is the source of the following dependency conflicts.",
    lambda r: "warning: no previously-included files matching '*.error' found anywhere in distribution",
    lambda r: "npm warn deprecated inflight@1.0.6: This module is not supported, and leaks memory.",
    lambda r: "UserWarning: error loading optional plugin 'fancy'; continuing without it",
    lambda r: "WARNING: Running pip as the 'root' user can result in broken permissions",
)

# Non-fatal run-log lines while a model downloads: progress, retried and resumed downloads, warnings.
RUN_NOISE: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"model-0000{r.randint(1, 4)}-of-00004.safetensors: {r.randint(0, 99)}%|████▌     | "
              f"{r.randint(0, 4)}.25G/5.00G [00:12<00:15, 180MB/s]",
    lambda r: "Error while downloading from https://cdn-lfs.hf.co/repos/ab/cd/model.safetensors: "
              "HTTPSConnectionPool(host='cdn-lfs.hf.co', port=443): Read timed out.",
    lambda r: "Trying to resume download...",
    lambda r: f"Retrying in {r.randint(1, 8)}s [Retry {r.randint(1, 5)}/5].",
    lambda r: "/usr/local/lib/python3.10/site-packages/transformers/utils/generic.py:441: UserWarning: "
              "torch.utils._pytree._register_pytree_node is deprecated.",
    lambda r: "Error while sending telemetry: connection refused",
)

# The app's own chatter around the real error, with the local words for "error" and "warning".
FOREIGN_BEFORE = (
    "正在加载模型，请稍候……", "错误：无法连接到数据库，正在重试（第 1 次）", "警告：未找到 GPU，将使用 CPU 运行",
    "モデルを読み込んでいます…", "エラー: キャッシュが見つかりません。再ダウンロードします",
    "警告：GPU が利用できません",
    "Cargando el modelo, por favor espere...", "Error al conectar con la base de datos, reintentando (1/3)",
    "Error: no se pudo leer config.json, usando valores por defecto",
    "Загрузка модели...", "Ошибка: не удалось подключиться к серверу, повтор через 5 секунд",
    "ОШИБКА при чтении кэша — пропускаем",
)
FOREIGN_AFTER = ("程序已退出。", "アプリケーションを終了します", "Cerrando la aplicación.", "Завершение работы.")


def noise(kinds: tuple[Callable[[random.Random], str], ...], count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(kinds)(rng) for _ in range(count)]


def diagnose(**evidence: Any) -> Diagnosis:
    return classify(Evidence.from_dict({"space_id": "alice/demo", **evidence}))


def cited(d: Diagnosis) -> list[tuple[str, int]]:
    return [(e.source, e.line) for e in d.evidence]


def assert_decided_by(d: Diagnosis, branch: str, source: str, line: int, culprit: dict[str, Any]) -> None:
    assert d.branch == branch, d.to_dict()
    assert d.confidence_label == "high", d.to_dict()
    assert (source, line) == cited(d)[0], cited(d)
    assert d.culprit.items() >= culprit.items(), d.culprit


# -- the real error at the end of 20 000 lines of noise -------------------------------------


@pytest.mark.parametrize("tail, branch, culprit", [
    (["ERROR: Could not find a version that satisfies the requirement torch==9.9.9 (from versions: 2.0.0, 2.1.0)",
      "ERROR: No matching distribution found for torch==9.9.9",
      '--> ERROR: process "/bin/sh -c pip install --no-cache-dir -r requirements.txt" did not complete '
      "successfully: exit code: 1"], "dependency", {"package": "torch==9.9.9"}),
    (["E: Package 'libgl1-mesa-glx' has no installation candidate",
      '--> ERROR: process "/bin/sh -c apt-get install -y libgl1-mesa-glx" did not complete successfully: '
      "exit code: 100"], "apt_package", {"package": "libgl1-mesa-glx"}),
])
def test_real_build_error_after_20000_noisy_lines(tail: list[str], branch: str, culprit: dict[str, Any]) -> None:
    log = [BUILD_HEADER, PIP_STEP, *noise(BUILD_NOISE, 20_000), *tail]
    start = time.perf_counter()
    d = diagnose(runtime={"stage": "BUILD_ERROR", "errorMessage": "Build failed"}, build_log=log)
    elapsed = time.perf_counter() - start
    assert d.branch == branch and d.confidence_label == "high", d.to_dict()
    assert d.culprit.items() >= culprit.items()
    assert all(source == "build_log" and line > 20_002 for source, line in cited(d))  # only the tail is cited
    assert d.evidence[0].text == log[d.evidence[0].line - 1]
    assert elapsed < 2.0, f"classifying 20 000 lines took {elapsed:.2f}s"


def test_real_run_error_after_20000_lines_of_download_noise() -> None:
    log = [RUN_HEADER, *noise(RUN_NOISE, 20_000), "Traceback (most recent call last):",
           '  File "/home/user/app/app.py", line 3, in <module>', "    import flash_attn",
           "ModuleNotFoundError: No module named 'flash_attn'"]
    d = diagnose(runtime={"stage": "RUNTIME_ERROR"}, run_log=log)
    assert_decided_by(d, "dependency", "run_log", len(log), {"module": "flash_attn"})


@pytest.mark.parametrize("stage, branch", [("BUILD_ERROR", "unknown"), ("RUNNING", "healthy")])
def test_20000_lines_of_noise_alone_decide_nothing(stage: str, branch: str) -> None:
    d = diagnose(runtime={"stage": stage}, build_log=[BUILD_HEADER, PIP_STEP, *noise(BUILD_NOISE, 20_000, seed=1)],
                 run_log=[RUN_HEADER, *noise(RUN_NOISE, 2_000, seed=2)])
    assert d.branch == branch, d.to_dict()
    assert d.evidence == [] and d.alternatives == []
    if branch == "unknown":
        assert d.confidence_label == "low"


# -- warnings that contain the word "error" --------------------------------------------------


@pytest.mark.parametrize("line", [kind(random.Random(0)) for kind in BUILD_NOISE + RUN_NOISE],
                         ids=[f"noise{i}" for i in range(len(BUILD_NOISE + RUN_NOISE))])
def test_each_error_word_warning_is_not_evidence(line: str) -> None:
    for stage, log in (("BUILD_ERROR", "build_log"), ("RUNTIME_ERROR", "run_log")):
        d = diagnose(runtime={"stage": stage}, **{log: [line] * 3})
        assert d.branch == "unknown" and d.confidence_label == "low", (line, d.to_dict())
        assert d.evidence == [], (line, cited(d))


def test_error_word_warnings_after_the_real_error_do_not_take_over() -> None:
    log = [PIP_STEP, "ERROR: No matching distribution found for gradio==99.0",
           *[kind(random.Random(3)) for kind in BUILD_NOISE]]
    d = diagnose(runtime={"stage": "BUILD_ERROR"}, build_log=log)
    assert_decided_by(d, "dependency", "build_log", 2, {"package": "gradio==99.0"})


# -- two fatal errors: the last one is the cause ---------------------------------------------


@pytest.mark.parametrize("stage, source, log, branch, line, culprit", [
    ("BUILD_ERROR", "build_log",
     ["--> RUN pip install -r requirements.txt", "ERROR: No matching distribution found for torch==9.9.9",
      "--> RUN apt-get install -y libgl1-mesa-glx", "E: Package 'libgl1-mesa-glx' has no installation candidate",
      '--> ERROR: process "/bin/sh -c apt-get install -y libgl1-mesa-glx" did not complete successfully: '
      "exit code: 100"],
     "apt_package", 4, {"package": "libgl1-mesa-glx"}),
    ("BUILD_ERROR", "build_log",
     ["--> RUN apt-get install -y libgl1-mesa-glx || true",
      "E: Package 'libgl1-mesa-glx' has no installation candidate",
      "--> RUN pip install -r requirements.txt", "ERROR: No matching distribution found for torch==9.9.9"],
     "dependency", 4, {"package": "torch==9.9.9"}),
    ("BUILD_ERROR", "build_log",  # an earlier attempt's failure, then this attempt's
     [BUILD_HEADER.replace("1f2e3d4", "0000000"), "E: Package 'libgl1-mesa-glx' has no installation candidate",
      BUILD_HEADER, PIP_STEP, "ERROR: No matching distribution found for torch==9.9.9"],
     "dependency", 5, {"package": "torch==9.9.9"}),
    ("RUNTIME_ERROR", "run_log",
     ["Traceback (most recent call last):", "ModuleNotFoundError: No module named 'xformers'",
      "xformers not available, using sdpa attention", "Loading checkpoint shards: 100%", "Killed"],
     "resource_limit", 5, {}),
    ("RUNTIME_ERROR", "run_log",
     ["torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", "retrying on cpu",
      "Traceback (most recent call last):", "ModuleNotFoundError: No module named 'xformers'"],
     "dependency", 4, {"module": "xformers"}),
    ("RUNTIME_ERROR", "run_log",
     ["ModuleNotFoundError: No module named 'spaces'", "falling back to CPU inference",
      "OSError: Cannot find empty port in range: 7860-7860. You can specify a different port by setting the "
      "GRADIO_SERVER_PORT environment variable or passing the `server_port` parameter to `launch()`."],
     "startup_crash", 3, {"port": "7860"}),
])
def test_the_last_fatal_error_is_the_cause(stage: str, source: str, log: list[str], branch: str, line: int,
                                           culprit: dict[str, Any]) -> None:
    d = diagnose(runtime={"stage": stage}, **{source: log})
    assert d.branch == branch, d.to_dict()
    assert cited(d)[0] == (source, line)
    assert d.culprit.items() >= culprit.items(), d.culprit
    if not log[0].startswith("====="):  # the superseded error is still shown, as a runner-up
        assert d.alternatives and d.alternatives[0].confidence < d.confidence


# -- other languages around the real error --------------------------------------------------


@pytest.mark.parametrize("stage, source, error_lines, branch, culprit", [
    ("RUNTIME_ERROR", "run_log",
     ["Traceback (most recent call last):", '  File "/home/user/app/app.py", line 3, in <module>',
      "    import jieba", "ModuleNotFoundError: No module named 'jieba'"], "dependency", {"module": "jieba"}),
    ("RUNTIME_ERROR", "run_log",
     ["Traceback (most recent call last):", "ModuleNotFoundError: No module named '数据处理'"],
     "dependency", {"module": "数据处理"}),
    ("RUNTIME_ERROR", "run_log",
     ["torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of "
      "14.75 GiB"], "resource_limit", {}),
    ("RUNTIME_ERROR", "run_log",
     ["Traceback (most recent call last):", "    model = load('模型/权重.bin')",
      "FileNotFoundError: [Errno 2] No such file or directory: '模型/权重.bin'"],
     "startup_crash", {"exception": "FileNotFoundError"}),
    ("BUILD_ERROR", "build_log", ["E: Package 'libgl1-mesa-glx' has no installation candidate"],
     "apt_package", {"package": "libgl1-mesa-glx"}),
    ("BUILD_ERROR", "build_log", [PIP_STEP, "# 依赖安装：如有错误请联系管理员",
                                  "ERROR: No matching distribution found for paddlepaddle-gpu==9.9"],
     "dependency", {"package": "paddlepaddle-gpu==9.9"}),
])
def test_real_error_among_chinese_japanese_spanish_russian_text(
        stage: str, source: str, error_lines: list[str], branch: str, culprit: dict[str, Any]) -> None:
    log = [*FOREIGN_BEFORE, *error_lines, *FOREIGN_AFTER]
    d = diagnose(runtime={"stage": stage}, **{source: log})
    assert d.branch == branch and d.confidence_label in ("high", "medium"), d.to_dict()
    assert d.culprit.items() >= culprit.items(), d.culprit
    first = d.evidence[0]
    assert first.source == source and len(FOREIGN_BEFORE) < first.line <= len(log) - len(FOREIGN_AFTER)
    assert first.text == log[first.line - 1]
    assert first.span is not None and first.text[first.span[0]:first.span[1]]  # highlight lands on the line


@pytest.mark.parametrize("stage, branch", [("RUNTIME_ERROR", "unknown"), ("BUILD_ERROR", "unknown"),
                                           ("RUNNING", "healthy")])
def test_foreign_error_words_alone_decide_nothing(stage: str, branch: str) -> None:
    d = diagnose(runtime={"stage": stage}, run_log=[*FOREIGN_BEFORE, *FOREIGN_AFTER],
                 build_log=[*FOREIGN_BEFORE, *FOREIGN_AFTER])
    assert d.branch == branch and d.evidence == [], d.to_dict()


def test_ansi_colours_around_the_error_do_not_hide_it() -> None:
    d = diagnose(runtime={"stage": "RUNTIME_ERROR"}, run_log=[
        "\x1b[33mWarning: error cache disabled\x1b[0m", "\x1b[31mTraceback (most recent call last):\x1b[0m",
        "\x1b[1;31mModuleNotFoundError\x1b[0m: No module named 'cv2'"])
    assert_decided_by(d, "dependency", "run_log", 3, {"module": "cv2"})


# -- empty and missing logs, at every stage --------------------------------------------------

# What an empty log (the source answered, nothing in it) means at each stage. RUNNING with nothing printed and
# no answer from the app read is not shown to be healthy (visitors may see "Preparing Space"); PAUSED without a
# reason is read as a pause by Hugging Face, the harmless reading (escalate only), at low confidence.
EMPTY_LOGS = {
    "NO_APP_FILE": "config_error", "CONFIG_ERROR": "config_error",
    "BUILDING": "wedged_space", "RUNNING_BUILDING": "wedged_space", "BUILD_ERROR": "wedged_space",
    "RUNNING": "unknown", "SLEEPING": "healthy",
    "RUNTIME_ERROR": "unknown", "APP_STARTING": "unknown", "RUNNING_APP_STARTING": "unknown",
    "PAUSED": "policy_block", "STOPPED": "unknown", "DELETING": "unknown",
}


def test_every_stage_has_an_expectation() -> None:
    assert set(EMPTY_LOGS) == set(STAGES)


@pytest.mark.parametrize("stage", [*STAGES, "SOME_NEW_STAGE", None])
@pytest.mark.parametrize("logs", [{"build_log": [], "run_log": []}, {"build_log": [""], "run_log": ["", "   "]}],
                         ids=["empty", "blank-lines"])
def test_empty_logs_at_each_stage(stage: str | None, logs: dict[str, list[str]]) -> None:
    d = diagnose(runtime={"stage": stage} if stage else None, **logs)
    expected = EMPTY_LOGS.get(stage or "", "unknown")
    assert d.branch == expected, d.to_dict()
    assert all(e.source not in ("build_log", "run_log") for e in d.evidence)  # nothing to cite in an empty log
    if expected in ("unknown", "policy_block"):
        assert d.confidence_label == "low" and d.would_decide
    if stage in ("RUNNING", "PAUSED"):
        assert "wedged_space" in {a.branch for a in d.alternatives}
    if expected == "wedged_space" and stage == "BUILD_ERROR":
        assert d.confidence_label == "medium"  # failed with no output: a wedge, but said less surely


@pytest.mark.parametrize("stage", [*STAGES, "SOME_NEW_STAGE", None])
def test_missing_logs_at_each_stage(stage: str | None) -> None:
    """Logs that could not be read (None, with the reason) are not empty logs: no confident stage-only guess."""
    missing = {"build_log": "403: read access only", "run_log": "403: read access only"}
    d = diagnose(runtime={"stage": stage} if stage else None, missing=missing)
    assert d.missing == missing
    if stage in ("NO_APP_FILE", "CONFIG_ERROR"):
        assert d.branch == "config_error"  # the stage alone says it
    elif stage in ("RUNNING", "SLEEPING"):  # an unreadable run log is no observation: the stage stands
        assert d.branch == "healthy"
    elif stage == "PAUSED":
        assert d.branch == "policy_block" and d.confidence_label == "low"
        assert [a.branch for a in d.alternatives] == ["wedged_space"]
    elif stage in ("BUILDING", "RUNNING_BUILDING"):
        assert d.branch == "wedged_space" and d.confidence_label == "low"
        assert "not collected" in d.evidence[0].text and "403" in d.evidence[0].text
    elif stage in ("APP_STARTING", "RUNNING_APP_STARTING"):
        assert d.branch == "unhealthy_startup" and d.confidence_label == "low"
        assert "not collected" in d.evidence[0].text and "403" in d.evidence[0].text
        assert "port_mismatch" in {a.branch for a in d.alternatives}
    else:
        assert d.branch == "unknown" and d.confidence_label == "low", d.to_dict()
    assert all(e.source not in ("build_log", "run_log") for e in d.evidence)


@pytest.mark.parametrize("stage, present, line, branch", [
    ("BUILD_ERROR", {"run_log": ["ModuleNotFoundError: No module named 'cv2'"]}, "build_log", "dependency"),
    ("RUNTIME_ERROR", {"build_log": ["E: Package 'libgl1-mesa-glx' has no installation candidate"]}, "run_log",
     "apt_package"),
])
def test_a_stale_log_never_decides_confidently_when_the_current_one_is_missing(
        stage: str, present: dict[str, list[str]], line: str, branch: str) -> None:
    d = diagnose(runtime={"stage": stage}, missing={line: "403"}, **present)
    assert d.branch in (branch, "unknown") and d.confidence_label == "low", d.to_dict()


def test_missing_logs_but_the_platform_verdict_still_decides() -> None:
    d = diagnose(runtime={"stage": "RUNTIME_ERROR",
                          "errorMessage": "Exit code: 1. Reason: ModuleNotFoundError: No module named 'cv2'"},
                 missing={"build_log": "403", "run_log": "403"})
    assert_decided_by(d, "dependency", "runtime.errorMessage", 1, {"module": "cv2"})


def test_no_runtime_at_all_uses_whatever_log_there_is() -> None:
    d = diagnose(build_log=["E: Package 'libgl1-mesa-glx' has no installation candidate"],
                 missing={"runtime": "timed out after 20s"})
    assert_decided_by(d, "apt_package", "build_log", 1, {"package": "libgl1-mesa-glx"})
