"""The data tables the file fixes and lint read: PyPI names, Debian packages, known-good versions.

Lookups are data (YAML beside this module), so a new mapping is a one-line
change with no code. This module only loads the tables and answers the
three questions the playbooks ask: which distribution provides an import,
what replaces a Debian package, and which versions are safe to propose.
"""

from __future__ import annotations

import difflib
import sys
from functools import cache
from importlib import resources
from typing import Any

from packaging.utils import canonicalize_name

from remedybot.core.yamldata import load_data


@cache
@cache
def table(name: str) -> dict[str, Any]:
    """One of the YAML tables of this package (pypi_names, debian_packages, known_good, versions); read once."""
    text = resources.files("remedybot.edits").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return load_data(text)


def distribution_for(module: str) -> str:
    """The PyPI distribution to add for `import module` (dotted names: the longest listed prefix)."""
    imports = table("pypi_names")["imports"]
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        found = imports.get(".".join(parts[:n]))
        if found:
            return str(found)
    return str(canonicalize_name(parts[0]))


def provided_imports(distributions: set[str], sdk: str | None) -> set[str]:
    """Import names available once `distributions` are installed on the SDK's image (dependencies too)."""
    data = table("pypi_names")
    by_dist: dict[str, set[str]] = {}
    for module, dist in data["imports"].items():
        by_dist.setdefault(str(canonicalize_name(dist)), set()).add(module.split(".")[0])
    for module, dists in data["also_provided_by"].items():
        for dist in dists:
            by_dist.setdefault(str(canonicalize_name(dist)), set()).add(module)
    brings = {str(canonicalize_name(k)): v for k, v in data["brings"].items()}
    names = set(data["sdk_preinstalled"].get(sdk or "gradio", []))
    todo = [str(canonicalize_name(d)) for d in distributions]
    seen: set[str] = set()
    while todo:
        dist = todo.pop()
        if dist in seen:
            continue
        seen.add(dist)
        names.add(dist.replace("-", "_"))
        names.update(by_dist.get(dist, ()))
        for module in brings.get(dist, []):
            names.add(module)
            todo.append(str(canonicalize_name(module)))
    return names


def is_provided(module: str, names: set[str], local: set[str]) -> bool:
    """Whether `import module` works: stdlib, the repo itself, or an installed import name."""
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top in local or top in names or top.lower() in names:
        return True
    return str(canonicalize_name(distribution_for(module))).replace("-", "_") in names


def apt_replacement(package: str) -> tuple[bool, str | None]:
    """(is it gone from the base image's Debian, what replaces it or None)."""
    entry = table("debian_packages")["removed"].get(package)
    if entry is None:
        return False, None
    return True, entry.get("replacement")


def apt_near_miss(package: str) -> str | None:
    """A real package name `package` is probably a typo of (libg1 -> libgl1), or None.

    Typos are close in spelling and length; a longer or shorter real name (libglib2.0-0 vs
    libglib2.0-0t64) is a different package, not a typo.
    """
    known = table("debian_packages")["known"]
    if package in known or package in table("debian_packages")["removed"]:
        return None
    close = [k for k in difflib.get_close_matches(package, known, n=3, cutoff=0.8) if abs(len(k) - len(package)) <= 2]
    return close[0] if close else None


def gradio_versions() -> dict[str, Any]:
    """The released Gradio series (versions.yaml; the sdk_version check and the config fix both read it)."""
    return table("versions")["gradio"]


def known_good() -> dict[str, Any]:
    return table("known_good")
