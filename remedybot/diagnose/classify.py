"""classify(): Evidence + signature catalog -> Diagnosis. Pure: no Hub calls, no clock, no I/O after the
catalog is loaded (once, cached).

How the hits from catalog/scan.py are weighed:

1. Which sources speak for the current attempt. The stage says which log is
   current: at BUILD_ERROR/BUILDING the build log, at RUNTIME_ERROR and later the
   run log; the other log is stale and only feeds the alternatives.
   `runtime.errorMessage` is the platform's own verdict and comes last.
2. The last fatal line wins. Along that timeline the last fatal hit decides
   (on its line, the most specific signature); earlier fatal hits were
   superseded and earlier noise never counts. A line known to be a consequence
   (`downstream`: a BuildKit step's exit code, a COPY of a path an earlier step
   never made, a bare "Exit code: 1") hands the decision to the earlier specific
   fatal line it follows, when there is one.
3. Other evidence (push and restart errors, the status page, the fleet, config
   files, Python checks) adds independent candidates; a second source agreeing
   with the first raises the confidence.
4. Tiers, in order: platform (status page, registry 401, containerd, ZeroGPU
   init, DNS, fleet), policy (disabled, abuse handler, blocked tools), specific
   failures, stage-only evidence (BUILDING with no output, NO_APP_FILE), then
   generic lines (`unknown`). A branch that `explains` another (a port
   mismatch explains a launch timeout) takes over its evidence. One exception
   to "platform first": a degraded status page alone does not override a
   strong (>= 0.8) policy or specific failure line from the Space's own
   evidence (a ModuleNotFoundError is not caused by an incident); the platform
   is then the first alternative. Platform lines in the Space's own logs and a
   fleet failing the same way are never overridden, only marked contested.
5. Nothing fatal: a RUNNING Space is `healthy`; otherwise the best context line
   at reduced confidence, or `unknown`.

Confidence scale: 0..1; high >= 0.8, medium >= 0.5, low < 0.5 (diagnosis.py).
`unknown` is always reported with low confidence.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from remedybot.diagnose.catalog.scan import Context, Hit, scan
from remedybot.diagnose.catalog.schema import Catalog, load_catalog
from remedybot.diagnose.drift import explain
from remedybot.model.diagnosis import MEDIUM, Alternative, Diagnosis, EvidenceLine
from remedybot.model.enums import BUILD_STAGES, HEALTHY_STAGES, RUN_STAGES
from remedybot.model.evidence import Evidence

SUPERSEDED = 0.35  # a fatal line a later fatal line replaced
CONTEXT = 0.35  # a non-fatal line, as an alternative
STALE = 0.3  # a line from the log of an earlier attempt
FALLBACK = 0.8  # a non-fatal line deciding alone
UNKNOWN_CAP = 0.35
STRONG = 0.8  # a specific failure this sure is not overridden by a degraded status page alone
MAX_EVIDENCE = 8
MAX_ALTERNATIVES = 4
_STEP_HEADER = ("--> ", "#", "Step ")


@dataclass
class _Part:
    """A hit's contribution to its branch: a score, whether it can decide, and its source key."""

    hit: Hit
    score: float
    eligible: bool
    key: str
    branch: str = ""

    def __post_init__(self) -> None:
        self.branch = self.branch or self.hit.branch


def classify(evidence: Evidence, catalog: Catalog | None = None) -> Diagnosis:
    """Diagnose one Space from its evidence.

    Args:
        evidence: the snapshot (any source may be missing).
        catalog: a signature catalog; default the packaged one (parsed once per process).
    Returns:
        The Diagnosis: branch, confidence, evidence lines, culprit, alternatives, next step.
    """
    catalog = catalog or load_catalog()
    ctx = Context(evidence)
    hits = scan(ctx, catalog)
    parts = _weigh(ctx, hits)
    diagnosis = _decide(ctx, catalog, parts)
    if not diagnosis.healthy:
        diagnosis.history = explain(evidence)
    return diagnosis


def _timeline(stage: str | None) -> tuple[str, ...]:
    if stage in BUILD_STAGES:
        return ("build_log", "runtime.errorMessage")
    if stage in ("NO_APP_FILE", "CONFIG_ERROR"):
        return ("runtime.errorMessage",)
    if stage == "RUNNING_BUILDING":
        return ("run_log", "build_log", "runtime.errorMessage")
    if stage in RUN_STAGES:
        return ("run_log", "runtime.errorMessage")
    return ("build_log", "run_log", "runtime.errorMessage")


