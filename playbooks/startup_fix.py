"""startup_fix: let a slow start finish — download models at build time, or allow a longer start.

A Space that is still starting after startup_duration_timeout (30 minutes by
default) is flagged unhealthy. Two README changes help, tried in this order
(the second step's diff starts from the first step's result):

1. preload_from_hub: the public Hub repos the app downloads at start
   (`snapshot_download("org/model")`, `from_pretrained(MODEL_ID)`) are
   downloaded at build time instead, so the start only reads the cache. Not
   for private repos (the Hub cannot preload them): a download passing a
   token is left out.
2. startup_duration_timeout: doubled (at least 1h, at most a day) when the run
   log shows the start progressing (download bars, loading shards); a start
   that shows no progress is hung, and more time would only delay the failure.
"""

from __future__ import annotations

import re

from remedybot.edits import EditError, frontmatter, names, pycode
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

ID = "startup_fix"
apply = apply_step
done = step_done
_PROGRESS = re.compile(r"\d+%\||Downloading|Loading checkpoint shards|Fetching \d+ files")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(h|hours?|m|min|minutes?|s|sec|seconds?)\b", re.IGNORECASE)


def minutes(value: object) -> float | None:
    """startup_duration_timeout in minutes ('1h', '90m', '1h30m', a bare number of seconds)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value / 60
    parts = _DURATION.findall(str(value or ""))
    if not parts:
        return None
    return sum(float(n) * {"h": 60, "m": 1, "s": 1 / 60}[unit[0].lower()] for n, unit in parts)


def longer(current: float) -> str:
    table = names.known_good()["startup_timeout"]
    new = int(min(max(current * 2, table["floor_minutes"]), table["ceiling_minutes"]))
    return f"{new // 60}h" if new % 60 == 0 else f"{new}m"


def plan(ctx: PlanContext) -> list[Step]:
    meta = front_matter(ctx.evidence)["meta"]
    preloaded = {str(p).split()[0] for p in meta.get("preload_from_hub") or [] if str(p).split()}
    found = sorted({(repo, path) for path, src in (ctx.evidence.files or {}).items() if path.endswith(".py")
                    for _, repo, token in pycode.downloads(src) if not token and repo not in preloaded})
    repos = list(dict.fromkeys(repo for repo, _ in found))
    progressing = any(_PROGRESS.search(line) for line in ctx.evidence.run_log or [])
    steps: list[Step] = []
    try:
        files = current_files(ctx, ["README.md"])
        readme = files["README.md"] or ""
        if repos:
            after = readme
            for repo in repos:
                after = frontmatter.add_list_item(after, "preload_from_hub", repo)
            where = ", ".join(sorted({path for _, path in found}))
            steps.append(file_step(ID, ctx, files, {"README.md": after},
                                   title="remedybot: preload the app's models at build time",
                                   action=f"add {', '.join(repos)} to preload_from_hub in README.md",
                                   why=f"{where} downloads {', '.join(repos)} when the app starts, which takes "
                                       "longer than the start-up allows; preload_from_hub downloads it while the "
                                       "Space builds, so the start reads it from the cache."))
            files, readme = {"README.md": after}, after
        if progressing:
            current = minutes(meta.get("startup_duration_timeout")) or 30.0
            new = longer(current)
            after = frontmatter.set_keys(readme, {"startup_duration_timeout": new})
            steps.append(file_step(ID, ctx, files, {"README.md": after},
                                   title=f"remedybot: allow {new} for start-up",
                                   action=f"set startup_duration_timeout: {new} in README.md (was {current:g} min)"
                                          + (" — if preloading was not enough" if repos else ""),
                                   why=f"The run log shows the start progressing, but it did not finish within "
                                       f"{current:g} minutes; Spaces flag it unhealthy then."))
    except EditError as exc:
        return [advice(ID, "change the start-up settings by hand", f"remedybot cannot edit README.md safely: {exc}.")]
    if not steps:
        return [advice(ID, "find out why the app does not finish starting",
                       "The start shows no progress and downloads nothing remedybot can preload: more time would "
                       "only delay the failure. Check the run log for where it hangs.")]
    return steps


PLAYBOOK = Playbook(id=ID, risk=file_fix_risk, branches=frozenset({Branch.UNHEALTHY_STARTUP}), order=ORDER_FILE_FIX,
                    params=FileFixParams, gather=gather_sources, plan=plan, apply=apply, done=done)
