"""What pip would make of a Space's requirements, and which modules the app can then import.

Two questions of the simulated builder live here. At build time: does
`pip install -r requirements.txt` fail (an invalid line, a package pinned
twice, a pin that a known dependency constraint excludes: pip's
ResolutionImpossible)? At start time: is a module the app imports provided
by the SDK image, the standard library, the repo itself, or a distribution
that was installed (directly or as a dependency)? The tables behind both
answers are data in builder_rules.yaml; this module only applies them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from remedybot.sandbox.spacefiles import ReqLine, SpaceFiles, rules


@dataclass(frozen=True)
class Resolution:
    """pip's verdict: an invalid line, a conflict (requested items, causes), or neither (installs)."""

    invalid: ReqLine | None = None
    conflict: tuple[list[str], list[str]] | None = None


def _pins(reqs: list[ReqLine]) -> dict[str, list[tuple[ReqLine, Version]]]:
    pins: dict[str, list[tuple[ReqLine, Version]]] = {}
    for line in reqs:
        if line.req is None or line.name is None:
            continue
        for spec in line.req.specifier:
            if spec.operator == "==" and "*" not in spec.version:
                try:
                    pins.setdefault(line.name, []).append((line, Version(spec.version)))
                except InvalidVersion:
                    continue
    return pins


def _spec_text(spec: SpecifierSet) -> str:
    return " and ".join(sorted(str(s) for s in spec))  # pip prints "<2.0 and >=0.25.0"


def resolve(reqs: list[ReqLine], source: str) -> Resolution:
    """Whether `pip install -r source` succeeds for these requirement lines.

    Args:
        reqs: parsed lines of the requirements file.
        source: the path pip is given, as it appears in pip's messages ("/tmp/requirements.txt").
    """
    invalid = next((line for line in reqs if line.req is None), None)
    if invalid is not None:
        return Resolution(invalid=invalid)
    pins = _pins(reqs)
    return _pin_conflict(reqs, pins) or _requires_conflict(pins, source) or Resolution()


def _pin_conflict(reqs: list[ReqLine], pins: dict[str, list[tuple[ReqLine, Version]]]) -> Resolution | None:
    """Two pins of one package, or a pin outside another line's specifier."""
    for name, items in pins.items():
        versions = sorted({version for _, version in items})
        if len(versions) > 1:
            return Resolution(conflict=([f"{name}=={v}" for v in versions],
                                        [f"The user requested {name}=={v}" for v in versions]))
    for line in reqs:
        assert line.req is not None and line.name is not None
        for pin_line, version in pins.get(line.name, []):
            if pin_line is not line and version not in line.req.specifier:
                return Resolution(conflict=([f"{line.name}{line.req.specifier}", f"{line.name}=={version}"],
                                            [f"The user requested {line.name}{line.req.specifier}",
                                             f"The user requested {line.name}=={version}"]))
    return None


def _requires_conflict(pins: dict[str, list[tuple[ReqLine, Version]]], source: str) -> Resolution | None:
    """A pinned package whose known dependency range excludes another pin (builder_rules.yaml)."""
    for rule in rules()["known_requires"]:
        package = canonicalize_name(rule["package"])
        if package not in pins:
            continue
        pin_line, version = pins[package][0]
        if version not in SpecifierSet(rule["versions"]):
            continue
        for dep, raw_spec in rule["requires"].items():
            dep = canonicalize_name(dep)
            try:
                spec = SpecifierSet(raw_spec)
            except InvalidSpecifier:
                continue
            for _, dep_version in pins.get(dep, [])[:1]:
                if dep_version not in spec:
                    return Resolution(conflict=(
                        [f"-r {source} (line {pin_line.lineno})", f"{dep}=={dep_version}"],
                        [f"The user requested {dep}=={dep_version}",
                         f"{package} {version} depends on {dep}{_spec_text(spec)}"]))
    return None


def installed_distributions(sf: SpaceFiles) -> set[str]:
    """Distributions the build installs on top of the image (requirements.txt, inline `pip install`)."""
    dists: set[str] = set()
    if sf.sdk == "docker":
        for command in sf.run_commands():
            dists.update(sf.pip_packages(command))
            words = command.split()
            if "-r" in words and words.index("-r") + 1 < len(words):
                path = words[words.index("-r") + 1].rsplit("/", 1)[-1]
                dists.update(line.name for line in sf.requirements(path) if line.name)
    else:
        for path in ("pre-requirements.txt", "requirements.txt"):
            dists.update(line.name for line in sf.requirements(path) if line.name)
    return dists


def importable_names(sdk: str, dists: set[str]) -> set[str]:
    """Import names available after installing `dists` on the SDK image (dependencies included)."""
    table = rules()
    by_dist: dict[str, set[str]] = {}
    for module, providers in table["import_packages"].items():
        for provider in providers:
            by_dist.setdefault(canonicalize_name(provider), set()).add(module)
    provides = {canonicalize_name(k): v for k, v in table["distribution_provides"].items()}
    names = set(table["preinstalled"].get(sdk, []))
    todo = [canonicalize_name(d) for d in dists]
    seen: set[str] = set()
    while todo:
        dist = todo.pop()
        if dist in seen:
            continue
        seen.add(dist)
        names.add(dist.replace("-", "_"))
        names.update(by_dist.get(dist, ()))
        for module in provides.get(dist, []):
            names.add(module)
            todo.append(canonicalize_name(module))
    return names


def is_importable(module: str, names: set[str], local: set[str]) -> bool:
    """Whether `import module` succeeds: stdlib, a repo file or package, or an installed name."""
    if module in sys.stdlib_module_names or module in local or module in names:
        return True
    if module.lower() in names:
        return True
    providers = rules()["import_packages"].get(module)
    if providers is None:
        return canonicalize_name(module).replace("-", "_") in names
    return False
