"""config_fix: repair the README front matter so the Hub can read the Space's configuration.

Checked against the Hub's Spaces configuration reference
(https://huggingface.co/docs/hub/spaces-config-reference), the keys and values the Hub accepts:

    YAML that does not parse       quote the value on the line the parser names (an unquoted colon in
                                   the title) or replace tab indentation; the value stays as written
    no front matter at all         add one: title, and the sdk the files show
    sdk missing or unknown         the sdk the files show (Dockerfile → docker, streamlit/gradio imports)
    app_file missing from the repo the one Python file that starts the app
    python_version not a string    quoted as written (3.10 read as a number is 3.1); unknown → 3.10
    app_port not a port number     the digits it holds, else 7860
    colorFrom / colorTo            the nearest allowed colour
    sdk_version never released     left to dependency_fix (the classifier sends it there)

All problems found are fixed in one commit, each a one-line change.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from remedybot.edits import EditError, frontmatter, names, pycode
from remedybot.edits.lines import eol
from remedybot.model.enums import CARD_COLORS as COLORS
from remedybot.model.enums import SDKS, Branch
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

ID = "config_fix"
apply = apply_step
done = step_done


def _siblings(ctx: PlanContext) -> list[str]:
    return [s for s in (ctx.evidence.info or {}).get("siblings") or [] if isinstance(s, str)]


def infer_sdk(ctx: PlanContext) -> str | None:
    """The SDK the repo's files show, or None when they do not say."""
    siblings = set(_siblings(ctx)) | set(ctx.evidence.files or {})
    if "Dockerfile" in siblings:
        return "docker"
    modules = {m.split(".")[0] for p, src in (ctx.evidence.files or {}).items() if p.endswith(".py")
               for _, m in pycode.imports(src)}
    for sdk in ("streamlit", "gradio"):
        if sdk in modules:
            return sdk
    return "static" if "index.html" in siblings else None


def infer_app_file(ctx: PlanContext) -> str | None:
    """The one top-level Python file that starts a server, or None when there is not exactly one."""
    sources = {p: s for p, s in (ctx.evidence.files or {}).items() if p.endswith(".py") and "/" not in p}
    starters = sorted(p for p, s in sources.items() if pycode.binds(s) or ("st." in s and "streamlit" in s))
    return starters[0] if len(starters) == 1 else None


def problems(ctx: PlanContext, meta: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    """{key: (new value, what was wrong)} for every key the Hub would reject."""
    out: dict[str, tuple[Any, str]] = {}
    sdk = meta.get("sdk")
    if sdk not in SDKS:
        close = difflib.get_close_matches(str(sdk or "").lower(), SDKS, 1, 0.6)
        guess = infer_sdk(ctx) or (close[0] if close else None)
        if guess:
            out["sdk"] = (guess, "missing" if sdk is None else f"{sdk!r} is not an SDK")
    siblings = _siblings(ctx)
    if (out.get("sdk", (sdk,))[0] in ("gradio", "streamlit") and siblings
            and str(meta.get("app_file") or "app.py") not in siblings):
        found = infer_app_file(ctx)
        if found:
            out["app_file"] = (found, f"{meta.get('app_file') or 'app.py'} is not in the repository")
    python = meta.get("python_version")
    if isinstance(python, float) or (python is not None and not re.match(r"^3\.\d{1,2}(\.\d{1,2})?$", str(python))):
        raw = _raw_value(ctx, "python_version")
        good = raw if raw and re.match(r"^3\.\d{1,2}(\.\d{1,2})?$", raw) else names.known_good()["python"]["default"]
        out["python_version"] = (good, f"{python!r} is not a Python version string")
    port = meta.get("app_port")
    if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536):
        digits = re.sub(r"\D", "", str(port))
        out["app_port"] = (int(digits) if digits and 0 < int(digits) < 65536 else 7860, f"{port!r} is not a port")
    for key in ("colorFrom", "colorTo"):
        if key in meta and meta[key] not in COLORS:
            near = difflib.get_close_matches(str(meta[key]).lower(), COLORS, 1, 0.5)
            out[key] = (near[0] if near else "gray", f"{meta[key]!r} is not an allowed colour")
    return out


def _raw_value(ctx: PlanContext, key: str) -> str | None:
    for line in ((ctx.evidence.files or {}).get("README.md") or "").splitlines()[:200]:
        if line.startswith(f"{key}:"):
            return line.split(":", 1)[1].split(" #")[0].strip().strip("\"'")
    return None


def plan(ctx: PlanContext) -> list[Step]:
    try:
        files = current_files(ctx, ["README.md"])
        readme = files["README.md"]
        if readme is None or not readme.lstrip("\ufeff").startswith("---"):
            return [_new_front_matter(ctx, files)]
        try:
            frontmatter.FrontMatter.parse(readme).mapping()
        except EditError:
            after, what = frontmatter.repair(readme)
            return [file_step(ID, ctx, files, {"README.md": after}, title="remedybot: repair README front matter",
                              action=f"repair README.md's front matter ({what})",
                              why="The Hub cannot parse the README's YAML front matter (CONFIG_ERROR); the value "
                                  "is kept exactly as written, only quoted or re-indented so YAML reads it.")]
        found = problems(ctx, frontmatter.FrontMatter.parse(readme).mapping())
        if not found:
            raise EditError("the front matter holds nothing remedybot knows to be wrong")
        after = frontmatter.set_keys(readme, {k: v for k, (v, _) in found.items()})
        return [file_step(ID, ctx, files, {"README.md": after}, title="remedybot: fix the Space configuration",
                          action="; ".join(f"{k}: {v}" for k, (v, _) in found.items()) + " in README.md",
                          why="The Hub rejects the configuration: " + "; ".join(f"{k} {why}" for k, (_, why)
                                                                                 in found.items()) + ".")]
    except EditError as exc:
        return [advice(ID, "fix README.md's front matter by hand",
                       f"remedybot cannot repair it safely: {exc}. See "
                       "https://huggingface.co/docs/hub/spaces-config-reference.")]


def _new_front_matter(ctx: PlanContext, files: dict[str, str | None]) -> Step:
    readme = files["README.md"] or ""
    sdk = infer_sdk(ctx)
    if sdk is None:
        raise EditError("README.md has no front matter and the files do not show which SDK the Space uses")
    nl = eol(readme)
    title = ctx.space_id.split("/")[-1].replace("-", " ").title()
    block = f"---{nl}title: {frontmatter.render(title)}{nl}sdk: {sdk}{nl}---{nl}"
    return file_step(ID, ctx, files, {"README.md": block + (nl if readme.strip() else "") + readme},
                     title="remedybot: add the README front matter", action=f"add a front matter (sdk: {sdk}) "
                     "at the top of README.md", why="Without a YAML front matter the Hub does not know how to run "
                     "the Space (\"Missing configuration in README\").")


PLAYBOOK = Playbook(id=ID, risk=file_fix_risk, branches=frozenset({Branch.CONFIG_ERROR}), order=ORDER_FILE_FIX,
                    params=FileFixParams, gather=gather_sources, plan=plan, apply=apply, done=done)
