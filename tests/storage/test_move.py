"""Moving files out: README round trip, code references, server-side copy and the sha256 proof."""

from __future__ import annotations

import io
import warnings

from huggingface_hub import CommitOperationAdd, HfApi

from remedybot.hub import Hub
from remedybot.remedy.storage.move import (
    code_references,
    copy_files,
    create_destination,
    missing_in_destination,
    preload_entry,
    readme_with_preload,
    verify_files,
)
from remedybot.remedy.storage.selection import Destination
from remedybot.sandbox.server import Sandbox

README = """---
# Shown on the Space card
title: Digit Classifier
sdk: gradio   # keep in sync with requirements
app_file: app.py
preload_from_hub:
- "openai/clip-vit-base-patch32"
---

Body text stays.
"""
ASSETS = Destination("model", "alice/demo-assets")


def test_preload_is_added_keeping_comments_order_and_quotes() -> None:
    entry = preload_entry(ASSETS, ["models/b.pt", "models/a.pt"])
    assert entry == "alice/demo-assets models/a.pt,models/b.pt"
    out = readme_with_preload(README, entry)
    assert out == README.replace('- "openai/clip-vit-base-patch32"\n',
                                 f'- "openai/clip-vit-base-patch32"\n- {entry}\n')
    assert readme_with_preload(out, entry) == out  # already there: unchanged
    merged = readme_with_preload(out, "alice/demo-assets models/c.pt")
    assert merged is not None and merged.count("alice/demo-assets") == 1 and "models/c.pt" in merged
    assert readme_with_preload("no front matter\n", entry) is None
    assert readme_with_preload("---\ntitle: x\n---\n", entry) == f"---\ntitle: x\npreload_from_hub:\n- {entry}\n---\n"
    assert preload_entry(ASSETS, ["with space.pt"]) == "alice/demo-assets"


def test_code_lines_naming_moved_paths_are_reported_with_the_call_to_use() -> None:
    files = {"app.py": 'import torch\nm = torch.load("models/ckpt.pt")\nprint("ckpt.pt loaded")\n',
             "README.md": "models/ckpt.pt is big\n"}
    moves = [{"path": "models/ckpt.pt", "oid": "0" * 64, "size": 1}]
    refs = code_references(files, moves, Destination("dataset", "alice/d"), "report")
    assert [(r["file"], r["line"]) for r in refs] == [("app.py", 2), ("app.py", 3)]
    assert refs[0]["use"] == 'hf_hub_download(repo_id="alice/d", filename="models/ckpt.pt", repo_type="dataset")'
    volume = code_references(files, moves, ASSETS, "volume")
    assert volume[0]["use"] == '"/data/models/ckpt.pt"'


def test_copy_then_verify_by_sha256_catches_a_wrong_copy(sandbox: Sandbox, api: HfApi) -> None:
    hub = Hub()
    space = "demo/repo-too-large"
    files = [{"path": f["path"], "oid": f["lfs"]["oid"], "size": f["size"], "xet_hash": f["xetHash"]}
             for f in hub.list_tree(space) if f.get("lfs")]
    dest = Destination("dataset", "demo/weights")
    create_destination(hub, dest, private=True)
    assert missing_in_destination(hub, dest, files) == [f["path"] for f in files]
    copy_files(hub, space, dest, files, revision="main", message="move")
    copy_files(hub, space, dest, files, revision="main", message="move")  # again: nothing changes
    assert missing_in_destination(hub, dest, files) == [] and verify_files(hub, dest, files) == []
    assert len(api.list_repo_commits("demo/weights", repo_type="dataset")) == 2
    assert api.repo_info("demo/weights", repo_type="dataset").private

    with warnings.catch_warnings():  # .gitattributes sends the path through LFS, whose upload trips an httpx2 notice
        warnings.simplefilter("ignore", DeprecationWarning)
        api.create_commit("demo/weights", repo_type="dataset", commit_message="oops",
                          operations=[CommitOperationAdd(files[0]["path"], io.BytesIO(b"not the model"))])
    problems = verify_files(hub, dest, files)
    assert len(problems) == 1 and problems[0].startswith(files[0]["path"])
