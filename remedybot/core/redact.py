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

# Log text is the Space's output, not ours: its colour codes and control characters must not reach
# the terminal (they could hide or rewrite lines). Escape sequences go; other controls show as U+FFFD.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")


def strip_ansi(text: str) -> str:
    """`text` without terminal escape sequences (colour, cursor moves, titles)."""
    return _ANSI.sub("", text)


def terminal_safe(text: str) -> str:
    """`text` without escape sequences or control characters (tabs kept)."""
    return _CONTROL.sub("\ufffd", _ANSI.sub("", text))


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


# Token shapes `redact` misses when glued to a word (its patterns start at \b), and bearer values
# that reached us without their "Authorization:" prefix (a header dict's value).
_SCRUB = [re.compile(r"hf_[A-Za-z0-9]{30,}"), re.compile(r"api_org_[A-Za-z0-9]{20,}"),
          re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/=\-]{16,}")]
# Keys whose value is a credential itself (a header dict, a config mapping). Not "secret": the
# catalog's culprit uses it for the *name* of a missing secret, which support needs to see.
_SECRET_KEY = re.compile(r"(?i)^(proxy-)?authorization$|^(set-)?cookie$|^passw(or)?d$|^(hf_|access_|auth_)?token$"
                         r"|^api[_-]?key$|^secret_value$")


def scrub(text: str) -> str:
    """`redact`, then the ticket-only patterns above: a ticket is sent to people outside."""
    text = redact(text)
    for pattern in _SCRUB:
        text = pattern.sub(MARK, text)
    return text


def clean(data: Any, key: str = "") -> Any:
    """Scrub every string of a JSON-like value; a string under a secret-looking key is dropped whole."""
    if isinstance(data, str):
        return MARK if key and _SECRET_KEY.search(key) and data else scrub(strip_ansi(data))
    if isinstance(data, dict):
        return {scrub(str(k)): clean(v, str(k)) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [clean(v) for v in data]
    return data
