"""The sandbox's simulated builder: what a build of a Space does, as a pure function.

A commit, push, restart, factory rebuild or hardware change starts a build.
`simulate_build` turns the repo's files at HEAD plus the scenario's
conditions into a timeline: the stages the Space goes through (BUILDING →
APP_STARTING → RUNNING, or an error stage), the errorMessage the runtime
reports, and the build and run log lines with their times. The state layer
stores the result and reads it at the current simulated time, so nothing
here knows about clocks, HTTP or git.

Outcomes follow from the files wherever a real build would find the
problem in them (a module missing from requirements.txt, an apt package
Debian dropped, a port other than app_port, a broken supervisord.conf, bad
README YAML), so a playbook's fix really changes the outcome. Conditions
cover only what files cannot say: a wedged builder, no GPU capacity, an
abuse block, memory use, a slow start, a platform incident, an unexplained
failure. `apply_trigger` holds the rules for which triggers clear which
conditions (a factory rebuild unwedges a Space; nothing lifts an abuse block).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.utils import canonicalize_name

from remedybot.sandbox import buildlog as bl
from remedybot.sandbox import launch, pkgindex
from remedybot.sandbox.buildlog import LogLine, LogWriter
from remedybot.sandbox.hardware import Flavor
from remedybot.sandbox.launch import Listener
from remedybot.sandbox.pysource import downloaded_repos
from remedybot.sandbox.requirements import Resolution, resolve
from remedybot.sandbox.spacefiles import SpaceFiles, rules
from remedybot.sandbox.startup import crash_report

__all__ = ["BuildContext", "BuildResult", "LogLine", "Phase", "apply_trigger", "simulate_build"]

TRIGGERS = ("create", "commit", "push", "restart", "factory", "hardware", "resume")
ERROR_STAGES = ("BUILD_ERROR", "RUNTIME_ERROR", "CONFIG_ERROR", "NO_APP_FILE", "PAUSED")
_DEFAULT_START = 1768988738.0  # 2026-01-21 09:45:38 UTC, for callers that do not pass started_at
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class BuildContext:
    """Everything a build depends on. The last four fields are optional refinements."""

    space_id: str
    sha: str
    files: Mapping[str, bytes]  # every file at HEAD; LFS files as their pointer text
    hardware: str  # requested flavor
    trigger: str  # create | commit | push | restart | factory | hardware | resume
    conditions: Mapping[str, Any]  # scenario conditions, after apply_trigger
    incident_active: bool  # a platform incident is in progress
    flavors: Mapping[str, Flavor]
    started_at: float | None = None  # simulated epoch of the build start, for the log headers
    used_storage: int | None = None  # repo storage in bytes (git + every LFS object in history)
    storage_limit: int | None = None  # the repo's storage limit in bytes
    env_keys: frozenset[str] = frozenset()  # names of the Space's secrets and variables


@dataclass
class Phase:
    """A stage and how long it lasts in simulated seconds (None: it stays)."""

    stage: str
    duration: float | None


@dataclass
class BuildResult:
    """The whole timeline of one build, read at any elapsed time."""

    phases: list[Phase]
    error_message: str | None
    build_log: list[LogLine] = field(default_factory=list)
    run_log: list[LogLine] = field(default_factory=list)
    hardware_current: str | None = None  # the flavor actually running (None unless scheduled)

    @property
    def final_stage(self) -> str:
        return self.phases[-1].stage

    @property
    def settles_at(self) -> float | None:
        """Elapsed seconds at which the final stage is reached (None if an earlier stage lasts forever)."""
        total = 0.0
        for phase in self.phases[:-1]:
            if phase.duration is None:
                return None
            total += phase.duration
        return total

    def stage_at(self, elapsed: float) -> str:
        t = 0.0
        for phase in self.phases:
            if phase.duration is None or elapsed < t + phase.duration:
                return phase.stage
            t += phase.duration
        return self.phases[-1].stage

    def logs_at(self, elapsed: float, which: str) -> list[LogLine]:
        """Lines of the "build" or "run" log printed by `elapsed`."""
        if which not in ("build", "run"):
            raise ValueError(f"which must be 'build' or 'run', got {which!r}")
        lines = self.build_log if which == "build" else self.run_log
        return [line for line in lines if line.offset <= elapsed]

    def error_at(self, elapsed: float) -> str | None:
        """The runtime's errorMessage: only once the final (error) stage is reached."""
        settles = self.settles_at
        return self.error_message if settles is not None and elapsed >= settles else None


