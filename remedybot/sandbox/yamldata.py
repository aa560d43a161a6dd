"""YAML for the sandbox's own data files (scenarios, builder rules, hardware, limits): libyaml's safe loader
when PyYAML has it (twenty times faster than the pure-Python one), else the pure one. Kept apart from the
product's copy on purpose: the sandbox imports nothing of the product."""

from __future__ import annotations

from typing import Any

import yaml

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_data(text: str) -> Any:
    """The data in `text`, parsed safely; raises yaml.YAMLError like `yaml.safe_load`."""
    return yaml.load(text, Loader=_LOADER)
