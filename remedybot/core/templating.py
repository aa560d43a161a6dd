"""The Jinja environment for every rendering remedybot does (plans, tickets).

Templates live in the top-level templates/ folder, installed as the package
`remedybot.templates`. A user directory (`--templates DIR`) overrides them by
file name. StrictUndefined turns a missing variable into an error instead of
an empty string; everything rendered passes through `redact` last.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from remedybot.core.redact import redact


def environment(user_dir: Path | None = None, *, html: bool = False) -> Any:
    import jinja2

    loaders: list[jinja2.BaseLoader] = []
    if user_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(user_dir)))
    # templates/ is installed as the package remedybot.templates (pyproject package-dir).
    from importlib.resources import files

    loaders.append(jinja2.FileSystemLoader(str(files("remedybot.templates"))))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"]) if html else False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["redact"] = redact
    return env


def render(name: str, user_dir: Path | None = None, **context: Any) -> str:
    """Render template `name` with `context`; the output is redacted."""
    return redact(environment(user_dir).get_template(name).render(**context))
