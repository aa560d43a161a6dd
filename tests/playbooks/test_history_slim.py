"""history_slim end to end on demo/repo-too-large: the plan, the CLI flow, and a failure at every step.

The promise checked after every failure and every kill: each LFS object the Space
held is still in the Space, in the destination, or in the backup (sha256-checked),
and running `apply` again finishes the job.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from clirun import run
from sandboxes import subprocess_env

from remedybot.core.errors import RefusedError, RemedyError
from remedybot.hub import Hub
from remedybot.model.plan import Approval, Plan
from remedybot.playbooks import REGISTRY, history_slim
from remedybot.remedy.apply import apply_plan
from remedybot.remedy.audit import AuditLog, state_home
from remedybot.remedy.gates import approved_gate
from remedybot.remedy.ledger import Ledger
from remedybot.remedy.playbook import PlanOptions, RunContext
from remedybot.remedy.storage import steps
from remedybot.remedy.storage.backup import object_path
from remedybot.remedy.workflow import plan_space
from remedybot.sandbox.faults import FaultInjector, FaultSpec
from remedybot.sandbox.server import Sandbox

SPACE, ASSETS, LIMIT = "demo/repo-too-large", "demo/repo-too-large-assets", 12_000_000


@pytest.fixture(autouse=True)
def fast_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_VERIFY_TIMEOUT", "20")
    monkeypatch.setenv("REMEDYBOT_VERIFY_POLL", "0.05")


@pytest.fixture
def originals(sandbox: Sandbox) -> dict[str, bytes]:
    """Every LFS object of the Space before anything runs, by sha256."""
    repo = sandbox.state.find("space", SPACE)
    return {oid: sandbox.state.lfs_store.path(oid).read_bytes() for oid in repo.lfs}


def make_plan(**extra: object) -> Plan:
    to = extra.pop("to", None)
    plan = plan_space(Hub(), SPACE, PlanOptions(to=to, extra=extra), REGISTRY)[0]
    plan.approvals.append(Approval(by="test", at="now", steps=[s.number for s in plan.steps],
                                   fingerprint=plan.fingerprint))
    return plan


def apply(plan: Plan) -> object:
    home = state_home()
    return apply_plan(plan, Hub(), REGISTRY, audit=AuditLog(home / "audit.jsonl"),
                      ledger=Ledger(home / "ledger.jsonl"), gate=approved_gate(plan))


def ops(plan: Plan) -> list[tuple[str, str]]:
    return [(s.params.get("op", s.playbook), s.risk) for s in plan.steps]


def assert_nothing_lost(sandbox: Sandbox, originals: dict[str, bytes]) -> None:
    state, space = sandbox.state, sandbox.state.find("space", SPACE)
    dest = state.find("model", ASSETS)
    backups = list((state_home() / "backups").glob("*/*")) if (state_home() / "backups").exists() else []
    for oid, data in originals.items():
        in_space = oid in space.lfs and state.lfs_store.has(oid)
        in_dest = dest is not None and oid in dest.lfs and state.lfs_store.path(oid).read_bytes() == data
        in_backup = any(object_path(b, oid).exists() and
                        hashlib.sha256(object_path(b, oid).read_bytes()).hexdigest() == oid for b in backups)
        assert in_space or in_dest or in_backup, f"object {oid[:12]} is nowhere"


def assert_fixed(sandbox: Sandbox, originals: dict[str, bytes]) -> None:
    state, space = sandbox.state, sandbox.state.find("space", SPACE)
    assert state.runtime(space)["stage"] == "RUNNING"
    assert state.used_storage(space) < LIMIT and not space.lfs
    dest, git = state.find("model", ASSETS), state.git(state.find("model", ASSETS))
    for path in ("models/ckpt-v3.pt", "examples/drawings.zip"):
        oid = git.head_lfs_oids(git.head())
        pointer = git.read_file(git.head(), path)
        assert pointer is not None
        sha = pointer.split(b"sha256:")[1].split(b"\n")[0].decode()
        assert sha in oid and sha in dest.lfs and state.lfs_store.path(sha).read_bytes() == originals[sha]
    assert_nothing_lost(sandbox, originals)


# -- the plan -----------------------------------------------------------------------------
def test_plan_orders_backup_copy_verify_before_any_deletion(sandbox: Sandbox) -> None:
    plan = make_plan()
    assert ops(plan) == [("report", "read-only"), ("backup", "safe"), ("copy", "safe"), ("verify", "read-only"),
                         ("purge", "destructive"), ("commit", "disruptive"), ("purge", "destructive"),
                         ("rebuild", "safe"), ("escalate", "read-only")]
    report, _backup, copy, _verify, history, commit, moved, rebuild, _esc = plan.steps
    assert "usedStorage 14.1 MB of 12.0 MB" in (report.diff or "")
    assert [f["path"] for f in copy.params["files"]] == ["models/ckpt-v3.pt", "examples/drawings.zip"]
    assert {o["filename"] for o in history.params["objects"]} == {"models/ckpt-v1.pt", "models/ckpt-v2.pt"}
    assert {o["filename"] for o in moved.params["objects"]} == {"models/ckpt-v3.pt", "examples/drawings.zip"}
    assert "+- demo/repo-too-large-assets examples/drawings.zip,models/ckpt-v3.pt" in (commit.diff or "")
    # The app's torch.load("models/ckpt-v3.pt") would die with FileNotFoundError once the file is gone:
    # the same commit points it at the preloaded copy, and the diff shows it.
    app = commit.params["code"]["app.py"]
    assert 'model = torch.load(hf_hub_download(repo_id="demo/repo-too-large-assets", filename="models/ckpt-v3.pt"), ' \
           'map_location="cpu", weights_only=False)' in app
    assert "from torchvision import transforms\nfrom huggingface_hub import hf_hub_download\n" in app
    assert '-model = torch.load("models/ckpt-v3.pt"' in (commit.diff or "")
    assert commit.params["references"] == []
    assert all(not s.reversible for s in plan.steps if s.risk == "destructive")
    assert [s.fixes for s in plan.steps].count(True) == 1 and rebuild.fixes


def test_plan_variants(sandbox: Sandbox) -> None:
    assert [o for o, _ in ops(make_plan(slim="squash"))][5:8] == ["commit", "squash", "purge"]
    assert [o for o, _ in ops(make_plan(slim="rewrite"))][5:9] == ["commit", "rewrite", "push", "purge"]
    bucket = make_plan(to="bucket:demo/store")
    commit = next(s for s in bucket.steps if s.params.get("op") == "commit")
    assert commit.params["access"] == "volume" and commit.params["readme"] is None
    assert commit.params["volumes"][0] == {"type": "bucket", "source": "demo/store", "mountPath": "/data",
                                           "readOnly": False}
    report = make_plan(app_access="report", move=["*.zip"], keep_recent_minutes=5)
    moved = next(s for s in report.steps if s.params.get("op") == "copy").params["files"]
    assert [f["path"] for f in moved] == ["examples/drawings.zip"]
    with pytest.raises(RemedyError, match="--slim must be one of"):
        make_plan(slim="nuke")


# -- the whole flow through the CLI ------------------------------------------------------------
def test_fix_approve_apply_brings_the_space_back(sandbox: Sandbox, originals: dict[str, bytes],
                                                 tmp_path: Path) -> None:
    plan_file = tmp_path / "p.json"
    dry = run("fix", SPACE, "--dry-run", "--out", str(plan_file))
    assert dry.code == 0, dry.err
    assert "repo_too_large" in dry.out and "permanently delete 2 LFS objects (history" in dry.out
    assert run("approve", str(plan_file)).code == 0
    result = run("apply", str(plan_file))
    assert result.code == 0, result.err
    assert_fixed(sandbox, originals)
    backup = next(r["data"]["backup"] for r in AuditLog(state_home() / "audit.jsonl").records()
                  if (r.get("data") or {}).get("op") == "backup")
    assert f"Backup of '{SPACE}': {backup}" in result.err and Path(backup, "manifest.json").exists()
    assert "usedStorage 14.1 MB -> " in result.err and "still names" not in result.err
    git = sandbox.state.git(sandbox.state.find("space", SPACE))
    readme = git.read_file("main", "README.md") or b""
    app = git.read_file("main", "app.py") or b""
    assert b'torch.load(hf_hub_download(repo_id="demo/repo-too-large-assets"' in app
    assert b"preload_from_hub:\n- demo/repo-too-large-assets examples/drawings.zip,models/ckpt-v3.pt" in readme
    again = run("apply", str(plan_file))
    assert again.code == 0 and "already applied" in again.err


def test_report_only_leaves_the_code_and_does_not_claim_success(sandbox: Sandbox, originals: dict[str, bytes],
                                                                tmp_path: Path) -> None:
    """--app-access report changes no code: the moved checkpoint is then missing at start, as on the Hub."""
    plan_file = tmp_path / "p.json"
    assert run("fix", SPACE, "--dry-run", "--app-access", "report", "--out", str(plan_file)).code == 0
    assert run("approve", str(plan_file)).code == 0
    result = run("apply", str(plan_file))
    assert result.code == 4, result.err
    assert "Warning: app.py:5 still names 'models/ckpt-v3.pt'" in result.err
    runtime = Hub().runtime(SPACE)
    assert runtime["stage"] == "RUNTIME_ERROR"
    assert "FileNotFoundError: [Errno 2] No such file or directory: 'models/ckpt-v3.pt'" in runtime["errorMessage"]
    assert_nothing_lost(sandbox, originals)


def test_storage_that_does_not_fall_is_not_called_a_success(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
                                                           originals: dict[str, bytes]) -> None:
    plan = make_plan()
    frozen = sandbox.state.used_storage(sandbox.state.find("space", SPACE))
    real, rebuild = sandbox.state.used_storage, steps.OPS["rebuild"]

    def lagging(step: object, run_ctx: RunContext) -> object:  # the Hub counts deletions late (up to 36 h, SAFETY.md)
        monkeypatch.setattr(sandbox.state, "used_storage", lambda repo: frozen if repo.repo_id == SPACE else
                            real(repo))
        return rebuild(step, run_ctx)

    monkeypatch.setitem(steps.OPS, "rebuild", lagging)
    result = apply(plan)
    assert result.exit_code == 1 and result.outcome == "failed"
    assert "usedStorage did not fall, so this is not a success" in result.message
    assert_nothing_lost(sandbox, originals)


def test_the_commit_refuses_while_copies_are_unverified(sandbox: Sandbox, tmp_path: Path) -> None:
    plan = make_plan()
    commit = next(s for s in plan.steps if s.params.get("op") == "commit")
    context = RunContext(hub=Hub(), plan=plan, audit=AuditLog(tmp_path / "a.jsonl"), ledger=Ledger(tmp_path / "l"))
    with pytest.raises(RefusedError, match=r"Refusing to remove moved files from 'demo/repo-too-large': not "
                                           r"verified in the destination by sha256: models/ckpt-v3\.pt"):
        history_slim.apply(commit, context)
    head = sandbox.state.git(sandbox.state.find("space", SPACE)).files_at("main")
    assert "models/ckpt-v3.pt" in head


# -- a failure at each step, then a re-run --------------------------------------------------------
FAULTS = {  # step op -> the route that answers 500 while that step runs (retries run out)
    "copy": f"/api/spaces/{SPACE}/lfs-files/duplicate",
    "verify": f"/{ASSETS}/resolve/*",
    "purge": f"/api/spaces/{SPACE}/lfs-files/batch",
    "commit": f"/api/spaces/{SPACE}/commit/*",
    "rewrite": f"/spaces/{SPACE}/info/refs",
    "push": f"/spaces/{SPACE}/git-receive-pack",
}


@pytest.mark.parametrize(("mode", "failing"), [("purge", ["copy", "verify", "purge", "commit"]),
                                               ("rewrite", ["rewrite", "push"])])
def test_a_failure_at_each_step_loses_nothing_and_a_rerun_completes(
        mode: str, failing: list[str], sandbox: Sandbox, originals: dict[str, bytes],
        monkeypatch: pytest.MonkeyPatch) -> None:
    plan = make_plan(slim=mode)
    for op in failing:  # one run per failure: each fails at its step, the next one gets past it
        real: Callable = steps.OPS[op]

        def broken(step: object, run_ctx: RunContext, real: Callable = real, route: str = FAULTS[op]) -> object:
            sandbox.app.faults = FaultInjector(FaultSpec(rate=1.0, kinds=("500",), routes=(route,)))
            return real(step, run_ctx)

        monkeypatch.setitem(steps.OPS, op, broken)
        with pytest.raises(RemedyError):
            apply(plan)
        sandbox.app.faults = None
        monkeypatch.setitem(steps.OPS, op, real)
        failed = [r for r in AuditLog(state_home() / "audit.jsonl").records(plan.fingerprint)
                  if r.get("event") == "step-end" and r.get("status") == "failed"]
        assert plan.steps[failed[-1]["step"] - 1].params["op"] == op
        assert_nothing_lost(sandbox, originals)
    result = apply(plan)
    assert result.exit_code == 0, result.message
    assert_fixed(sandbox, originals)


# -- SIGKILL between steps -------------------------------------------------------------------------
def _step_ends(audit: Path) -> set[int]:
    if not audit.exists():
        return set()
    ends = set()
    for line in audit.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == "step-end" and record.get("status") != "failed":
            ends.add(record["step"])
    return ends


def test_sigkill_between_steps_then_resume(sandbox: Sandbox, originals: dict[str, bytes], tmp_path: Path) -> None:
    plan = make_plan()
    plan_file = tmp_path / "p.json"
    plan.save(plan_file)
    audit = state_home() / "audit.jsonl"
    command = [sys.executable, "-m", "remedybot", "apply", str(plan_file)]
    for kill_after in (2, 5, 6):
        log = tmp_path / f"killed-after-{kill_after}.log"
        with open(log, "wb") as err:
            proc = subprocess.Popen(command, env=subprocess_env(sandbox), stdout=subprocess.DEVNULL, stderr=err)
            deadline = time.monotonic() + 60
            while kill_after not in _step_ends(audit) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        assert kill_after in _step_ends(audit), log.read_text()
        assert_nothing_lost(sandbox, originals)
    final = subprocess.run(command, env=subprocess_env(sandbox), capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    assert_fixed(sandbox, originals)


def test_a_force_push_whose_answer_is_lost_is_done_and_sent_once(
        sandbox: Sandbox, originals: dict[str, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    """The Hub took the rewritten history but its answer never came back: the step is done, not failed."""
    from dropping_proxy import DroppingProxy

    with DroppingProxy(sandbox.endpoint) as proxy:
        monkeypatch.setenv("HF_ENDPOINT", proxy.url)
        plan = make_plan(slim="rewrite")
        proxy.drop("POST", f"/spaces/{SPACE}/git-receive-pack")
        result = apply(plan)
        assert proxy.dropped() == [("POST", f"/spaces/{SPACE}/git-receive-pack")]
        assert proxy.forwarded("POST", "*/git-receive-pack") == 1
    assert result.exit_code == 0, result.message
    push = next(s for s in plan.steps if s.params.get("op") == "push")
    ends = [r for r in AuditLog(state_home() / "audit.jsonl").records(plan.fingerprint)
            if r.get("event") == "step-end" and r.get("step") == push.number]
    assert [r["status"] for r in ends] == ["done"]
    assert_fixed(sandbox, originals)
