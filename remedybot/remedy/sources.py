"""Fetch the extra files the file fixes plan from: the app's Python sources and `-r` includes.

Diagnosis reads only the small config files (collect.CONFIG_FILES). The
dependency, port, startup and config fixes also need what the app imports,
downloads and binds, so before planning those branches the workflow adds the
repo's top-level Python files (and requirements files that requirements.txt
includes) to the evidence. Bounded: at most MAX_FILES files, each read with
the same size cap as the config files. Reads only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from remedybot.diagnose.collect import CONFIG_FILES, MAX_CONFIG_BYTES
from remedybot.edits import requirements
from remedybot.model.evidence import front_matter

if TYPE_CHECKING:
    from remedybot.hub import Hub
    from remedybot.model.evidence import Evidence

BRANCHES = ("dependency", "port_mismatch", "unhealthy_startup", "config_error", "apt_package")
MAX_FILES = 20


def wanted(evidence: Evidence) -> list[str]:
    """Repo files worth reading for planning a file fix, most useful first."""
    siblings = [s for s in ((evidence.info or {}).get("siblings") or []) if isinstance(s, str)]
    have = set(evidence.files or {})
    app_file = str(front_matter(evidence)["meta"].get("app_file") or "app.py")
    paths = [app_file] if app_file in siblings else []
    paths += sorted(s for s in siblings if s.endswith(".py") and "/" not in s)
    included = requirements.includes((evidence.files or {}).get("requirements.txt") or "")
    paths += [p.removeprefix("./") for p in included if p.removeprefix("./") in siblings]
    seen: list[str] = []
    for path in paths:
        if path not in have and path not in seen and path not in CONFIG_FILES:
            seen.append(path)
    return seen[:MAX_FILES]


def fetch_sources(hub: Hub, space_id: str, evidence: Evidence) -> dict[str, str]:
    """{path: text} of `wanted(evidence)` that could be read."""
    out = {}
    for path in wanted(evidence):
        text = hub.read_file(space_id, path, repo_type="space")
        if text is not None:
            out[path] = text[:MAX_CONFIG_BYTES]
    return out
