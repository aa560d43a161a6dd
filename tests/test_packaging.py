"""A wheel built from the repo (not an editable install) finds its playbooks, templates and data."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Build from a copy of the files git knows (tracked, or new and not ignored), so build/ and egg-info never
    # land in the checkout and no cache (.venv, .mypy_cache, .conformance) is copied.
    src = out / "src"
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True).stdout.decode().split("\0")
    import shutil

    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() or source.is_symlink():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, src / name, follow_symlinks=False)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(src)], check=True)
    (found,) = out.glob("remedybot-*.whl")
    return found


def test_wheel_layout(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert not any(n.startswith("playbooks/") for n in names), "plain 'playbooks' must not reach site-packages"
    assert "remedybot/playbooks/__init__.py" in names
    assert any(n.startswith("remedybot/templates/") for n in names)
    assert any(n.startswith("remedybot/sandbox/scenarios/") and n.endswith(".yaml") for n in names)
    assert any(n.startswith("remedybot/diagnose/catalog/") and n.endswith(".yaml") for n in names)
    for table in ("pypi_names", "debian_packages", "known_good"):
        assert f"remedybot/edits/{table}.yaml" in names
    for init in ROOT.glob("remedybot/**/__init__.py"):  # every stage package, however deep, is installed
        assert init.relative_to(ROOT).as_posix() in names
    assert any(n.endswith("entry_points.txt") for n in names)


def test_installed_wheel_finds_its_data(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                    str(wheel)], check=True)
    probe = (
        "import remedybot, remedybot.playbooks, remedybot.templates, importlib.resources as r\n"
        "from remedybot.sandbox.scenario import load_scenarios\n"
        f"assert remedybot.__file__.startswith({str(target)!r}), remedybot.__file__\n"
        "print(len(load_scenarios()))\n"
        "print(sum(1 for p in r.files('remedybot.templates').iterdir() if p.name.endswith('.j2')))\n"
        "from remedybot.edits.names import apt_replacement, distribution_for\n"
        "print(distribution_for('cv2'), apt_replacement('libgl1-mesa-glx')[1])\n"
        "print(len(remedybot.playbooks.REGISTRY))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    scenarios, _templates, cv2, libgl, playbooks = result.stdout.split()
    assert int(scenarios) >= 14
    assert (cv2, libgl) == ("opencv-python-headless", "libgl1")  # the edits' data tables shipped
    assert int(playbooks) >= 14
