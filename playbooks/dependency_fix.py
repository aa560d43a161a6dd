"""dependency_fix: make the Space's requirements install and provide what the app imports.

One change per plan, the one the diagnosis points at: a module the app
imports → add the distribution providing it (import-name table in
remedybot/edits/pypi_names.yaml: cv2 → opencv-python-headless, PIL → pillow);
a module a *build* needs before requirements.txt installs → pre-requirements.txt;
pip's ResolutionImpossible → relax the user's pin that the other package's
requirement excludes to that requirement; an sdk_version that was never
released or a python_version the packages cannot use → a known-good one.
Anything else is advice: remedybot does not guess at code changes.
"""

from __future__ import annotations

import re

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from remedybot.edits import EditError, dockerfile, frontmatter, names, requirements
from remedybot.model.enums import Branch
from remedybot.model.evidence import front_matter
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

ID = "dependency_fix"
apply = apply_step
done = step_done

_DEPENDS = re.compile(r"^\s*(?P<pkg>\S+) (?P<ver>\S+) depends on (?P<dep>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<spec>.*)$")
_REQUESTED = re.compile(r"^\s*The user requested (?P<dep>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<spec>\S*)")


def plan(ctx: PlanContext) -> list[Step]:
    culprit = ctx.diagnosis.culprit or {}
    try:
        if culprit.get("sdk_version"):
            return [_sdk_version(ctx, str(culprit["sdk_version"]))]
        if culprit.get("requires"):
            return [_python_version(ctx, str(culprit["requires"]))]
        if culprit.get("module") and "name" not in culprit:
            return [_missing_module(ctx, str(culprit["module"]))]
        if any("ResolutionImpossible" in e.text or "conflicting dependencies" in e.text
               for e in ctx.diagnosis.evidence):
            return [_conflict(ctx)]
    except EditError as exc:
        return [advice(ID, "edit the requirements by hand", f"remedybot cannot make this change safely: {exc}.")]
    return [advice(ID, "check the dependency error by hand",
                   "The error is in how the app uses a package (an import or API change), not in which packages "
                   "are installed; pin the package version the code was written for.")]


def _missing_module(ctx: PlanContext, module: str) -> Step:
    top = module.split(".")[0]
    siblings = [str(p) for p in (ctx.evidence.info or {}).get("siblings") or []]
    if top in names.table("pypi_names")["own_module_names"] or any(p.split("/")[0] in (top, f"{top}.py")
                                                                     for p in siblings):
        raise EditError(f"'{top}' looks like one of the app's own modules, not a PyPI package: check that it "
                        "was pushed and that the app runs from the folder that holds it")
    dist = names.distribution_for(module)
    sdk = ctx.evidence.sdk or "gradio"
    files = current_files(ctx, ["requirements.txt", "pre-requirements.txt", "Dockerfile"])
    reqs = files["requirements.txt"]
    listed = reqs is not None and bool(requirements.find(reqs, dist))
    at_build = any(e.source == "build_log" and module in e.text for e in ctx.diagnosis.evidence)
    if listed and at_build and sdk != "docker":
        pre = files["pre-requirements.txt"]
        after = requirements.add(pre, dist) if pre is not None else f"{dist}\n"
        return file_step(ID, ctx, files, {"pre-requirements.txt": after},
                         title=f"remedybot: install {dist} first, from pre-requirements.txt",
                         action=f"add {dist} to pre-requirements.txt (installed before requirements.txt)",
                         why=f"A package's build needs '{module}' before requirements.txt is installed; Spaces "
                             f"install pre-requirements.txt first.")
    if listed:
        raise EditError(f"{dist} is already in requirements.txt, yet '{module}' cannot be imported")
    if sdk == "docker" and "requirements.txt" not in dockerfile.pip_installs(files["Dockerfile"] or "")[1]:
        raise EditError("the Dockerfile does not install requirements.txt; add "
                        f"'RUN pip install --no-cache-dir {dist}' to it")
    after = requirements.add(reqs, dist) if reqs is not None else f"{dist}\n"
    headless = " (the headless build: a Space has no display, and it needs no libGL)" if "headless" in dist else ""
    return file_step(ID, ctx, files, {"requirements.txt": after},
                     title=f"remedybot: add {dist} to requirements.txt",
                     action=f"add {dist} to requirements.txt",
                     why=f"The app imports '{module}' (ModuleNotFoundError) and no requirement provides it; "
                         f"{dist} is the PyPI distribution that does{headless}.")


