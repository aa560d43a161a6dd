"""Shared fixtures: a real sandbox Hub on 127.0.0.1 and a client pointed at it.

Every test runs offline: HF_ENDPOINT points at the sandbox, HF_HOME at a
temporary folder (so no real token or cache is read), telemetry is off.

Until a fixture says otherwise, HF_HOME and REMEDYBOT_HOME point into a folder
of this test process's own, so nothing lands in the user's home and pytest-xdist
workers never share a cache or state file.

Every wait in the product (remedybot.core.clock: verification, watch's rounds) runs on the time of the sandbox that
HF_ENDPOINT points at: its sleeps jump that sandbox's simulated clock instead of
waiting (`SimWaits`), so a Space that stays wedged until a 2-second deadline
costs milliseconds, and a build that settles in 60 simulated seconds is seen
after the same polls as before. CLI runs in a subprocess still wait in real time.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Set before anything imports huggingface_hub (its endpoint constant is read at import).
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
os.environ["REMEDYBOT_RETRY_BASE"] = "0.01"
os.environ.pop("HF_TOKEN", None)
# A test that forgets to point at a sandbox finds a closed loopback port, never huggingface.co or its status page.
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"
os.environ["REMEDYBOT_STATUS_URL"] = "http://127.0.0.1:9/index.json"
os.environ["REMEDYBOT_PYPI_URL"] = "http://127.0.0.1:9"  # the package index, unless a sandbox serves it
# huggingface_hub reads its cache folder at import too, so a per-test HF_HOME comes too late for it.
os.environ["HF_HOME"] = os.path.join(tempfile.mkdtemp(prefix="remedybot-tests-"), "hf-home")
os.environ["REMEDYBOT_HOME"] = os.path.join(os.path.dirname(os.environ["HF_HOME"]), "remedybot-home")
os.environ.pop("HF_HUB_CACHE", None)
os.environ.pop("HUGGINGFACE_HUB_CACHE", None)
os.environ.pop("HF_XET_CACHE", None)

from sandboxes import copy_state, point_at

from remedybot.core import clock as clocks
from remedybot.sandbox.clock import SimWaits
from remedybot.sandbox.server import Sandbox

atexit.register(shutil.rmtree, os.path.dirname(os.environ["HF_HOME"]), ignore_errors=True)

_RUNNING: dict[str, Sandbox] = {}  # endpoint -> sandbox started in this process and not yet stopped


class _SandboxTime:
    """The product's clock in tests: SimWaits on the sandbox at HF_ENDPOINT (or the only one), else real time."""

    @staticmethod
    def _clock() -> clocks.Clock:
        sb = _RUNNING.get(os.environ.get("HF_ENDPOINT", ""))
        if sb is None and len(_RUNNING) == 1:  # HF_ENDPOINT names a proxy in front of the one sandbox
            sb = next(iter(_RUNNING.values()))
        return time if sb is None else SimWaits(sb.state.clock)

    def monotonic(self) -> float:
        return self._clock().monotonic()

    def sleep(self, seconds: float, /) -> None:
        self._clock().sleep(seconds)


@pytest.fixture(scope="session", autouse=True)
def _verify_on_sandbox_time() -> Iterator[None]:
    """Track every sandbox this process starts, and let verification wait on the sandbox's clock."""
    start, stop = Sandbox.start, Sandbox.stop

    def tracked_start(self: Sandbox) -> Sandbox:
        started = start(self)
        _RUNNING[self.endpoint] = self
        return started

    def tracked_stop(self: Sandbox) -> None:
        _RUNNING.pop(self.endpoint, None)
        stop(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Sandbox, "start", tracked_start)
        mp.setattr(Sandbox, "stop", tracked_stop)
        previous = clocks.set_clock(_SandboxTime())
        try:
            yield
        finally:
            clocks.set_clock(previous)


@pytest.fixture(scope="session")
def sandbox_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the default scenario world once; each test gets a copy of it."""
    root = tmp_path_factory.mktemp("sandbox-template")
    sb = Sandbox(state_dir=root)
    sb.state.save()
    sb._server.server_close()
    return root


@pytest.fixture
def sandbox(sandbox_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A fresh sandbox Hub with the default demo Spaces, environment pointed at it."""
    state_dir = tmp_path / "hub"
    copy_state(sandbox_template, state_dir)
    with Sandbox(state_dir=state_dir) as sb:
        point_at(sb, tmp_path, monkeypatch)
        yield sb


@pytest.fixture
def empty_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox Hub with only the user 'demo' and no Spaces."""
    with Sandbox(state_dir=tmp_path / "hub", load_default_scenarios=False) as sb:
        point_at(sb, tmp_path, monkeypatch)
        yield sb


@pytest.fixture
def api(sandbox: Sandbox):
    from huggingface_hub import HfApi

    return HfApi(endpoint=sandbox.endpoint, token=sandbox.token)


RAM_TMP_ROOM = 2 * 1024**3  # bytes free on /dev/shm before the suite puts its temporary files there (it uses ~0.6 GB)


def _ram_folder() -> Path | None:
    """A folder for this checkout's test files on /dev/shm, when that is a RAM-backed file system with room."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
        stats = os.statvfs("/dev/shm")
    except OSError:
        return None
    tmpfs = any(line.split()[1:3] == ["/dev/shm", "tmpfs"] for line in mounts if len(line.split()) > 2)
    if not tmpfs or stats.f_bavail * stats.f_frsize < RAM_TMP_ROOM or not os.access("/dev/shm", os.W_OK):
        return None
    checkout = hashlib.sha256(str(Path(__file__).resolve().parent).encode()).hexdigest()[:12]
    return Path("/dev/shm") / f"remedybot-tests-{os.getuid()}-{checkout}"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Temporary files go to RAM when there is room. The suite makes and removes ~180 000 small files (a sandbox
    Hub's repos for most tests); on this project's 2-core CI machine that made the run a fifth slower on disk,
    and left them for the next run to delete. `--basetemp` chooses another folder."""
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        folder = _ram_folder()
        if folder is not None:
            config.option.basetemp = str(folder)
            config.stash[_RAM_TMP] = folder


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After a passing run, give the RAM back; after a failure, keep the files to look at."""
    folder = session.config.stash.get(_RAM_TMP, None)
    if folder is not None and exitstatus == 0:
        shutil.rmtree(folder, ignore_errors=True)


_RAM_TMP = pytest.StashKey[Path]()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the classifier's accuracy on the real corpus when its test ran."""
    import sys

    for name in ("test_classify", "test_real_cases"):
        module = sys.modules.get(name) or sys.modules.get(f"tests.engine.{name}")
        figure = getattr(module, "ACCURACY", {}).get("corpus") if module else None
        if figure:
            terminalreporter.write_line(f"classifier accuracy on real cases (tests/data): {figure}")
    drift = sys.modules.get("test_drift_cases") or sys.modules.get("tests.engine.test_drift_cases")
    if drift is not None and getattr(drift, "FIGURE", {}).get("drift"):
        terminalreporter.write_line(f"drift analysis on real cases (tests/data/drift_cases.jsonl): "
                                    f"{drift.FIGURE['drift']}")
