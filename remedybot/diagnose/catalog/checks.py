"""The matchers that need Python: comparisons between two pieces of evidence, and config-file rules.

A regex can say "uvicorn listens on 8000"; only code can say "and app_port is
7860". Each check takes the scan Context and returns Findings (where, the line,
the culprit, and a `scale` that lowers the signature's weight when the
evidence is indirect, e.g. read from a Dockerfile rather than seen in the run
log). The signatures that use them, with their branch and weight, are in
signatures.yaml; add a check here only for a new kind of matcher.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from datetime import datetime
from typing import Any

import yaml

from remedybot.core.durations import parse_seconds
from remedybot.diagnose.catalog.context import Context, Finding, SourceText
from remedybot.edits.names import gradio_versions
from remedybot.model.enums import CARD_COLORS as COLORS
from remedybot.model.enums import SDKS

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
ALL_HOSTS = ("0.0.0.0", "::", "[::]", "*", "")
DEFAULT_STARTUP_TIMEOUT = 30 * 60
FLEET_MIN_FAILING = 3
FLEET_MIN_FRACTION = 0.2

# What a server prints once it listens: (regex, whether the host in it is the bind address).
_LISTEN = [
    (re.compile(r"Uvicorn running on (?:https?://)?(?P<host>\[?[\w.:\-]*?\]?):(?P<port>\d{2,5})\b"), True),
    (re.compile(r"Running on (?:local URL:\s*)?https?://(?P<host>[\w.\-]+):(?P<port>\d{2,5})\b"), True),
    (re.compile(r"Listening at: (?:https?://)?(?P<host>[\w.\-]+):(?P<port>\d{2,5})\b"), True),
    (re.compile(r"Serving on https?://(?P<host>[\w.\-]+):(?P<port>\d{2,5})\b"), True),
    (re.compile(r"(?i)\blistening on (?:port\s+)?(?:https?://)?(?:(?P<host>[\w.\-]+)?:)?(?P<port>\d{2,5})\b"), True),
    (re.compile(r"(?i)\b(?:Local|Network|External) URL:\s*https?://(?P<host>[\w.\-]+):(?P<port>\d{2,5})"), False),
    (re.compile(r"(?i)\bLocal:\s+https?://(?P<host>[\w.\-]+):(?P<port>\d{2,5})"), False),
]
_ALL_ADDRESSES = re.compile(r"Running on all addresses|Listening on 0\.0\.0\.0|bound to 0\.0\.0\.0")


def _listeners(ctx: Context) -> list[tuple[int, str | None, int, str, tuple[int, int]]]:
    """(port, host or None, line, text, span) of every "now listening" line in the relevant run log."""
    src = ctx.get("run_log")
    if src is None:
        return []
    found = []
    for index in src.scanned:
        line = src.lines[index]
        if "://" not in line and "istening" not in line:
            continue
        for regex, host_is_bind in _LISTEN:
            mo = regex.search(line)
            if mo:
                host = (mo.group("host") or "") if host_is_bind else None
                found.append((int(mo.group("port")), host, index + 1, line, mo.span()))
                break
    return found


def _expected_port(ctx: Context) -> int | None:
    sdk = ctx.sdk
    if sdk == "docker":
        port = ctx.meta.get("app_port")
        return port if isinstance(port, int) and not isinstance(port, bool) else 7860
    if sdk == "gradio":
        return 7860
    if sdk == "streamlit":
        return 8501
    return None


def app_port_mismatch(ctx: Context) -> list[Finding]:
    """The app listens on a port other than the one Hugging Face checks (run log first, then config)."""
    expected = _expected_port(ctx)
    if expected is None:
        return []
    listeners = _listeners(ctx)
    if listeners:
        if any(port == expected for port, *_ in listeners):
            return []
        port, _host, line, text, span = listeners[-1]
        return [Finding("run_log", line, text, span, {"app_port": expected, "listen_port": port})]
    served = _configured_server(ctx)
    if served is None or served.port is None or served.port == expected:
        return []
    return [Finding(served.source, served.line, served.text, served.span,
                    {"app_port": expected, "listen_port": served.port}, scale=served.scale)]


def localhost_bind(ctx: Context) -> list[Finding]:
    """The app listens only on 127.0.0.1/localhost, which the Spaces proxy cannot reach."""
    listeners = _listeners(ctx)
    src = ctx.get("run_log")
    if listeners:
        hosts = [host for _, host, *_ in listeners if host is not None]
        everywhere = any(h in ALL_HOSTS or h not in LOCAL_HOSTS for h in hosts)
        if src is not None and any(_ALL_ADDRESSES.search(src.lines[i]) for i in src.scanned):
            everywhere = True
        local = [entry for entry in listeners if entry[1] in LOCAL_HOSTS]
        if everywhere or not local:
            return []
        port, host, line, text, span = local[-1]
        return [Finding("run_log", line, text, span, {"host": host, "listen_port": port})]
    served = _configured_server(ctx)
    if served is None or served.host not in LOCAL_HOSTS:
        return []
    return [Finding(served.source, served.line, served.text, served.span,
                    {"host": served.host, "listen_port": served.port}, scale=served.scale)]


class _Served:
    """Where the configuration says the app listens."""

    def __init__(self, source: str, line: int, text: str, span: tuple[int, int] | None, host: str | None,
                 port: int | None, scale: float) -> None:
        self.source, self.line, self.text, self.span = source, line, text, span
        self.host, self.port, self.scale = host, port, scale


_CODE_PORT = re.compile(r"\b(?:server_port|port)\s*=\s*(?P<port>\d{2,5})\b")
_CODE_HOST = re.compile(r"\b(?:server_name|host)\s*=\s*[\"'](?P<host>127\.0\.0\.1|localhost)[\"']")
_CODE_CALL = re.compile(r"\.(?:launch|run)\(|uvicorn\.run\(|\bserve\(")
_FLASK_DEFAULT = re.compile(r"\bapp\.run\(\s*(?:debug\s*=\s*\w+\s*)?\)")


def _configured_server(ctx: Context) -> _Served | None:
    """The listen address the Dockerfile's CMD (or the app code) sets, with its defaults applied."""
    dockerfile = ctx.get("files/Dockerfile")
    if ctx.sdk == "docker" and dockerfile is not None:
        served = _dockerfile_server(dockerfile)
        if served is not None:
            return served
    for name, src in ctx.sources.items():
        if not name.endswith(".py") or not name.startswith("files/"):
            continue
        for index, line in enumerate(src.lines):
            if not _CODE_CALL.search(line) or line.lstrip().startswith("#"):
                continue
            port_mo, host_mo = _CODE_PORT.search(line), _CODE_HOST.search(line)
            if _FLASK_DEFAULT.search(line) and ctx.sdk == "docker":
                return _Served(name, index + 1, line, None, "127.0.0.1", 5000, 0.6)
            if port_mo or host_mo:
                mo = port_mo or host_mo
                assert mo is not None
                return _Served(name, index + 1, line, mo.span(), host_mo.group("host") if host_mo else None,
                               int(port_mo.group("port")) if port_mo else None, 0.75)
    return None


