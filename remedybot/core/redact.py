"""The one redaction, applied wherever text leaves the process, and terminal-safe text.

Credential shapes (Hugging Face, OpenAI/Anthropic, AWS, GitHub, Slack tokens, JWTs,
private keys, Authorization and Cookie headers, password/secret/token/api_key
assignments, user:password@ in URLs), glued to other words or not, and the token
in use (`register_secret`) are replaced with a fixed marker. The terminal and
`--json` (core.output), plan diagnoses, the audit log, saved evidence files,
tickets and webhooks all pass through `redact`/`redact_data` (SAFETY.md,
"Redaction"), so a secret can only leak if it bypasses this module.
"""

from __future__ import annotations

import functools
import re
from typing import Any

MARK = "[REDACTED]"

# Credential shapes, whole match replaced. No leading \b: a token glued to a word ("MY_hf_...",
# "tokenhf_...") is still a token.
_TOKEN_SOURCES = [
    r"hf_(?!hub_)[A-Za-z0-9]{30,}",  # Hugging Face user/org/app tokens (37 characters)
    r"\bhf_(?!hub_)[A-Za-z0-9_\-]{8,}",  # shorter hf_ values standing alone (not hf_hub_download)
    r"api_org_[A-Za-z0-9]{8,}",
    r"sk-(?:proj-|live-|test-|ant-(?:api\d+-)?)?[A-Za-z0-9_\-]{20,}",  # OpenAI, Anthropic, Stripe
    r"(?:AKIA|ASIA)[0-9A-Z]{16}",  # AWS access key ids
    r"gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}",  # GitHub tokens
    r"xox[abprs]-[A-Za-z0-9\-]{10,}",  # Slack tokens
    r"eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}",  # JWTs
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
]
# Shapes whose first group (the name, the scheme) stays and whose value goes.
# Each with a literal that every match contains ("" for none): a line without it skips the pattern.
_VALUE_SOURCES = [
    # Authorization headers, whatever the scheme; cookies whole.
    (r"(?i)((?:proxy-)?authorization\s*[:=]\s*)(?:bearer|basic|token)?\s*[^\s'\",]+", "{0}" + MARK, ""),
    (r"(?i)((?:set-)?cookie\s*[:=]\s*)[^\r\n]+", "{0}" + MARK, ""),
    # password=..., MY_TOKEN=..., "api_key": "..." (the name glued to others is still the name). With ":" only
    # names that are never prose or a secret's *name* ("token: no token found", "secret": "OPENAI_API_KEY").
    # The look-behind starts a match only where a word starts: the leftmost match always does anyway (the name
    # may be glued to others), and without it every position of a long word is tried again, which made a
    # 2 000-character log line take seconds (quadratic backtracking).
    (r"(?i)(?<![A-Za-z0-9_])([A-Za-z0-9_]*(?:password|passwd|pwd|secret|token|api[_-]?key|"
         r"access[_-]?key|secret[_-]?key|private[_-]?key)[\"']?\s*=\s*[\"']?)(?![\s\"']|\[REDACTED\])"
         r"[^\s'\",;&]+", "{0}" + MARK, "="),
    (r"(?i)(?<![A-Za-z0-9_])([A-Za-z0-9_]*(?:password|passwd|pwd|api[_-]?key|access[_-]?key|"
         r"secret[_-]?key|private[_-]?key)[\"']?\s*:\s*[\"']?)(?![\s\"']|\[REDACTED\])"
         r"[^\s'\",;&]+", "{0}" + MARK, ":"),
    (r"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]{16,}", "{0}" + MARK, ""),
    # user:password@ in URLs. A scheme is short: bounding it keeps each try short (an unbounded one is tried
    # from every position of a long word), and a longer "scheme" only keeps more of itself, never the password.
    (r"(?i)([a-z][a-z0-9+.\-]{0,31}://)[^/\s:@]+:[^/\s@]+@", "{0}" + MARK + "@", "://"),
]

# Every shape above contains one of these words (any case), so text without any of them has nothing to
# redact: one scan instead of fifteen for the log lines that make up most of what passes through here.
_MAYBE_SECRET_SOURCE = (r"(?i)hf_|api_org_|sk-|akia|asia|gh[pousr]_|github_pat_|xox|eyj|private|authorization|"
                        r"cookie|passw|pwd|secret|token|api[_-]?key|access[_-]?key|bearer|://")


@functools.cache
def _patterns() -> tuple[re.Pattern[str], list[re.Pattern[str]], list[tuple[re.Pattern[str], str, str]]]:
    """The patterns, compiled on first use: the CLI imports this module at start-up, and most commands
    (`--help`, `--version`, usage errors) never redact anything."""
    return (re.compile(_MAYBE_SECRET_SOURCE), [re.compile(source) for source in _TOKEN_SOURCES],
            [(re.compile(source), replacement.replace("{0}", r"\1"), literal)
             for source, replacement, literal in _VALUE_SOURCES])


# Log text is the Space's output, not ours: its colour codes and control characters must not reach
# the terminal (they could hide or rewrite lines). Escape sequences go; other controls show as U+FFFD.
# Kept as pattern text, compiled by `re` on first use: `remedybot --help` never needs them.
_ANSI = r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])"
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f\x9b]"


def strip_ansi(text: str) -> str:
    """`text` without terminal escape sequences (colour, cursor moves, titles)."""
    return re.sub(_ANSI, "", text)


def terminal_safe(text: str) -> str:
    """`text` without escape sequences or control characters (tabs kept)."""
    return re.sub(_CONTROL, "\ufffd", re.sub(_ANSI, "", text))


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
    maybe_secret, tokens, values = _patterns()
    if not maybe_secret.search(text):
        return text
    for token in tokens:
        text = token.sub(MARK, text)
    for pattern, replacement, literal in values:
        if literal in text:
            text = pattern.sub(replacement, text)
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


# Keys whose value is a credential itself (a header dict, a config mapping). Not "secret": the
# catalog's culprit uses it for the *name* of a missing secret, which support needs to see.
_SECRET_KEY = (r"(?i)^(proxy-)?authorization$|^(set-)?cookie$|^passw(or)?d$|^(hf_|access_|auth_)?token$"
                         r"|^api[_-]?key$|^secret_value$")


def scrub(text: str) -> str:
    """`redact` (the one redaction; kept as a name for the ticket code that reads it)."""
    return redact(text)


def clean(data: Any, key: str = "") -> Any:
    """Scrub every string of a JSON-like value; a string under a secret-looking key is dropped whole."""
    if isinstance(data, str):
        return MARK if key and re.search(_SECRET_KEY, key) and data else scrub(strip_ansi(data))
    if isinstance(data, dict):
        return {scrub(str(k)): clean(v, str(k)) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [clean(v) for v in data]
    return data
