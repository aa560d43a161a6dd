"""A small Space whose storage has every shape the storage engine must tell apart.

    c0  app.py, junk.csv (plain git, 200 KB)                      junk.csv: history only
    c1  - junk.csv, + data.csv (plain, 300 KB), + old.bin (LFS X)  the tip of branch 'dev'
    c2  - data.csv, - old.bin, + model.bin (LFS Y)                 main
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass

import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi

from remedybot.sandbox.server import Sandbox

LAB = "demo/storage-lab"


@dataclass
class Lab:
    space: str
    junk: bytes
    data: bytes
    old: bytes
    model: bytes
    c1: str


def _binary(size: int, seed: int) -> bytes:
    return b"\0" + os.urandom(size - 1) if seed else b""


@pytest.fixture
def lab(sandbox: Sandbox, api: HfApi) -> Lab:
    api.create_repo(LAB, repo_type="space", space_sdk="gradio")
    junk = b"j," * 100_000
    data = b"d," * 150_000
    old, model = _binary(1_500_000, 1), _binary(1_200_000, 2)

    def commit(ops: list, message: str) -> str:
        with warnings.catch_warnings():  # huggingface_hub's LFS upload trips an httpx2 deprecation notice
            warnings.simplefilter("ignore", DeprecationWarning)
            return api.create_commit(LAB, repo_type="space", operations=ops, commit_message=message).oid

    commit([CommitOperationAdd("app.py", io.BytesIO(b"import gradio as gr\nopen('model.bin')\n")),
            CommitOperationAdd("junk.csv", io.BytesIO(junk))], "c0")
    c1 = commit([CommitOperationDelete("junk.csv"), CommitOperationAdd("data.csv", io.BytesIO(data)),
                 CommitOperationAdd("old.bin", io.BytesIO(old))], "c1")
    api.create_branch(LAB, repo_type="space", branch="dev", revision=c1)
    commit([CommitOperationDelete("data.csv"), CommitOperationDelete("old.bin"),
            CommitOperationAdd("model.bin", io.BytesIO(model))], "c2")
    for obj in sandbox.state.find("space", LAB).lfs.values():
        obj.pushed_at -= 86400  # pushed yesterday: old enough to purge
    return Lab(LAB, junk, data, old, model, c1)