def _dockerfile_server(src: SourceText) -> _Served | None:
    env: dict[str, str] = {}
    command: tuple[int, str] | None = None
    for index, line in _instructions(src.lines):
        keyword, _, rest = line.strip().partition(" ")
        keyword = keyword.upper()
        if keyword in ("ENV", "ARG"):
            env.update(_env_pairs(rest))
        elif keyword in ("CMD", "ENTRYPOINT"):
            command = (index, rest.strip())
    if command is None:
        return None
    index, rest = command
    words = _command_words(rest, env)
    text = src.lines[index]
    served = _server_address(words)
    if served is None:
        return None
    host, port = served
    return _Served(src.name, index + 1, text, None, host, port, 0.8)


def _instructions(lines: list[str]) -> list[tuple[int, str]]:
    """Dockerfile instructions with line continuations joined, each at its first line."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for index, raw in enumerate(lines):
        line = raw.rstrip()
        if pending is None and (not line.strip() or line.lstrip().startswith("#")):
            continue
        start, text = pending if pending is not None else (index, "")
        if line.endswith("\\"):
            pending = (start, text + line[:-1] + " ")
            continue
        out.append((start, text + line))
        pending = None
    if pending is not None:
        out.append(pending)
    return out


def _env_pairs(rest: str) -> dict[str, str]:
    rest = rest.strip()
    if "=" not in rest.split(" ", 1)[0]:
        key, _, value = rest.partition(" ")
        return {key: value.strip().strip("\"'")}
    try:
        parts = shlex.split(rest)
    except ValueError:
        parts = rest.split()
    return {k: v for k, _, v in (p.partition("=") for p in parts if "=" in p)}


_VAR = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)")


def _command_words(rest: str, env: dict[str, str]) -> list[str]:
    def sub(mo: re.Match[str]) -> str:
        name = mo.group(1) or mo.group(3)
        return env.get(name) or mo.group(2) or ""

    if rest.startswith("["):
        try:
            words = yaml.safe_load(rest)
        except yaml.YAMLError:
            words = None
        if isinstance(words, list):
            rest = " ".join(str(w) for w in words)
    rest = _VAR.sub(sub, rest)
    try:
        return shlex.split(rest)
    except ValueError:
        return rest.split()


def _option(words: list[str], *names: str) -> str | None:
    for index, word in enumerate(words):
        for name in names:
            if word == name and index + 1 < len(words):
                return words[index + 1]
            if word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def _server_address(words: list[str]) -> tuple[str | None, int | None] | None:
    """(host, port) a server command binds, using each server's own defaults."""
    flat = [w.rsplit("/", 1)[-1] for w in words]
    if "uvicorn" in flat or "fastapi" in flat:
        host = _option(words, "--host") or ("0.0.0.0" if "fastapi" in flat and "run" in flat else "127.0.0.1")
        return host, _int(_option(words, "--port")) or 8000
    if "gunicorn" in flat:
        bind = _option(words, "-b", "--bind") or "127.0.0.1:8000"
        host, _, port = bind.rpartition(":")
        return (host if bind.count(":") else bind), _int(port) or 8000
    if "streamlit" in flat:
        return _option(words, "--server.address") or "0.0.0.0", _int(_option(words, "--server.port")) or 8501
    if "flask" in flat and "run" in flat:
        return _option(words, "--host", "-h") or "127.0.0.1", _int(_option(words, "--port", "-p")) or 5000
    if "http.server" in words:
        after = words[words.index("http.server") + 1:]
        return _option(words, "--bind", "-b") or "0.0.0.0", next((_int(w) for w in after if _int(w)), 8000)
    return None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 0 < int(value) < 65536 else None


