"""The sandbox's Storage Buckets, driven by huggingface_hub itself and by remedybot."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BucketNotFoundError

from remedybot.core.errors import NotFoundError
from remedybot.hub import Hub
from remedybot.sandbox.routes_buckets import registry
from remedybot.sandbox.server import Sandbox

SPACE = "demo/repo-too-large"


def head_lfs(api: HfApi) -> list:
    return [f for f in api.list_repo_tree(SPACE, repo_type="space", recursive=True) if getattr(f, "lfs", None)]


def test_server_side_copy_into_a_bucket_with_huggingface_hub(api: HfApi, sandbox: Sandbox) -> None:
    url = api.create_bucket("demo/assets", private=True)
    assert url.bucket_id == "demo/assets"
    api.create_bucket("demo/assets", exist_ok=True)
    files = head_lfs(api)
    api.batch_bucket_files("demo/assets", copy=[("space", SPACE, f.xet_hash, f"weights/{f.path}") for f in files])
    info = api.bucket_info("demo/assets")
    assert info.private and info.total_files == len(files) and info.size == sum(f.size for f in files)
    listed = {f.path for f in api.list_bucket_tree("demo/assets", recursive=True) if f.type == "file"}
    assert listed == {f"weights/{f.path}" for f in files}
    paths = [f"weights/{f.path}" for f in files] + ["weights/missing.bin"]
    assert {p.path for p in api.get_bucket_paths_info("demo/assets", paths)} == listed
    with pytest.raises(BucketNotFoundError):
        api.bucket_info("demo/nope")


def test_bucket_bytes_outlive_the_space_objects(sandbox: Sandbox, api: HfApi) -> None:
    hub = Hub()
    files = head_lfs(api)
    hub.create_bucket("demo/keep", private=False)
    hub.create_bucket("demo/keep", private=False)  # exists: fine
    failed = hub.bucket_copy("demo/keep", [{"path": f.path, "xetHash": f.xet_hash, "sourceRepoType": "space",
                                                "sourceRepoId": SPACE} for f in files]
                            + [{"path": "x", "xetHash": "0" * 64, "sourceRepoType": "space", "sourceRepoId": SPACE}])
    assert failed == [{"path": "x", "error": "File not found in source repository"}]
    hub.delete_lfs_objects(SPACE, [f.lfs.sha256 for f in files])  # the Space's copies are gone now
    info = hub.bucket_paths_info("demo/keep", [f.path for f in files])
    for f in files:
        digest, size = hub.stream_sha256(hub.bucket_resolve_url("demo/keep", f.path), what="read",
                                        repo_id="demo/keep", repo_type="bucket")
        assert (digest, size) == (f.lfs.sha256, f.size) and info[f.path]["xetHash"] == f.xet_hash
    assert hub.bucket_info("demo/none") is None
    with pytest.raises(NotFoundError):
        hub.bucket_paths_info("demo/none", ["a"])


def test_volumes_are_recorded_and_checked(sandbox: Sandbox) -> None:
    hub = Hub()
    hub.create_bucket("demo/mount", private=False)
    volumes = [{"type": "bucket", "source": "demo/mount", "mountPath": "/data", "readOnly": False}]
    hub.set_space_volumes(SPACE, volumes)
    assert registry(sandbox.state).volumes[SPACE] == volumes
    with pytest.raises(NotFoundError):
        hub.set_space_volumes(SPACE, [{"type": "bucket", "source": "demo/absent", "mountPath": "/data"}])
