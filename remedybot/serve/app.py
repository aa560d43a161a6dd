"""The console's FastAPI app: pages, the state-changing forms, the run streams and the webhook endpoint.

Every page is rendered on the server from our Jinja templates with autoescaping on (all Space text is
untrusted) and passes through the one redaction last; htmx (vendored, `static/`) refreshes the fleet table.
Every POST but the webhook needs a session, its CSRF token and the approver role; the webhook needs the
shared secret instead. Page views read the store and files only: the Hub is called by the refresh loop and
by the actions a person starts (plan, apply). Responses carry a strict Content-Security-Policy (scripts only
from this origin) and never a token.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from remedybot.core.errors import RemedyError, UsageError
from remedybot.core.redact import MARK, redact
from remedybot.core.templating import environment
from remedybot.fleet.policy import Policy
from remedybot.model.space_id import parse_space_id
from remedybot.remedy.audit import AuditLog, default_audit_path
from remedybot.serve import runs as plans
from remedybot.serve import views
from remedybot.serve.access import Identity, Role, role_of
from remedybot.serve.auth import COOKIE, Session, Sessions, csrf_ok
from remedybot.serve.hooks import HookHandler
from remedybot.serve.store import FleetStore, Refresher

if TYPE_CHECKING:
    from remedybot.hub import Hub

STATIC = __file__.rsplit("/", 1)[0] + "/static"


@dataclass
class ServeConfig:
    """How a console runs: what it watches, under which policy, and how people sign in."""

    owners: list[str]
    policy: Policy = field(default_factory=Policy)
    mode: str = "local"  # local: one-time login link; space: Sign in with Hugging Face
    interval: float = 300.0  # seconds between fleet refreshes, at least (stretched to the request budget)
    webhook_secret: str | None = None
    notify_url: str | None = None
    propose: bool = True  # a webhook-triggered file fix goes to a pull request, not a commit


class Console:
    """Everything one running console holds: the store, its refresh loop, sessions, runs, webhooks."""

    def __init__(self, config: ServeConfig, hub: Hub, local_person: Identity | None = None) -> None:
        self.config, self.hub = config, hub
        self.audit = AuditLog(default_audit_path())
        self.store = FleetStore(config.owners, self.audit)
        self.refresher = Refresher(self.store, hub, interval=config.interval)
        self.sessions = Sessions()
        self.runs = plans.Runs(hub, self.audit, on_end=self._after_run)
        self.local_person = local_person
        self.hooks = HookHandler(secret=config.webhook_secret, owners=config.owners, policy=config.policy, hub=hub,
                                 store=self.store, notify_url=config.notify_url, propose=config.propose)
        self.env = environment(html=True)
        self.env.autoescape = True  # every template of the console, whatever its name

    def _after_run(self, space_id: str, end: dict[str, Any]) -> None:
        """Read the Space again after a run, so the fleet and its page show where it stands now."""
        from remedybot.fleet.scan import SpaceResult
        from remedybot.remedy.workflow import diagnose_space

        try:
            evidence, diagnosis = diagnose_space(self.hub, space_id)
            self.store.put_result(SpaceResult(space_id, diagnosis, evidence))
        except RemedyError as exc:
            self.store.note("error", space_id, f"could not read {space_id} after the run: {exc.message}")
        self.store.note("run", space_id, f"{space_id}: run → {end['outcome']}: {end['text']}")

    def role(self, session: Session) -> Role:
        return role_of(session.person, self.config.policy, self.config.owners)

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        """A page. Space text was redacted as it entered the store, and templates pass plan text through the
        `redact` filter; the token in use is replaced here once more, whatever carried it."""
        html = self.env.get_template(name).render(**context)
        if self.hub.token and self.hub.token in html:
            html = html.replace(self.hub.token, MARK)
        return HTMLResponse(html, status_code=status, headers=security_headers(self.config.mode))


def security_headers(mode: str) -> dict[str, str]:
    frame = "https://huggingface.co" if mode == "space" else "'none'"
    return {"Content-Security-Policy": f"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' "
                                       f"data:; frame-ancestors {frame}; form-action 'self'; base-uri 'none'",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


class Denied(Exception):
    """A request without the session, CSRF token or role it needs."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


