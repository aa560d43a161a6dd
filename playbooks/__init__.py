"""The playbook registry: one explicit line per playbook (CONTRIBUTING.md, "Adding a playbook").

A duplicate id or a failed import stops start-up here; a broken playbook never
silently disappears. mypy checks each PLAYBOOK against the typed contract.
"""

from __future__ import annotations

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
from remedybot.remedy.playbook import Playbook, Registry, build_registry

# One line per playbook; the order here is only for reading (plans order steps by each playbook's `order`).
PLAYBOOKS: list[Playbook] = [
    watch_status.PLAYBOOK,
    gather_evidence.PLAYBOOK,
    restart.PLAYBOOK,
    factory_rebuild.PLAYBOOK,
    noop_commit.PLAYBOOK,
    dependency_fix.PLAYBOOK,
    apt_package_fix.PLAYBOOK,
    port_fix.PLAYBOOK,
    startup_fix.PLAYBOOK,
    config_fix.PLAYBOOK,
    hardware_switch.PLAYBOOK,
    duplicate.PLAYBOOK,
    history_slim.PLAYBOOK,
    escalate.PLAYBOOK,
]

REGISTRY: Registry = build_registry(PLAYBOOKS)
