"""Does the Space's main process survive its first second? The simulated builder's crash check.

A container whose main process exits at start lands in RUNTIME_ERROR with
"Exit code: N" and the crash in the run log. The causes modelled, all read
from the files: supervisord refusing its config (the classic "Error: .ini
file does not include supervisord section"), and Python failing to import
the app: a SyntaxError, a module no installed distribution provides
(ModuleNotFoundError), an unset `os.environ["SECRET"]` (KeyError) or an
unconditional top-level `raise`. Imports are followed into the repo's own
modules, in source order, like the interpreter does, so the traceback shows
the real chain of frames.
"""

from __future__ import annotations

import configparser
import re

from packaging.utils import canonicalize_name

from remedybot.sandbox import buildlog as bl
from remedybot.sandbox import pkgindex, pysource
from remedybot.sandbox.launch import command as start_command
from remedybot.sandbox.launch import entry_module, listener, parse_supervisord, supervisord_conf
from remedybot.sandbox.requirements import importable_names, installed_distributions, is_importable
from remedybot.sandbox.spacefiles import SpaceFiles

SUPERVISORD = "/usr/bin/supervisord"
SUPERVISORD_CONF = "/etc/supervisor/conf.d/supervisord.conf"

Frames = list[tuple[str, int, str]]
_FROM_IMPORT = re.compile(r"^from\s+[\w.]+\s+import\s+(?P<names>.+)$")


def crash_report(sf: SpaceFiles, env_keys: frozenset[str], py: str,
                 versions: dict[str, str] | None = None) -> tuple[list[str], int] | None:
    """(run log lines, exit code) when the main process dies at start, else None.

    `versions`: the distributions installed from the package index, by version (a name a release
    removed fails `from package import name`).
    """
    conf = supervisord_conf(sf)
    if conf is not None:
        command = start_command(sf)
        where = command[command.index("-c") + 1] if "-c" in command[:-1] else SUPERVISORD_CONF
        message = supervisord_error(conf[1], where)
        if message is not None:
            return [*(f"Error: {line}" if i == 0 else line for i, line in enumerate(message.splitlines())),
                    f"For help, use {SUPERVISORD} -h"], 2
    entry = entry_module(sf)
    if entry is None:
        return None
    finder = _CrashFinder(sf, env_keys, versions or {}, py)
    found = finder.visit(entry)
    if found is None:
        return None
    frames, exception, caret = found
    found = listener(sf)
    server = found.server if found is not None and found.server in ("uvicorn", "gunicorn") else None
    return bl.traceback(frames, exception, caret, server, py), 1


def supervisord_error(text: str, where: str) -> str | None:
    """What supervisord prints after "Error: " for this config, or None when it starts."""
    try:
        parser = parse_supervisord(text, source=where)
    except configparser.Error as exc:
        return str(exc)
    if not parser.has_section("supervisord"):
        return ".ini file does not include supervisord section"
    for section in parser.sections():
        if section.startswith("program:") and not parser.get(section, "command", fallback="").strip():
            return (f"program section {section} does not specify a command in section '{section}' "
                    f"(file: '{where}')")
    return None


class _CrashFinder:
    """Walks the app's imports in execution order and reports the first failure."""

    def __init__(self, sf: SpaceFiles, env_keys: frozenset[str], versions: dict[str, str], py: str) -> None:
        self.sf = sf
        self.env_keys = env_keys
        self.versions = versions
        self.py = py
        self.local = sf.local_modules()
        self.names = importable_names(sf.sdk, installed_distributions(sf))
        self.visited: set[str] = set()
        self.workdir = self._workdir()

    def _workdir(self) -> str:
        if self.sf.sdk != "docker":
            return "/home/user/app"
        workdir = "/"
        for ins in self.sf.dockerfile:
            if ins.keyword.upper() == "WORKDIR":
                path = self.sf.expand(ins.args.strip(), self.sf.docker_env)
                workdir = path if path.startswith("/") else f"{workdir.rstrip('/')}/{path}"
        return workdir.rstrip("/") or ""

    def _local_path(self, module: str) -> str | None:
        for candidate in (f"{module}.py", f"{module}/__init__.py"):
            if candidate in self.sf.files:
                return candidate
        return None

    def visit(self, path: str) -> tuple[Frames, str, str | None] | None:
        self.visited.add(path)
        source = self.sf.text(path) or ""
        where = f"{self.workdir}/{path}"
        syntax = pysource.syntax_error(source)
        if syntax is not None:
            return [(where, syntax.lineno, syntax.text)], syntax.exception, syntax.caret
        imports = pysource.module_imports(source)
        events: list[tuple[int, int, object]] = [(ref.lineno, 0, ref) for ref in imports]
        crash = pysource.import_crash(source, self.env_keys, self.sf.files)
        if crash is not None:
            events.append((crash.lineno, 1, crash))
        for _, _, event in sorted(events, key=lambda e: (e[0], e[1])):
            if isinstance(event, pysource.Crash):
                return [(where, event.lineno, event.text)], event.exception, None
            assert isinstance(event, pysource.ImportRef)
            frame = (where, event.lineno, event.text)
            if event.module in self.local:
                sub = self._local_path(event.module)
                if sub is not None and sub not in self.visited:
                    found = self.visit(sub)
                    if found is not None:
                        return [frame, *found[0]], found[1], found[2]
            elif not is_importable(event.module, self.names, self.local):
                return [frame], f"ModuleNotFoundError: No module named '{event.module}'", None
            else:
                gone = self._removed_name(event)
                if gone is not None:
                    return [frame], gone, None
        return None

    def _removed_name(self, ref: pysource.ImportRef) -> str | None:
        """The ImportError of `from package import name` when the installed release removed `name`."""
        match = _FROM_IMPORT.match(ref.text.strip())
        if match is None:
            return None
        dist = canonicalize_name(ref.module)
        version = self.versions.get(dist)
        if version is None:
            return None
        for name in (n.strip().split(" as ")[0].strip("() ") for n in match["names"].split(",")):
            if name and pkgindex.removed(dist, version, name):
                return (f"ImportError: cannot import name '{name}' from '{ref.module}' "
                        f"(/usr/local/lib/python{self.py}/site-packages/{ref.module}/__init__.py)")
        return None
