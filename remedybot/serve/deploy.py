"""`serve --register-webhook URL` and `serve --deploy OWNER/NAME`: the Hub side of running the bot.

`register` creates one webhook (domain `repo`) watching the console's owners, with the shared secret, unless
one to the same URL already watches them. `deploy` creates a Docker Space that runs the console
(`hf_oauth: true`, so people sign in with Hugging Face), sets the token and the webhook secret as Space
secrets (never as files or variables), and registers the webhook at the Space's own URL. It first lists
everything it will create and asks; nothing is created before the answer. Every call goes through `Hub`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from huggingface_hub import CommitOperationAdd

from remedybot import __version__
from remedybot.core import output
from remedybot.core.errors import UsageError, refusal
from remedybot.model.space_id import parse_space_id

if TYPE_CHECKING:
    from remedybot.hub import Hub

SECRET_ENV = "REMEDYBOT_WEBHOOK_SECRET"
PORT = 7860
DOCKERFILE = """\
FROM python:3.11-slim
RUN useradd -m -u 1000 user
USER user
ENV PATH=/home/user/.local/bin:$PATH HF_HUB_DISABLE_TELEMETRY=1
WORKDIR /home/user/app
RUN pip install --no-cache-dir 'remedybot[serve]=={version}' 'huggingface_hub[oauth]'
COPY --chown=user remedybot.toml /home/user/app/remedybot.toml
EXPOSE {port}
CMD ["remedybot", "serve", {owners}, "--policy", "remedybot.toml"]
"""
README = """\
---
title: remedybot console
emoji: 🩺
colorFrom: blue
colorTo: green
sdk: docker
app_port: {port}
hf_oauth: true
pinned: false
short_description: Diagnose and fix the Spaces of {owners}
---

The remedybot console for {owners}: `remedybot serve`, deployed with `remedybot serve --deploy`.
Sign in with Hugging Face; the policy file `remedybot.toml` says who may view and who may approve.
"""
DEFAULT_POLICY = ('# remedybot policy (see the README): who may view and approve, and what the bot does alone.\n'
                  'auto = "none"\n')


def _watched(owners: list[str], hub: Hub) -> list[dict[str, str]]:
    mine = hub.whoami()
    orgs = {o.get("name") for o in mine.get("orgs") or []}
    return [{"type": "org" if owner in orgs else "user", "name": owner} for owner in owners]


def register(hub: Hub, url: str, owners: list[str], secret: str | None) -> None:
    """Create the webhook for `owners` to `url` (once).

    Raises:
        UsageError: no secret (set REMEDYBOT_WEBHOOK_SECRET), or a URL that is not http(s).
    """
    if not secret:
        raise UsageError(f"--register-webhook needs a shared secret: set {SECRET_ENV} (the console reads the "
                         "same variable).")
    if not url.startswith(("https://", "http://")):
        raise UsageError(f"--register-webhook expects an http(s) URL such as https://HOST/webhooks/hub, not '{url}'.")
    watched = _watched(owners, hub)
    wanted = sorted((w["type"], w["name"]) for w in watched)
    for hook in hub.list_webhooks():
        if hook.url == url and sorted((w.type, w.name) for w in hook.watched) == wanted:
            output.result(f"Webhook {hook.id} to {url} already watches {', '.join(owners)}; nothing to do.")
            return
    hook = hub.create_webhook(url, watched, secret=secret)
    output.result(f"Webhook {hook.id} created: {url}, watching {', '.join(owners)} (domain repo).")


def deploy(hub: Hub, space: str, owners: list[str], secret: str | None, *, policy_file: Path | None,
           confirm: Callable[[str], bool] | None) -> str:
    """Create the console's Space, its secrets and its webhook; returns the Space id.

    `confirm` is asked once, after the list of what will be created; None means the person already said yes
    (`--yes`).

    Raises:
        RefusedError: the Space exists already, or the person said no; nothing was created.
        UsageError: no token to put in the Space.
    """
    space_id = parse_space_id(space)
    if not hub.token:
        raise UsageError("--deploy needs a token (the console in the Space acts with it): run 'hf auth login'.")
    if hub.repo_exists(space_id):
        raise refusal(f"deploy to '{space_id}'", "that Space exists already",
                      "Choose a new name, or update the Space by hand")
    secret = secret or secrets.token_urlsafe(32)
    policy = policy_file.read_text(encoding="utf-8") if policy_file else DEFAULT_POLICY
    quoted = ", ".join(f'"{o}"' for o in owners)
    files = {"Dockerfile": DOCKERFILE.format(version=__version__, port=PORT, owners=quoted),
             "README.md": README.format(port=PORT, owners=", ".join(owners)), "remedybot.toml": policy}
    lines = [f"remedybot serve --deploy will create, on {hub.endpoint}:",
             f"  a private Docker Space {space_id} (hf_oauth: true, port {PORT}) with {', '.join(files)}",
             "  Space secrets HF_TOKEN (the token in use) and REMEDYBOT_WEBHOOK_SECRET",
             f"  a webhook watching {', '.join(owners)} (domain repo) to the Space's /webhooks/hub"]
    output.info("\n".join(lines))
    if confirm is not None and not confirm("Create them?"):
        raise refusal(f"deploy to '{space_id}'", "not confirmed", "Nothing was created")
    hub.create_repo(space_id, space_sdk="docker", private=True, exist_ok=False)
    hub.add_space_secret(space_id, "HF_TOKEN", hub.token)
    hub.add_space_secret(space_id, SECRET_ENV, secret)
    hub.create_commit(space_id, [CommitOperationAdd(name, text.encode()) for name, text in files.items()],
                      "Deploy the remedybot console")
    host = getattr(hub.space_info(space_id), "host", None) or f"https://{space_id.replace('/', '-').lower()}.hf.space"
    register(hub, f"{host.rstrip('/')}/webhooks/hub", owners, secret)
    output.result(f"Deployed the console to Space '{space_id}'.")
    return space_id
