"""`remedybot lint PATH` (issue 5): finds each demo Space's problem in a clone, nothing in demo/healthy."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from clirun import run

from remedybot.sandbox.server import Sandbox

EXPECTED = {
    "demo/dependency": "app.py:1: imports cv2, but nothing installed provides it: add opencv-python-headless to "
                       "requirements.txt [dependency]",
    "demo/apt-package": "packages.txt:1: libgl1-mesa-glx is not in Debian trixie (the Spaces base image), apt exits "
                        "100: use libgl1 [apt_package]",
    "demo/port-mismatch": "Dockerfile:14: The app listens on a port other than app_port, where Hugging Face's "
                          "health check looks (app_port 7860, listen_port 8000) [port_mismatch]",
    "demo/config-error": "README.md:2: The README front matter is invalid YAML or has a value the Hub rejects "
                         "(invalid YAML in README.md front matter: mapping values are not allowed here) "
                         "[config_error]",
    "demo/unhealthy-startup": "app.py:7: downloads Qwen/Qwen2.5-7B-Instruct when the app starts; a large model can "
                              "outlast startup_duration_timeout: add it to preload_from_hub in README.md "
                              "[unhealthy_startup]",
}


def clone(sandbox: Sandbox, space: str, dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", f"{sandbox.endpoint}/spaces/{space}", str(dest)], check=True,
                   capture_output=True)
    return dest


def test_lint_finds_each_demo_problem_and_nothing_in_healthy(sandbox: Sandbox, tmp_path: Path) -> None:
    for space, finding in EXPECTED.items():
        result = run("lint", str(clone(sandbox, space, tmp_path / space.split("/")[1])))
        assert result.code == 1, (space, result.out)
        assert result.out.splitlines() == [finding]
    healthy = run("lint", str(clone(sandbox, "demo/healthy", tmp_path / "healthy")))
    assert healthy.code == 0 and healthy.out == "" and "✓ no problems found" in healthy.err


def test_lint_is_clean_after_the_fix(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDYBOT_VERIFY_TIMEOUT", "6")
    monkeypatch.setenv("REMEDYBOT_VERIFY_POLL", "0.05")
    assert run("fix", "demo/dependency", "--yes").code == 0
    assert run("lint", str(clone(sandbox, "demo/dependency", tmp_path / "fixed"))).code == 0


def test_lint_json(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("---\nsdk: gradio\ncolorFrom: blu\n---\n")
    (tmp_path / "app.py").write_text("import gradio as gr\nimport sklearn\n")
    result = run("lint", str(tmp_path), "--json")
    data = json.loads(result.out)
    assert result.code == 1 and data["count"] == 2
    assert {(f["file"], f["line"], f["branch"]) for f in data["findings"]} == {("README.md", 3, "config_error"),
                                                                              ("app.py", 2, "dependency")}


def test_lint_usage_error(tmp_path: Path) -> None:
    result = run("lint", str(tmp_path / "nope"))
    assert result.code == 2
    assert result.err_lines[0] == (f"Error: '{tmp_path / 'nope'}' is not a directory. Give the path of a Space "
                                   "checkout, e.g. 'remedybot lint .'.")


@pytest.mark.parametrize("use_git", [True, False])
def test_lint_large_and_binary_files_outside_lfs(tmp_path: Path, use_git: bool) -> None:
    (tmp_path / "README.md").write_text("---\nsdk: static\n---\n")
    (tmp_path / "index.html").write_text("<p>hi</p>\n")
    (tmp_path / ".gitattributes").write_text("*.bin filter=lfs diff=lfs merge=lfs -text\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "weights.bin").write_bytes(b"\0" * 100)  # tracked by LFS: fine
    (tmp_path / "weights.pt").write_bytes(b"PK\0\0" * 10)
    (tmp_path / "big.csv").write_bytes(b"a,b\n" * (11 * 1024 * 1024 // 4))
    if use_git:
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = run("lint", str(tmp_path))
    assert result.code == 1
    lines = result.out.splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["big.csv", "weights.pt"]
    assert all(ln.endswith("[repo_too_large]") for ln in lines)
    assert "the Hub rejects files over 10 MB" in lines[0] and "binary and not tracked by LFS/Xet" in lines[1]


def test_lint_docker_user_and_expose(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("---\nsdk: docker\napp_port: 7860\n---\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11\r\nEXPOSE 8080\r\nCMD [\"python\", \"-m\", "
                                         "\"http.server\", \"7860\"]\r\n")
    result = run("lint", str(tmp_path))
    assert result.out.splitlines() == [
        "Dockerfile:1: the container runs as root, but Spaces run it as user 1000 (files made at build time may not "
        "be writable): add 'RUN useradd -m -u 1000 user' and 'USER user' [startup_crash]",
        "Dockerfile:2: EXPOSEs 8080 but not app_port 7860, where Hugging Face checks the app [port_mismatch]"]
    (tmp_path / "Dockerfile").write_text("FROM python:3.11\nRUN useradd -m -u 1000 user\nUSER user\nEXPOSE 7860\n"
                                         "CMD [\"python\", \"-m\", \"http.server\", \"7860\"]\n")
    assert run("lint", str(tmp_path)).code == 0
