"""The sandbox's status page, in the JSON shape of status.huggingface.co.

Hugging Face's status page is hosted on Better Stack; its machine-readable
form is `GET /index.json`: `data.attributes.aggregate_state`
plus `included[]` entries of type `status_page_section` (names) and
`status_page_resource` (components with `public_name`, `status`,
`availability`, `status_page_section_id`). Remedybot reads that shape, so
the sandbox serves exactly it, with components named like the real page.

This module holds the component states and renders them; deciding when a
platform incident starts or ends belongs to the state layer and scenarios.
"""

from __future__ import annotations

import threading
from typing import Any

# Better Stack resource states, mildest first; the aggregate is the worst component.
STATES = ("operational", "maintenance", "degraded", "downtime")

# Availability shown for each state: Better Stack reports a rolling ratio, so a
# degraded component keeps a high figure; remedybot must read `status`, not this.
_AVAILABILITY = {"operational": 0.99992, "maintenance": 0.9991, "degraded": 0.99731, "downtime": 0.98412}

# (section, components), in page order.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Hugging Face Hub", ("Website", "Hub API", "Git Hosting and Serving")),
    ("Spaces", ("Spaces", "Spaces Proxy", "ZeroGPU")),
    ("Inference", ("Inference Providers", "Inference Endpoints")),
    ("Datasets", ("Datasets Server",)),
)
COMPONENTS: tuple[str, ...] = tuple(name for _, names in SECTIONS for name in names)

_PAGE_ID = "87641"
_SECTION_ID_BASE = 51200
_RESOURCE_ID_BASE = 4102300


class StatusPage:
    """Component states of the sandbox status page; all operational until degraded. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, str] = dict.fromkeys(COMPONENTS, "operational")

    def degrade(self, component: str, state: str = "degraded") -> None:
        """Set one component's state (use "operational" to heal only that one).

        Raises:
            ValueError: unknown component or state; use a name from COMPONENTS and a state from STATES.
        """
        if component not in self._states:
            raise ValueError(f"unknown status page component {component!r}; known: {', '.join(COMPONENTS)}")
        if state not in STATES:
            raise ValueError(f"unknown status page state {state!r}; known: {', '.join(STATES)}")
        with self._lock:
            self._states[component] = state

    def restore(self, component: str | None = None) -> None:
        """Return one component (or, with None, every component) to operational.

        Raises:
            ValueError: unknown component; use a name from COMPONENTS.
        """
        if component is None:
            with self._lock:
                self._states = dict.fromkeys(COMPONENTS, "operational")
            return
        self.degrade(component, "operational")

    def states(self) -> dict[str, str]:
        """A copy of every component's state, by public name."""
        with self._lock:
            return dict(self._states)

    def aggregate_state(self) -> str:
        """The page's overall state: the worst state of any component."""
        return max(self.states().values(), key=STATES.index)

    def to_json(self) -> dict[str, Any]:
        """The page as Better Stack's index.json: `data` (the page) and `included` (sections, resources)."""
        states = self.states()
        aggregate = max(states.values(), key=STATES.index)
        included: list[dict[str, Any]] = []
        resource_refs = []
        section_refs = []
        position = 0
        for section_index, (section_name, names) in enumerate(SECTIONS):
            section_id = _SECTION_ID_BASE + section_index
            section_refs.append({"id": str(section_id), "type": "status_page_section"})
            included.append({
                "id": str(section_id),
                "type": "status_page_section",
                "attributes": {"name": section_name, "position": section_index},
            })
            for name in names:
                resource_id = _RESOURCE_ID_BASE + position
                resource_refs.append({"id": str(resource_id), "type": "status_page_resource"})
                included.append({
                    "id": str(resource_id),
                    "type": "status_page_resource",
                    "attributes": {
                        "status_page_section_id": section_id,
                        "resource_id": 900000 + position,
                        "resource_type": "Monitor",
                        "public_name": name,
                        "explanation": "",
                        "widget_type": "history",
                        "position": position,
                        "availability": _AVAILABILITY[states[name]],
                        "status": states[name],
                    },
                })
                position += 1
        return {
            "data": {
                "id": _PAGE_ID,
                "type": "status_page",
                "attributes": {
                    "company_name": "Hugging Face",
                    "company_url": "https://huggingface.co",
                    "contact_url": "https://huggingface.co/support",
                    "subdomain": "huggingface",
                    "custom_domain": "status.huggingface.co",
                    "timezone": "UTC",
                    "announcement": None,
                    "aggregate_state": aggregate,
                },
                "relationships": {
                    "sections": {"data": section_refs},
                    "status_page_resources": {"data": resource_refs},
                },
            },
            "included": included,
        }
