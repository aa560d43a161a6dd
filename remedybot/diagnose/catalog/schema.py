"""Load and validate the signature catalog (signatures.yaml) and the branch table (branches.yaml).

The catalog is data (CONTRIBUTING.md, "Adding a signature"); this module is the
strict gate in front of it. Every model forbids unknown keys, every branch id
must be one of the Branch enum's, every regex must compile, every culprit group must
exist in a pattern and every `check` must name a Python check that exists. A
failure raises `CatalogError` naming the file and the entry, so a typo in a
new signature fails the test suite instead of silently never matching.

The YAML is read with importlib.resources so it is found from an installed
wheel. The default catalog is parsed and compiled once per process.
This module must not scan evidence (remedybot.diagnose.catalog.scan does).
"""

from __future__ import annotations

import re
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from remedybot.core.errors import RemedyError
from remedybot.core.yamldata import load_data
from remedybot.model.enums import Branch as BranchId
from remedybot.model.enums import Stage
from remedybot.model.evidence import Evidence

# The stable branch ids; the CLI's JSON output uses them.
BRANCH_IDS = tuple(BranchId)
# Reasoning tiers (classify.py): the platform first, then policy, then everything else.
TIERS = {"platform_incident": 0, "policy_block": 1}
STAGES = tuple(Stage)
# Evidence fields a pattern matcher can read (plus files.<name or glob>).
FIELDS = ("build_log", "run_log", "error_message", "abuse", "push_error", "restart_error", "stage", "status_page",
          "info.disabled", "app_probe")
# Python checks a matcher can name (remedybot.diagnose.catalog.checks.CHECKS holds the code).
CHECKS = ("app_port_mismatch", "localhost_bind", "sdk_version_unknown", "readme_invalid", "app_file_missing",
          "build_not_progressing", "startup_too_long", "starting_without_output", "fleet_same_failure",
          "storage_over_limit", "running_unobserved", "docker_starting_without_output")
# Checks that read only the stage and the absence of output: their signatures rank as stage-only evidence.
STAGE_CHECKS = ("build_not_progressing", "starting_without_output", "running_unobserved",
                "docker_starting_without_output")
# The kinds of failure issue 15 found the catalog blind to; an example may say which one it stands for, and
# tests/catalog/test_signatures.py checks that each has enough real examples from more than one source.
BLIND_SPOTS = ("node_native", "other_port", "go_rust", "multistage", "readme_metadata", "other_spelling",
               "bad_wheel", "push_refused", "zerogpu", "sparse")
CULPRIT_SOURCES = ("runtime.hardware.requested", "runtime.hardware.current", "info.sdk", "front_matter.sdk_version",
                   "front_matter.app_file", "front_matter.python_version")
_SLUG = re.compile(r"^[a-z][a-z0-9_]{2,60}$")


