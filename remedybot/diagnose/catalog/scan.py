"""Turn Evidence into catalog hits: which signature matched which line of which source.

A scan is bounded: a log is read from its last build or start-up header
("===== Build Queued at", "===== Application Startup at") onward, because older
segments describe earlier attempts, and at most MAX_SCAN_LINES lines from the
end, so a 100 000-line log costs no more than a 5 000-line one. Lines that
match the catalog's noise patterns (pip's upgrade notice, retried downloads,
deprecation warnings) are never evidence. Long lines are clipped before
matching.

This module finds; it does not decide (classify.py weighs the hits).
"""

from __future__ import annotations

from typing import Any

from remedybot.diagnose.catalog.checks import CHECKS
from remedybot.diagnose.catalog.context import (
    MAX_LINE_CHARS,
    MAX_SCAN_LINES,
    SOURCE_NAMES,
    Context,
    Finding,
    Hit,
    SourceText,
    status_lines,
)
from remedybot.diagnose.catalog.schema import Catalog

__all__ = ["MAX_LINE_CHARS", "MAX_SCAN_LINES", "SOURCE_NAMES", "Context", "Finding", "Hit", "SourceText", "scan",
           "status_lines"]


def scan(ctx: Context, catalog: Catalog) -> list[Hit]:
    """Every hit of every signature in `catalog` over the evidence in `ctx`."""
    hits: list[Hit] = []
    noise = catalog.noise_regex
    noisy: dict[str, set[int]] = {}
    for signature in catalog.signatures:
        for matcher in signature.match:
            if not matcher.applies(ctx.stage):
                continue
            if matcher.check is not None:
                for found in CHECKS[matcher.check](ctx):
                    hits.append(Hit(signature, found.source, found.line, found.text, found.span, dict(found.culprit),
                                    signature.weight * found.scale))
                continue
            regex, unless = matcher.regex, matcher.unless_regex
            assert regex is not None and matcher.field is not None
            keep = signature.culprit
            for src in ctx.for_field(matcher.field):
                skip = noisy.get(src.name)
                if skip is None:
                    skip = noisy[src.name] = _noise_lines(src, noise)
                lines = src.lines
                for index in src.scanned:
                    if index in skip:
                        continue
                    line = lines[index]
                    if len(line) > MAX_LINE_CHARS:
                        line = line[-MAX_LINE_CHARS:]
                    mo = regex.search(line)
                    if mo is None or (unless is not None and unless.search(line)):
                        continue
                    groups = {k: v.strip() for k, v in mo.groupdict().items() if v and k in keep}
                    hits.append(Hit(signature, src.name, index + 1, line, mo.span(), groups, signature.weight,
                                    mo.start()))
    return hits


def _noise_lines(src: SourceText, noise: Any) -> set[int]:
    if noise is None or src.name.startswith("files/") or src.name in ("runtime.stage", "status_page"):
        return set()
    lines = src.lines
    return {i for i in src.scanned if noise.search(lines[i])}
