"""What the simulated builder reads from a Space repo's files: config, dependencies, how it starts.

A real Space build reads README.md's YAML front matter (sdk, app_file,
app_port, startup_duration_timeout, preload_from_hub), installs
packages.txt and requirements.txt (SDK Spaces) or follows the Dockerfile,
then runs the app. `SpaceFiles` answers the same questions from the file
contents so the builder's outcome follows from the files: fix a file and the
outcome changes. Lookup tables (removed apt packages, import names, what an
SDK image preinstalls) live in builder_rules.yaml, loaded by `rules()`.

Pure: no I/O besides reading the packaged rules file.
"""

from __future__ import annotations

import copy
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from remedybot.sandbox.yamldata import load_data

SDKS = ("gradio", "docker", "static", "streamlit")
DEFAULT_TIMEOUT = 30 * 60.0
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(h|hr|hours?|m|min|minutes?|s|sec|seconds?)", re.IGNORECASE)
_UNIT = {"h": 3600, "m": 60, "s": 1}
SHELL_SPLIT = re.compile(r"&&|\|\||;|\|")


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    """The builder's lookup tables (builder_rules.yaml)."""
    text = resources.files("remedybot.sandbox").joinpath("builder_rules.yaml").read_text(encoding="utf-8")
    return load_data(text)


def parse_duration(value: Any) -> float | None:
    """'1h', '90m', '1h30m', '45 min', or a number of seconds; None when unreadable."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    parts = _DURATION.findall(text)
    if not parts or _DURATION.sub("", text).strip():
        return None
    return sum(float(n) * _UNIT[unit[0].lower()] for n, unit in parts)


@dataclass(frozen=True)
class ReqLine:
    """One requirement of requirements.txt: its line number, text and parsed form."""

    lineno: int
    text: str
    req: Requirement | None
    error: str | None = None

    @property
    def name(self) -> str | None:
        return canonicalize_name(self.req.name) if self.req else None


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    keyword: str
    args: str

    @property
    def text(self) -> str:
        return f"{self.keyword} {self.args}"


@lru_cache(maxsize=512)
def _parse_front_matter(text: str) -> tuple[dict[str, Any], str | None]:
    """Parse front matter once per distinct text: every build and every restored sandbox reads the same READMEs."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2}, column {mark.column + 1})" if mark is not None else ""
        return {}, f"Invalid YAML in README.md metadata: {problem}{where}"
    if not isinstance(data, dict):
        return {}, "Invalid YAML in README.md metadata: expected a mapping of keys to values"
    return data, None


