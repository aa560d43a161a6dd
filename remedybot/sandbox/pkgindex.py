"""The sandbox's package index: real release names and dates (package_index.yaml), read at a date.

Two users: the route `/pypi/<name>/json` (routes_index.py), which answers like PyPI's JSON API with
the releases uploaded by the sandbox clock's now, and the builder, which resolves a requirement that
is not pinned exactly to the newest release uploaded by the build's start, the way pip on that day
would have. `removed_names` says which names a release no longer exports, so a Space whose code still
imports one fails at start with the ImportError a real container prints.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version


@cache
def _data() -> dict[str, Any]:
    text = resources.files("remedybot.sandbox").joinpath("package_index.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC).timestamp()


def releases(name: str, now: float) -> dict[str, str] | None:
    """{version: upload time} of `name` uploaded by `now`, or None when the index has no such package."""
    table = _data()["releases"].get(str(canonicalize_name(name)))
    if table is None:
        return None
    return {v: t for v, t in table.items() if _epoch(t) <= now}


def resolve(name: str, spec: str, when: float) -> str | None:
    """The version pip picks for `name<spec>` at `when`: the newest release uploaded by then that fits."""
    found = releases(name, when)
    if not found:
        return None
    try:
        allowed = SpecifierSet(spec)
    except InvalidSpecifier:
        return None
    fitting = [Version(v) for v in found if Version(v) in allowed]
    return str(max(fitting)) if fitting else None


def removed(name: str, version: str, imported: str) -> bool:
    """Whether `from name import imported` fails at `version` (the name was removed at or before it)."""
    since = _data()["removed_names"].get(str(canonicalize_name(name)), {}).get(imported)
    if since is None:
        return False
    try:
        return Version(version) >= Version(since)
    except InvalidVersion:
        return False


def json_document(name: str, now: float) -> dict[str, Any] | None:
    """PyPI's JSON API document for `name` as of `now` (the fields remedybot and pip read), or None."""
    found = releases(name, now)
    if found is None:
        return None
    canonical = str(canonicalize_name(name))
    latest = max(found, key=Version) if found else None
    files = {v: [{"filename": f"{canonical.replace('-', '_')}-{v}-py3-none-any.whl", "packagetype": "bdist_wheel",
                  "upload_time": t.removesuffix("Z"), "upload_time_iso_8601": t, "yanked": False}]
             for v, t in found.items()}
    return {"info": {"name": canonical, "version": latest}, "releases": files,
            "urls": files.get(latest, []) if latest else []}