def _weigh(ctx: Context, hits: list[Hit]) -> list[_Part]:
    """Every hit as a contribution: the decisive timeline line, superseded lines, events, context."""
    timeline = _timeline(ctx.stage)
    order = {name: i for i, name in enumerate(timeline)}
    parts: list[_Part] = []
    in_timeline: list[Hit] = []
    for hit in hits:
        check = any(m.check for m in hit.signature.match)
        if not check and hit.source in order:
            in_timeline.append(hit)
        elif not check and hit.source in ("build_log", "run_log"):
            parts.append(_Part(hit, hit.weight * STALE, False, f"stale:{hit.source}"))
        elif hit.fatal:
            parts.append(_Part(hit, hit.weight, True, f"{'check:' if check else ''}{hit.source}"))
        else:
            parts.append(_Part(hit, hit.weight * CONTEXT, False, hit.source))

    def key(h: Hit) -> tuple[int, int, int]:
        return order[h.source], h.line, h.col

    fatal = sorted((h for h in in_timeline if h.fatal), key=key)
    cause, symptom = _decisive(ctx, fatal, key) if fatal else (None, None)
    for hit in in_timeline:
        if hit is cause:
            parts.append(_Part(hit, hit.weight, True, hit.source))
        elif hit is symptom:
            parts.append(_Part(hit, 0.0, True, hit.source, cause.branch if cause else ""))  # the cause's evidence
        elif not hit.fatal:
            parts.append(_Part(hit, hit.weight * CONTEXT, False, hit.source))
        elif cause is not None and hit.branch == cause.branch and hit.source != cause.source:
            parts.append(_Part(hit, hit.weight, True, hit.source))  # another log says the same
        elif cause is not None and hit.branch == cause.branch:
            parts.append(_Part(hit, 0.0, True, hit.source))
        else:
            parts.append(_Part(hit, hit.weight * SUPERSEDED, False, hit.source))
    return parts


def _decisive(ctx: Context, fatal: list[Hit], key: object) -> tuple[Hit, Hit | None]:
    """The last fatal line (most specific signature on it); if it is a consequence, its cause."""
    last = fatal[-1]
    same_line = [h for h in fatal if h.source == last.source and h.line == last.line]
    top = max(same_line, key=lambda h: h.weight)
    scope = top.signature.downstream
    if scope is None:
        return top, None
    for hit in reversed(fatal):
        if hit in same_line or hit.signature.downstream is not None or hit.branch == "unknown":
            continue
        if scope in ("step", "log") and hit.source != top.source:
            break
        if scope == "step" and _crosses_step(ctx, hit, top):
            break
        return hit, top
    return top, None


def _crosses_step(ctx: Context, earlier: Hit, later: Hit) -> bool:
    src = ctx.get(earlier.source)
    if src is None:
        return True
    return any(src.lines[i].lstrip().startswith(_STEP_HEADER) for i in range(earlier.line, later.line - 1))


def _combine(parts: list[_Part]) -> float:
    """Best contribution, raised by a second, independent source (never past 0.99)."""
    best: dict[str, float] = {}
    for part in parts:
        best[part.key] = max(best.get(part.key, 0.0), part.score)
    scores = sorted(best.values(), reverse=True)
    if not scores:
        return 0.0
    total = scores[0]
    if len(scores) > 1:
        total = 1 - (1 - total) * (1 - 0.5 * scores[1])
    return min(0.99, total)


def _tier(parts: list[_Part]) -> int:
    tiers = [p.hit.signature.tier for p in parts if p.eligible and p.score > 0]
    if not tiers:
        return 9
    return 4 if parts[0].branch == "unknown" else min(tiers)


def _decide(ctx: Context, catalog: Catalog, parts: list[_Part]) -> Diagnosis:
    by_branch: dict[str, list[_Part]] = defaultdict(list)
    for part in parts:
        by_branch[part.branch].append(part)
    eligible = {b: _combine([p for p in ps if p.eligible]) for b, ps in by_branch.items()}
    overall = {b: _combine(ps) for b, ps in by_branch.items()}
    winner, confidence = None, 0.0
    for tier in (0, 1, 2, 3, 4):
        floor = MEDIUM if tier < 2 else 0.0
        candidates = [b for b, ps in by_branch.items() if _tier(ps) == tier and eligible[b] > floor]
        if candidates:
            winner = max(candidates, key=lambda b: eligible[b])
            confidence = eligible[winner]
            break
    if winner is not None:
        winner, confidence = _explained(winner, confidence, by_branch, eligible)
        if _tier(by_branch[winner]) == 0:
            rivals = {b: s for b, s in eligible.items() if _tier(by_branch[b]) in (1, 2)}
            rival = max(rivals, key=lambda b: rivals[b], default=None)
            if rival is not None and rivals[rival] >= STRONG and _status_page_only(by_branch[winner]):
                # A degraded status page does not explain the Space's own specific failure line.
                winner, confidence = rival, min(rivals[rival], 0.9)
            elif rival is not None and rivals[rival] >= STRONG:
                confidence = min(confidence, 0.6)  # the platform first, but say it is contested
    elif ctx.stage in HEALTHY_STAGES:
        winner = "healthy"
        noise = max(overall.values(), default=0.0)
        confidence = max(0.5, (0.9 if ctx.get("run_log") is not None else 0.75) - 0.5 * noise)
    else:
        winner, confidence = _fallback(ctx, by_branch)
    if winner == "unknown":
        confidence = min(confidence or 0.2, UNKNOWN_CAP)
    return _build(ctx, catalog, winner, round(confidence, 2), by_branch, overall)


