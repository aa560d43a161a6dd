"""The Spaces hardware flavor table, as data (`hardware.yaml`).

The sandbox serves it at GET /api/spaces/hardware in exactly the shape
`HfApi.list_spaces_hardware()` parses (`JobHardwareInfo`), and the builder
reads `ram_gb` to decide whether an app fits in memory. Costs are written
once per flavor (per hour) and the Hub's per-minute figures are derived, so
the two can never disagree. This module only reads the table; it never
decides what a flavor does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from remedybot.sandbox.yamldata import load_data

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*GB\s*$")
_FIELDS = {"name", "prettyName", "cpu", "ram", "ephemeralStorage", "accelerator", "cost_per_hour_usd"}
_ACCELERATOR_FIELDS = {"type", "model", "quantity", "vram", "manufacturer"}


@dataclass(frozen=True)
class Flavor:
    """One hardware flavor. Field names follow the Hub's JSON so `prettyName` reads like the API."""

    name: str
    prettyName: str  # camelCase: the Hub's JSON keys
    cpu: str
    ram: str
    ephemeralStorage: str
    accelerator: dict[str, str] | None
    unitCostMicroUSD: int
    unitCostUSD: float
    unitLabel: str
    ram_gb: float
    cost_per_hour_usd: float

    @property
    def is_gpu(self) -> bool:
        """Whether the flavor has an accelerator (the registry tags its images gpu-… rather than cpu-…)."""
        return self.accelerator is not None

    @property
    def memory_limit(self) -> str:
        """The container memory limit as the Hub's errorMessage prints it, e.g. '16Gi'."""
        return f"{self.ram_gb:g}Gi"


def _flavor(raw: dict[str, Any]) -> Flavor:
    unknown = set(raw) - _FIELDS
    missing = _FIELDS - set(raw)
    if unknown or missing:
        raise ValueError(f"hardware.yaml: flavor {raw.get('name')!r}: unknown keys {sorted(unknown)}, "
                         f"missing keys {sorted(missing)}")
    ram = _SIZE.match(str(raw["ram"]))
    if ram is None:
        raise ValueError(f"hardware.yaml: flavor {raw['name']!r}: ram must look like '16 GB'")
    accelerator = raw["accelerator"]
    if accelerator is not None:
        if set(accelerator) != _ACCELERATOR_FIELDS:
            raise ValueError(f"hardware.yaml: flavor {raw['name']!r}: accelerator needs exactly "
                             f"{sorted(_ACCELERATOR_FIELDS)}")
        accelerator = {key: str(value) for key, value in accelerator.items()}
    per_hour = float(raw["cost_per_hour_usd"])
    per_minute = per_hour / 60
    return Flavor(name=raw["name"], prettyName=raw["prettyName"], cpu=raw["cpu"], ram=raw["ram"],
                  ephemeralStorage=raw["ephemeralStorage"], accelerator=accelerator,
                  unitCostMicroUSD=round(per_minute * 1_000_000), unitCostUSD=round(per_minute, 6),
                  unitLabel="minute", ram_gb=float(ram.group(1)), cost_per_hour_usd=per_hour)


@lru_cache(maxsize=1)
def _load() -> tuple[Flavor, ...]:
    text = resources.files("remedybot.sandbox").joinpath("hardware.yaml").read_text(encoding="utf-8")
    return tuple(_flavor(raw) for raw in load_data(text)["flavors"])


def load_flavors() -> dict[str, Flavor]:
    """Every flavor by name, in the table's order (cheapest CPU first).

    Returns a fresh dict each call so a caller may filter it; the Flavor objects are immutable.

    Raises:
        ValueError: hardware.yaml is malformed; fix the entry the message names.
    """
    return {flavor.name: flavor for flavor in _load()}


def flavor_json(flavor: Flavor) -> dict[str, Any]:
    """One flavor in the JSON shape of GET /api/spaces/hardware (what `JobHardwareInfo` parses)."""
    return {
        "name": flavor.name,
        "prettyName": flavor.prettyName,
        "cpu": flavor.cpu,
        "ram": flavor.ram,
        "ephemeralStorage": flavor.ephemeralStorage,
        "accelerator": dict(flavor.accelerator) if flavor.accelerator else None,
        "unitCostMicroUSD": flavor.unitCostMicroUSD,
        "unitCostUSD": flavor.unitCostUSD,
        "unitLabel": flavor.unitLabel,
    }