class SpaceFiles:
    """Read-only view of a Space's files at one commit, answering the builder's questions."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = files

    def text(self, path: str) -> str | None:
        data = self.files.get(path)
        return None if data is None else data.decode("utf-8", "replace")

    # -- README front matter -------------------------------------------------------
    @cached_property
    def front_matter(self) -> tuple[dict[str, Any], str | None]:
        """(metadata, error): the README's YAML front matter, or the reason it cannot be read."""
        readme = self.text("README.md")
        if readme is None or not readme.startswith("---"):
            return {}, "Missing configuration in README. Base README.md template: " \
                       "https://huggingface.co/docs/hub/spaces-config-reference"
        end = readme.find("\n---", 3)
        if end == -1:
            return {}, "Invalid YAML in README.md metadata: the front matter is not closed with '---'"
        data, error = _parse_front_matter(readme[3:end])
        return copy.deepcopy(data), error

    @property
    def meta(self) -> dict[str, Any]:
        return self.front_matter[0]

    def config_error(self) -> str | None:
        """Why the Hub would refuse this configuration (CONFIG_ERROR), in Joi-style wording, or None."""
        meta, error = self.front_matter
        if error:
            return error
        sdk = meta.get("sdk")
        if sdk is None:
            return '"sdk" is required'
        if sdk not in SDKS:
            return f'"sdk" must be one of [{", ".join(SDKS)}]'
        port = meta.get("app_port")
        if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536):
            return '"app_port" must be a valid port number'
        if "startup_duration_timeout" in meta and parse_duration(meta["startup_duration_timeout"]) is None:
            return '"startup_duration_timeout" must be a valid duration, like 1h or 30m'
        preload = meta.get("preload_from_hub")
        if preload is not None and not (isinstance(preload, list)
                                        and all(isinstance(p, str) for p in preload)):
            return '"preload_from_hub" must be an array of strings'
        return None

    @property
    def sdk(self) -> str:
        return str(self.meta.get("sdk", "gradio"))

    @property
    def app_file(self) -> str:
        default = "index.html" if self.sdk == "static" else "app.py"
        return str(self.meta.get("app_file") or default)

    @property
    def app_port(self) -> int:
        """The port the Hub's proxy checks: app_port for Docker, the SDK's own port otherwise."""
        if self.sdk == "streamlit":
            return 8501
        return int(self.meta.get("app_port") or 7860) if self.sdk == "docker" else 7860

    @property
    def startup_timeout(self) -> float:
        raw = self.meta.get("startup_duration_timeout")
        parsed = parse_duration(raw) if raw is not None else None
        return parsed or DEFAULT_TIMEOUT

    @property
    def preload(self) -> list[str]:
        """Repo ids listed in preload_from_hub (the first word of each entry)."""
        entries = self.meta.get("preload_from_hub") or []
        return [entry.split()[0] for entry in entries if isinstance(entry, str) and entry.split()]

    @property
    def python_version(self) -> str:
        return str(self.meta.get("python_version") or "3.10")

    def missing_app(self) -> str | None:
        """The file whose absence makes the Space NO_APP_FILE, or None when the app is there."""
        if self.sdk == "docker":
            return None if "Dockerfile" in self.files else "Dockerfile"
        return None if self.app_file in self.files else self.app_file

    # -- dependencies ---------------------------------------------------------------
    def requirements(self, path: str = "requirements.txt") -> list[ReqLine]:
        lines = []
        for lineno, raw in enumerate((self.text(path) or "").splitlines(), start=1):
            text = raw.split(" #")[0].strip()
            if not text or text.startswith(("#", "-")) or ("://" in text and " @ " not in text):
                continue  # comments, options (-r, --extra-index-url) and bare URLs pip accepts unnamed
            try:
                lines.append(ReqLine(lineno, text, Requirement(text)))
            except InvalidRequirement as exc:
                lines.append(ReqLine(lineno, text, None, str(exc)))
        return lines

    def packages_txt(self) -> list[str]:
        return [line.split("#")[0].strip() for line in (self.text("packages.txt") or "").splitlines()
                if line.split("#")[0].strip()]

    # -- Dockerfile -------------------------------------------------------------------
    @cached_property
    def dockerfile(self) -> list[Instruction]:
        joined: list[str] = []
        pending = ""
        for raw in (self.text("Dockerfile") or "").splitlines():
            line = raw.strip()
            if not pending and (not line or line.startswith("#")):
                continue
            if line.endswith("\\"):
                pending += line[:-1].strip() + " "
                continue
            joined.append(pending + line)
            pending = ""
        if pending:
            joined.append(pending)
        return [Instruction(*[*line.split(None, 1), ""][:2]) for line in joined if line]

    @cached_property
    def docker_env(self) -> dict[str, str]:
        env: dict[str, str] = {"HOME": "/root"}
        for ins in self.dockerfile:
            if ins.keyword.upper() != "ENV":
                continue
            try:
                tokens = shlex.split(ins.args)
            except ValueError:
                continue
            if tokens and "=" not in tokens[0]:
                env[tokens[0]] = " ".join(tokens[1:])
            else:
                env.update(dict(tok.split("=", 1) for tok in tokens if "=" in tok))
        if any(i.keyword.upper() == "USER" for i in self.dockerfile):
            env.setdefault("HOME", "/home/user")
        return {key: self.expand(value, env) for key, value in env.items()}

    @staticmethod
    def expand(text: str, env: Mapping[str, str]) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), text)

    def run_commands(self) -> list[str]:
        return [ins.args for ins in self.dockerfile if ins.keyword.upper() == "RUN"]

    @staticmethod
    def apt_packages(command: str) -> list[str]:
        """Packages named by `apt-get install` / `apt install` inside a shell command."""
        found = []
        for part in SHELL_SPLIT.split(command):
            words = part.split()
            for i, word in enumerate(words[:-1]):
                if word.rsplit("/", 1)[-1] in ("apt-get", "apt") and "install" in words[i + 1:i + 4]:
                    start = words.index("install", i) + 1
                    found += [w for w in words[start:] if not w.startswith("-") and "=" not in w]
                    break
        return found

    @staticmethod
    def pip_packages(command: str) -> list[str]:
        """Distributions named inline by `pip install` inside a shell command (not -r files)."""
        found = []
        for part in SHELL_SPLIT.split(command):
            words = part.replace('"', " ").replace("'", " ").split()
            if "install" not in words or not any(w.rsplit("/", 1)[-1].startswith("pip") for w in words):
                continue
            rest = words[words.index("install") + 1:]
            skip = False
            for word in rest:
                if skip:
                    skip = False
                    continue
                if word in ("-r", "--requirement", "-c", "--constraint", "-e", "--index-url", "-i"):
                    skip = True
                    continue
                if word.startswith("-") or word == ".":
                    continue
                try:
                    found.append(canonicalize_name(Requirement(word).name))
                except InvalidRequirement:
                    continue
        return found

    def python_files(self) -> dict[str, str]:
        return {path: data.decode("utf-8", "replace") for path, data in self.files.items()
                if path.endswith(".py")}

    def local_modules(self) -> set[str]:
        """Top-level names importable from the repo itself (files and packages)."""
        names = set()
        for path in self.files:
            head = path.split("/")[0]
            names.add(head[:-3] if head.endswith(".py") else head)
        return names
