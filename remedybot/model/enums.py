"""The closed vocabularies every stage shares: diagnosis branches, runtime stages, step risks.

They are `StrEnum`s so that they compare equal to the plain strings found in
JSON files (evidence, plans, the audit log) and serialise as those strings,
while code that names a branch or a stage is checked by mypy. The one
definition of "healthy" lives here: `HEALTHY_STAGES`.
"""

from __future__ import annotations

from enum import StrEnum


class Branch(StrEnum):
    """A diagnosis branch: the stable ids of `diagnose --json` and of plan files."""

    PLATFORM_INCIDENT = "platform_incident"
    WEDGED_SPACE = "wedged_space"
    REPO_TOO_LARGE = "repo_too_large"
    SECRET_DETECTED = "secret_detected"
    CAPACITY = "capacity"
    STARTUP_CRASH = "startup_crash"
    PORT_MISMATCH = "port_mismatch"
    POLICY_BLOCK = "policy_block"
    DEPENDENCY = "dependency"
    APT_PACKAGE = "apt_package"
    UNHEALTHY_STARTUP = "unhealthy_startup"
    RESOURCE_LIMIT = "resource_limit"
    CONFIG_ERROR = "config_error"
    UNKNOWN = "unknown"
    HEALTHY = "healthy"


class Stage(StrEnum):
    """A Space's runtime stage, as `GET /api/spaces/{id}/runtime` names it (huggingface_hub SpaceStage)."""

    NO_APP_FILE = "NO_APP_FILE"
    CONFIG_ERROR = "CONFIG_ERROR"
    BUILDING = "BUILDING"
    BUILD_ERROR = "BUILD_ERROR"
    RUNNING = "RUNNING"
    RUNNING_BUILDING = "RUNNING_BUILDING"
    RUNTIME_ERROR = "RUNTIME_ERROR"
    DELETING = "DELETING"
    STOPPED = "STOPPED"
    PAUSED = "PAUSED"
    APP_STARTING = "APP_STARTING"
    RUNNING_APP_STARTING = "RUNNING_APP_STARTING"
    SLEEPING = "SLEEPING"


class Risk(StrEnum):
    """How much a step can change, cheapest first; approval rules are keyed on it (SAFETY.md)."""

    READ_ONLY = "read-only"
    SAFE = "safe"
    DISRUPTIVE = "disruptive"
    DESTRUCTIVE = "destructive"

    @property
    def rank(self) -> int:
        return list(Risk).index(self)


# What a Space's README front matter may say (the Hub's Spaces configuration reference).
SDKS: tuple[str, ...] = ("gradio", "docker", "static", "streamlit")
CARD_COLORS: tuple[str, ...] = ("red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray")

# A sleeping Space is healthy: it wakes on the next visit. Every "is it healthy?" reads this one set.
HEALTHY_STAGES: frozenset[str] = frozenset({Stage.RUNNING, Stage.SLEEPING})
# Stages a Space passes through on its way to running or failing: verification waits while it is in one.
INTERMEDIATE_STAGES: frozenset[str] = frozenset(
    {Stage.BUILDING, Stage.RUNNING_BUILDING, Stage.APP_STARTING, Stage.RUNNING_APP_STARTING})
BUILD_STAGES: tuple[Stage, ...] = (Stage.BUILDING, Stage.BUILD_ERROR)
RUN_STAGES: tuple[Stage, ...] = (Stage.RUNTIME_ERROR, Stage.APP_STARTING, Stage.RUNNING_APP_STARTING, Stage.RUNNING,
                                 Stage.SLEEPING, Stage.PAUSED, Stage.STOPPED)


def is_healthy(stage: str | None) -> bool:
    """Whether a runtime stage counts as healthy (RUNNING or SLEEPING)."""
    return stage in HEALTHY_STAGES
