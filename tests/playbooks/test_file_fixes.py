"""The file-fix playbooks end to end on the sandbox Hub (issue 5): commit, or pull request + merge + apply.

Each demo Space's fix must bring it to RUNNING, show its exact diff before
anything is written, and leave every other byte of the repo as it was.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from clirun import run

from remedybot.model.diagnosis import Diagnosis, EvidenceLine
from remedybot.model.evidence import Evidence
from remedybot.model.plan import Plan
from remedybot.playbooks import apt_package_fix, config_fix, dependency_fix, port_fix, startup_fix
from remedybot.remedy.playbook import PlanContext, PlanOptions
from remedybot.sandbox.server import Sandbox

# Space -> (the one file its fix changes, a line of the diff, the playbook)
FIXES = {
    "demo/dependency": ("requirements.txt", "+opencv-python-headless", "dependency_fix"),
    "demo/apt-package": ("packages.txt", "+libgl1", "apt_package_fix"),
    "demo/port-mismatch": ("README.md", "+app_port: 8000", "port_fix"),
    "demo/config-error": ("README.md", '+title: "Recipe Finder: from your fridge to dinner"', "config_fix"),
    "demo/unhealthy-startup": ("README.md", "+  - Qwen/Qwen2.5-7B-Instruct", "startup_fix"),
}


@pytest.fixture(autouse=True)
def fast_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    # The sandbox's clock runs 1000x: a 45-minute simulated start passes in 2.7 s.
    monkeypatch.setenv("REMEDYBOT_VERIFY_TIMEOUT", "6")
    monkeypatch.setenv("REMEDYBOT_VERIFY_POLL", "0.05")


def files_at(sandbox: Sandbox, space: str, rev: str = "main") -> dict[str, bytes]:
    return sandbox.state.git(sandbox.state.find("space", space)).files_at(rev)


def stage(sandbox: Sandbox, space: str) -> str:
    return sandbox.state.runtime(sandbox.state.find("space", space))["stage"]


def only_changed(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    return {p for p in set(before) | set(after) if before.get(p) != after.get(p)}


def applies(tmp_path: Path, name: str, before: bytes, diff: str, after: bytes) -> bool:
    """git apply of the plan's diff to the old bytes gives the committed bytes."""
    work = tmp_path / "apply"
    work.mkdir(exist_ok=True)
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    (work / name).write_bytes(before)
    (tmp_path / "p.diff").write_text(diff)
    subprocess.run(["git", "apply", str(tmp_path / "p.diff")], cwd=work, check=True, capture_output=True)
    return (work / name).read_bytes() == after


@pytest.mark.parametrize("space", FIXES)
def test_fix_yes_commits_the_shown_diff_and_nothing_else(sandbox: Sandbox, tmp_path: Path, space: str) -> None:
    path, line, playbook = FIXES[space]
    before = files_at(sandbox, space)
    plan_file = tmp_path / "plan.json"
    result = run("fix", space, "--yes", "--out", str(plan_file))
    assert result.code == 0, result.err
    assert stage(sandbox, space) == "RUNNING"
    step = Plan.load(plan_file).steps[0]
    assert step.playbook == playbook and step.diff is not None and line in step.diff.splitlines()
    assert all(f"   {diff_line}".rstrip() in result.out for diff_line in step.diff.splitlines())  # shown
    after = files_at(sandbox, space)
    assert only_changed(before, after) == {path}
    assert applies(tmp_path, path, before[path], step.diff, after[path])
    head = sandbox.state.git(sandbox.state.find("space", space)).log("main", 1)[0]
    assert head.message.startswith(step.params["title"]) and "Why: " in head.message


