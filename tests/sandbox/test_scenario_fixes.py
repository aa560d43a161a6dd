"""Each demo Space sits in its documented failing state, and the fix its branch calls for,
done by hand through the unmodified huggingface_hub client, brings it to RUNNING."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from remedybot.sandbox.server import Sandbox

EXPECTED = {
    "demo/platform-incident": ("BUILD_ERROR", "Unexpected job error"),
    "demo/wedged-space": ("BUILDING", None),
    "demo/repo-too-large": ("BUILD_ERROR", "Error while cloning repository"),
    "demo/capacity": ("RUNTIME_ERROR", "Scheduling failure: not enough hardware capacity"),
    "demo/startup-crash": ("RUNTIME_ERROR", "does not include supervisord section"),
    "demo/port-mismatch": ("RUNTIME_ERROR", "Launch timed out"),
    "demo/policy-block": ("PAUSED", "Blocked by abuse-handler by rule: VNC Server"),
    "demo/dependency": ("RUNTIME_ERROR", "ModuleNotFoundError: No module named"),
    "demo/apt-package": ("BUILD_ERROR", "exit code: 100"),
    "demo/unhealthy-startup": ("RUNTIME_ERROR", "Launch timed out"),
    "demo/resource-limit": ("RUNTIME_ERROR", "Memory limit exceeded"),
    "demo/config-error": ("CONFIG_ERROR", None),
    "demo/unknown": ("RUNTIME_ERROR", "Exit code: ?"),
    "demo/healthy": ("RUNNING", None),
}


def final(api: HfApi, space: str) -> dict:
    return api.wait_for_space(space, timeout=30, poll_interval=0.02).raw


def edit(api: HfApi, space: str, path: str, change: Callable[[str], str]) -> None:
    text = Path(api.hf_hub_download(space, path, repo_type="space")).read_text()
    new = change(text)
    assert new != text, f"the edit of {path} changed nothing"
    api.upload_file(path_or_fileobj=new.encode(), path_in_repo=path, repo_id=space, repo_type="space",
                    commit_message=f"Fix {path}")


@pytest.mark.parametrize("space", sorted(EXPECTED))
def test_scenario_state(api: HfApi, space: str) -> None:
    stage, message = EXPECTED[space]
    runtime = api.get_space_runtime(space).raw
    assert runtime["stage"] == stage
    if message:
        assert message in runtime.get("errorMessage", "") or any(
            message in line for line in api.fetch_space_logs(space, build=True))


def test_wedged_space_plain_restart_does_not_help_factory_does(api: HfApi) -> None:
    api.restart_space("demo/wedged-space")
    assert api.get_space_runtime("demo/wedged-space").stage == "BUILDING"
    build_log = list(api.fetch_space_logs("demo/wedged-space", build=True))
    assert all("Build Queued" in line or not line.strip() for line in build_log)
    api.restart_space("demo/wedged-space", factory_reboot=True)
    assert final(api, "demo/wedged-space")["stage"] == "RUNNING"


def test_capacity_cleared_by_another_flavor(api: HfApi) -> None:
    api.restart_space("demo/capacity")
    assert final(api, "demo/capacity")["stage"] == "RUNTIME_ERROR"
    api.request_space_hardware("demo/capacity", "l4x1")
    assert final(api, "demo/capacity")["stage"] == "RUNNING"


def test_memory_limit_cleared_by_bigger_flavor(api: HfApi) -> None:
    api.request_space_hardware("demo/resource-limit", "cpu-upgrade")
    assert final(api, "demo/resource-limit")["stage"] == "RUNNING"


def test_apt_package_fixed_in_packages_txt(api: HfApi) -> None:
    edit(api, "demo/apt-package", "packages.txt", lambda t: t.replace("libgl1-mesa-glx", "libgl1"))
    assert final(api, "demo/apt-package")["stage"] == "RUNNING"


def test_port_mismatch_fixed_with_app_port(api: HfApi) -> None:
    edit(api, "demo/port-mismatch", "README.md", lambda t: t.replace("sdk: docker\n", "sdk: docker\napp_port: 8000\n"))
    assert final(api, "demo/port-mismatch")["stage"] == "RUNNING"


def test_config_error_fixed_in_front_matter(api: HfApi) -> None:
    edit(api, "demo/config-error", "README.md",
         lambda t: t.replace("title: Recipe Finder: from your fridge to dinner",
                             'title: "Recipe Finder: from your fridge to dinner"'))
    assert final(api, "demo/config-error")["stage"] == "RUNNING"


def test_startup_crash_fixed_in_supervisord_conf(api: HfApi) -> None:
    edit(api, "demo/startup-crash", "supervisord.conf", lambda t: "[supervisord]\nnodaemon=true\n\n" + t)
    assert final(api, "demo/startup-crash")["stage"] == "RUNNING"


def test_unhealthy_startup_fixed_with_longer_timeout(api: HfApi) -> None:
    edit(api, "demo/unhealthy-startup", "README.md",
         lambda t: t.replace("pinned: false\n", "pinned: false\nstartup_duration_timeout: 1h\n", 1))
    assert final(api, "demo/unhealthy-startup")["stage"] == "RUNNING"


def test_platform_incident_clears_when_it_ends(sandbox: Sandbox, api: HfApi) -> None:
    api.restart_space("demo/platform-incident")
    assert final(api, "demo/platform-incident")["stage"] == "BUILD_ERROR"
    sandbox.state.end_incident()
    api.restart_space("demo/platform-incident")
    assert final(api, "demo/platform-incident")["stage"] == "RUNNING"


def test_repo_too_large_cleared_by_purging_history(api: HfApi) -> None:
    info = api.space_info("demo/repo-too-large")
    head = set(api.list_repo_files("demo/repo-too-large", repo_type="space"))
    stale = [f for f in api.list_lfs_files("demo/repo-too-large", repo_type="space") if f.filename not in head]
    api.permanently_delete_lfs_files("demo/repo-too-large", stale, repo_type="space")
    assert api.space_info("demo/repo-too-large").used_storage < info.used_storage
    api.restart_space("demo/repo-too-large", factory_reboot=True)
    assert final(api, "demo/repo-too-large")["stage"] == "RUNNING"


def test_policy_block_survives_everything_the_owner_can_do(api: HfApi) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    for action in (lambda: api.restart_space("demo/policy-block"),
                   lambda: api.restart_space("demo/policy-block", factory_reboot=True)):
        with pytest.raises(HfHubHTTPError):
            action()
    api.request_space_hardware("demo/policy-block", "cpu-upgrade")
    assert final(api, "demo/policy-block")["stage"] == "PAUSED"
    api.upload_file(path_or_fileobj=b"# touched\n", path_in_repo="NOTES.md", repo_id="demo/policy-block",
                    repo_type="space")
    runtime = final(api, "demo/policy-block")
    assert runtime["stage"] == "PAUSED"
    assert "Blocked by abuse-handler" in runtime["errorMessage"]
