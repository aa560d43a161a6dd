"""Hub access: every Hub call goes through here and its one retry policy (docs/ARCHITECTURE.md, "hub").

    Hub                      client.py  Space calls (+ repos.py: commits, files, repos)
    log_tail                 logs.py    bounded tail of the build/run SSE log
    translate, TRANSLATIONS  errors.py  huggingface_hub/httpx2 exceptions -> RemedyError
    retrying, RetryPolicy    retry.py   the one tenacity retry policy
    status_components,       status.py  the status page summaries
    aggregate_state

Other remedybot modules import this package lazily (inside functions), so the CLI
starts without huggingface_hub.
"""

from remedybot.hub.client import Hub
from remedybot.hub.errors import TRANSLATIONS, SpaceDisabledError, translate
from remedybot.hub.logs import log_tail
from remedybot.hub.retry import TOOK_EFFECT, RetryPolicy, retrying
from remedybot.hub.status import aggregate_state, status_components

__all__ = [
    "TOOK_EFFECT",
    "TRANSLATIONS",
    "Hub",
    "RetryPolicy",
    "SpaceDisabledError",
    "aggregate_state",
    "log_tail",
    "retrying",
    "status_components",
    "translate",
]
