"""A Storage Bucket's bytes through the sandbox's Xet CAS, with huggingface_hub and its own hf_xet client."""

from __future__ import annotations

import os
import random
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import HfApi

from remedybot.sandbox.server import Sandbox
from remedybot.sandbox.xetcas import PREFIX, registry


@pytest.fixture
def hub(empty_sandbox: Sandbox) -> HfApi:
    api = HfApi(endpoint=empty_sandbox.endpoint, token=empty_sandbox.token)
    api.create_bucket("demo/cas")
    return api


def cas_calls(sb: Sandbox, method: str, part: str) -> list[tuple[str, str, int]]:
    return [entry for entry in sb.app.request_log if entry[0] == method and part in entry[1]]


def stored_xorbs(sb: Sandbox) -> set[str]:
    return {p.name for p in (sb.state.root / "xet" / "xorbs").rglob("*") if p.is_file()}


def test_files_go_up_and_come_back_byte_identical(empty_sandbox: Sandbox, hub: HfApi, tmp_path: Path) -> None:
    big = random.Random(14).randbytes(200_000)  # incompressible: several chunks, stored uncompressed
    text = b"".join(b"line %d of a compressible file\n" % i for i in range(3000))  # LZ4 chunks
    hub.batch_bucket_files("demo/cas", add=[(big, "data/big.bin"), (text, "text.txt"), (b"hello", "hello.txt")])
    listed = {f.path: f for f in hub.list_bucket_tree("demo/cas")}
    assert {p: f.size for p, f in listed.items()} == {"data/big.bin": 200_000, "text.txt": len(text), "hello.txt": 5}
    assert {f.path for f in hub.list_bucket_tree("demo/cas", recursive=False)} == {"data", "text.txt", "hello.txt"}
    cas = registry(empty_sandbox.state)
    (term,) = cas.files[listed["data/big.bin"].xet_hash]
    assert term.end - term.start > 1  # more than one chunk
    (text_term,) = cas.files[listed["text.txt"].xet_hash]
    assert any(c.scheme for c in cas.chunks(text_term.xorb)[text_term.start:text_term.end])  # compressed by hf_xet
    assert cas_calls(empty_sandbox, "POST", f"{PREFIX}/v1/xorbs/default/") and \
        cas_calls(empty_sandbox, "POST", f"{PREFIX}/v1/shards")

    hub.download_bucket_files("demo/cas", [("data/big.bin", tmp_path / "big.bin"), ("text.txt", tmp_path / "t.txt"),
                                           ("hello.txt", tmp_path / "hello.txt")])
    assert (tmp_path / "big.bin").read_bytes() == big
    assert (tmp_path / "t.txt").read_bytes() == text
    assert (tmp_path / "hello.txt").read_bytes() == b"hello"
    assert cas_calls(empty_sandbox, "GET", "/reconstructions/") and cas_calls(empty_sandbox, "GET", f"{PREFIX}/xorb/")
    assert not cas_calls(empty_sandbox, "GET", "/resolve/")  # the bytes came from the CAS, not the resolve URL

    plain = httpx2.get(f"{empty_sandbox.endpoint}/buckets/demo/cas/resolve/data/big.bin",
                       headers={"Authorization": f"Bearer {empty_sandbox.token}"})
    assert plain.status_code == 200 and plain.content == big
    assert plain.headers["X-Xet-Hash"] == listed["data/big.bin"].xet_hash
    compressed = httpx2.get(f"{empty_sandbox.endpoint}/buckets/demo/cas/resolve/text.txt",
                            headers={"Authorization": f"Bearer {empty_sandbox.token}"})
    assert compressed.status_code == 501 and "download it with hf_xet" in compressed.json()["error"]


def test_the_same_bytes_twice_are_stored_once(empty_sandbox: Sandbox, hub: HfApi, tmp_path: Path) -> None:
    data = os.urandom(100_000)
    hub.batch_bucket_files("demo/cas", add=[(data, "a.bin")])
    xorbs = stored_xorbs(empty_sandbox)
    hub.batch_bucket_files("demo/cas", add=[(data, "copy/b.bin")])
    assert stored_xorbs(empty_sandbox) == xorbs
    a, b = hub.get_bucket_paths_info("demo/cas", ["a.bin", "copy/b.bin"])
    assert a.xet_hash == b.xet_hash and b.size == 100_000
    hub.download_bucket_files("demo/cas", [("copy/b.bin", tmp_path / "b.bin")])
    assert (tmp_path / "b.bin").read_bytes() == data


def test_server_side_copies_download_through_xet(sandbox: Sandbox, api: HfApi, tmp_path: Path) -> None:
    space = "demo/repo-too-large"  # a Space whose large files are in git-LFS
    lfs = next(f for f in api.list_repo_tree(space, repo_type="space", recursive=True) if getattr(f, "lfs", None))
    api.create_bucket("demo/from-repo")
    api.batch_bucket_files("demo/from-repo", add=[(b"uploaded through xet", "up.txt")])
    up = next(iter(api.get_bucket_paths_info("demo/from-repo", ["up.txt"])))
    api.create_bucket("demo/copies")
    api.batch_bucket_files("demo/copies", copy=[("space", space, lfs.xet_hash, "weights.bin"),
                                                ("bucket", "demo/from-repo", up.xet_hash, "up.txt")])
    api.download_bucket_files("demo/copies", [("weights.bin", tmp_path / "w.bin"), ("up.txt", tmp_path / "up.txt")])
    original = api.hf_hub_download(space, lfs.path, repo_type="space", local_dir=tmp_path / "orig")
    assert (tmp_path / "w.bin").read_bytes() == Path(original).read_bytes()
    assert (tmp_path / "up.txt").read_bytes() == b"uploaded through xet"


def test_the_cas_wants_a_token_of_the_right_scope(empty_sandbox: Sandbox, hub: HfApi) -> None:
    base = empty_sandbox.endpoint
    user = {"Authorization": f"Bearer {empty_sandbox.token}"}
    read = httpx2.get(f"{base}/api/buckets/demo/cas/xet-read-token", headers=user).json()
    assert read["casUrl"] == base + PREFIX and read["exp"] > 0
    xorb_url = f"{base}{PREFIX}/v1/xorbs/default/{'0' * 64}"
    assert httpx2.post(xorb_url, content=b"x").status_code == 401
    as_reader = {"Authorization": f"Bearer {read['accessToken']}"}
    assert httpx2.post(xorb_url, content=b"x", headers=as_reader).status_code == 403
    write = httpx2.get(f"{base}/api/buckets/demo/cas/xet-write-token", headers=user).json()
    as_writer = {"Authorization": f"Bearer {write['accessToken']}"}
    refused = httpx2.post(xorb_url, content=b"not a xorb", headers=as_writer)
    assert refused.status_code == 400 and "Bad serialization" in refused.json()["error"]
    assert httpx2.get(f"{base}/api/buckets/demo/cas/xet-write-token").status_code == 401
    assert httpx2.get(f"{base}{PREFIX}/v1/reconstructions/{'0' * 64}", headers=as_reader).status_code == 404
    assert httpx2.get(f"{base}{PREFIX}/v1/chunks/default/{'0' * 64}", headers=as_reader).status_code == 404
    assert httpx2.get(f"{base}{PREFIX}/xorb/{'0' * 64}?sig=forged").status_code == 403
