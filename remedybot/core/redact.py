"""Token and secret redaction, applied to every line remedybot prints or stores.

Hugging Face tokens (`hf_...`), Authorization headers and credentials in URLs
are replaced with a fixed marker. The audit log, plans, tickets and console
output all pass through here, so a token can only leak if it bypasses this
module.
"""

from __future__ import annotations

import re
from typing import Any

MARK = "[REDACTED]"

_PATTERNS = [
    # Hugging Face user/org/app tokens.
    re.compile(r"\bhf_(?!hub_)[A-Za-z0-9_\-]{8,}"),  # not huggingface_hub names like hf_hub_download
    re.compile(r"\bapi_org_[A-Za-z0-9]{8,}"),
    # Authorization headers, whatever the scheme.
    re.compile(r"(?i)(authorization\s*[:=]\s*)(bearer|basic|token)?\s*[^\s'\",]+"),
    # user:password@ in URLs.
    re.compile(r"(?i)([a-z][a-z0-9+.\-]*://)[^/\s:@]+:[^/\s@]+@"),
]

_extra_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value (the token in use) so it is redacted wherever it appears."""
    if value and len(value) >= 6:
        _extra_secrets.add(value)


def redact(text: str) -> str:
    """Return `text` with every token, credential and registered secret replaced."""
    if not text:
        return text
    for secret in _extra_secrets:
        if secret in text:
            text = text.replace(secret, MARK)
    text = _PATTERNS[0].sub(MARK, text)
    text = _PATTERNS[1].sub(MARK, text)
    text = _PATTERNS[2].sub(lambda m: f"{m.group(1)}{MARK}", text)
    text = _PATTERNS[3].sub(lambda m: f"{m.group(1)}{MARK}@", text)
    return text


def redact_data(data: Any) -> Any:
    """Redact every string inside a JSON-like structure (dict keys included)."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {redact_data(k): redact_data(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redact_data(v) for v in data]
    return data