class CatalogError(RemedyError):
    """The signature catalog or branch table is malformed; the message names the file and entry."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Matcher(_Strict):
    """One way a signature can match: a regex over an evidence field, or a named Python check.

    `stages`/`not_stages` restrict the matcher to runtime stages (an unknown stage
    passes `not_stages` only); `unless` drops lines that also match it.
    """

    field: str | None = None
    pattern: str | None = None
    check: str | None = None
    stages: tuple[str, ...] | None = None
    not_stages: tuple[str, ...] | None = None
    unless: str | None = None

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str | None) -> str | None:
        if value is not None and value not in FIELDS and not (value.startswith("files.") and len(value) > 6):
            raise ValueError(f"unknown field {value!r}; use one of {', '.join(FIELDS)} or files.<name>")
        return value

    @field_validator("stages", "not_stages")
    @classmethod
    def _known_stages(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for stage in value or ():
            if stage not in STAGES:
                raise ValueError(f"unknown stage {stage!r}; use one of {', '.join(STAGES)}")
        return value

    @field_validator("check")
    @classmethod
    def _known_check(cls, value: str | None) -> str | None:
        if value is not None and value not in CHECKS:
            raise ValueError(f"unknown check {value!r}; known checks: {', '.join(CHECKS)}")
        return value

    @field_validator("pattern", "unless")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compiled = re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern {value!r} does not compile: {exc}") from None
            if "(?P=" in value:
                raise ValueError("backreferences are not allowed in patterns")
            del compiled
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Matcher:
        if (self.pattern is None) == (self.check is None):
            raise ValueError("a matcher needs exactly one of 'pattern' (with 'field') or 'check'")
        if self.pattern is not None and self.field is None:
            raise ValueError("a 'pattern' matcher needs a 'field'")
        if self.check is not None and self.field is not None:
            raise ValueError("a 'check' matcher takes no 'field'")
        return self

    @cached_property
    def regex(self) -> re.Pattern[str] | None:
        return re.compile(self.pattern) if self.pattern is not None else None

    @cached_property
    def unless_regex(self) -> re.Pattern[str] | None:
        return re.compile(self.unless) if self.unless is not None else None

    def applies(self, stage: str | None) -> bool:
        """Whether this matcher counts at `stage`; an unknown stage passes `not_stages` but not `stages`."""
        if self.stages is not None and stage not in self.stages:
            return False  # a matcher limited to some stages needs a known stage
        return not (stage is not None and self.not_stages is not None and stage in self.not_stages)


class Example(_Strict):
    """A redacted real excerpt and where it was published; the test suite classifies it."""

    source_url: str = Field(pattern=r"^https?://\S+$")
    evidence: dict[str, Any]
    note: str | None = None
    culprit: dict[str, Any] | None = None  # expected culprit keys/values, checked by the tests
    # A signature that is a runner-up by design (the other reading of the same evidence) names the
    # branch that wins instead; the tests then expect the signature among the alternatives.
    runner_up_to: str | None = None
    blind_spot: str | None = None  # one of BLIND_SPOTS: the kind of failure this real case stands for

    @field_validator("blind_spot")
    @classmethod
    def _known_blind_spot(cls, value: str | None) -> str | None:
        if value is not None and value not in BLIND_SPOTS:
            raise ValueError(f"unknown blind_spot {value!r}; use one of {', '.join(BLIND_SPOTS)}")
        return value

    @field_validator("evidence")
    @classmethod
    def _is_evidence(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            Evidence.from_dict({"space_id": "example/example", **value}, where="example evidence")
        except RemedyError as exc:
            raise ValueError(exc.message) from None
        return value


class Signature(_Strict):
    """One known failure line (or condition) and the branch it points to.

    weight: how sure the line makes us of the branch, 0..1 (confidence before corroboration).
    fatal: the line ends a build or run; False for warnings and context (never decide alone).
    downstream: the line is usually the consequence of an earlier error: "step" looks back within the
        same build step, "log" within the same log, "any" through earlier sources too; the earlier
        specific fatal line, when there is one, is taken as the cause.
    explained_by: branches whose own fatal evidence, when present, is the cause this line is a symptom of
        (a launch timeout explained by a port mismatch).
    culprit: named regex groups kept as the culprit; culprit_from: culprit keys read from the evidence.
    would_decide: for evidence too thin to be sure, the one piece of evidence that would decide (shown with a
        low-confidence diagnosis; the branch's own `would_decide` otherwise).
    """

    id: str
    summary: str = Field(min_length=5, max_length=160)
    branch: str
    match: tuple[Matcher, ...] = Field(min_length=1)
    weight: float = Field(ge=0.0, le=1.0)
    fatal: bool
    downstream: str | None = None
    explained_by: tuple[str, ...] = ()
    culprit: tuple[str, ...] = ()
    culprit_from: dict[str, str] = Field(default_factory=dict)
    examples: tuple[Example, ...] = Field(min_length=1)
    would_decide: str | None = Field(default=None, min_length=5, max_length=200)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"id {value!r} must be a lowercase slug (a-z, 0-9, _)")
        return value

    @field_validator("summary")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value:
            raise ValueError("summary must be one line")
        return value

    @field_validator("branch")
    @classmethod
    def _known_branch(cls, value: str) -> str:
        if value not in BRANCH_IDS or value == "healthy":
            raise ValueError(f"unknown branch id {value!r}; use one of {', '.join(BRANCH_IDS[:-1])}")
        return value

    @field_validator("explained_by")
    @classmethod
    def _explaining_branches(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for branch in value:
            if branch not in BRANCH_IDS:
                raise ValueError(f"unknown branch id {branch!r} in explained_by")
        return value

    @field_validator("downstream")
    @classmethod
    def _scope(cls, value: str | None) -> str | None:
        if value is not None and value not in ("step", "log", "any"):
            raise ValueError("downstream must be one of step, log, any")
        return value

    @field_validator("culprit_from")
    @classmethod
    def _culprit_sources(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value.values():
            if path not in CULPRIT_SOURCES:
                raise ValueError(f"unknown culprit source {path!r}; use one of {', '.join(CULPRIT_SOURCES)}")
        return value

    @model_validator(mode="after")
    def _culprit_groups_exist(self) -> Signature:
        groups = {name for m in self.match if m.regex is not None for name in m.regex.groupindex}
        for name in self.culprit:
            if name not in groups and not any(m.check for m in self.match):
                raise ValueError(f"culprit group {name!r} is not a named group of any pattern")
        return self

    @property
    def tier(self) -> int:
        """0 platform, 1 policy, 2 specific failure, 3 stage-only evidence (whatever branch it points to)."""
        stage_only = all(m.field == "stage" or m.check in STAGE_CHECKS for m in self.match)
        if stage_only:
            return 3
        return TIERS.get(self.branch, 2)


class Branch(_Strict):
    """What a branch means in plain words (the decision tree's wording) and what to do next."""

    title: str
    meaning: str
    next_step: str
    would_decide: str = ""  # what evidence would settle a low-confidence diagnosis of this branch


class Catalog(_Strict):
    """The whole signature catalog: noise patterns, signatures, and the branch table."""

    version: int
    noise: tuple[str, ...] = ()
    signatures: tuple[Signature, ...]
    branches: dict[str, Branch] = Field(default_factory=dict)

    @field_validator("noise")
    @classmethod
    def _noise_compiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"noise pattern {pattern!r} does not compile: {exc}") from None
        return value

    @cached_property
    def noise_regex(self) -> re.Pattern[str] | None:
        return re.compile("|".join(f"(?:{p})" for p in self.noise)) if self.noise else None

    @cached_property
    def by_id(self) -> dict[str, Signature]:
        return {s.id: s for s in self.signatures}


def load_catalog(path: str | Path | None = None, branches_path: str | Path | None = None) -> Catalog:
    """Parse and validate a signature catalog (default: the packaged one, cached).

    Raises:
        CatalogError: the YAML is unreadable or an entry is invalid; the message names the file and
            the entry. Fix the entry; nothing is half-loaded.
    """
    if path is None and branches_path is None:
        return _default_catalog()
    return _load(_read(path, "signatures.yaml"), str(path or "signatures.yaml"),
                 _read(branches_path, "branches.yaml"), str(branches_path or "branches.yaml"))


@lru_cache(maxsize=1)
def _default_catalog() -> Catalog:
    return _load(_read(None, "signatures.yaml"), "signatures.yaml", _read(None, "branches.yaml"), "branches.yaml")


def load_branches(path: str | Path | None = None) -> dict[str, Branch]:
    """The branch table (branches.yaml): every Branch id, its meaning and next step.

    Raises:
        CatalogError: unreadable, an unknown or a missing branch id, or an entry with unknown keys.
    """
    name = str(path or "branches.yaml")
    return _parse_branches(_read(path, "branches.yaml"), name)


def _read(path: str | Path | None, default_name: str) -> str:
    try:
        if path is None:
            return resources.files("remedybot.diagnose.catalog").joinpath(default_name).read_text(encoding="utf-8")
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"Cannot read {path or default_name}: {exc.strerror or exc}.") from None


