"""`make conformance`: run huggingface_hub's own Hub-API tests against a fresh sandbox Hub.

Steps: check that the installed huggingface_hub is the version pyproject.toml pins;
download that version's sdist from PyPI with pip (cached in .conformance/); extract its
tests/; add the shim conftest (conftest_shim.py); start a sandbox Hub with the suite's test
users; run the classes listed in classes.yaml in one pytest process; print passed, failed
and skipped per class, with each skip's reason. Exit 0 when nothing failed, 1 otherwise.

    .venv/bin/python tools/conformance/run.py                 # every listed class
    .venv/bin/python tools/conformance/run.py TestHfApiTag    # classes whose name contains this
    .venv/bin/python tools/conformance/run.py -- -k branch    # extra pytest arguments after --

Not part of `make test`: it downloads. Nothing in it reaches huggingface.co: the shim refuses
any host but the sandbox's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import xml.etree.ElementTree as ET
from collections import defaultdict
from importlib import metadata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
WORK = ROOT / ".conformance"
ORG_FULLNAME = "Dummy Hub Org"  # the staging instance's fixture org, read by test_whoami_with_passing_token
ORG = "valid_org_hub"


def pinned_version() -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        match = re.fullmatch(r"huggingface_hub==([\w.]+)", dep.replace(" ", ""))
        if match:
            return match.group(1)
    sys.exit("Error: pyproject.toml does not pin huggingface_hub with '=='.")


def fetch_tests(version: str) -> Path:
    """The suite's tests/ folder for `version`, extracted from its sdist (downloaded once)."""
    suite = WORK / f"huggingface_hub-{version}"
    if (suite / "tests" / "test_hf_api.py").exists():
        return suite
    dl = WORK / "dl"
    sdist = dl / f"huggingface_hub-{version}.tar.gz"
    if not sdist.exists():
        print(f"Downloading the huggingface_hub {version} sdist with pip ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                        "--no-build-isolation", f"huggingface_hub=={version}", "-d", str(dl)], check=True)
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(f"huggingface_hub-{version}/tests/")]
        tar.extractall(WORK, members=members, filter="data")
    return suite


def install_shim(suite: Path) -> None:
    tests = suite / "tests"
    (tests / "__init__.py").write_text("")
    shutil.copyfile(HERE / "conftest_shim.py", tests / "conftest.py")
    (suite / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider -p no:randomly\n"
                                      "filterwarnings =\n    error::FutureWarning\n"
                                      "timeout = 300\n")


def test_constants(suite: Path) -> dict[str, str]:
    namespace: dict[str, object] = {}
    exec((suite / "tests" / "testing_constants.py").read_text(), namespace)
    return {k: v for k, v in namespace.items() if isinstance(v, str)}


def start_sandbox(consts: dict[str, str]):  # type: ignore[no-untyped-def]
    from remedybot.sandbox.server import Sandbox

    users = {consts["USER"]: consts["TOKEN"], consts["OTHER_USER"]: consts["OTHER_TOKEN"]}
    sandbox = Sandbox(load_default_scenarios=False, users=users).start()
    sandbox.state.set_fullname(consts["USER"], consts["FULL_NAME"])
    sandbox.state.add_org(ORG, ORG_FULLNAME, members=[consts["USER"]])
    return sandbox


def selection(only: str | None) -> tuple[list[dict[str, str]], dict[str, str]]:
    data = yaml.safe_load((HERE / "classes.yaml").read_text())
    classes = [c for c in data["classes"] if not only or only in c["test"]]
    if not classes:
        sys.exit(f"Error: no class in classes.yaml matches {only!r}.")
    skips: dict[str, str] = {}
    for c in classes:
        if c.get("skip"):
            skips[f"tests/{c['test']}"] = c["skip"]
        for name, reason in (c.get("skip_tests") or {}).items():
            skips[f"tests/{c['test']}::{name}"] = reason
    return classes, skips


