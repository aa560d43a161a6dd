"""The playbook registry: one explicit line per playbook (STYLE.md, "Adding a playbook").

A duplicate id, a module whose ID is not its name, or a failed import stops
startup here; a broken playbook never silently disappears.
"""

from __future__ import annotations

from types import ModuleType

from remedybot.playbooks import (
    apt_package_fix,
    config_fix,
    dependency_fix,
    duplicate,
    escalate,
    factory_rebuild,
    gather_evidence,
    hardware_switch,
    history_slim,
    noop_commit,
    port_fix,
    restart,
    startup_fix,
    watch_status,
)

from remedybot.remedy.playbook import check_playbook

PLAYBOOKS: list[ModuleType] = [
    watch_status,
    gather_evidence,
    restart,
    factory_rebuild,
    noop_commit,
    dependency_fix,  # issue 5: file fixes
    apt_package_fix,
    port_fix,
    startup_fix,
    config_fix,
    hardware_switch,
    duplicate,
    history_slim,
    escalate,
]


def build_registry(modules: list[ModuleType]) -> dict[str, ModuleType]:
    registry: dict[str, ModuleType] = {}
    for module in modules:
        check_playbook(module)
        if module.ID in registry:
            raise RuntimeError(f"two playbooks share the id {module.ID!r}")
        registry[module.ID] = module
    return registry


REGISTRY = build_registry(PLAYBOOKS)
