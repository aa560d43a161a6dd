"""apt_package_fix: rename or drop Debian packages that the Space's base image no longer has.

Reads packages.txt and the Dockerfile's `apt-get install` lines. Every
package the table of removed Debian packages names (remedybot/edits/
debian_packages.yaml: libgl1-mesa-glx → libgl1, libasound2 → libasound2t64,
software-properties-common → dropped) is fixed at once, since the next build
would stop at the next one. The package apt refused, when not in the table,
is replaced by what apt's own "the following packages replace it" says, or
by the known package it is a near-miss typo of (libg1 → libgl1).
"""

from __future__ import annotations

import re

from remedybot.edits import EditError, aptfiles, names
from remedybot.model.enums import Branch
from remedybot.model.plan import Step
from remedybot.remedy.commit import (
    FileFixParams,
    advice,
    apply_step,
    current_files,
    file_fix_risk,
    file_step,
    gather_sources,
    step_done,
)
from remedybot.remedy.playbook import ORDER_FILE_FIX, PlanContext, Playbook

ID = "apt_package_fix"
apply = apply_step
done = step_done
FILES = (aptfiles.PACKAGES_TXT, aptfiles.DOCKERFILE)


def _apt_says(log: list[str], package: str) -> str | None:
    """The replacement apt itself names after "Package X is not available ... replace it:"."""
    for i, line in enumerate(log):
        if f"Package {package} is not available" not in line:
            continue
        for j in range(i + 1, min(i + 6, len(log) - 1)):
            if "following packages replace it" in log[j]:
                found = re.findall(r"[a-z0-9][a-z0-9.+-]+", log[j + 1])
                return found[0] if found else None
    return None


def changes_for(installed: set[str], culprit: str | None, log: list[str]) -> tuple[dict[str, str | None], str]:
    """{package: replacement or None} and a sentence on where each answer came from."""
    changes: dict[str, str | None] = {}
    for package in sorted(installed):
        gone, replacement = names.apt_replacement(package)
        if gone:
            changes[package] = replacement
    release = names.table("debian_packages")["release"]
    source = f"Debian {release}, the Spaces base image, no longer has {', '.join(changes) or 'it'}"
    if culprit and culprit in installed and culprit not in changes:
        said = _apt_says(log, culprit)
        typo = names.apt_near_miss(culprit)
        if said:
            changes[culprit], source = said, source + f"; apt says {said} replaces {culprit}"
        elif typo:
            changes[culprit], source = typo, source + f"; {culprit} is not a package, {typo} is"
    return changes, source


def plan(ctx: PlanContext) -> list[Step]:
    culprit = (ctx.diagnosis.culprit or {}).get("package")
    log = [ln.rstrip("\n") for ln in ctx.evidence.build_log or []]
    try:
        before = current_files(ctx, list(FILES))
        after: dict[str, str] = {}
        described: list[str] = []
        for path in FILES:
            text = before[path]
            if text is None:
                continue
            installed = {w.text for w in aptfiles.package_words(path, text)}
            changes, source = changes_for(installed, culprit, log)
            if changes:
                after[path] = aptfiles.rename(path, text, changes)
                described += [f"{old} → {new or '(removed)'} in {path}" for old, new in changes.items()]
        if not after:
            raise EditError(f"no package in {' or '.join(FILES)} is known to be gone"
                            + (f", and '{culprit}' has no known replacement" if culprit else ""))
        return [file_step(ID, ctx, before, after, title="remedybot: replace Debian packages gone from the base image",
                          action="; ".join(described),
                          why=f"apt cannot install {culprit or 'them'} (exit code 100): {source}.")]
    except EditError as exc:
        return [advice(ID, f"find a replacement for {culprit or 'the package'} by hand",
                       f"remedybot cannot fix this safely: {exc}. Search packages.debian.org for the package in "
                       f"Debian {names.table('debian_packages')['release']}.")]


PLAYBOOK = Playbook(id=ID, risk=file_fix_risk, branches=frozenset({Branch.APT_PACKAGE}), order=ORDER_FILE_FIX,
                    params=FileFixParams, gather=gather_sources, plan=plan, apply=apply, done=done)
