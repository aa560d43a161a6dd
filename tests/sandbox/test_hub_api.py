"""The unmodified huggingface_hub client against the sandbox Hub: every call remedybot relies on."""

from __future__ import annotations

import io
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationCopy,
    CommitOperationDelete,
    HfApi,
    hf_hub_download,
)
from huggingface_hub.errors import (
    BadRequestError,
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

INTERMEDIATE = {"BUILDING", "RUNNING_BUILDING", "APP_STARTING", "RUNNING_APP_STARTING"}


def wait_final(api: HfApi, space_id: str, timeout: float = 20.0) -> dict:
    runtime = api.wait_for_space(space_id, timeout=timeout, poll_interval=0.02)
    return runtime.raw


def test_whoami(api: HfApi) -> None:
    me = api.whoami()
    assert me["name"] == "demo"
    assert me["auth"]["accessToken"]["role"] == "write"


def test_list_spaces_with_runtime(api: HfApi) -> None:
    spaces = list(api.list_spaces(author="demo", expand=["runtime", "sdk"]))
    ids = {s.id for s in spaces}
    expected = {"demo/platform-incident", "demo/wedged-space", "demo/repo-too-large", "demo/capacity",
                "demo/startup-crash", "demo/port-mismatch", "demo/policy-block", "demo/dependency",
                "demo/apt-package", "demo/unhealthy-startup", "demo/resource-limit", "demo/config-error",
                "demo/unknown", "demo/healthy"}
    assert expected <= ids
    assert all(s.runtime is not None and s.runtime.stage for s in spaces)


def test_space_info_fields(api: HfApi) -> None:
    info = api.space_info("demo/healthy")
    assert info.id == "demo/healthy"
    assert info.sdk == "gradio"
    assert len(info.sha) == 40
    assert info.created_at is not None and info.used_storage > 0
    assert "README.md" in {s.rfilename for s in info.siblings}
    assert info.runtime.stage == "RUNNING"
    expanded = api.space_info("demo/healthy", expand=["usedStorage", "sha"])
    assert expanded.used_storage == info.used_storage and expanded.sha == info.sha
    with_blobs = api.space_info("demo/repo-too-large", files_metadata=True)
    assert any(s.lfs is not None for s in with_blobs.siblings)


def test_runtime_error_message_in_raw(api: HfApi) -> None:
    runtime = api.get_space_runtime("demo/capacity")
    assert runtime.stage == "RUNTIME_ERROR"
    assert "not enough hardware capacity" in runtime.raw["errorMessage"]


def test_restart_pause_hardware_sleeptime(api: HfApi) -> None:
    rt = api.restart_space("demo/healthy")
    assert rt.stage in INTERMEDIATE | {"RUNNING"}
    assert wait_final(api, "demo/healthy")["stage"] == "RUNNING"
    rt = api.restart_space("demo/healthy", factory_reboot=True)
    assert wait_final(api, "demo/healthy")["stage"] == "RUNNING"
    rt = api.pause_space("demo/healthy")
    assert rt.stage == "PAUSED"
    rt = api.request_space_hardware("demo/healthy", "cpu-upgrade")
    assert rt.requested_hardware == "cpu-upgrade"
    assert wait_final(api, "demo/healthy")["hardware"]["current"] == "cpu-upgrade"
    api.set_space_sleep_time("demo/healthy", 3600)
    assert api.get_space_runtime("demo/healthy").sleep_time == 3600


def test_hardware_list_has_costs(api: HfApi) -> None:
    flavors = {h.name: h for h in api.list_spaces_hardware()}
    assert {"cpu-basic", "cpu-upgrade", "t4-small", "a10g-small"} <= set(flavors)
    assert flavors["cpu-basic"].unit_cost_usd == 0
    assert flavors["a10g-small"].unit_cost_usd > flavors["t4-small"].unit_cost_usd > 0


def test_variables_and_secrets(api: HfApi) -> None:
    api.add_space_variable("demo/healthy", "MODEL", "gpt2", description="which model")
    assert api.get_space_variables("demo/healthy")["MODEL"].value == "gpt2"
    api.delete_space_variable("demo/healthy", "MODEL")
    assert "MODEL" not in api.get_space_variables("demo/healthy")
    api.add_space_secret("demo/healthy", "API_KEY", "s3cr3t-value")
    secrets = api.get_space_secrets("demo/healthy")
    assert "API_KEY" in secrets
    assert "s3cr3t-value" not in repr(secrets)
    api.delete_space_secret("demo/healthy", "API_KEY")
    assert "API_KEY" not in api.get_space_secrets("demo/healthy")


def test_duplicate_keeps_history_and_drops_wedge(api: HfApi) -> None:
    url = api.duplicate_repo("demo/wedged-space", "demo/wedged-space-2", repo_type="space")
    assert url.repo_id == "demo/wedged-space-2"
    src = api.list_repo_commits("demo/wedged-space", repo_type="space")
    dst = api.list_repo_commits("demo/wedged-space-2", repo_type="space")
    assert [c.commit_id for c in src] == [c.commit_id for c in dst]
    assert wait_final(api, "demo/wedged-space-2")["stage"] == "RUNNING"
    assert api.get_space_runtime("demo/wedged-space").stage == "BUILDING"
    with pytest.raises(HfHubHTTPError) as exc:
        api.duplicate_repo("demo/wedged-space", "demo/wedged-space-2", repo_type="space")
    assert exc.value.response.status_code == 409
    again = api.duplicate_repo("demo/wedged-space", "demo/wedged-space-2", repo_type="space", exist_ok=True)
    assert again.repo_id == "demo/wedged-space-2"


def test_repo_create_move_delete(api: HfApi) -> None:
    url = api.create_repo("demo/assets", repo_type="model")
    assert url.repo_id == "demo/assets"
    assert api.repo_exists("demo/assets")
    api.create_repo("demo/assets", repo_type="model", exist_ok=True)
    api.move_repo("demo/assets", "demo/assets2")
    assert not api.repo_exists("demo/assets") and api.repo_exists("demo/assets2")
    api.delete_repo("demo/assets2")
    assert not api.repo_exists("demo/assets2")
    api.create_repo("demo/ds", repo_type="dataset", private=True)
    assert api.dataset_info("demo/ds").private is True
    space = api.create_repo("demo/new-space", repo_type="space", space_sdk="gradio")
    assert space.repo_id == "demo/new-space"


def test_commit_upload_tree_paths_download(api: HfApi, tmp_path) -> None:
    info = api.upload_file(path_or_fileobj=b"hello\n", path_in_repo="notes/a.txt", repo_id="demo/healthy",
                           repo_type="space", commit_message="Add a note")
    assert len(info.oid) == 40
    assert api.space_info("demo/healthy").sha == info.oid
    files = set(api.list_repo_files("demo/healthy", repo_type="space"))
    assert "notes/a.txt" in files
    tree = list(api.list_repo_tree("demo/healthy", repo_type="space"))
    assert any(getattr(t, "tree_id", None) and t.path == "notes" for t in tree)
    infos = api.get_paths_info("demo/healthy", ["notes/a.txt", "notes"], repo_type="space")
    assert {i.path for i in infos} == {"notes/a.txt", "notes"}
    path = hf_hub_download("demo/healthy", "notes/a.txt", repo_type="space", endpoint=api.endpoint,
                           token=api.token, cache_dir=tmp_path)
    assert Path(path).read_bytes() == b"hello\n"
    # A commit with nothing new is skipped by the client and HEAD does not move.
    same = api.upload_file(path_or_fileobj=b"hello\n", path_in_repo="notes/a.txt", repo_id="demo/healthy",
                           repo_type="space")
    assert same.oid == info.oid
    api.create_commit("demo/healthy", repo_type="space", commit_message="Delete the note",
                      operations=[CommitOperationDelete("notes/a.txt")])
    assert "notes/a.txt" not in set(api.list_repo_files("demo/healthy", repo_type="space"))
    with pytest.raises(EntryNotFoundError):
        hf_hub_download("demo/healthy", "notes/a.txt", repo_type="space", endpoint=api.endpoint,
                        token=api.token, cache_dir=tmp_path, force_download=True)


def test_commit_starts_a_rebuild_and_fix_by_hand(api: HfApi) -> None:
    assert api.get_space_runtime("demo/dependency").stage in {"RUNTIME_ERROR", "BUILD_ERROR"}
    text = Path(api.hf_hub_download("demo/dependency", "requirements.txt", repo_type="space")).read_text()
    error = api.get_space_runtime("demo/dependency").raw["errorMessage"]
    module = error.split("No module named '")[1].split("'")[0]
    from remedybot.sandbox.spacefiles import rules  # the sandbox's own import -> PyPI table

    dist = rules()["import_packages"].get(module, [module])[0]
    api.upload_file(path_or_fileobj=(text.rstrip("\n") + f"\n{dist}\n").encode(),
                    path_in_repo="requirements.txt", repo_id="demo/dependency", repo_type="space")
    assert wait_final(api, "demo/dependency")["stage"] == "RUNNING"


def test_commits_refs_branches_tags(api: HfApi) -> None:
    commits = api.list_repo_commits("demo/healthy", repo_type="space")
    assert len(commits) >= 2 and commits[0].title
    api.create_branch("demo/healthy", branch="dev", repo_type="space")
    api.create_tag("demo/healthy", tag="v1", repo_type="space")
    refs = api.list_repo_refs("demo/healthy", repo_type="space")
    assert {b.name for b in refs.branches} == {"main", "dev"}
    assert [t.name for t in refs.tags] == ["v1"]
    api.delete_branch("demo/healthy", branch="dev", repo_type="space")
    api.delete_tag("demo/healthy", tag="v1", repo_type="space")
    refs = api.list_repo_refs("demo/healthy", repo_type="space")
    assert [b.name for b in refs.branches] == ["main"] and refs.tags == []
    with pytest.raises(RevisionNotFoundError):
        api.list_repo_commits("demo/healthy", repo_type="space", revision="nope")


def test_validate_yaml_rejects_bad_front_matter(api: HfApi) -> None:
    with pytest.raises((BadRequestError, ValueError)):
        api.upload_file(path_or_fileobj=b"---\ntitle: [unclosed\n---\n", path_in_repo="README.md",
                        repo_id="demo/healthy", repo_type="space")


def test_lfs_files_squash_and_storage(api: HfApi) -> None:
    before = api.space_info("demo/repo-too-large").used_storage
    lfs = list(api.list_lfs_files("demo/repo-too-large", repo_type="space"))
    assert lfs and all(f.size > 0 and f.pushed_at for f in lfs)
    head_files = set(api.list_repo_files("demo/repo-too-large", repo_type="space"))
    stale = [f for f in lfs if f.filename not in head_files]
    assert stale, "the scenario keeps large files in history only"
    api.permanently_delete_lfs_files("demo/repo-too-large", stale, repo_type="space", rewrite_history=False)
    after_delete = api.space_info("demo/repo-too-large").used_storage
    assert after_delete == before - sum(f.size for f in stale)
    api.super_squash_history("demo/repo-too-large", repo_type="space", commit_message="squash")
    assert len(api.list_repo_commits("demo/repo-too-large", repo_type="space")) == 1
    assert api.space_info("demo/repo-too-large").used_storage <= after_delete


def test_server_side_copy_into_model_repo(api: HfApi, tmp_path) -> None:
    api.create_repo("demo/repo-too-large-assets", repo_type="model")
    lfs_paths = [s.rfilename for s in api.space_info("demo/repo-too-large", files_metadata=True).siblings
                 if s.lfs]
    ops = [CommitOperationCopy(src_path_in_repo=p, path_in_repo=p, src_repo_id="demo/repo-too-large",
                               src_repo_type="space") for p in lfs_paths]
    api.create_commit("demo/repo-too-large-assets", operations=ops, commit_message="Move large files")
    for path in lfs_paths:
        a = hf_hub_download("demo/repo-too-large", path, repo_type="space", endpoint=api.endpoint,
                            token=api.token, cache_dir=tmp_path / "a")
        b = hf_hub_download("demo/repo-too-large-assets", path, endpoint=api.endpoint, token=api.token,
                            cache_dir=tmp_path / "b")
        assert Path(a).read_bytes() == Path(b).read_bytes()


def test_logs_sse(api: HfApi) -> None:
    build = list(api.fetch_space_logs("demo/apt-package", build=True))
    assert any("has no installation candidate" in line for line in build)
    run = list(api.fetch_space_logs("demo/healthy"))
    assert any("Application Startup" in line for line in run)


def test_pull_request_create_list_merge(api: HfApi) -> None:
    info = api.create_commit("demo/healthy", repo_type="space", create_pr=True, commit_message="Pin gradio",
                             commit_description="Proposed by a test",
                             operations=[CommitOperationAdd("extra.txt", io.BytesIO(b"x\n"))])
    assert info.pr_num == 1 and info.pr_url.endswith("/discussions/1")
    assert "extra.txt" not in set(api.list_repo_files("demo/healthy", repo_type="space"))
    prs = list(api.get_repo_discussions("demo/healthy", repo_type="space", discussion_type="pull_request"))
    assert [(p.num, p.status, p.is_pull_request) for p in prs] == [(1, "open", True)]
    details = api.get_discussion_details("demo/healthy", 1, repo_type="space")
    assert "extra.txt" in (details.diff or "")
    api.merge_pull_request("demo/healthy", 1, repo_type="space")
    assert "extra.txt" in set(api.list_repo_files("demo/healthy", repo_type="space"))
    assert api.get_discussion_details("demo/healthy", 1, repo_type="space").status == "merged"


def test_errors_have_the_real_types(sandbox) -> None:
    good = HfApi(endpoint=sandbox.endpoint, token=sandbox.token)
    with pytest.raises(RepositoryNotFoundError):
        good.space_info("demo/does-not-exist")
    with pytest.raises(RepositoryNotFoundError):
        good.get_space_runtime("nobody/nothing")
    # This file's hf_... strings are fakes: wrong tokens or the sandbox users' own, never valid on huggingface.co.
    bad = HfApi(endpoint=sandbox.endpoint, token="hf_wrongwrongwrongwrongwrongwrong")
    with pytest.raises(HfHubHTTPError) as exc:
        bad.whoami()
    assert exc.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as exc:
        bad.restart_space("demo/healthy")
    assert exc.value.response.status_code == 401
    anonymous = HfApi(endpoint=sandbox.endpoint, token=False)
    with pytest.raises(HfHubHTTPError) as exc:
        anonymous.restart_space("demo/healthy")
    assert exc.value.response.status_code in (401, 403)


def test_read_only_token_gets_403_on_writes(sandbox) -> None:
    reader = sandbox.state.add_user("reader", "hf_readeronlytokenreaderonlytoken", write=False)
    sandbox.state.users["reader"].orgs.append("demo")
    api = HfApi(endpoint=sandbox.endpoint, token=reader.token)
    assert api.space_info("demo/healthy").id == "demo/healthy"
    with pytest.raises(HfHubHTTPError) as exc:
        api.restart_space("demo/healthy")
    assert exc.value.response.status_code == 403
    other = sandbox.state.add_user("mallory", "hf_mallorymallorymallorymallory00")
    with pytest.raises(HfHubHTTPError) as exc:
        HfApi(endpoint=sandbox.endpoint, token=other.token).restart_space("demo/healthy")
    assert exc.value.response.status_code == 403


def test_private_space_is_not_found_for_others(sandbox) -> None:
    owner = HfApi(endpoint=sandbox.endpoint, token=sandbox.token)
    owner.create_repo("demo/secret-space", repo_type="space", space_sdk="gradio", private=True)
    other = sandbox.state.add_user("eve", "hf_eveeveeveeveeveeveeveeveeveeve0")
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=sandbox.endpoint, token=other.token).space_info("demo/secret-space")
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=sandbox.endpoint, token=False).space_info("demo/secret-space")


def test_status_page_shape(sandbox) -> None:
    doc = httpx2.get(sandbox.status_url).json()
    assert doc["data"]["attributes"]["aggregate_state"] in {"operational", "degraded", "downtime"}
    names = {i["attributes"]["public_name"] for i in doc["included"] if i["type"] == "status_page_resource"}
    assert "Spaces" in names