def _conflict(ctx: PlanContext) -> Step:
    """Relax the user's pin of the dependency another requirement excludes, to that requirement's range."""
    log = [ln.rstrip("\n") for ln in ctx.evidence.build_log or []]
    needs = [m for m in map(_DEPENDS.match, log) if m]
    files = current_files(ctx, ["requirements.txt"])
    reqs = files["requirements.txt"]
    for need in needs:
        dep = str(canonicalize_name(need["dep"]))
        parts = [part.strip() for part in need["spec"].split(" and ") if part.strip()]
        spec = ",".join(sorted(parts, key=lambda p: (not p.startswith(">"), p)))  # lower bound first
        if reqs is None or not requirements.find(reqs, dep) or not spec:
            continue
        after = requirements.set_specifier(reqs, dep, spec)
        return file_step(ID, ctx, files, {"requirements.txt": after},
                         title=f"remedybot: relax the pin of {dep} in requirements.txt",
                         action=f"relax {dep} to {spec} in requirements.txt",
                         why=f"pip cannot resolve the requirements: {need['pkg']} {need['ver']} needs {dep}{spec}, "
                             f"which the pin in requirements.txt excludes. The smallest relaxation is to let {dep} "
                             "take the range it needs.")
    requested = sorted({m["dep"] + m["spec"] for m in map(_REQUESTED.match, log) if m})
    raise EditError("the conflicting requirements are " + (", ".join(requested) or "not in the build log")
                    + "; keep one version of each")


def _sdk_version(ctx: PlanContext, wrong: str) -> Step:
    table = names.gradio_versions()
    series = {int(k): int(v) for k, v in table["series"].items()}
    major = re.match(r"^(\d+)", wrong)
    good = (f"{major[1]}.{series[int(major[1])]}.0" if major and int(major[1]) in series
            and int(major[1]) < max(series) else str(table["latest"]))
    files = current_files(ctx, ["README.md"])
    after = frontmatter.set_keys(files["README.md"] or "", {"sdk_version": good})
    return file_step(ID, ctx, files, {"README.md": after}, title=f"remedybot: set sdk_version to {good}",
                     action=f"set sdk_version {wrong} → {good} in README.md",
                     why=f"Gradio {wrong} was never released, so the image cannot be built; {good} is the newest "
                         "known release of that series.")


def _python_version(ctx: PlanContext, requires: str) -> Step:
    good_table = names.known_good()["python"]
    current = str(front_matter(ctx.evidence)["meta"].get("python_version") or good_table["default"])
    try:
        spec = SpecifierSet(requires)
    except InvalidSpecifier as exc:
        raise EditError(f"cannot read the Python requirement {requires!r}") from exc
    fitting = [v for v in good_table["supported"] if spec.contains(v + ".0")]
    if not fitting:
        raise EditError(f"no Python version Spaces offer satisfies {requires}")
    good = min(fitting, key=lambda v: abs(_minor(v) - _minor(current)))
    files = current_files(ctx, ["README.md"])
    after = frontmatter.set_keys(files["README.md"] or "", {"python_version": good})
    return file_step(ID, ctx, files, {"README.md": after}, title=f"remedybot: set python_version to {good}",
                     action=f"set python_version to {good} in README.md",
                     why=f"A requirement needs Python {requires}; {good} is the closest version Spaces offer that "
                         "satisfies it.")


def _minor(version: str) -> int:
    parts = version.split(".")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 10


PLAYBOOK = Playbook(id=ID, risk=file_fix_risk, branches=frozenset({Branch.DEPENDENCY}), order=ORDER_FILE_FIX,
                    params=FileFixParams, gather=gather_sources, plan=plan, apply=apply, done=done)