def apply_trigger(conditions: Mapping[str, Any], trigger: str) -> dict[str, Any]:
    """The conditions after `trigger` (idempotent): e.g. a factory rebuild clears `wedged`.

    A plain restart clears only what lives in the container (`app_hung`); `blocked_rule` is never
    cleared (only Hugging Face lifts a block).
    """
    out = dict(conditions)
    for key in rules()["trigger_clears"].get(trigger, []):
        if key != "blocked_rule":
            out.pop(key, None)
    return out


def simulate_build(ctx: BuildContext) -> BuildResult:
    """The timeline of a build of `ctx.files` under `ctx.conditions` (pure, deterministic).

    Being pure, it is remembered by its whole context: a sandbox restored from a saved state rebuilds every
    Space from the same context (same commit, same start), and reading their sources again (requirements,
    the app's imports) was most of what a restored sandbox spent before it answered. A result is never
    changed after it is made, so the same one is handed out again.
    """
    key = _context_key(ctx)
    with _BUILDS_LOCK:
        known = _BUILDS.get(key)
        if known is not None:
            _BUILDS.move_to_end(key)
            return known
    result = _Build(ctx).run()
    with _BUILDS_LOCK:
        _BUILDS[key] = result
        while len(_BUILDS) > 512:
            _BUILDS.popitem(last=False)
    return result


_BUILDS: OrderedDict[tuple[object, ...], BuildResult] = OrderedDict()
_BUILDS_LOCK = threading.Lock()


def _context_key(ctx: BuildContext) -> tuple[object, ...]:
    files = hashlib.sha256()
    for path in sorted(ctx.files):
        files.update(b"%s\0%d\0" % (path.encode(), len(ctx.files[path])))
        files.update(ctx.files[path])
    return (ctx.space_id, ctx.sha, files.hexdigest(), ctx.hardware, ctx.trigger,
            json.dumps(ctx.conditions, sort_keys=True, default=repr), ctx.incident_active,
            repr(sorted(ctx.flavors.items())), ctx.started_at, ctx.used_storage, ctx.storage_limit,
            tuple(sorted(ctx.env_keys)))


def _format_size(n: int) -> str:
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} B"