def create_app(console: Console) -> FastAPI:
    """The FastAPI app of `console` (routes below; OAuth routes are added by `attach_oauth`)."""
    app = FastAPI(title="remedybot console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = console
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(Denied, _denied)  # type: ignore[arg-type]
    if console.config.mode == "space":
        attach_oauth(app, console)
    _page_routes(app, console)
    _action_routes(app, console)
    console.hooks.add_routes(app)
    return app


def attach_oauth(app: FastAPI, console: Console) -> None:
    """"Sign in with Hugging Face" in a Space: huggingface_hub's OAuth routes, then a console session.

    huggingface_hub keeps the OAuth result, the person's access token included, in its own signed (not
    encrypted) session cookie. `/auth/done` turns it into a console session and removes it from that cookie,
    so no token stays in the browser; the console acts with its own token, never the person's.
    """
    from huggingface_hub import attach_huggingface_oauth, parse_huggingface_oauth

    from remedybot.serve.access import identity_from_oauth

    with warnings.catch_warnings():  # "is experimental": known, and the reason huggingface_hub is pinned
        warnings.filterwarnings("ignore", message=".*is experimental", category=UserWarning)
        attach_huggingface_oauth(app)

    @app.get("/auth/done")
    def oauth_done(request: Request) -> Response:
        info = parse_huggingface_oauth(request)
        request.session.pop("oauth_info", None)
        if info is None:
            return RedirectResponse("/", status_code=303)
        return _signed_in(console, identity_from_oauth(info.user_info))


def _denied(request: Request, exc: Denied) -> Response:
    return PlainTextResponse(exc.text, status_code=exc.status, headers=security_headers("local"))


def viewer(console: Console, request: Request) -> Session:
    session = console.sessions.get(request.cookies.get(COOKIE))
    if session is None:
        raise Denied(401, "Sign in first.")
    session.role = console.role(session)
    if session.role == Role.NONE:
        raise Denied(403, f"{session.person.username} may not view this console (policy: "
                          f"{console.config.policy.source}).")
    return session


def approver(console: Console, request: Request, csrf: str | None) -> Session:
    """The session of a state-changing request: signed in, its CSRF token sent back, and an approver."""
    session = console.sessions.get(request.cookies.get(COOKIE))
    if session is None:
        raise Denied(401, "Sign in first.")
    if not csrf_ok(session, csrf or request.headers.get("X-CSRF-Token")):
        raise Denied(403, "Missing or wrong CSRF token: reload the page and try again.")
    session.role = console.role(session)
    if session.role != Role.APPROVER:
        raise Denied(403, f"{session.person.username} may view but not approve or apply (policy: "
                          f"{console.config.policy.source}).")
    return session


def _space(console: Console, owner: str, name: str) -> str:
    space_id = parse_space_id(f"{owner}/{name}")
    if console.store.entry(space_id) is None:
        raise Denied(404, f"'{space_id}' is not a watched Space.")
    return space_id


def _page_routes(app: FastAPI, console: Console) -> None:  # noqa: C901  (one nested function per route)
    @app.get("/", response_class=HTMLResponse)
    def fleet(request: Request, q: str = "", branch: str = "", failing: bool = False,
              sort: str = "severity") -> Response:
        session = console.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            return console.render("serve_login.html.j2", status=401, mode=console.config.mode, spent=False)
        session = viewer(console, request)
        return console.render("serve_fleet.html.j2", **fleet_context(console, session, q, branch, failing, sort))

    @app.get("/fleet/rows", response_class=HTMLResponse)
    def fleet_rows(request: Request, q: str = "", branch: str = "", failing: bool = False,
                   sort: str = "severity") -> Response:
        session = viewer(console, request)
        return console.render("serve_rows.html.j2", **fleet_context(console, session, q, branch, failing, sort))

    @app.get("/spaces/{owner}/{name}", response_class=HTMLResponse)
    def space(request: Request, owner: str, name: str) -> Response:
        session = viewer(console, request)
        space_id = _space(console, owner, name)
        return console.render("serve_space.html.j2", **space_context(console, session, space_id))

    @app.get("/spaces/{owner}/{name}/ticket", response_class=HTMLResponse)
    def ticket(request: Request, owner: str, name: str, format: str = "markdown", download: bool = False) -> Response:
        session = viewer(console, request)
        space_id = _space(console, owner, name)
        if format not in views.ticket_formats():
            raise Denied(400, f"Unknown ticket format '{format}' (known: {', '.join(views.ticket_formats())}).")
        entry = console.store.entry(space_id)
        if entry is None or entry.result.diagnosis is None or entry.result.evidence is None:
            raise Denied(409, f"'{space_id}' could not be read; no ticket can be built yet.")
        text, filename = views.ticket(entry, console.audit, format, console.hub.endpoint)
        if download:
            return PlainTextResponse(redact(text), headers={**security_headers(console.config.mode),
                                     "Content-Disposition": f'attachment; filename="{filename}"'})
        return console.render("serve_ticket.html.j2", session=session, space_id=space_id, fmt=format, text=text,
                              formats=views.ticket_formats(), filename=filename)

    @app.get("/runs/{run_id}/events")
    def run_events(request: Request, run_id: str) -> Response:
        viewer(console, request)
        try:
            console.runs.records(run_id)
        except UsageError:
            raise Denied(404, "No such run.") from None
        return StreamingResponse(console.runs.stream(run_id), media_type="text/event-stream",
                                 headers=security_headers(console.config.mode))

    @app.get("/login")
    def login(code: str = "") -> Response:
        if console.local_person is None or not console.sessions.redeem(code):
            return console.render("serve_login.html.j2", status=401, mode=console.config.mode, spent=bool(code))
        return _signed_in(console, console.local_person)

    @app.get("/healthz")
    def healthz() -> Response:
        return PlainTextResponse("ok" if console.store.ready() else "starting")


def _signed_in(console: Console, person: Identity) -> Response:
    session = console.sessions.open(person)
    response = RedirectResponse("/", status_code=303)
    space = console.config.mode == "space"  # in a Space the console is framed by huggingface.co: a third party
    response.set_cookie(COOKIE, session.id, httponly=True, secure=space, samesite="none" if space else "lax",
                        max_age=8 * 3600)
    return response


def _action_routes(app: FastAPI, console: Console) -> None:
    @app.post("/spaces/{owner}/{name}/plan")
    def make_plan(request: Request, owner: str, name: str, csrf: str = Form("")) -> Response:
        session = approver(console, request, csrf)
        space_id = _space(console, owner, name)
        return _acting(session, space_id, lambda: plans.make_plan(console.hub, space_id))

    @app.post("/spaces/{owner}/{name}/approve")
    def approve(request: Request, owner: str, name: str, csrf: str = Form(""), steps: list[int] = Form([]),
                confirm: str = Form("")) -> Response:
        session = approver(console, request, csrf)
        space_id = _space(console, owner, name)
        return _acting(session, space_id,
                       lambda: plans.approve(space_id, steps, session.person.username, confirmed=confirm))

    @app.post("/spaces/{owner}/{name}/apply")
    def apply(request: Request, owner: str, name: str, csrf: str = Form("")) -> Response:
        session = approver(console, request, csrf)
        space_id = _space(console, owner, name)
        return _acting(session, space_id, lambda: console.runs.start(space_id, session.person.username))

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        session = console.sessions.get(request.cookies.get(COOKIE))
        if session is None or not csrf_ok(session, csrf):
            raise Denied(403, "Missing or wrong CSRF token.")
        console.sessions.close(session.id)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE)
        return response


