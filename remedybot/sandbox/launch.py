"""How a Space starts: its start command, what it listens on, and which file Python runs first.

The Hub's proxy only reaches an app that listens on 0.0.0.0 at app_port
(7860 unless the README says otherwise; Gradio and Streamlit use their own
ports), so the builder needs to know what the start command binds. This
module reads it from the Dockerfile's ENTRYPOINT/CMD (uvicorn, gunicorn,
streamlit, `python app.py` with a gradio `launch`, `uvicorn.run` or Flask
`app.run` inside, supervisord's supervised programs) and from the SDK's own
launch for Gradio and Streamlit Spaces. Reading only: no outcome is decided
here, and a command it cannot read yields None ("assume it serves app_port").
"""

from __future__ import annotations

import configparser
import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from remedybot.sandbox import pysource
from remedybot.sandbox.spacefiles import SHELL_SPLIT, SpaceFiles


@dataclass(frozen=True)
class Listener:
    """What the app binds at start, and the line to show for it."""

    server: str  # gradio | uvicorn | gunicorn | flask | streamlit
    host: str
    port: int
    module: str | None  # the repo file holding the app, when known


def command(sf: SpaceFiles) -> list[str]:
    """The container's start command (ENTRYPOINT + CMD), env vars expanded."""
    if sf.sdk != "docker":
        return ["python", sf.app_file]
    entry: list[str] = []
    cmd: list[str] = []
    for ins in sf.dockerfile:
        if ins.keyword.upper() in ("CMD", "ENTRYPOINT"):
            args = _command_words(ins.args)
            if ins.keyword.upper() == "CMD":
                cmd = args
            else:
                entry = args
    return [sf.expand(word, sf.docker_env) for word in entry + cmd]


def supervisord_conf(sf: SpaceFiles) -> tuple[str, str] | None:
    """(path, text) of the supervisord config the container starts with, if it uses supervisord."""
    words = command(sf)
    if not any(word.endswith("supervisord") for word in words):
        return None
    wanted = words[words.index("-c") + 1] if "-c" in words[:-1] else "supervisord.conf"
    basename = wanted.rsplit("/", 1)[-1]
    for path in sf.files:
        if path.rsplit("/", 1)[-1] == basename:
            return path, sf.text(path) or ""
    return basename, ""


def listener(sf: SpaceFiles) -> Listener | None:
    """What the app listens on, or None when the start command is not one we can read."""
    words = command(sf)
    if sf.sdk == "docker":
        conf = supervisord_conf(sf)
        if conf is not None:
            words = _supervised_web_command(conf[1])
    return _listener_for(sf, words)


def _listener_for(sf: SpaceFiles, words: list[str]) -> Listener | None:
    env = sf.docker_env if sf.sdk == "docker" else {"GRADIO_SERVER_NAME": "0.0.0.0"}
    if len(words) >= 3 and words[0] in ("sh", "bash", "/bin/sh", "/bin/bash") and words[1] == "-c":
        words = _command_words(SHELL_SPLIT.split(words[2])[-1])
    if not words:
        return None
    prog = words[0].rsplit("/", 1)[-1]
    if prog.startswith("python") and words[1:2] == ["-m"] and len(words) > 2:
        prog, words = words[2], words[2:]
    opts = _options(words[1:])
    if prog == "uvicorn":
        target = next((w for w in words[1:] if ":" in w and not w.startswith("-")), "main:app")
        return Listener("uvicorn", opts.get("--host", "127.0.0.1"), _port(opts.get("--port"), 8000),
                        target.split(":")[0].replace(".", "/") + ".py")
    if prog == "gunicorn":
        bind = opts.get("--bind", opts.get("-b", "127.0.0.1:8000"))
        host, _, port = bind.rpartition(":")
        target = next((w for w in words[1:] if ":" in w and not w.startswith("-") and w != bind), None)
        module = target.split(":")[0].replace(".", "/") + ".py" if target else None
        return Listener("gunicorn", host or "0.0.0.0", _port(port, 8000), module)  # ":7860" = all
    if prog == "streamlit" and len(words) > 2:
        return Listener("streamlit", opts.get("--server.address", "0.0.0.0"),
                        _port(opts.get("--server.port"), 8501), words[2])
    if prog.startswith("python") and len(words) > 1 and words[1].endswith(".py"):
        return _listener_in_module(sf, words[1], env)
    return None


def _listener_in_module(sf: SpaceFiles, module: str, env: Mapping[str, str]) -> Listener | None:
    path = module.removeprefix("./")
    source = sf.text(path) or ""
    calls = pysource.server_calls(source, env)
    if not calls:
        return None
    call = calls[-1]
    gradio = (env.get("GRADIO_SERVER_NAME", "127.0.0.1"), _port(env.get("GRADIO_SERVER_PORT"), 7860))
    defaults = {"gradio": gradio, "uvicorn": ("127.0.0.1", 8000), "flask": ("127.0.0.1", 5000)}[call.kind]
    return Listener(call.kind, call.host or defaults[0], call.port or defaults[1], path)


def entry_module(sf: SpaceFiles) -> str | None:
    """The repo file Python runs first, when the start command says."""
    found = listener(sf)
    if found is not None and found.module in sf.files:
        return found.module
    words = command(sf)
    for word in words[1:]:
        if word.endswith(".py") and word.removeprefix("./") in sf.files:
            return word.removeprefix("./")
    return None


def _command_words(args: str) -> list[str]:
    args = args.strip()
    if args.startswith("["):
        try:
            return [str(word) for word in json.loads(args)]
        except ValueError:
            pass
    try:
        return shlex.split(args)
    except ValueError:
        return args.split()


def _port(value: str | None, default: int) -> int:
    """A port number from a command-line value; an unreadable one (e.g. an unset $PORT) means the default."""
    return int(value) if value is not None and value.isdigit() else default


def _options(words: list[str]) -> dict[str, str]:
    opts = {}
    for i, word in enumerate(words):
        if word.startswith("-"):
            if "=" in word:
                key, value = word.split("=", 1)
                opts[key] = value
            elif i + 1 < len(words):
                opts[word] = words[i + 1]
    return opts


def parse_supervisord(text: str, source: str = "supervisord.conf") -> configparser.RawConfigParser:
    """Parse a supervisord config like supervisord does (INI, no interpolation).

    Raises:
        configparser.Error: the file is not valid INI; its message names `source` and the line.
    """
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.read_string(text, source=source)
    return parser


def _supervised_web_command(text: str) -> list[str]:
    """The command of the first supervised program that serves HTTP."""
    try:
        parser = parse_supervisord(text)
    except configparser.Error:
        return []
    for section in parser.sections():
        program = parser.get(section, "command", fallback="")
        if section.startswith("program:") and any(s in program for s in ("uvicorn", "gunicorn", "streamlit")):
            return _command_words(program)
    return []