class _Build:
    """One build's timeline under construction; `run` returns the BuildResult."""

    def __init__(self, ctx: BuildContext) -> None:
        self.ctx = ctx
        self.cond = ctx.conditions
        self.sf = SpaceFiles(ctx.files)
        self.flavor = ctx.flavors.get(ctx.hardware)
        self.started = ctx.started_at if ctx.started_at is not None else _DEFAULT_START
        self.build = LogWriter()
        self.runlog = LogWriter()
        self.py = self.sf.python_version
        self.versions: dict[str, str] = {}  # distribution -> version installed from the package index

    def result(self, phases: list[Phase], error: str | None = None, scheduled: bool = False) -> BuildResult:
        return BuildResult(phases, error, self.build.lines, self.runlog.lines,
                           self.ctx.hardware if scheduled else None)

    def run(self) -> BuildResult:
        rule = self.cond.get("blocked_rule")
        if rule:
            return self.result([Phase("PAUSED", None)], f"Blocked by abuse-handler by rule: {rule}")
        config_error = self.sf.config_error()
        if config_error:
            return self.result([Phase("CONFIG_ERROR", None)], config_error)
        if self.sf.missing_app():
            return self.result([Phase("NO_APP_FILE", None)])
        self.build.emit(bl.queued_header(self.started, self.ctx.sha))
        self.build.wait(10.0 + bl.digest("queue", self.ctx.sha) % 150 / 10)  # waiting for a builder
        if self.cond.get("wedged"):
            return self.result([Phase("BUILDING", None)])
        limit, used = self.ctx.storage_limit, self.ctx.used_storage
        if limit is not None and used is not None and used > limit:
            return self.clone_failure(limit)
        if self.sf.sdk == "static":
            return self.result([Phase("BUILDING", 3.0), Phase("RUNNING", None)])
        failure = self.docker_steps() if self.sf.sdk == "docker" else self.sdk_steps()
        if failure is not None:
            return failure
        failure = self.finish_image()
        if failure is not None:
            return failure
        build_seconds = round(self.build.t + 1.0, 3)
        if self.ctx.hardware in (self.cond.get("no_capacity") or []) or self.flavor is None:
            return self.result([Phase("BUILDING", build_seconds + 120.0), Phase("RUNTIME_ERROR", None)],
                               "Scheduling failure: not enough hardware capacity")
        return self.start(build_seconds)

    # -- build ------------------------------------------------------------------------
    def clone_failure(self, limit: int) -> BuildResult:
        self.build.emit("Cloning into '/app'...", dt=3.0)
        self.build.emit(f"batch response: Repository storage limit reached (Max: {_format_size(limit)})",
                        f"error: failed to fetch some objects from 'https://huggingface.co/spaces/"
                        f"{self.ctx.space_id}.git/info/lfs'", "Error while cloning repository")
        return self.result([Phase("BUILDING", self.build.t + 1.0), Phase("BUILD_ERROR", None)],
                           "Error while cloning repository")

    def build_error(self, index: int, total: int, instruction: str, code: int) -> BuildResult:
        bl.failed_step(self.build, instruction.removeprefix("RUN ").strip(), code)
        return self.result([Phase("BUILDING", self.build.t + 1.0), Phase("BUILD_ERROR", None)],
                           f"Job failed with exit code: {code}. Reason: cache miss: [{index}/{total}] "
                           f"{instruction}")

    def sdk_steps(self) -> BuildResult | None:
        """The SDK image's fixed steps, then packages.txt and requirements.txt."""
        if self.sf.sdk == "gradio":
            version = self.sf.meta.get("sdk_version", "5.9.1")
            sdk_install = f'RUN pip install --no-cache-dir gradio[oauth]=={version} "uvicorn>=0.14.0" spaces'
        else:
            version = self.sf.meta.get("sdk_version", "1.41.1")
            sdk_install = f"RUN pip install --no-cache-dir streamlit=={version}"
        steps: list[tuple[str, str]] = [
            (f"FROM docker.io/library/python:{self.py}@sha256:{bl.image_digest(self.py)}", "done"),
            ("RUN apt-get update && apt-get install -y git git-lfs ffmpeg libsm6 libxext6 cmake rsync "
             "libgl1 && rm -rf /var/lib/apt/lists/* && git lfs install", "cached"),
            ('RUN pip install --no-cache-dir pip -U && pip install --no-cache-dir datasets '
             '"huggingface-hub>=0.19" "hf-transfer>=0.1.4" "protobuf<4" "click<8.1"', "cached"),
            ("WORKDIR /home/user/app", "cached"), ("RUN useradd -m -u 1000 user", "cached")]
        if "packages.txt" in self.ctx.files:
            steps.append(("RUN --mount=target=/root/packages.txt,source=packages.txt apt-get update && "
                          "xargs -r -a /root/packages.txt apt-get install -y && rm -rf /var/lib/apt/lists/*",
                          "packages"))
        if "requirements.txt" in self.ctx.files:
            steps.append(("RUN --mount=target=/tmp/requirements.txt,source=requirements.txt pip install "
                          "--no-cache-dir -r /tmp/requirements.txt", "requirements"))
        steps += [(sdk_install, "cached"), ("COPY --link --chown=1000 ./ /home/user/app", "done")]
        for index, (instruction, kind) in enumerate(steps, start=1):
            bl.step(self.build, instruction)
            if kind == "cached":
                self.build.emit("CACHED")
            elif kind == "done":
                bl.done(self.build, 0.0 if instruction.startswith("FROM") else 0.1)
            elif kind == "packages":
                if bl.apt_install(self.build, self.sf.packages_txt()):
                    return self.build_error(index, len(steps), instruction, 100)
                bl.done(self.build, 6.0)
            elif self.pip_requirements("/tmp/requirements.txt"):
                bl.done(self.build, 8.0 + bl.digest("pip", self.ctx.sha) % 200 / 10)
            else:
                return self.build_error(index, len(steps), instruction, 1)
        return None

    def docker_steps(self) -> BuildResult | None:
        """The Dockerfile's own steps (FROM, RUN, COPY, ADD, WORKDIR are shown, like BuildKit)."""
        shown = [ins for ins in self.sf.dockerfile if ins.keyword.upper() in ("FROM", "RUN", "COPY", "ADD",
                                                                               "WORKDIR")]
        for index, ins in enumerate(shown, start=1):
            keyword = ins.keyword.upper()
            if keyword == "FROM":
                image = next((word for word in ins.args.split() if not word.startswith("--")), "scratch")
                image = image if "/" in image else f"docker.io/library/{image}"
                bl.step(self.build, f"FROM {image}@sha256:{bl.image_digest(image)}")
                bl.done(self.build, 0.0)
                continue
            bl.step(self.build, f"{keyword} {ins.args}")
            if keyword != "RUN":
                bl.done(self.build, 0.1)
                continue
            ok = True
            apt = self.sf.apt_packages(ins.args)
            if apt:
                ok = not bl.apt_install(self.build, apt)
                if not ok:
                    return self.build_error(index, len(shown), ins.text, 100)
            words = ins.args.split()
            if "-r" in words[:-1] and "install" in words:
                ok = self.pip_requirements(words[words.index("-r") + 1])
            elif self.sf.pip_packages(ins.args):
                bl.pip_install(self.build, [(name, name, None) for name in self.sf.pip_packages(ins.args)],
                               None, set(), self.py)
            if not ok:
                return self.build_error(index, len(shown), ins.text, 1)
            bl.done(self.build, 2.0 + bl.digest(ins.args) % 50 / 10)
        return None

    def pip_requirements(self, source: str) -> bool:
        """pip install -r: the install log, or the resolver's failure (returns False)."""
        candidates = (source.removeprefix("./"), source.rsplit("/", 1)[-1])  # repo path, or copied to WORKDIR
        name = next((c for c in candidates if c in self.ctx.files), "")
        if not name:
            self.build.emit("ERROR: Could not open requirements file: [Errno 2] No such file or directory: "
                            f"'{source}'", *bl.PIP_NOTICE)
            return False
        reqs = self.sf.requirements(name)
        resolution: Resolution = resolve(reqs, source)
        if resolution.invalid is not None:
            line = resolution.invalid
            text = (line.error or "").splitlines()
            self.build.emit(f"ERROR: Invalid requirement: '{line.text}': {text[0] if text else ''}",
                            *text[1:-1], f"{text[-1] if len(text) > 1 else ''} (from line {line.lineno} of "
                            f"{name})", *bl.PIP_NOTICE)
            return False
        if resolution.conflict is not None:
            requested, causes = resolution.conflict
            bl.pip_conflict(self.build, requested, causes)
            return False
        table = rules()
        present = {canonicalize_name(table["import_packages"].get(module, [module])[0])
                   for module in table["preinstalled"].get(self.sf.sdk, [])}
        requested = [(r.text, r.name or r.text, r.lineno) for r in reqs]
        for line in reqs:  # what the package index offered on the build's date (pkgindex.py)
            if line.req is not None and line.name is not None and line.name not in present:
                version = pkgindex.resolve(line.name, str(line.req.specifier), self.started)
                if version is not None:
                    self.versions[line.name] = version
        bl.pip_install(self.build, requested, source, present, self.py, self.versions)
        return True

    def finish_image(self) -> BuildResult | None:
        """preload_from_hub downloads, then pushing the image (where a registry incident bites)."""
        for repo in self.sf.preload:
            bl.step(self.build, f"RUN python -c 'from huggingface_hub import snapshot_download; "
                                f"snapshot_download(\"{repo}\")'")
            self.build.emit(f"Downloading {repo} (preload_from_hub)")
            bl.download_progress(self.build, repo, 90.0, every=30.0)
            bl.done(self.build, 1.0)
        bl.step(self.build, "Pushing image")
        if self.cond.get("platform") == "registry_401" and self.ctx.incident_active:
            self.build.wait(4.0)
            gpu = self.flavor.is_gpu if self.flavor else False
            self.build.emit(bl.registry_push_failure(self.ctx.space_id, self.ctx.sha, gpu))
            return self.result([Phase("BUILDING", self.build.t + 1.0), Phase("BUILD_ERROR", None)],
                               "Unexpected job error")
        bl.done(self.build, 6.0 + bl.digest("push", self.ctx.sha) % 40 / 10)
        bl.step(self.build, "Exporting cache")
        bl.done(self.build, 1.0 + bl.digest("cache", self.ctx.sha) % 30 / 10)
        return None

    # -- start ------------------------------------------------------------------------
    def start(self, build_seconds: float) -> BuildResult:
        run = self.runlog
        run.t = build_seconds + 2.0
        if self.cond.get("unknown"):
            run.emit("", "Failed to retrieve error logs: SSE is not enabled")
            return self.failed_start(build_seconds, 20.0, "Exit code: ?. Reason:")
        run.emit(bl.startup_header(self.started + run.t), "", dt=1.5)
        crash = crash_report(self.sf, self.ctx.env_keys, self.py, self.versions)
        if crash is not None:
            lines, code = crash
            run.emit(*lines)
            tail = "\n".join(lines[-12:])[-1800:]
            reason = f"Exit code: {code}. Reason: {tail}"
            return self.failed_start(build_seconds, run.t - build_seconds, reason)
        sources = self.sf.python_files()
        if any("Chatbot(" in src for src in sources.values()) and self.sf.sdk == "gradio":
            run.emit(bl.DEPRECATIONS[0].format(py=self.py))
        downloads = [repo for src in sources.values() for repo in downloaded_repos(src)]
        if downloads:
            run.emit(bl.DEPRECATIONS[1].format(py=self.py))
        need = float(self.cond.get("memory_gb") or 0)
        if self.flavor is not None and need > self.flavor.ram_gb:
            return self.out_of_memory(build_seconds)
        timeout = self.sf.startup_timeout
        slow = float(self.cond.get("startup_seconds") or 0)
        if downloads and all(repo in self.sf.preload for repo in downloads):
            slow = 0.0  # preload_from_hub moved the download into the build
        if slow:
            for repo in downloads[:1] or ["(initialisation)"]:
                run.emit(f"Downloading {repo} at startup...")
                bl.download_progress(run, repo, min(slow, timeout - 60))
        listener = launch.listener(self.sf) or self._default_listener()
        minutes = f"{timeout / 60:g}"
        timed_out = self.failed_start(build_seconds, timeout,
                                      f"Launch timed out, workload was not healthy after {minutes} min")
        if slow >= timeout:
            return timed_out
        run.t = max(run.t, build_seconds + 4.0 + slow)
        if listener is not None:
            run.emit(*bl.server_start(listener, self.started + run.t), dt=0.3)
        if listener is not None and (listener.port != self.sf.app_port or listener.host in _LOCAL_HOSTS):
            return timed_out
        ready = run.t - build_seconds + 1.0
        return self.result([Phase("BUILDING", build_seconds), Phase("APP_STARTING", ready),
                            Phase("RUNNING", None)], scheduled=True)

    def failed_start(self, build_seconds: float, starting: float, error: str) -> BuildResult:
        """Built and scheduled, APP_STARTING for `starting` seconds, then RUNTIME_ERROR."""
        return self.result([Phase("BUILDING", build_seconds), Phase("APP_STARTING", round(starting, 3)),
                            Phase("RUNTIME_ERROR", None)], error, scheduled=True)

    def _default_listener(self) -> Listener | None:
        if self.sf.sdk == "gradio":
            return Listener("gradio", "0.0.0.0", 7860, self.sf.app_file)
        if self.sf.sdk == "streamlit":
            return Listener("streamlit", "0.0.0.0", 8501, self.sf.app_file)
        return None  # a Docker command we cannot read: assume it serves app_port

    def out_of_memory(self, build_seconds: float) -> BuildResult:
        run = self.runlog
        run.emit("Loading checkpoint shards:   0%|          | 0/4 [00:00<?, ?it/s]", dt=9.2)
        run.emit("Loading checkpoint shards:  25%|██▌       | 1/4 [00:09<00:27,  9.12s/it]", dt=9.1)
        run.emit("Loading checkpoint shards:  50%|█████     | 2/4 [00:18<00:18,  9.05s/it]", dt=6.0)
        assert self.flavor is not None
        return self.failed_start(build_seconds, run.t - build_seconds,
                                 f"Memory limit exceeded ({self.flavor.memory_limit})")
