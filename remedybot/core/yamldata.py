"""YAML parsing for remedybot's own data tables (the signature catalog, the edits' tables, escalation lines).

PyYAML's pure-Python loader took 1.9 s for the signature catalog, paid by every `diagnose`; its
libyaml loader (shipped in PyYAML's wheels) reads the same file into the same data in a twentieth of
that. The pure loader stays the fallback where PyYAML was built without libyaml. A Space's own YAML
(README front matter) is not data of ours and keeps `yaml.safe_load`, so its edge cases are parsed as
they always were.
"""

from __future__ import annotations

from typing import Any

import yaml

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_data(text: str) -> Any:
    """The data in `text`, parsed safely (no Python objects); raises yaml.YAMLError like `yaml.safe_load`."""
    return yaml.load(text, Loader=_LOADER)
