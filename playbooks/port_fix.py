"""port_fix: make the app reachable by the Spaces proxy — the right port, on 0.0.0.0.

The proxy connects to app_port (Docker; default 7860) or the SDK's own port
(Gradio 7860, Streamlit 8501), on all interfaces. Of the changes that fix a
mismatch, the one planned is the smallest the evidence supports, one line:

    Docker app on another port          app_port: <that port> in the README front matter
    Gradio/Streamlit app on another port  the port literal in the code → the SDK's port
    bound to 127.0.0.1/localhost        the host in the Dockerfile's CMD, or the host literal in the
                                        code → 0.0.0.0 (uvicorn's CMD without --host gets --host 0.0.0.0)
"""

from __future__ import annotations

from remedybot.edits import EditError, dockerfile, frontmatter, pycode
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

ID = "port_fix"
apply = apply_step
done = step_done
SDK_PORTS = {"gradio": 7860, "streamlit": 8501}
LOCAL = ("127.0.0.1", "localhost", "::1")


def plan(ctx: PlanContext) -> list[Step]:
    culprit = ctx.diagnosis.culprit or {}
    sdk = ctx.evidence.sdk or "gradio"
    try:
        if culprit.get("host") in LOCAL:
            return [_bind_all(ctx, sdk, str(culprit["host"]))]
        listen = culprit.get("listen_port")
        if listen is None:
            raise EditError("the evidence does not say which port the app listens on")
        if sdk == "docker":
            return [_app_port(ctx, int(listen))]
        return [_code_port(ctx, sdk, int(listen))]
    except EditError as exc:
        return [advice(ID, "make the app listen on 0.0.0.0 at the Space's port",
                       f"remedybot cannot make this change safely: {exc}.")]


def _app_port(ctx: PlanContext, listen: int) -> Step:
    files = current_files(ctx, ["README.md"])
    after = frontmatter.set_keys(files["README.md"] or "", {"app_port": listen})
    return file_step(ID, ctx, files, {"README.md": after}, title=f"remedybot: set app_port to {listen}",
                     action=f"set app_port: {listen} in README.md (the port the app listens on)",
                     why=f"The app listens on port {listen}, but the Spaces proxy checks app_port (7860 by "
                         f"default), so the Space never looks healthy. Declaring app_port: {listen} is a one-line "
                         "change that leaves the app as it is.")


def _sources(ctx: PlanContext) -> dict[str, str]:
    return {p: t for p, t in (ctx.evidence.files or {}).items() if p.endswith(".py")}


def _code_port(ctx: PlanContext, sdk: str, listen: int) -> Step:
    want = SDK_PORTS.get(sdk, 7860)
    for path, source in sorted(_sources(ctx).items()):
        for bind in pycode.binds(source):
            if bind.port is not None and bind.port.value == listen:
                files = current_files(ctx, [path])
                after = pycode.replace_literal(files[path] or "", bind.port, want)
                return file_step(ID, ctx, files, {path: after}, title=f"remedybot: serve on port {want}",
                                 action=f"port {listen} → {want} in {path} line {bind.line}",
                                 why=f"A {sdk} Space is reached on port {want}, but {path} starts the server on "
                                     f"port {listen}.")
    raise EditError(f"no server call in the code sets port {listen}")


def _bind_all(ctx: PlanContext, sdk: str, host: str) -> Step:
    why = (f"The app listens on {host} only, which the Spaces proxy cannot reach; it must listen on 0.0.0.0.")
    files = current_files(ctx, ["Dockerfile"])
    cmd = dockerfile.command(files["Dockerfile"] or "") if sdk == "docker" and files["Dockerfile"] else None
    if cmd is not None:
        text = files["Dockerfile"] or ""
        value = dockerfile.option_value(text, cmd, ("--host", "-b", "--bind", "--server.address", "-h"))
        if value is not None and value.text.split(":")[0].strip("[]") in LOCAL:
            _host, sep, port = value.text.partition(":")
            new = "0.0.0.0" + sep + port  # gunicorn's -b 127.0.0.1:8000 keeps its port
            after = dockerfile.replace_word(text, value, new)
            return file_step(ID, ctx, files, {"Dockerfile": after}, title="remedybot: listen on 0.0.0.0",
                             action=f"{value.text} → {new} in the Dockerfile's {cmd.keyword}", why=why)
        words = [w.text.strip("[],\"'") for w in cmd.words]
        if value is None and "uvicorn" in [w.rsplit("/", 1)[-1] for w in words]:
            target = next((w for w in words if ":" in w and not w.startswith("-")), None)
            if target:
                after = dockerfile.add_option(text, cmd, target, "--host", "0.0.0.0")
                return file_step(ID, ctx, files, {"Dockerfile": after}, title="remedybot: listen on 0.0.0.0",
                                 action=f"add --host 0.0.0.0 to the Dockerfile's {cmd.keyword} (uvicorn's default "
                                        "is 127.0.0.1)", why=why)
    for path, source in sorted(_sources(ctx).items()):
        for bind in pycode.binds(source):
            if bind.host is not None and bind.host.value in LOCAL:
                code = current_files(ctx, [path])
                after = pycode.replace_literal(code[path] or "", bind.host, "0.0.0.0")
                return file_step(ID, ctx, code, {path: after}, title="remedybot: listen on 0.0.0.0",
                                 action=f"host {bind.host.value} → 0.0.0.0 in {path} line {bind.line}", why=why)
    raise EditError(f"neither the Dockerfile nor the code sets the {host} bind in a way remedybot can edit")


PLAYBOOK = Playbook(id=ID, risk=file_fix_risk, branches=frozenset({Branch.PORT_MISMATCH}), order=ORDER_FILE_FIX,
                    params=FileFixParams, gather=gather_sources, plan=plan, apply=apply, done=done)
