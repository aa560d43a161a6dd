"""`remedybot serve`: the team console and Hub-webhook bot. Thin: parse, build the console, run it.

FastAPI and uvicorn come with the optional extra `remedybot[serve]`; everything of the console is imported
inside the command, so `remedybot --help` never loads it.
"""

# No `from __future__ import annotations`: see diagnose.py (Typer reads these commands' annotations).
import os
from pathlib import Path

import typer

from remedybot.cli.common import BUDGET_OPT, apply_budget
from remedybot.cli.fleet import parse_owner
from remedybot.cli.root import app
from remedybot.core import output
from remedybot.core.errors import UsageError

SECRET_ENV = "REMEDYBOT_WEBHOOK_SECRET"


def _need_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UsageError("'remedybot serve' needs the serve extra: pip install 'remedybot[serve]'.") from None


@app.command("serve")
def serve_run(
    owners: list[str] = typer.Argument(None, metavar="[OWNER ...]", help="Users or organisations to watch "
                                       "(default: the token's user)."),
    port: int = typer.Option(8750, "--port", min=0, max=65535, help="Port on 127.0.0.1 (in a Space: 7860)."),
    policy_file: Path = typer.Option(None, "--policy", dir_okay=False, help="Policy file: who may view and "
                                     "approve ([serve]) and what the webhook bot may do on its own."),
    interval: float = typer.Option(300.0, "--interval", min=1.0, help="Seconds between fleet refreshes, at least "
                                   "(stretched to fit the request budget)."),
    register_webhook: str = typer.Option(None, "--register-webhook", metavar="URL", help="Create the Hub webhook "
                                         "for the watched owners, pointing at URL (e.g. https://HOST/webhooks/hub), "
                                         "then exit."),
    deploy: str = typer.Option(None, "--deploy", metavar="OWNER/NAME", help="Create a Docker Space running this "
                               "console (token and webhook secret as Space secrets) and register its webhook."),
    notify: str = typer.Option(None, "--notify", metavar="URL", help="Webhook URL: a JSON POST when a watched "
                               "Space's build fails after a push, and for each action the bot takes."),
    yes: bool = typer.Option(False, "--yes", help="With --deploy: do not ask for confirmation."),
    budget: str = BUDGET_OPT,
) -> None:
    """Serve the team console: the fleet, each Space's diagnosis and plan, approve and apply, Hub webhooks.

    Run locally it listens on 127.0.0.1 and prints a one-time login link. In a Space (SPACE_ID is set) it
    listens on 0.0.0.0:7860 and people sign in with Hugging Face. The webhook secret is read from
    $REMEDYBOT_WEBHOOK_SECRET.
    """
    _need_extra()
    from remedybot.fleet.policy import load_policy
    from remedybot.hub import Hub
    from remedybot.serve.access import identity_from_whoami
    from remedybot.serve.app import Console, ServeConfig

    if notify:
        from remedybot.fleet.watch import check_webhook

        check_webhook(notify)
    policy = load_policy(policy_file)
    apply_budget(budget, policy.request_budget)
    hub = Hub()
    in_space = os.environ.get("SPACE_ID") is not None
    me = identity_from_whoami(hub.whoami())
    watched = [parse_owner(o) for o in owners] if owners else [me.username]
    secret = os.environ.get(SECRET_ENV) or None
    if register_webhook or deploy:
        from remedybot.serve import deploy as deploying

        if register_webhook:
            deploying.register(hub, register_webhook, watched, secret)
        else:
            deploying.deploy(hub, deploy, watched, secret, policy_file=policy_file,
                             confirm=None if yes else lambda q: typer.confirm(q, default=False, err=True))
        raise typer.Exit(0)
    config = ServeConfig(owners=watched, policy=policy, mode="space" if in_space else "local", interval=interval,
                         webhook_secret=secret, notify_url=notify)
    console = Console(config, hub, local_person=None if in_space else me)
    _serve(console, port=7860 if in_space else port, in_space=in_space)


def _serve(console: object, *, port: int, in_space: bool) -> None:
    import time

    from remedybot.serve import server
    from remedybot.serve.app import Console

    assert isinstance(console, Console)
    try:
        running = server.start(console, host="0.0.0.0" if in_space else "127.0.0.1", port=port)
    except OSError as exc:
        raise UsageError(f"Cannot listen on port {port}: {exc.strerror or exc}. Choose another with --port.") from None
    output.info(f"remedybot console watching {', '.join(console.config.owners)} at {running.url}")
    if not in_space:
        output.info(f"Open this one-time login link: {running.login_link()}")
    try:
        while running.thread.is_alive():
            time.sleep(0.5)
    finally:
        running.stop()
