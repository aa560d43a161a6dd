"""Validation of `OWNER/SPACE` ids, the same rules the Hub applies to repo names."""

from __future__ import annotations

import re

from remedybot.core.errors import UsageError

_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._\-]{0,94}[A-Za-z0-9])?"
_ID = re.compile(rf"^{_PART}/{_PART}$")


def parse_space_id(value: str) -> str:
    """Return `value` if it is a well-formed `owner/name` Space id.

    Accepts the forms people paste: `owner/name`, `spaces/owner/name` and the
    Space URL `https://huggingface.co/spaces/owner/name`.

    Raises:
        UsageError: the id is malformed; the message shows the expected form.
    """
    raw = value.strip()
    text = re.sub(r"^https?://[^/]+/", "", raw).strip("/")
    if text.startswith("spaces/"):
        text = text[len("spaces/"):]
    if not _ID.match(text) or ".." in text or "--" in text.split("/")[0][:0]:
        raise UsageError(
            f"'{raw}' is not a Space id. Use the form OWNER/SPACE, e.g. 'alice/my-demo'."
        )
    return text