def test_pip_conflict_fixed_end_to_end(sandbox: Sandbox, api) -> None:
    """pip's ResolutionImpossible in the sandbox's builder: the excluded pin is relaxed, CRLF kept, RUNNING."""
    from huggingface_hub import CommitOperationAdd

    api.create_repo("demo/conflict", repo_type="space", space_sdk="gradio")
    content = {"README.md": b"---\nsdk: gradio\nsdk_version: 5.9.1\n---\n",
             "requirements.txt": b"datasets==4.0.0\r\nhuggingface-hub==0.10.0 # old pin\r\n",
             "app.py": b"import gradio as gr\nimport datasets\ngr.Interface(lambda x: x, 'text', 'text').launch()\n"}
    api.create_commit("demo/conflict", [CommitOperationAdd(k, v) for k, v in content.items()],
                      commit_message="init", repo_type="space")
    before = files_at(sandbox, "demo/conflict")
    assert run("fix", "demo/conflict", "--yes").code == 0
    assert stage(sandbox, "demo/conflict") == "RUNNING"
    after = files_at(sandbox, "demo/conflict")
    assert after["requirements.txt"] == b"datasets==4.0.0\r\nhuggingface-hub>=0.25.0,<2.0 # old pin\r\n"
    assert only_changed(before, after) == {"requirements.txt"}


def test_dry_run_shows_the_diff_and_writes_nothing(sandbox: Sandbox) -> None:
    before = files_at(sandbox, "demo/apt-package")
    result = run("fix", "demo/apt-package", "--dry-run")
    assert result.code == 0
    assert "   -libgl1-mesa-glx\n   +libgl1\n    libglib2.0-0\n" in result.out
    assert files_at(sandbox, "demo/apt-package") == before


@pytest.mark.parametrize("space", FIXES)
def test_propose_merge_apply(sandbox: Sandbox, api, tmp_path: Path, space: str) -> None:
    path, _, _ = FIXES[space]
    before = files_at(sandbox, space)
    plan_file = tmp_path / "plan.json"
    proposed = run("fix", space, "--propose", "--yes", "--out", str(plan_file))
    assert proposed.code == 8, proposed.err
    url = f"{sandbox.endpoint}/spaces/{space}/discussions/1"
    assert f"Pull request #1 for '{space}' (step 1) is open: {url}" in proposed.err
    assert f"Hint: merge it on the Hub, then run 'remedybot apply {plan_file}'" in proposed.err
    assert files_at(sandbox, space) == before and stage(sandbox, space) != "RUNNING"
    pr = api.get_discussion_details(space, 1, repo_type="space")
    assert pr.is_pull_request and pr.status == "open"
    description = pr.events[0].content
    assert f"as `{Plan.load(plan_file).branch}`" in description and "### Evidence" in description
    assert f"```diff\n{Plan.load(plan_file).steps[0].diff}```" in description
    waiting = run("apply", str(plan_file))
    assert waiting.code == 8 and "is still open" in waiting.err
    api.merge_pull_request(space, 1, repo_type="space")
    verified = run("apply", str(plan_file))
    assert verified.code == 0, verified.err
    assert "pull request #1 merged as " in verified.err and stage(sandbox, space) == "RUNNING"
    assert only_changed(before, files_at(sandbox, space)) == {path}


def test_propose_twice_reuses_the_open_pull_request(sandbox: Sandbox, api) -> None:
    first = run("fix", "demo/dependency", "--propose")  # a PR is "safe": no --yes needed
    second = run("fix", "demo/dependency", "--propose")
    assert first.code == second.code == 8
    assert "/spaces/demo/dependency/discussions/1." in second.err
    assert [d.num for d in api.get_repo_discussions("demo/dependency", repo_type="space")] == [1]