def run_pytest(suite: Path, sandbox, classes: list[dict[str, str]], skips: dict[str, str],  # type: ignore[no-untyped-def]
               extra: list[str]) -> Path:
    report = WORK / "report.xml"
    skips_file = WORK / "skips.json"
    skips_file.write_text(json.dumps(skips))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update({"HF_ENDPOINT": sandbox.endpoint, "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_XET": "1",
                "REMEDYBOT_CONFORMANCE_ENDPOINT": sandbox.endpoint, "REMEDYBOT_CONFORMANCE_SKIPS": str(skips_file),
                "HF_HUB_DISABLE_PROGRESS_BARS": "1", "NO_COLOR": "1",
                "REMEDYBOT_CONFORMANCE_RUN_XET": ",".join(f"tests/{c['test'].split('::')[0]}" for c in classes
                                                          if c.get("xet") == "lfs")})
    args = [sys.executable, "-m", "pytest", "-q", "-rN", "--no-header", "-p", "no:remedybot_sandbox",
            f"--junitxml={report}", "-o", "junit_family=xunit2", *[f"tests/{c['test']}" for c in classes], *extra]
    subprocess.run(args, cwd=suite, env=env, check=False)
    return report


def summarise(report: Path, classes: list[dict[str, str]]) -> int:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"passed": 0, "failed": 0, "skipped": 0})
    reasons: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    failures: list[str] = []
    for case in ET.parse(report).getroot().iter("testcase"):
        cls = case.get("classname", "").split(".")[-1]
        if cls == "tests" or not cls.startswith("Test"):
            cls = case.get("classname", "").replace("tests.", "")
        outcome = "passed"
        for child in case:
            if child.tag == "skipped":
                outcome = "skipped"
                reasons[cls][_reason(child.get("message", ""))] += 1
            elif child.tag in ("failure", "error"):
                outcome = "failed"
                failures.append(f"{cls}::{case.get('name')}: {_first_line(child.get('message', ''))}")
        counts[cls][outcome] += 1
    width = max([len(c) for c in counts] + [5])
    print(f"\n{'class':<{width}}  passed  failed  skipped")
    total = {"passed": 0, "failed": 0, "skipped": 0}
    for cls in sorted(counts, key=_order(classes)):
        row = counts[cls]
        for key in total:
            total[key] += row[key]
        print(f"{cls:<{width}}  {row['passed']:>6}  {row['failed']:>6}  {row['skipped']:>7}")
        for reason, n in sorted(reasons[cls].items()):
            print(f"{'':<{width}}    skipped {n}: {reason}")
    print(f"{'total':<{width}}  {total['passed']:>6}  {total['failed']:>6}  {total['skipped']:>7}")
    if failures:
        print("\nFailed:")
        for line in failures:
            print(f"  {line}")
    print(f"\n{total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
    return 1 if total["failed"] else 0


def _order(classes: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    names = [c["test"].split("::")[-1].removesuffix(".py") for c in classes]
    return lambda cls: (names.index(cls) if cls in names else len(names), cls)


def _reason(message: str) -> str:
    return message.removeprefix("Skipped: ").strip() or "(no reason given)"


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line[:200]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="?", help="run only the classes whose entry contains this text")
    parser.add_argument("extra", nargs="*", help="further pytest arguments (after --)")
    args = parser.parse_args()
    version = pinned_version()
    installed = metadata.version("huggingface_hub")
    if installed != version:
        sys.exit(f"Error: huggingface_hub {installed} is installed but pyproject.toml pins {version}. "
                 "Run 'make test' to reinstall.")
    WORK.mkdir(exist_ok=True)
    suite = fetch_tests(version)
    install_shim(suite)
    classes, skips = selection(args.only)
    sandbox = start_sandbox(test_constants(suite))
    try:
        report = run_pytest(suite, sandbox, classes, skips, args.extra)
    finally:
        sandbox.stop()
    print(f"huggingface_hub {version} Hub-API tests against the sandbox Hub")
    return summarise(report, classes)


if __name__ == "__main__":
    sys.exit(main())
