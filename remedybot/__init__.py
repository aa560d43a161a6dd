"""remedybot: get Hugging Face Spaces unstuck.

The public Python API (remedybot/api.py) is re-exported here lazily:

    import remedybot
    diagnosis = remedybot.diagnose_space("alice/my-space")   # or (evidence="evidence.json")
    plan = remedybot.plan("alice/my-space", out="plan.json")
    remedybot.approve("plan.json", steps=[1])
    result = remedybot.apply("plan.json", on_event=print)
    text = remedybot.ticket("alice/my-space", format="email")
    fleet = remedybot.scan("alice")

The package is import-light on purpose: every `remedybot.*` import, the CLI's start-up included, runs this
file, and `remedybot --help` must not pull in huggingface_hub, GitPython or the sandbox. So the names above
are loaded on first use (a module-level `__getattr__`, PEP 562), not here. (`diagnose_space`, not
`diagnose`: that name is the `remedybot.diagnose` stage package, which any import of it sets here.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from remedybot.api import apply, approve, collect, diagnose_space, plan, scan, ticket, ticket_context
    from remedybot.core.errors import ExitCode, RefusedError, RemedyError, UsageError
    from remedybot.model.diagnosis import Diagnosis
    from remedybot.model.evidence import Evidence
    from remedybot.model.plan import Plan
    from remedybot.remedy.events import ApplyEvent, EventKind
    from remedybot.remedy.playbook import PlanOptions
    from remedybot.remedy.state import ApplyResult

_EXPORTS = {
    "apply": "remedybot.api", "approve": "remedybot.api", "collect": "remedybot.api",
    "diagnose_space": "remedybot.api", "plan": "remedybot.api", "scan": "remedybot.api", "ticket": "remedybot.api",
    "ticket_context": "remedybot.api",
    "ApplyEvent": "remedybot.remedy.events", "EventKind": "remedybot.remedy.events",
    "ApplyResult": "remedybot.remedy.state", "Diagnosis": "remedybot.model.diagnosis",
    "Evidence": "remedybot.model.evidence", "Plan": "remedybot.model.plan",
    "PlanOptions": "remedybot.remedy.playbook",
    "ExitCode": "remedybot.core.errors", "RefusedError": "remedybot.core.errors",
    "RemedyError": "remedybot.core.errors", "UsageError": "remedybot.core.errors",
}

__all__ = ["ApplyEvent", "ApplyResult", "Diagnosis", "EventKind", "Evidence", "ExitCode", "Plan", "PlanOptions",
           "RefusedError", "RemedyError", "UsageError", "__version__", "apply", "approve", "collect", "diagnose_space",
           "plan", "scan", "ticket", "ticket_context"]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'remedybot' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
