"""The Evidence snapshot: everything known about one Space at one moment, as plain data.

This module owns the evidence file format (docs/ARCHITECTURE.md, "Data contracts")
and its round trip to JSON, so a diagnosis can be re-run offline from a saved
file. It makes no Hub calls and imports nothing heavy: collection lives in
`remedybot.diagnose.collect`, classification in `remedybot.diagnose.classify`.

Loading is tolerant where tolerance cannot hide a mistake: every key but
`space_id` may be missing, unknown keys are ignored (newer files stay
readable), and a log given as one string is split into lines. A file that is
not JSON, has no `space_id`, or holds a known key of the wrong shape is refused
with a `UsageError` that names the file and the key, because diagnosing
half-read evidence would print a confident wrong answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from remedybot.core.errors import UsageError
from remedybot.core.files import MiB, read_text_file, write_text_file
from remedybot.core.redact import redact_data

# Evidence holds two bounded log tails, a few files and the Hub's answers: a few MiB at most when collected.
MAX_EVIDENCE_BYTES = 32 * MiB
_DICT_KEYS = ("info", "runtime", "status_page", "files", "fleet", "storage", "app_probe", "history", "index")
_TEXT_KEYS = ("push_error", "restart_error", "collected_at")
_LOG_KEYS = ("build_log", "run_log")


@dataclass
class Evidence:
    """What was collected about one Space; every source but `space_id` may be absent (None).

    `missing` maps a source name ("build_log", "status_page", ...) to the reason
    it could not be collected, so a diagnosis can say "no build log" rather than
    "empty build log".
    """

    space_id: str
    info: dict[str, Any] | None = None
    runtime: dict[str, Any] | None = None
    build_log: list[str] | None = None
    run_log: list[str] | None = None
    status_page: dict[str, Any] | None = None
    push_error: str | None = None
    restart_error: str | None = None
    files: dict[str, str] | None = None
    fleet: dict[str, Any] | None = None
    commits: list[dict[str, Any]] | None = None
    storage: dict[str, Any] | None = None
    # The app URL probed once when the Space says RUNNING: {"url": ..., "status": "200" | "504" | "unreachable"}.
    # RUNNING with an app that does not answer is the one failure the runtime itself does not show.
    app_probe: dict[str, Any] | None = None
    collected_at: str | None = None
    # What the Space ran with when it last worked (remedybot/diagnose/history.py): `last_good` (LastGood as a
    # dict), `files_at_last_good` and `files_at_head` ({path: text or None}). `index`: the package index's
    # answers for the drift analysis: `checked`, `error`, `releases` ({package: {version: upload time}}).
    history: dict[str, Any] | None = None
    index: dict[str, Any] | None = None
    missing: dict[str, str] = field(default_factory=dict)

    # -- convenience views used by the classifier -------------------------------------
    @property
    def stage(self) -> str | None:
        """The runtime stage (raw string, may be a value the enum does not know), or None."""
        stage = (self.runtime or {}).get("stage")
        return stage.upper() if isinstance(stage, str) and stage else None

    @property
    def error_message(self) -> str | None:
        """`runtime.errorMessage`: huggingface_hub drops it from SpaceRuntime, so it is read raw."""
        message = (self.runtime or {}).get("errorMessage")
        return message if isinstance(message, str) and message.strip() else None

    @property
    def sdk(self) -> str | None:
        """The Space SDK from info, else from the README front matter."""
        sdk = (self.info or {}).get("sdk")
        if not sdk:
            sdk = front_matter(self)["meta"].get("sdk")
        return str(sdk).lower() if sdk else None

    @property
    def requested_hardware(self) -> str | None:
        hardware = (self.runtime or {}).get("hardware")
        if isinstance(hardware, dict):
            value = hardware.get("requested") or hardware.get("current")
            return str(value) if value else None
        return str(hardware) if isinstance(hardware, str) and hardware else None

    # -- (de)serialisation --------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any, *, where: str = "evidence") -> Evidence:
        """Build Evidence from the evidence-file JSON object.

        Raises:
            UsageError: not an object, no `space_id`, or a known key of the wrong type;
                fix the file (the message names `where` and the key).
        """
        if not isinstance(data, dict):
            raise UsageError(f"Cannot read {where}: expected a JSON object with a 'space_id', "
                             f"got {type(data).__name__}.")
        space_id = data.get("space_id")
        if not isinstance(space_id, str) or not space_id.strip():
            raise UsageError(f"Cannot read {where}: 'space_id' is missing. "
                             "An evidence file needs at least {\"space_id\": \"owner/name\"}.")
        values: dict[str, Any] = {"space_id": space_id.strip()}
        for key in _DICT_KEYS:
            values[key] = _typed(data, key, dict, where)
        for key in _TEXT_KEYS:
            values[key] = _typed(data, key, str, where)
        for key in _LOG_KEYS:
            values[key] = _log_lines(data.get(key), key, where)
        files = values["files"]
        if files is not None:
            values["files"] = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in files.items()
                               if v is not None}
        commits = _typed(data, "commits", list, where)
        values["commits"] = [c for c in commits if isinstance(c, dict)] if commits is not None else None
        missing = _typed(data, "missing", dict, where) or {}
        values["missing"] = {str(k): str(v) for k, v in missing.items()}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The evidence-file JSON object; absent sources are left out, so files stay small."""
        out: dict[str, Any] = {"space_id": self.space_id}
        for key in ("info", "runtime", "build_log", "run_log", "status_page", "push_error", "restart_error",
                    "files", "fleet", "commits", "storage", "app_probe", "collected_at", "history", "index"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.missing:
            out["missing"] = dict(self.missing)
        return out

    @classmethod
    def load(cls, path: str | Path) -> Evidence:
        """Read an evidence file (`remedybot diagnose --evidence F`).

        Raises:
            UsageError: the file cannot be read, is not JSON, or is not evidence; the message says which.
        """
        p = Path(path)
        text = read_text_file(p, what="evidence file", max_bytes=MAX_EVIDENCE_BYTES)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"Evidence file '{p}' is not valid JSON: {exc.msg} at line {exc.lineno}, "
                             f"column {exc.colno}.") from None
        return cls.from_dict(data, where=f"evidence file '{p}'")

    def save(self, path: str | Path) -> None:
        """Write the evidence file as UTF-8 JSON (the format `load` reads), redacted: log text can hold secrets."""
        data = redact_data(self.to_dict())
        write_text_file(Path(path), json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n",
                        what="evidence")


