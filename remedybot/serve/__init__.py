"""The team console and Hub-webhook bot (`remedybot serve`): the stages behind a web page.

Layered between the command line and `fleet`: it reads the latest scan (`store.py`, refreshed by a
background loop within the request budget), shows a Space's diagnosis, plan and audit timeline, lets an
approver approve and apply (`runs.py`, the same `apply_plan` as the CLI, its events streamed), answers Hub
webhooks (`hooks.py`) and deploys itself as a Space (`deploy.py`). It needs the optional extra
`remedybot[serve]` (FastAPI, uvicorn); nothing else imports it, and the CLI imports it inside its command.
It must not hold logic of its own that a stage should own, nor ever put the Hub token on a page.
"""