def test_closed_pull_request_refuses(sandbox: Sandbox, api, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    assert run("fix", "demo/apt-package", "--propose", "--out", str(plan_file)).code == 8
    api.change_discussion_status("demo/apt-package", 1, "closed", repo_type="space")
    result = run("apply", str(plan_file))
    assert result.code == 3
    assert "pull request #1 was closed without merging, so its fix was declined" in result.err


def test_push_after_the_merge_makes_the_plan_stale(sandbox: Sandbox, api, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    assert run("fix", "demo/apt-package", "--propose", "--out", str(plan_file)).code == 8
    api.merge_pull_request("demo/apt-package", 1, repo_type="space")
    api.upload_file(path_or_fileobj=b"notes\n", path_in_repo="NOTES.md", repo_id="demo/apt-package",
                    repo_type="space")
    result = run("apply", str(plan_file))
    assert result.code == 3 and "the plan is stale" in result.err


# -- planning (pure): the other culprits each playbook handles --------------------------------


def ctx_for(branch: str, culprit: dict, files: dict[str, str], *, lines: tuple[tuple[str, str], ...] = (),
            build_log: list[str] | None = None, run_log: list[str] | None = None, sdk: str = "gradio",
            propose: bool = False) -> PlanContext:
    evidence = Evidence(space_id="alice/app", info={"sdk": sdk, "siblings": sorted(files)}, files=files,
                        build_log=build_log, run_log=run_log)
    diagnosis = Diagnosis(space_id="alice/app", branch=branch, confidence=0.9, meaning="",
                          evidence=[EvidenceLine(src, 1, text, "sig") for src, text in lines], culprit=culprit)
    return PlanContext("alice/app", diagnosis, evidence, [], PlanOptions(propose=propose))


README_G = "---\ntitle: App\nsdk: gradio\nsdk_version: 5.9.1\n---\n"


def test_dependency_conflict_relaxes_the_excluded_pin() -> None:
    log = ["ERROR: Cannot install -r /tmp/requirements.txt (line 1) and huggingface-hub==0.10.0 because these "
           "package versions have conflicting dependencies.", "The conflict is caused by:",
           "    The user requested huggingface-hub==0.10.0",
           "    datasets 4.0.0 depends on huggingface-hub<2.0 and >=0.25.0"]
    ctx = ctx_for("dependency", {"package": "huggingface-hub==0.10.0"},
                  {"README.md": README_G, "requirements.txt": "datasets==4.0.0\nhuggingface-hub==0.10.0  # pin\n"},
                  lines=(("build_log", "ERROR: ResolutionImpossible: for help visit"),), build_log=log)
    (step,) = dependency_fix.plan(ctx)
    assert step.diff is not None
    assert "-huggingface-hub==0.10.0  # pin\n+huggingface-hub>=0.25.0,<2.0  # pin\n" in step.diff


@pytest.mark.parametrize(("culprit", "line"), [({"sdk_version": "5.99.0"}, "+sdk_version: 5.50.0"),
                                               ({"sdk_version": "3."}, "+sdk_version: 3.50.0"),
                                               ({"python": "3.10", "requires": ">=3.11"}, '+python_version: "3.11"')])
def test_dependency_versions_from_the_known_good_tables(culprit: dict, line: str) -> None:
    (step,) = dependency_fix.plan(ctx_for("dependency", culprit, {"README.md": README_G}))
    assert step.diff is not None and line in step.diff.splitlines()


def test_build_time_import_goes_to_pre_requirements() -> None:
    ctx = ctx_for("dependency", {"module": "torch"}, {"README.md": README_G, "requirements.txt": "torch\nflash-attn\n"},
                  lines=(("build_log", "ModuleNotFoundError: No module named 'torch'"),))
    (step,) = dependency_fix.plan(ctx)
    assert set(step.params["files"]) == {"pre-requirements.txt"} and step.diff is not None
    assert step.diff.startswith("--- /dev/null\n+++ b/pre-requirements.txt\n")


def test_hash_checking_requirements_get_advice_not_an_edit() -> None:
    ctx = ctx_for("dependency", {"module": "cv2"}, {"README.md": README_G,
                                                   "requirements.txt": "numpy==2.0 --hash=sha256:ab\n"})
    (step,) = dependency_fix.plan(ctx)
    assert step.risk == "read-only" and not step.fixes and "hash-checking" in step.why


def test_apt_typo_and_apts_own_replacement() -> None:
    ctx = ctx_for("apt_package", {"package": "libg1"}, {"packages.txt": "libg1\nffmpeg\n"})
    assert "+libgl1" in (apt_package_fix.plan(ctx)[0].diff or "")
    log = ["Package libfoo1 is not available, but is referred to by another package.",
           "However the following packages replace it:", "  libfoo2"]
    ctx = ctx_for("apt_package", {"package": "libfoo1"}, {"packages.txt": "libfoo1\n"}, build_log=log)
    assert "+libfoo2" in (apt_package_fix.plan(ctx)[0].diff or "")


@pytest.mark.parametrize(("cmd", "line"), [
    ('CMD ["uvicorn", "main:app", "--port", "7860"]',
     '+CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "7860"]'),
    ("CMD gunicorn -b 127.0.0.1:7860 main:app", "+CMD gunicorn -b 0.0.0.0:7860 main:app"),
])
def test_port_fix_binds_all_interfaces_in_the_dockerfile(cmd: str, line: str) -> None:
    files = {"README.md": "---\nsdk: docker\n---\n", "Dockerfile": f"FROM python:3.11\nUSER 1000\n{cmd}\n"}
    ctx = ctx_for("port_mismatch", {"host": "127.0.0.1", "listen_port": 7860}, files, sdk="docker")
    (step,) = port_fix.plan(ctx)
    assert step.diff is not None and line in step.diff.splitlines()


def test_port_fix_changes_the_gradio_port_literal() -> None:
    files = {"README.md": README_G, "app.py": "import gradio as gr\ngr.Blocks().launch(server_port=8000)\n"}
    (step,) = port_fix.plan(ctx_for("port_mismatch", {"app_port": 7860, "listen_port": 8000}, files))
    assert "+gr.Blocks().launch(server_port=7860)" in (step.diff or "")


def test_config_fix_values_the_hub_rejects() -> None:
    readme = "---\ntitle: App\ncolorFrom: blu\npython_version: 3.10\n---\n"
    ctx = ctx_for("config_error", {}, {"README.md": readme, "Dockerfile": "FROM python\n"}, sdk="")
    (step,) = config_fix.plan(ctx)
    lines = (step.diff or "").splitlines()
    assert {"+colorFrom: blue", '+python_version: "3.10"', "+sdk: docker"} <= set(lines)


def test_config_fix_adds_a_missing_front_matter() -> None:
    ctx = ctx_for("config_error", {}, {"README.md": "# My app\n", "app.py": "import gradio as gr\n"}, sdk="")
    (step,) = config_fix.plan(ctx)
    assert step.params["files"]["README.md"]["after"] == "---\ntitle: App\nsdk: gradio\n---\n\n# My app\n"


def test_startup_without_progress_is_advice() -> None:
    ctx = ctx_for("unhealthy_startup", {"timeout": "30 min"}, {"README.md": README_G, "app.py": "import time\n"},
                  run_log=["===== Application Startup at 2026-01-01 00:00:00 =====", "starting"])
    (step,) = startup_fix.plan(ctx)
    assert step.risk == "read-only" and "no progress" in step.why


def test_propose_makes_a_safe_step() -> None:
    ctx = ctx_for("dependency", {"module": "cv2"}, {"README.md": README_G, "requirements.txt": "numpy\n"},
                  propose=True)
    (step,) = dependency_fix.plan(ctx)
    assert step.risk == "safe" and step.action.startswith("propose (pull request): ") and step.params["propose"]


def test_own_module_is_not_added_as_a_requirement() -> None:
    ctx = ctx_for("dependency", {"module": "utils"}, {"README.md": README_G, "requirements.txt": "numpy\n"})
    (step,) = dependency_fix.plan(ctx)
    assert step.risk == "read-only" and "one of the app's own modules" in step.why


def test_docker_dependency_goes_where_the_dockerfile_installs_from() -> None:
    docker = "FROM python:3.11\nRUN pip install --no-cache-dir \\\n    -r requirements.txt\nCMD python app.py\n"
    files = {"README.md": "---\nsdk: docker\n---\n", "Dockerfile": docker, "requirements.txt": "fastapi\n"}
    (step,) = dependency_fix.plan(ctx_for("dependency", {"module": "PIL"}, files, sdk="docker"))
    assert step.diff == "--- a/requirements.txt\n+++ b/requirements.txt\n@@ -1 +1,2 @@\n fastapi\n+pillow\n"
    files["Dockerfile"] = "FROM python:3.11\nRUN pip install fastapi\n"
    (step,) = dependency_fix.plan(ctx_for("dependency", {"module": "PIL"}, files, sdk="docker"))
    assert step.risk == "read-only" and "RUN pip install --no-cache-dir pillow" in step.why
