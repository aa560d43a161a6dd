"""time_travel_pin: pin each package that drifted across a major version to what the Space last ran with.

When the diagnosis says the Space did not change but the world did (`History.cause == "drift"`: an
unpinned requirement resolved to a new major release on a rebuild), the pin is the newest release
published before the last known good date, so the Space is rebuilt with what it ran with. One commit to
requirements.txt, the exact diff in the plan, undone by reverting it. A package the failure names but
requirements.txt does not list (it came with another requirement) is added with its pin.

As the alternative, the plan names the upgrade path when one is known (`upgrades` in
remedybot/edits/known_good.yaml): what the new major release removed and what to use instead. It cannot
help when the last known good date is unknown, when the index could not be read (nothing is dated), or
in a Docker Space whose Dockerfile does not install requirements.txt.
"""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

from remedybot.edits import EditError, dockerfile, names, requirements
from remedybot.model.enums import Branch
from remedybot.model.history import Drift
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

ID = "time_travel_pin"
ORDER = ORDER_FILE_FIX - 2  # before dependency_fix: when the cause is drift, pinning is the smaller change
apply = apply_step
done = step_done


def plan(ctx: PlanContext) -> list[Step]:
    history = ctx.diagnosis.history
    if history is None or history.cause != "drift" or history.last_good is None:
        return []
    drifted = [d for d in history.drift if d.major]
    if not drifted:
        return []
    day = history.last_good.date[:10]
    try:
        steps = [_pin(ctx, drifted, day)]
    except EditError as exc:
        steps = [advice(ID, "pin the drifted packages by hand",
                        f"remedybot cannot make this change safely: {exc}. Pin "
                        + ", ".join(f"{d.package}=={d.good_version}" for d in drifted) + ".")]
    upgrade = _upgrade_paths(drifted)
    if upgrade:
        steps.append(advice(ID, "alternative: upgrade the code instead of pinning", upgrade))
    return steps


def _pin(ctx: PlanContext, drifted: list[Drift], day: str) -> Step:
    files = current_files(ctx, ["requirements.txt", "Dockerfile"])
    reqs = files["requirements.txt"]
    if ctx.evidence.sdk == "docker" and "requirements.txt" not in dockerfile.pip_installs(files["Dockerfile"] or "")[1]:
        raise EditError("the Dockerfile does not install requirements.txt")
    after = reqs if reqs is not None else ""
    for drift in drifted:
        pin = f"=={drift.good_version}"
        if requirements.find(after, drift.package):
            after = requirements.set_specifier(after, drift.package, pin)
        else:
            after = requirements.add(after, f"{drift.package}{pin}")
    pins = ", ".join(f"{d.package}=={d.good_version}" for d in drifted)
    moved = "; ".join(d.sentence() for d in drifted)
    return file_step(ID, ctx, {"requirements.txt": reqs}, {"requirements.txt": after},
                     title=f"remedybot: pin {pins} (the releases of {day}, when it last ran)",
                     action=f"time-travel pin in requirements.txt: {pins}",
                     why=f"Nothing build-relevant changed since the Space last ran ({day}), but {moved}. Pinning "
                         f"each to the newest release published before {day} rebuilds it with what it ran with.")


def _upgrade_paths(drifted: list[Drift]) -> str:
    table = names.known_good().get("upgrades") or {}
    found: list[str] = []
    for drift in drifted:
        for first, text in (table.get(drift.package) or {}).items():
            if _crossed(drift, str(first)):
                found.append(text)
    return " ".join(found)


def _crossed(drift: Drift, first: str) -> bool:
    """Whether the move from good to now crossed the release `first` (the start of a major series)."""
    try:
        return Version(drift.good_version) < Version(first) <= Version(drift.now_version)
    except InvalidVersion:
        return False


PLAYBOOK = Playbook(id=ID, risk=file_fix_risk, branches=frozenset({Branch.DEPENDENCY, Branch.STARTUP_CRASH}),
                    order=ORDER, params=FileFixParams, gather=gather_sources, plan=plan, apply=apply, done=done)