# -- README rules ---------------------------------------------------------------------


def _readme_line(ctx: Context, key: str) -> tuple[int, str, tuple[int, int] | None]:
    src = ctx.get("files/README.md")
    if src is not None:
        for index, line in enumerate(src.lines[:200]):
            if line.startswith(f"{key}:"):
                value_start = len(key) + 1 + (len(line[len(key) + 1:]) - len(line[len(key) + 1:].lstrip()))
                return index + 1, line, (value_start, len(line.rstrip()))
    return 1, f"{key}: {ctx.meta.get(key)}", None


def _gradio_versions() -> dict[str, Any]:
    return gradio_versions()


_VERSION = re.compile(r"^(?P<major>\d+)\.(?P<minor>\d+)(?:\.\d+)?(?:(?:\.?(?:dev|post)|a|b|rc)\d*)?$")


def sdk_version_unknown(ctx: Context) -> list[Finding]:
    """The README pins a Gradio sdk_version that was never released (or cannot be a version)."""
    if ctx.sdk != "gradio" or "sdk_version" not in ctx.meta:
        return []
    raw = ctx.meta.get("sdk_version")
    version = str(raw).strip()
    table = _gradio_versions()
    series = {int(k): int(v) for k, v in table["series"].items()}
    latest_major = max(series)
    mo = _VERSION.match(version)
    scale = 0.0
    if mo is None:
        scale = 1.0
    else:
        major, minor = int(mo["major"]), int(mo["minor"])
        if major > latest_major + 1:
            scale = 1.0
        elif major == latest_major + 1:
            scale = 0.5  # maybe released after the table was written
        elif major in series and minor > series[major]:
            recent = major == latest_major and minor <= series[major] + table["future_minor_margin"]
            scale = 0.4 if recent else 1.0
    if scale == 0.0:
        return []
    line, text, span = _readme_line(ctx, "sdk_version")
    return [Finding("files/README.md", line, text, span, {"sdk_version": version, "latest_known": table["latest"]},
                    scale=scale)]


