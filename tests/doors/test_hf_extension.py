"""`hf remedy`: the `hf-remedy` console script, laid out as `hf extensions install` lays out a Python extension,
is what huggingface_hub 2.4's `hf` dispatches `hf remedy ...` to (offline: nothing is downloaded).

The installer (huggingface_hub/cli/extensions.py, `_install_python_extension`) makes
`~/.local/share/hf/extensions/hf-<name>/venv`, pip-installs the repository into it, and records the venv's
`bin/hf-<name>` in `manifest.json` beside it; `hf <name> ARGS` then runs that executable with ARGS. Here the venv
sees this checkout through a .pth file instead of a pip install from GitHub, and its `hf-remedy` script is written
the way pip writes console scripts, from the entry point this package declares.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import venv
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from huggingface_hub.cli.extensions import ExtensionManifest

from remedybot.sandbox.server import Sandbox

HF = Path(sys.executable).parent / "hf"


def install_like_hf_extensions(home: Path) -> Path:
    """Lay out the hf-remedy extension under `home` as `hf extensions install OWNER/hf-remedy` does."""
    (script,) = entry_points(group="console_scripts", name="hf-remedy")
    module, function = script.value.split(":")
    extension_dir = home / ".local" / "share" / "hf" / "extensions" / "hf-remedy"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(extension_dir / "venv")
    python = extension_dir / "venv" / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # `import` lines of a .pth file run at start-up: addsitedir also reads the editable install's own .pth files.
    Path(purelib, "remedybot-checkout.pth").write_text(
        "".join(f"import site; site.addsitedir({path!r})\n" for path in site.getsitepackages()))
    executable = extension_dir / "venv" / "bin" / "hf-remedy"
    executable.write_text(f"#!{python}\nimport sys\nfrom {module} import {function}\n"
                          f"if __name__ == '__main__':\n    sys.exit({function}())\n")
    executable.chmod(0o755)
    ExtensionManifest(owner="remedybot", repo="hf-remedy", repo_id="remedybot/hf-remedy", short_name="remedy",
                      executable_path=str(executable), type="python", installed_at=datetime.now(UTC),
                      description="Diagnose and fix stuck Spaces", commit_sha="0" * 40).save(extension_dir)
    return executable


def hf(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "HF_HUB_DISABLE_UPDATE_CHECK": "1"}
    return subprocess.run([str(HF), *args], capture_output=True, text=True, env=env, timeout=120)


def test_hf_remedy_dispatches_to_the_installed_extension(sandbox: Sandbox, tmp_path: Path) -> None:
    if not HF.exists():
        pytest.fail(f"huggingface_hub's hf command is missing beside {sys.executable}")
    install_like_hf_extensions(tmp_path)
    done = hf(tmp_path, "remedy", "diagnose", "demo/dependency", "--json")
    assert done.returncode == 7, done.stderr  # UNHEALTHY, as `remedybot diagnose` exits
    assert json.loads(done.stdout)["branch"] == "dependency"
    bad = hf(tmp_path, "remedy", "diagnose", "not-a-space")
    assert bad.returncode == 2 and bad.stderr.startswith("Error: "), bad.stderr  # one line, no traceback
    assert "Traceback" not in bad.stderr