def _acting(session: Session, space_id: str, action: Any) -> Response:
    """Run a person's action; its refusal or error is shown on the Space's page, never as a traceback."""
    try:
        action()
    except RemedyError as exc:
        session.flashes.append(exc.message)
    return RedirectResponse(f"/spaces/{quote(space_id)}", status_code=303)


def fleet_context(console: Console, session: Session, q: str, branch: str, failing: bool,
                   sort: str) -> dict[str, Any]:
    entries = console.store.entries()
    rows = views.fleet_rows(entries, q=q, branch=branch, failing=failing, sort=sort)
    branches = sorted({e.result.diagnosis.branch for e in entries if e.result.diagnosis is not None})
    return {"session": session, "rows": rows, "total": len(entries), "q": q, "branch": branch, "failing": failing,
            "sort": sort, "sorts": list(views.SORTS), "branches": branches, "incidents": console.store.incidents(),
            "notices": list(console.store.notices)[:5], "scanned_at": console.store.scanned_at,
            "errors": console.store.errors, "owners": console.config.owners, "action_text": views.action_text}


def space_context(console: Console, session: Session, space_id: str) -> dict[str, Any]:
    entry = console.store.entry(space_id)
    assert entry is not None  # _space checked it
    diagnosis, evidence = entry.result.diagnosis, entry.result.evidence
    try:
        plan = plans.load_plan(space_id)
    except RemedyError:
        plan = None
    return {"session": session, "entry": entry, "space_id": space_id, "diagnosis": diagnosis,
            "evidence": views.evidence_lines(diagnosis) if diagnosis else [],
            "logs": views.log_tails(evidence) if evidence else {}, "plan": views.plan_view(plan),
            "lost": plans.what_is_lost(plan) if plan else {}, "run_id": console.runs.latest(space_id),
            "timeline": views.timeline(console.audit, space_id), "formats": views.ticket_formats(),
            "approver": session.role == Role.APPROVER, "action_text": views.action_text,
            "flashes": [session.flashes.pop() for _ in list(session.flashes)]}
