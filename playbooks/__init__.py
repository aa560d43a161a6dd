"""The playbook registry: one line per playbook (CONTRIBUTING.md, "Adding a playbook").

Each name is a module of this package that ends with `PLAYBOOK = Playbook(...)`
(mypy checks that value against the typed contract in its own module). A missing
module, a `PLAYBOOK` that is not a Playbook, an id that is not the module's name,
or two playbooks with one id stop start-up here: a broken playbook never silently
disappears. The order here is only for reading; plans order steps by `order`.
"""

from __future__ import annotations

from importlib import import_module

from remedybot.remedy.playbook import Playbook, Registry, build_registry

NAMES = (
    "watch_status",
    "gather_evidence",
    "restart",
    "factory_rebuild",
    "noop_commit",
    "dependency_fix",
    "apt_package_fix",
    "port_fix",
    "startup_fix",
    "config_fix",
    "time_travel_pin",
    "rollback",
    "hardware_switch",
    "duplicate",
    "history_slim",
    "secret_removal",
    "escalate",
)


def _load(name: str) -> Playbook:
    playbook = getattr(import_module(f"{__name__}.{name}"), "PLAYBOOK", None)
    if not isinstance(playbook, Playbook):
        raise RuntimeError(f"playbook module {name} has no PLAYBOOK = Playbook(...)")
    if playbook.id != name:
        raise RuntimeError(f"playbook module {name} declares the id {playbook.id!r}; it must be its module name")
    return playbook


PLAYBOOKS: list[Playbook] = [_load(name) for name in NAMES]
REGISTRY: Registry = build_registry(PLAYBOOKS)