def _yaml(text: str, name: str) -> Any:
    try:
        return load_data(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{name}: not valid YAML: {exc}") from None


def _parse_branches(text: str, name: str) -> dict[str, Branch]:
    data = _yaml(text, name)
    if not isinstance(data, dict) or not isinstance(data.get("branches"), dict):
        raise CatalogError(f"{name}: expected a mapping with a 'branches' key.")
    out: dict[str, Branch] = {}
    for branch_id, entry in data["branches"].items():
        if branch_id not in BRANCH_IDS:
            raise CatalogError(f"{name}: entry {branch_id!r}: unknown branch id; use one of {', '.join(BRANCH_IDS)}.")
        try:
            out[branch_id] = Branch.model_validate(entry)
        except ValidationError as exc:
            raise CatalogError(f"{name}: entry {branch_id!r}: {_first_error(exc)}") from None
    absent = [b for b in BRANCH_IDS if b not in out]
    if absent:
        raise CatalogError(f"{name}: missing branch ids: {', '.join(absent)}.")
    return out


def _load(text: str, name: str, branches_text: str, branches_name: str) -> Catalog:
    data = _yaml(text, name)
    if not isinstance(data, dict) or not isinstance(data.get("signatures"), list):
        raise CatalogError(f"{name}: expected a mapping with a 'signatures' list.")
    extra = set(data) - {"version", "noise", "signatures"}
    if extra:
        raise CatalogError(f"{name}: unknown top-level key(s): {', '.join(sorted(extra))}.")
    signatures: list[Signature] = []
    seen: set[str] = set()
    for index, entry in enumerate(data["signatures"], start=1):
        label = f"entry {entry.get('id')!r} (#{index})" if isinstance(entry, dict) else f"entry #{index}"
        try:
            signature = Signature.model_validate(entry)
        except ValidationError as exc:
            raise CatalogError(f"{name}: {label}: {_first_error(exc)}") from None
        if signature.id in seen:
            raise CatalogError(f"{name}: {label}: duplicate id {signature.id!r}.")
        seen.add(signature.id)
        signatures.append(signature)
    branches = _parse_branches(branches_text, branches_name)
    try:
        return Catalog(version=data.get("version", 1), noise=tuple(data.get("noise") or ()),
                       signatures=tuple(signatures), branches=branches)
    except ValidationError as exc:
        raise CatalogError(f"{name}: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    """One readable line per problem: where in the entry, then what is wrong."""
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        msg = err.get("msg", "invalid")
        if err.get("type") == "extra_forbidden":
            msg = "unknown key"
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)