def readme_invalid(ctx: Context) -> list[Finding]:
    """The README front matter cannot be read, or a key has a value the Hub rejects."""
    fm = ctx.front_matter
    if fm["error"] and "files/README.md" in ctx.sources:
        src = ctx.sources["files/README.md"]
        line = fm["error_line"] or 1
        text = src.lines[line - 1] if 0 < line <= len(src.lines) else ""
        return [Finding("files/README.md", line, text, None, {"problem": fm["error"]})]
    meta = fm["meta"]
    if not fm["found"]:
        return []
    problems: list[tuple[str, str]] = []
    sdk = meta.get("sdk")
    if sdk is None:
        problems.append(("sdk", '"sdk" is required'))
    elif sdk not in SDKS:
        problems.append(("sdk", f'"sdk" must be one of [{", ".join(SDKS)}]'))
    port = meta.get("app_port")
    if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536):
        problems.append(("app_port", '"app_port" must be a valid port number'))
    for key in ("colorFrom", "colorTo"):
        if key in meta and meta[key] not in COLORS:
            problems.append((key, f'"{key}" must be one of [{", ".join(COLORS)}]'))
    python = meta.get("python_version")
    if isinstance(python, float):
        problems.append(("python_version", f"python_version {python} is a YAML number (3.10 reads as 3.1); "
                                           "quote it"))
    elif python is not None and not re.match(r"^3\.\d{1,2}(\.\d{1,2})?$", str(python)):
        problems.append(("python_version", f"python_version {python!r} is not a Python 3 version"))
    out = []
    for key, problem in problems:
        line, text, span = _readme_line(ctx, key)
        out.append(Finding("files/README.md", line, text, span, {"field": key, "problem": problem}))
    return out


def app_file_missing(ctx: Context) -> list[Finding]:
    """The app_file the README names (default app.py) is not among the repo's files."""
    siblings = (ctx.evidence.info or {}).get("siblings")
    if ctx.sdk not in ("gradio", "streamlit") or not isinstance(siblings, list) or not siblings:
        return []
    names = {s.get("rfilename") if isinstance(s, dict) else str(s) for s in siblings}
    app_file = str(ctx.meta.get("app_file") or "app.py")
    if app_file in names:
        return []
    line, text, span = _readme_line(ctx, "app_file") if "app_file" in ctx.meta else (1, f"app_file: {app_file}", None)
    source = "files/README.md" if "app_file" in ctx.meta and "files/README.md" in ctx.sources else "info.siblings"
    return [Finding(source, line, text, span, {"app_file": app_file, "files": sorted(n for n in names if n)[:20]})]


# -- stage and time -------------------------------------------------------------------

_STEP_FAILED = re.compile(r"(?:Job|Build) failed with exit code:? *[1-9]\d*", re.I)
_QUEUED = re.compile(r"^(=====.*=====|\s*|Build [Qq]ueued.*|Waiting for .*|Preparing.*|Scheduling.*)$")
_SILENT = re.compile(r"^(=====.*|\s*)$")  # a run log with nothing but its start-up header and blank lines


