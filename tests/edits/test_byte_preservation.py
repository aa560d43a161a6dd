"""The editors change the lines they must and not one byte more (issue 5), on real-world-shaped files.

Each case checks the exact result, that only the intended lines differ, and
that the unified diff the plan shows turns the old bytes into the new ones
with `git apply` (so what people review is what gets written).
"""

from __future__ import annotations

import difflib
import subprocess
from pathlib import Path

import pytest

from remedybot.edits import EditError, aptfiles, frontmatter, pycode, requirements
from remedybot.edits.diff import unified_diff
from remedybot.edits.lines import split

README = """\
---
# Space card: keep this comment
title: Edge Detector   # shown on the card
emoji: 🖼️
colorFrom: indigo
colorTo: pink
sdk: gradio
sdk_version: '5.9.1'
app_file: app.py
tags:
    - vision   # four-space indented list
    - opencv
models: [org/model-a]
pinned: false

short_description: "Find edges: fast"
---

Body text with a --- rule and a key: value that is not front matter.
"""


def changed(before: str, after: str) -> tuple[list[str], list[str]]:
    """(old lines, new lines) that differ, line endings included."""
    old, new = split(before), split(after)
    removed, added = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += old[i1:i2]
            added += new[j1:j2]
    return removed, added


def git_apply_roundtrip(tmp_path: Path, name: str, before: str | None, after: str) -> None:
    """The plan's diff, applied by git to the old bytes, gives exactly the new bytes."""
    repo = tmp_path / "apply"
    repo.mkdir(exist_ok=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    if before is not None:
        (repo / name).write_bytes(before.encode())
    patch = tmp_path / "fix.patch"
    patch.write_bytes(unified_diff(name, before, after).encode())
    subprocess.run(["git", "apply", "--unsafe-paths", str(patch)], cwd=repo, check=True, capture_output=True)
    assert (repo / name).read_bytes() == after.encode()


# -- README front matter ---------------------------------------------------------------


def test_set_existing_key_keeps_comment_quotes_and_order(tmp_path: Path) -> None:
    after = frontmatter.set_keys(README, {"sdk_version": "5.50.0"})
    assert changed(README, after) == (["sdk_version: '5.9.1'\n"], ["sdk_version: '5.50.0'\n"])
    git_apply_roundtrip(tmp_path, "README.md", README, after)


def test_unchanged_and_empty_values() -> None:
    assert frontmatter.set_keys(README, {"sdk": "gradio", "pinned": False}) == README
    text = "---\napp_port:   # set me\nsdk: docker\n---\n"
    assert frontmatter.set_keys(text, {"app_port": 8000}) == "---\napp_port: 8000 # set me\nsdk: docker\n---\n"


def test_value_with_trailing_comment_keeps_the_comment() -> None:
    after = frontmatter.set_keys(README, {"title": "Edges: now faster"})
    assert changed(README, after) == (["title: Edge Detector   # shown on the card\n"],
                                      ['title: "Edges: now faster"   # shown on the card\n'])


def test_new_key_goes_last_in_the_block_and_quotes_what_yaml_would_misread(tmp_path: Path) -> None:
    after = frontmatter.set_keys(README, {"app_port": 8000, "python_version": "3.10"})
    assert changed(README, after) == ([], ["app_port: 8000\n", 'python_version: "3.10"\n'])
    assert after.index("app_port: 8000") < after.index("\n---\n\nBody")
    git_apply_roundtrip(tmp_path, "README.md", README, after)


def test_block_list_item_keeps_the_list_indentation() -> None:
    after = frontmatter.add_list_item(README, "tags", "edges")
    assert changed(README, after) == ([], ["    - edges\n"])
    assert after.index("    - edges") > after.index("    - opencv")


def test_flow_list_and_new_list() -> None:
    after = frontmatter.add_list_item(README, "models", "org/model-b")
    assert changed(README, after) == (["models: [org/model-a]\n"], ["models: [org/model-a, org/model-b]\n"])
    after = frontmatter.add_list_item(README, "preload_from_hub", "Qwen/Qwen2.5-7B-Instruct")
    assert changed(README, after) == ([], ["preload_from_hub:\n", "  - Qwen/Qwen2.5-7B-Instruct\n"])


def test_crlf_front_matter_stays_crlf(tmp_path: Path) -> None:
    crlf = README.replace("\n", "\r\n")
    after = frontmatter.set_keys(crlf, {"app_port": 7861, "sdk": "docker"})
    removed, added = changed(crlf, after)
    assert removed == ["sdk: gradio\r\n"] and added == ["sdk: docker\r\n", "app_port: 7861\r\n"]
    assert "\n" not in after.replace("\r\n", "")
    git_apply_roundtrip(tmp_path, "README.md", crlf, after)


def test_repair_quotes_the_value_the_parser_trips_on(tmp_path: Path) -> None:
    broken = "---\r\ntitle: Recipe Finder: from your fridge to dinner # best\r\nsdk: gradio\r\n---\r\nBody\r\n"
    after, what = frontmatter.repair(broken)
    assert "quoted the value of 'title'" in what
    assert changed(broken, after) == (["title: Recipe Finder: from your fridge to dinner # best\r\n"],
                                      ['title: "Recipe Finder: from your fridge to dinner" # best\r\n'])
    assert frontmatter.FrontMatter.parse(after).mapping()["title"] == "Recipe Finder: from your fridge to dinner"
    git_apply_roundtrip(tmp_path, "README.md", broken, after)


def test_repair_replaces_tab_indentation() -> None:
    broken = "---\nsdk: gradio\ntags:\n\t- a\n---\n"
    after, what = frontmatter.repair(broken)
    assert what.endswith("replaced tab indentation with spaces")
    assert changed(broken, after) == (["\t- a\n"], ["  - a\n"])


def test_multiline_value_is_refused_not_rewritten() -> None:
    text = "---\nshort_description: >\n  folded\n  text\nsdk: gradio\n---\n"
    with pytest.raises(EditError, match="spans several lines"):
        frontmatter.set_keys(text, {"short_description": "x"})


# -- requirements ------------------------------------------------------------------------

REQS = (
    "# production pins\r\n"
    "-r requirements-base.txt\r\n"
    "--extra-index-url https://download.pytorch.org/whl/cpu\r\n"
    "torch==2.4.1+cpu ; platform_machine == 'x86_64'   # CPU wheels\r\n"
    "uvicorn[standard]==0.34.0\r\n"
    "huggingface-hub==0.10.0\r\n"
    "git+https://github.com/org/lib@v1#egg=lib\r\n"
    "numpy<3"  # no final newline
)


def test_add_appends_one_line_in_the_files_own_line_ending(tmp_path: Path) -> None:
    after = requirements.add(REQS, "opencv-python-headless")
    assert after == REQS + "\r\nopencv-python-headless\r\n"
    git_apply_roundtrip(tmp_path, "requirements.txt", REQS, after)


def test_relax_a_pin_keeps_extras_markers_and_comments(tmp_path: Path) -> None:
    after = requirements.set_specifier(REQS, "huggingface_hub", ">=0.25.0,<2.0")
    assert changed(REQS, after) == (["huggingface-hub==0.10.0\r\n"], ["huggingface-hub>=0.25.0,<2.0\r\n"])
    after = requirements.set_specifier(REQS, "torch", ">=2.4")
    assert changed(REQS, after) == (["torch==2.4.1+cpu ; platform_machine == 'x86_64'   # CPU wheels\r\n"],
                                    ["torch>=2.4 ; platform_machine == 'x86_64'   # CPU wheels\r\n"])
    after = requirements.set_specifier(REQS, "uvicorn", ">=0.30")
    assert changed(REQS, after)[1] == ["uvicorn[standard]>=0.30\r\n"]
    git_apply_roundtrip(tmp_path, "requirements.txt", REQS, after)


def test_includes_and_names() -> None:
    assert requirements.includes(REQS) == ["requirements-base.txt"]
    assert requirements.names(REQS) == {"torch", "uvicorn", "huggingface-hub", "numpy"}


HASHED = ("numpy==1.26.4 \\\n"
          "    --hash=sha256:aaaa \\\n"
          "    --hash=sha256:bbbb\n"
          "pillow==10.4.0 --hash=sha256:cccc\n")


def test_hash_checking_mode_is_never_broken() -> None:
    with pytest.raises(EditError, match="hash-checking mode"):
        requirements.add(HASHED, "opencv-python-headless")
    with pytest.raises(EditError, match="pinned with hashes"):
        requirements.set_specifier(HASHED, "numpy", ">=1.26")
    entry = requirements.find(HASHED, "numpy")[0]
    assert (entry.first, entry.last, entry.hashes) == (0, 2, True)


# -- packages.txt and Dockerfile apt lines -----------------------------------------------


def test_packages_txt_rename_keeps_comments_and_crlf(tmp_path: Path) -> None:
    text = "# system deps\r\nffmpeg\r\nlibgl1-mesa-glx  # OpenCV needs it\r\nlibglib2.0-0\r\n"
    after = aptfiles.rename("packages.txt", text, {"libgl1-mesa-glx": "libgl1"})
    assert changed(text, after) == (["libgl1-mesa-glx  # OpenCV needs it\r\n"], ["libgl1  # OpenCV needs it\r\n"])
    git_apply_roundtrip(tmp_path, "packages.txt", text, after)


DOCKERFILE = """\
FROM python:3.11-slim

# system packages
RUN apt-get update && \\
    apt-get install -y --no-install-recommends \\
        ffmpeg \\
        # GL for OpenCV
        libgl1-mesa-glx \\
        software-properties-common libsm6 \\
    && rm -rf /var/lib/apt/lists/*

RUN useradd -m -u 1000 user
USER user
CMD ["python", "app.py"]
"""


def test_dockerfile_continuation_lines_keep_their_layout(tmp_path: Path) -> None:
    after = aptfiles.rename("Dockerfile", DOCKERFILE, {"libgl1-mesa-glx": "libgl1",
                                                       "software-properties-common": None})
    assert changed(DOCKERFILE, after) == (
        ["        libgl1-mesa-glx \\\n", "        software-properties-common libsm6 \\\n"],
        ["        libgl1 \\\n", "        libsm6 \\\n"])
    git_apply_roundtrip(tmp_path, "Dockerfile", DOCKERFILE, after)


def test_dockerfile_last_package_on_its_own_line_keeps_the_command_valid() -> None:
    text = "RUN apt-get install -y \\\r\n    ffmpeg \\\r\n    libasound2\r\nCMD [\"python\", \"app.py\"]\r\n"
    after = aptfiles.rename("Dockerfile", text, {"libasound2": None})
    assert after == "RUN apt-get install -y \\\r\n    ffmpeg\r\nCMD [\"python\", \"app.py\"]\r\n"


def test_replacement_already_installed_drops_the_old_name() -> None:
    text = "libgl1\nlibgl1-mesa-glx\n"
    assert aptfiles.rename("packages.txt", text, {"libgl1-mesa-glx": "libgl1"}) == "libgl1\n"


# -- Python code -----------------------------------------------------------------------------


def test_port_literal_replaced_in_place() -> None:
    source = ("import gradio as gr  # é\r\ndemo = gr.Blocks()\r\n"
              "demo.launch(server_name='0.0.0.0', server_port=8000)\r\n")
    bind = pycode.binds(source)[0]
    assert bind.port is not None and bind.host is not None
    after = pycode.replace_literal(source, bind.port, 7860)
    assert changed(source, after)[1] == ["demo.launch(server_name='0.0.0.0', server_port=7860)\r\n"]
    after = pycode.replace_literal(source, bind.host, "127.0.0.1")
    assert "server_name='127.0.0.1'" in after


def test_diff_marks_a_missing_final_newline(tmp_path: Path) -> None:
    diff = unified_diff("requirements.txt", "pillow\nnumpy<3", "pillow\nnumpy<3\nopencv-python-headless\n")
    assert "\\ No newline at end of file\n" in diff
    git_apply_roundtrip(tmp_path, "requirements.txt", "pillow\nnumpy<3", "pillow\nnumpy<3\nopencv-python-headless\n")


def test_diff_of_a_new_file(tmp_path: Path) -> None:
    assert unified_diff("pre-requirements.txt", None, "torch\n").startswith("--- /dev/null\n+++ b/pre-requirements.txt")
    git_apply_roundtrip(tmp_path, "pre-requirements.txt", None, "torch\n")