def _typed(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = data.get(key)
    if value is None or isinstance(value, kind):
        return value
    raise UsageError(f"Cannot read {where}: '{key}' must be a {_KIND_NAMES[kind]}, got {type(value).__name__}.")


_KIND_NAMES: dict[type, str] = {dict: "JSON object", str: "string", list: "list"}


def _log_lines(value: Any, key: str, where: str) -> list[str] | None:
    """A log as a list of lines; one string is split, embedded newlines are kept for the scanner."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.splitlines()
    if isinstance(value, list):
        return ["" if line is None else str(line) for line in value]
    raise UsageError(f"Cannot read {where}: '{key}' must be a list of lines or a string, "
                     f"got {type(value).__name__}.")


def front_matter(evidence: Evidence) -> dict[str, Any]:
    """The README.md YAML front matter, tolerant of every way it can be broken.

    Returns a dict with:
        found: a README with a `---` block was present;
        meta: the parsed mapping ({} when absent or invalid; `info.cardData` stands in
              when there is no README text at all);
        error: why the block cannot be read (the Hub shows CONFIG_ERROR for these), or None;
        error_line: 1-based README line of the YAML error, when the parser says.
    """
    readme = (evidence.files or {}).get("README.md")
    card = (evidence.info or {}).get("cardData")
    fallback = dict(card) if isinstance(card, dict) else {}
    if readme is None:
        return {"found": False, "meta": fallback, "error": None, "error_line": None}
    text = readme.lstrip("\ufeff")
    if not text.startswith("---"):
        return {"found": False, "meta": {}, "error": "README.md has no YAML front matter (no leading '---')",
                "error_line": 1}
    end = text.find("\n---", 3)
    if end == -1:
        return {"found": True, "meta": {}, "error": "the README front matter is not closed with '---'",
                "error_line": 1}
    try:
        data = yaml.safe_load(text[3:end])
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None  # block starts after the '---' line
        return {"found": True, "meta": {}, "error": f"invalid YAML in README.md front matter: {problem}",
                "error_line": line}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return {"found": True, "meta": {}, "error": "README.md front matter is not a mapping of keys to values",
                "error_line": 2}
    return {"found": True, "meta": data, "error": None, "error_line": None}