def _not_collected(ctx: Context, key: str, scale: float = 1.0) -> list[Finding]:
    """The stage alone, when the log that would say more could not be read (with the reason, if known)."""
    why = ctx.evidence.missing.get(key)
    text = f"{ctx.stage} ({key.replace('_', ' ')} not collected{': ' + why if why else ''})"
    return [Finding("runtime.stage", 1, text, None, {}, scale=scale)]


def _silent_since_header(src: SourceText, quiet: re.Pattern[str]) -> tuple[bool, int | None]:
    """Whether the current segment holds only `quiet` lines, and the index of its "=====" header if any."""
    rows = range(src.segment_start, len(src.lines))
    if any(not quiet.match(src.lines[i]) for i in rows):
        return False, None
    return True, next((i for i in rows if src.lines[i].startswith("=====")), None)


def build_not_progressing(ctx: Context) -> list[Finding]:
    """BUILDING (or failed before any step ran), and the build log holds nothing but the queued header."""
    if ctx.stage not in ("BUILDING", "RUNNING_BUILDING", "BUILD_ERROR"):
        return []
    src = ctx.get("build_log")
    scale = 0.75 if ctx.stage == "BUILD_ERROR" else 1.0
    if src is None and ctx.stage == "BUILD_ERROR":
        return []
    if ctx.stage == "BUILD_ERROR" and _STEP_FAILED.search(ctx.evidence.error_message or ""):
        return []  # a build step ran and exited non-zero: its output is lost, not absent (a generic exit code)
    if src is None:
        return _not_collected(ctx, "build_log", scale=0.7)
    silent, header = _silent_since_header(src, _QUEUED)
    if not silent:
        return []
    if header is None:
        return [Finding("runtime.stage", 1, f"{ctx.stage} (build log empty)", None, {}, scale=scale)]
    return [Finding("build_log", header + 1, src.lines[header], None, {}, scale=scale)]


def starting_without_output(ctx: Context) -> list[Finding]:
    """Starting, the app silent since its start-up header (past the start-up window), or no run log readable.

    Stage-only evidence, like a silent build: the Space never became healthy and nothing says why.
    Anything the app did print goes to the specific checks instead (ports, slow start, a crash).
    """
    if ctx.stage not in ("APP_STARTING", "RUNNING_APP_STARTING"):
        return []
    src = ctx.get("run_log")
    if src is None:
        return _not_collected(ctx, "run_log")
    silent, header = _silent_since_header(src, _SILENT)
    if not silent or header is None:
        return []  # the app printed something (the specific checks read it), or it has not even started
    elapsed = _starting_for(ctx, src.lines[header])
    if elapsed is not None and elapsed <= _startup_timeout(ctx):
        return []  # started recently: still inside its start-up window, nothing to say yet
    return [Finding("run_log", header + 1, src.lines[header], None, {})]


def docker_starting_without_output(ctx: Context) -> list[Finding]:
    """A Docker Space starting silently: there the owner picks the port, so it is often not the one checked."""
    return starting_without_output(ctx) if ctx.sdk == "docker" else []


def running_unobserved(ctx: Context) -> list[Finding]:
    """RUNNING, but neither a run log line nor the app's own answer was read: nothing shows it serves.

    A Space can say RUNNING while its visitors see "Preparing Space" or a 503; the stage alone does not
    tell the two apart (a Space that printed and answered does: the other checks and signatures read it).
    A run log whose absence the evidence explains (`missing`: unreadable, or left out on purpose by a fleet
    scan's listing shortcut) is not an observation either way, and the stage stands as before.
    """
    if ctx.stage != "RUNNING" or ctx.get("app_probe") is not None:
        return []
    src = ctx.get("run_log")
    if src is not None and any(src.lines[i].strip() for i in src.scanned):
        return []
    if src is None and "run_log" in ctx.evidence.missing:
        return []
    state = "no run log" if src is None else "run log empty"
    return [Finding("runtime.stage", 1, f"{ctx.stage} ({state}, no answer from the app read)", None, {})]


