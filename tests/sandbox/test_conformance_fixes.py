"""Regression tests for the sandbox Hub gaps `make conformance` found (issue 14): each through the real client.

The long form is huggingface_hub's own suite (tools/conformance/); these are the fast checks that keep
each fix in `make test`.
"""

from __future__ import annotations

import io
import warnings

import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub._commit_api import _fetch_upload_modes
from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError

from remedybot.sandbox.server import Sandbox


def _lfs_commit(api: HfApi, repo_id: str, ops: list, message: str = "c", **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():  # huggingface_hub's LFS upload trips an httpx2 deprecation notice
        warnings.simplefilter("ignore", DeprecationWarning)
        return api.create_commit(repo_id, operations=ops, commit_message=message, **kwargs)


@pytest.fixture
def repo(api: HfApi) -> str:
    return api.create_repo("demo/conf").repo_id


def test_preupload_follows_gitattributes_and_gitignore(api: HfApi, repo: str) -> None:
    api.upload_file(path_or_fileobj=b"*.png filter=lfs diff=lfs merge=lfs -text\n", path_in_repo=".gitattributes",
                    repo_id=repo)
    api.upload_file(path_or_fileobj=b"nested/*\n", path_in_repo=".gitignore", repo_id=repo)
    ops = [CommitOperationAdd("image.png", b"tiny"), CommitOperationAdd("nested/a.txt", b"x"),
           CommitOperationAdd("a.txt", b"x")]
    _fetch_upload_modes(additions=ops, repo_type="model", repo_id=repo, headers=api._build_hf_headers(),
                        revision="main", endpoint=api.endpoint)
    assert [op._upload_mode for op in ops] == ["lfs", "regular", "regular"]
    assert [op._should_ignore for op in ops] == [False, True, False]


def test_preupload_reports_the_sha256_of_an_lfs_file(api: HfApi, repo: str) -> None:
    _lfs_commit(api, repo, [CommitOperationAdd("w.bin", b"weights")])
    op = CommitOperationAdd("w.bin", b"weights")
    _fetch_upload_modes(additions=[op], repo_type="model", repo_id=repo, headers=api._build_hf_headers(),
                        revision="main", endpoint=api.endpoint)
    assert op._remote_oid == op.upload_info.sha256.hex()


def test_stale_parent_commit_is_refused_with_the_hubs_412(api: HfApi, repo: str) -> None:
    parent = api.model_info(repo).sha
    api.upload_file(path_or_fileobj=b"1", path_in_repo="a.txt", repo_id=repo)
    with pytest.raises(HfHubHTTPError) as err:
        api.create_commit(repo, operations=[CommitOperationAdd("b.txt", b"2")], commit_message="x",
                          parent_commit=parent)
    assert err.value.response.status_code == 412
    assert "The branch was updated since you opened this page. Please refresh and try again." in str(err.value)


def test_a_path_climbing_out_is_refused_with_422(api: HfApi, repo: str) -> None:
    with pytest.raises(HfHubHTTPError) as err:
        api.upload_file(path_or_fileobj=b"x", path_in_repo="..\\ddd", repo_id=repo)
    assert err.value.response.status_code == 422


def test_repo_ids_are_case_insensitive_and_missing_ids_say_repo_not_found(api: HfApi) -> None:
    repo = api.create_repo("demo/CaSe").repo_id
    api.upload_file(path_or_fileobj=b"x", path_in_repo="a.txt", repo_id=repo.lower())
    assert "a.txt" in api.list_repo_files(repo)
    assert not api.repo_exists("no-namespace") and not api.file_exists("no-namespace", "a.txt")
    with pytest.raises(RepositoryNotFoundError):
        api.list_repo_commits("no-namespace")


def test_a_reader_opens_a_pull_request_against_a_branch(sandbox: Sandbox, api: HfApi) -> None:
    sandbox.state.add_user("reader", "hf_reader_token_for_tests")
    repo = api.create_repo("demo/foreign").repo_id
    api.create_branch(repo, branch="dev")
    reader = HfApi(endpoint=sandbox.endpoint, token="hf_reader_token_for_tests")
    info = _lfs_commit(reader, repo, [CommitOperationAdd("lfs.bin", b"lfs"), CommitOperationAdd("a.txt", b"a")],
                       revision="dev", create_pr=True)
    pr = reader.get_discussion_details(repo, info.pr_num)
    assert pr.target_branch == "refs/heads/dev" and pr.status == "open"
    assert set(reader.list_repo_files(repo, revision=info.pr_revision)) >= {"lfs.bin", "a.txt"}
    head = api.list_repo_refs(repo).branches[0].target_commit
    for revision in (head, "missing"):
        with pytest.raises(RevisionNotFoundError):
            reader.create_commit(repo, operations=[CommitOperationAdd("b.txt", b"b")], commit_message="x",
                                 revision=revision, create_pr=True)
    with pytest.raises(HfHubHTTPError):  # but a direct commit still needs write access
        reader.upload_file(path_or_fileobj=b"x", path_in_repo="c.txt", repo_id=repo)


def test_branch_and_tag_errors_match_the_hub(api: HfApi, repo: str) -> None:
    api.create_branch(repo, branch="b")
    with pytest.raises(HfHubHTTPError, match="Reference refs/heads/b already exists"):
        api.create_branch(repo, branch="b")
    with pytest.raises(HfHubHTTPError, match="Cannot delete refs/heads/main"):
        api.delete_branch(repo, branch="main")
    with pytest.raises(HfHubHTTPError, match="Invalid rev id"):
        api.delete_branch(repo, branch="missing")
    with pytest.raises(RevisionNotFoundError):
        api.delete_tag(repo, tag="v0")
    with pytest.raises(RevisionNotFoundError):
        api.delete_tag(repo, tag="main")


def test_discussions_rename_edit_and_drafts_count_as_open(api: HfApi, repo: str) -> None:
    pr = api.create_discussion(repo, title="PR", pull_request=True)  # a draft
    disc = api.create_discussion(repo, title="D", description="first")
    api.change_discussion_status(repo, disc.num, "closed")
    assert [d.num for d in api.get_repo_discussions(repo, discussion_status="open")] == [pr.num]
    renamed = api.rename_discussion(repo, disc.num, "New")
    assert (renamed.old_title, renamed.new_title) == ("D", "New")
    first = api.get_discussion_details(repo, disc.num).events[0]
    edited = api.edit_discussion_comment(repo, disc.num, first.id, "changed")
    again = api.get_discussion_details(repo, disc.num)
    assert again.title == "New" and again.events[0].content == "changed" and again.events[0].edited
    assert edited.id == first.id


def test_commits_formatted_paths_info_expand_and_hook_output(api: HfApi, repo: str) -> None:
    first = api.upload_file(path_or_fileobj=b"1", path_in_repo="a.txt", repo_id=repo, commit_message="one")
    api.upload_file(path_or_fileobj=b"2", path_in_repo="b.txt", repo_id=repo, commit_message="two")
    commits = api.list_repo_commits(repo, formatted=True)
    assert commits[0].formatted_title == "<p>two</p>"
    info = {f.path: f.last_commit for f in api.get_paths_info(repo, ["a.txt", "b.txt"], expand=True)}
    assert info["a.txt"].title == "one" and info["b.txt"].title == "two"
    assert first.oid == info["a.txt"].oid


def test_validate_yaml_errors_and_warnings(api: HfApi, repo: str) -> None:
    with pytest.raises(ValueError, match=r"Invalid metadata in README\.md"):
        api.upload_file(path_or_fileobj=b"\n---\nmodel-index: foo\n---\n", path_in_repo="README.md", repo_id=repo)
    with pytest.warns(UserWarning, match=r"Warnings while validating metadata in README\.md"):
        api.upload_file(path_or_fileobj=b"no metadata", path_in_repo="README.md", repo_id=repo)


def test_settings_gated_auth_check_and_move_onto_an_existing_name(sandbox: Sandbox, api: HfApi, repo: str) -> None:
    api.update_repo_settings(repo, gated="manual")
    assert api.model_info(repo).gated == "manual"
    api.auth_check(repo)
    sandbox.state.add_user("other", "hf_other_token_for_tests")
    with pytest.raises(GatedRepoError):
        api.auth_check(repo, token="hf_other_token_for_tests")
    with pytest.raises(RepositoryNotFoundError):
        api.auth_check("demo/missing")
    api.create_repo("demo/taken")
    with pytest.raises(HfHubHTTPError, match="A model repository called demo/taken already exists"):
        api.move_repo(repo, "demo/taken")


def test_whoami_names_the_user_and_their_orgs(sandbox: Sandbox, api: HfApi) -> None:
    sandbox.state.set_fullname("demo", "Demo User")
    sandbox.state.add_org("acme", "Acme Inc", members=["demo"])
    me = api.whoami()
    assert me["fullname"] == "Demo User"
    assert {"type": "org", "name": "acme", "fullname": "Acme Inc"} in me["orgs"]


def test_deleting_lfs_files_with_rewrite_history_drops_their_pointers(api: HfApi, repo: str) -> None:
    _lfs_commit(api, repo, [CommitOperationAdd("a.bin", b"A"), CommitOperationAdd("keep.bin", b"K")])
    files = {f.filename: f for f in api.list_lfs_files(repo)}
    assert files["a.bin"].ref == "refs/heads/main"
    api.permanently_delete_lfs_files(repo, [files["a.bin"]])
    assert set(api.list_repo_files(repo)) == {".gitattributes", "keep.bin"}
    assert api.hf_hub_download(repo, "keep.bin") and len(api.list_repo_commits(repo)) == 2


def test_deleting_lfs_files_without_rewrite_keeps_every_commit(api: HfApi, repo: str) -> None:
    _lfs_commit(api, repo, [CommitOperationAdd("a.bin", b"A")])
    head = api.model_info(repo).sha
    api.permanently_delete_lfs_files(repo, list(api.list_lfs_files(repo)), rewrite_history=False)
    assert api.model_info(repo).sha == head and "a.bin" in api.list_repo_files(repo)


def test_super_squash_of_a_pull_request_ref(api: HfApi, repo: str) -> None:
    pr = api.create_pull_request(repo, title="t")
    for content in (b"1", b"2"):
        api.upload_file(path_or_fileobj=io.BytesIO(content), path_in_repo="f.txt", repo_id=repo,
                        revision=pr.git_reference)
    api.super_squash_history(repo, branch=pr.git_reference)
    assert len(api.list_repo_commits(repo, revision=pr.git_reference)) == 1


@pytest.mark.parametrize("bad", ["invalid tag", "a..b", "ends.lock", "x~1", "-/.hidden"])
def test_a_ref_name_git_refuses_is_a_400_not_a_crash(api: HfApi, repo: str, bad: str) -> None:
    """A tag or branch name git would refuse gets the client's 400 (the sandbox raised a GitError, a 500, before)."""
    for create in (lambda: api.create_tag(repo, tag=bad), lambda: api.create_branch(repo, branch=bad)):
        with pytest.raises(HfHubHTTPError) as err:
            create()
        assert err.value.response.status_code == 400
    api.create_tag(repo, tag="v1.0")  # and a good name still works
    assert "v1.0" in {t.name for t in api.list_repo_refs(repo).tags}