def _status_page_only(parts: list[_Part]) -> bool:
    return all(p.key == "status_page" for p in parts if p.eligible and p.score > 0)


def _explained(winner: str, confidence: float, by_branch: dict[str, list[_Part]],
               eligible: dict[str, float]) -> tuple[str, float]:
    """A symptom hands over to the branch that explains it (a launch timeout to a port mismatch)."""
    for part in sorted(by_branch[winner], key=lambda p: -p.score):
        for branch in part.hit.signature.explained_by:
            if eligible.get(branch, 0.0) >= MEDIUM:
                return branch, min(0.99, 1 - (1 - eligible[branch]) * (1 - 0.5 * confidence))
    return winner, confidence


def _fallback(ctx: Context, by_branch: dict[str, list[_Part]]) -> tuple[str, float]:
    """No fatal line: the strongest context line decides at reduced confidence, else unknown."""
    best_branch, best = "unknown", 0.0
    for branch, ps in by_branch.items():
        for part in ps:
            raw = part.hit.weight * (STALE * 2 if part.key.startswith("stale:") else 1.0)
            if raw > best and branch != "unknown":
                best_branch, best = branch, raw
    if best * FALLBACK >= 0.3:
        return best_branch, best * FALLBACK
    unknown = max((p.hit.weight for p in by_branch.get("unknown", [])), default=0.2)
    return "unknown", min(unknown, UNKNOWN_CAP) if by_branch.get("unknown") else 0.2


def _lines(parts: list[_Part], limit: int) -> list[EvidenceLine]:
    ordered = sorted(parts, key=lambda p: (not p.eligible, -p.score, p.hit.source, p.hit.line))
    out: list[EvidenceLine] = []
    seen: set[tuple[str, int]] = set()
    for part in ordered:
        h = part.hit
        if (h.source, h.line) in seen:
            continue
        seen.add((h.source, h.line))
        out.append(EvidenceLine.make(h.source, h.line, h.text, h.signature.id, h.span))
        if len(out) >= limit:
            break
    return out


def _culprit(ctx: Context, parts: list[_Part]) -> dict[str, object]:
    culprit: dict[str, object] = {}
    ordered = sorted(parts, key=lambda p: (not p.eligible, -p.score, p.hit.line))
    for part in ordered:
        for k, v in part.hit.culprit.items():
            if k == "files":
                files = culprit.setdefault("files", [])
                assert isinstance(files, list)
                for item in v if isinstance(v, list) else [v]:
                    if item not in files:
                        files.append(item)
            else:
                culprit.setdefault(k, v)
    for part in ordered:
        for k, path in part.hit.signature.culprit_from.items():
            value = _resolve(ctx, path)
            if value is not None and k not in culprit:
                culprit[k] = value
    return culprit


def _resolve(ctx: Context, path: str) -> object:
    hardware = (ctx.evidence.runtime or {}).get("hardware")
    if path.startswith("runtime.hardware."):
        value = hardware.get(path.rsplit(".", 1)[1]) if isinstance(hardware, dict) else None
        return value or (hardware if isinstance(hardware, str) else None)
    if path == "info.sdk":
        return ctx.sdk
    if path.startswith("front_matter."):
        value = ctx.meta.get(path.split(".", 1)[1])
        return str(value) if value is not None else None
    return None


def _build(ctx: Context, catalog: Catalog, winner: str, confidence: float,
           by_branch: dict[str, list[_Part]], overall: dict[str, float]) -> Diagnosis:
    info = catalog.branches[winner]
    space_id = ctx.evidence.space_id
    parts = by_branch.get(winner, [])
    top = max(parts, key=lambda p: (p.eligible, p.score), default=None)
    alternatives = []
    for branch, score in sorted(overall.items(), key=lambda kv: -kv[1]):
        if branch == winner or score < 0.15:
            continue
        capped = round(min(score, max(confidence - 0.01, 0.01)), 2)
        alternatives.append(Alternative(branch, capped, _lines(by_branch[branch], 3)))
        if len(alternatives) >= MAX_ALTERNATIVES:
            break
    return Diagnosis(
        space_id=space_id, branch=winner, confidence=confidence, meaning=info.meaning.strip(),
        evidence=_lines(parts, MAX_EVIDENCE) if winner != "healthy" else [],
        alternatives=alternatives, culprit=_culprit(ctx, parts) if winner != "healthy" else {},
        stage=ctx.stage, next_step=info.next_step.replace("{space_id}", space_id).strip(), title=info.title,
        summary=top.hit.signature.summary if top is not None else "", missing=dict(ctx.evidence.missing),
        would_decide=_would_decide(catalog, winner, confidence, top))


def _would_decide(catalog: Catalog, winner: str, confidence: float, top: _Part | None) -> str:
    """For a low-confidence diagnosis, the one piece of evidence that would settle it (signature, else branch)."""
    if confidence >= MEDIUM:
        return ""
    own = top.hit.signature.would_decide if top is not None else None
    return own or catalog.branches[winner].would_decide