_STAMP = re.compile(r"===== Application Startup at (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})")


def startup_too_long(ctx: Context) -> list[Finding]:
    """Still starting, longer than startup_duration_timeout after the start-up header."""
    src = ctx.get("run_log")
    if ctx.stage not in ("APP_STARTING", "RUNNING_APP_STARTING") or src is None or not ctx.evidence.collected_at:
        return []
    index = src.segment_start
    elapsed = _starting_for(ctx, src.lines[index]) if index < len(src.lines) else None
    timeout = _startup_timeout(ctx)
    if elapsed is None or elapsed <= timeout:
        return []
    return [Finding("run_log", index + 1, src.lines[index], None,
                    {"starting_minutes": int(elapsed // 60), "timeout_minutes": int(timeout // 60)})]


def _starting_for(ctx: Context, header: str) -> float | None:
    """Seconds from the run log's start-up header to the time the evidence was collected, if both are known."""
    mo = _STAMP.search(header)
    if mo is None or not ctx.evidence.collected_at:
        return None
    try:
        started = datetime.fromisoformat(mo.group(1) + "+00:00")
        now = datetime.fromisoformat(ctx.evidence.collected_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (now - started).total_seconds()


def _startup_timeout(ctx: Context) -> float:
    return _duration(ctx.meta.get("startup_duration_timeout")) or DEFAULT_STARTUP_TIMEOUT


def _duration(value: Any) -> float | None:
    return parse_seconds(value, bare_unit="s")  # the Hub reads a bare number as seconds


# -- fleet and storage ----------------------------------------------------------------


def fleet_same_failure(ctx: Context) -> list[Finding]:
    """Many Spaces of the fleet fail the same way at once: a platform problem, not this Space."""
    fleet = ctx.evidence.fleet or {}
    checked, failing = fleet.get("spaces_checked"), fleet.get("spaces_failing_same_way")
    if not isinstance(checked, int) or not isinstance(failing, int) or checked <= 0:
        return []
    if failing < FLEET_MIN_FAILING or failing / checked < FLEET_MIN_FRACTION:
        return []
    text = f"{failing} of {checked} Spaces failing the same way"
    return [Finding("fleet", 1, text, (0, len(text)), {"spaces_failing": failing, "spaces_checked": checked})]


def storage_over_limit(ctx: Context) -> list[Finding]:
    """The repo's stored size is at or near its storage limit."""
    storage = ctx.evidence.storage or {}
    used = storage.get("used_storage")
    if used is None:
        used = (ctx.evidence.info or {}).get("usedStorage")
    limit = storage.get("limit")
    if not isinstance(used, int | float) or not isinstance(limit, int | float) or limit <= 0:
        return []
    ratio = used / limit
    if ratio < 0.9:
        return []
    text = f"used_storage {used} of limit {limit} ({ratio:.0%})"
    return [Finding("storage", 1, text, (0, len(text)), {"used_storage": used, "limit": limit},
                    scale=1.0 if ratio >= 1.0 else 0.6)]


CHECKS: dict[str, Callable[[Context], list[Finding]]] = {
    "app_port_mismatch": app_port_mismatch,
    "localhost_bind": localhost_bind,
    "sdk_version_unknown": sdk_version_unknown,
    "readme_invalid": readme_invalid,
    "app_file_missing": app_file_missing,
    "build_not_progressing": build_not_progressing,
    "startup_too_long": startup_too_long,
    "starting_without_output": starting_without_output,
    "fleet_same_failure": fleet_same_failure,
    "storage_over_limit": storage_over_limit,
    "running_unobserved": running_unobserved,
    "docker_starting_without_output": docker_starting_without_output,
}
