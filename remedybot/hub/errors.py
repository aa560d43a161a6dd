"""Translate huggingface_hub and httpx2 exceptions into RemedyError, in exactly one place.

    huggingface_hub / httpx2                      RemedyError
    RepositoryNotFoundError (404, 401 on https)   NotFoundError      "Space 'x' not found. ..."
    GatedRepoError                                ForbiddenError     gated, access not granted
    DisabledRepoError                             SpaceDisabledError disabled by Hugging Face
    RevisionNotFoundError, RemoteEntryNotFound    NotFoundError      revision / file missing
    BadRequestError (400)                         HubError           the Hub refused the request
    HfHubHTTPError, httpx2.HTTPStatusError        by status: 401 AuthError, 402/403 ForbiddenError,
                                                  404 NotFoundError, 408/429/5xx HubUnavailableError,
                                                  other HubError
    LocalTokenNotFoundError, OIDCError            AuthError          no usable token
    OfflineModeIsEnabled                          HubUnavailableError HF_HUB_OFFLINE is set
    HFValidationError                             UsageError         malformed repo id
    httpx2 timeouts, network, protocol errors     HubUnavailableError could not reach the Hub
    httpx2 decoding, redirects                    HubError

`TRANSLATIONS` is the table; a test fails when a huggingface_hub error type has no
entry. Messages are one line, name the Space, say what to do, and pass through
`redact`, so they never carry a token. The request id and HTTP status stay on
the error as attributes for tickets; they are not part of the text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import httpx2
from huggingface_hub import errors as hf

from remedybot.core.errors import (
    AuthError,
    ForbiddenError,
    HubError,
    HubUnavailableError,
    NotFoundError,
    RemedyError,
    UsageError,
)
from remedybot.core.redact import redact
from remedybot.hub.retry import ATTEMPTS_ATTR, RETRY_STATUSES, server_wait, status_of

STATUS_PAGE_URL = "https://status.huggingface.co"
_MAX_DETAIL = 200


class SpaceDisabledError(ForbiddenError):
    """Hugging Face disabled the Space ("Access to this resource is disabled."); only support can undo it."""


@dataclass(frozen=True)
class _Ctx:
    """What translate knows about the failed call; rules build their message from it."""

    exc: BaseException
    what: str
    repo_id: str | None
    repo_type: str
    status: int | None
    request_id: str | None
    service: str = "the Hub"

    @property
    def noun(self) -> str:
        return {"space": "Space", "model": "model", "dataset": "dataset"}.get(self.repo_type, self.repo_type)

    @property
    def subject(self) -> str:
        return f"{self.noun} '{self.repo_id}'" if self.repo_id else ""

    def cannot(self, reason: str) -> str:
        """ "Cannot <what> <subject>: <reason>." `what` may place the subject itself with "{space}"."""
        if "{space}" in self.what:
            action = self.what.replace("{space}", self.subject or "the repository")
        else:
            action = f"{self.what} {self.subject}".strip()
        return f"Cannot {action}: {reason.rstrip('.')}."

    @property
    def detail(self) -> str:
        """The Hub's own explanation, one line, shortened: ' (Hub: ...)' or ''."""
        text = getattr(self.exc, "server_message", None)
        response = getattr(self.exc, "response", None)
        if not text and isinstance(response, httpx2.Response):
            text = response.headers.get("x-error-message")
        text = " ".join(str(text or "").split())
        if len(text) > _MAX_DETAIL:
            text = text[: _MAX_DETAIL - 1] + "…"
        return f" (Hub: {text})" if text else ""

    @property
    def attempts(self) -> str:
        n = getattr(self.exc, ATTEMPTS_ATTR, None)
        return f" after {n} attempts" if n and n > 1 else ""

    def http(self, cls: type[HubError], reason: str) -> HubError:
        return cls(self.cannot(reason), status=self.status, request_id=self.request_id)


Rule = Callable[[_Ctx], RemedyError]


def _not_found(ctx: _Ctx) -> RemedyError:
    repo_id = ctx.repo_id or getattr(ctx.exc, "repo_id", None)
    if not repo_id:
        return ctx.http(NotFoundError, f"not found ({ctx.status or 404}){ctx.detail}")
    noun = ctx.noun[0].upper() + ctx.noun[1:]
    text = f"{noun} '{repo_id}' not found. Check the id, or run 'hf auth login' if it is private."
    return NotFoundError(text, status=ctx.status, request_id=ctx.request_id)


def _gated(ctx: _Ctx) -> RemedyError:
    return ctx.http(ForbiddenError, "it is gated and this account was not granted access. "
                                    "Request access on its page")


def _disabled(ctx: _Ctx) -> RemedyError:
    who = f" {ctx.repo_id}" if ctx.repo_id else ""
    return ctx.http(SpaceDisabledError, "Hugging Face has disabled it (Access to this resource is disabled). "
                                        "Only Hugging Face support can re-enable it: "
                                        f"run 'remedybot report{who}'")


def _revision_not_found(ctx: _Ctx) -> RemedyError:
    return ctx.http(NotFoundError, f"the revision does not exist{ctx.detail}. Check the branch or commit id")


def _entry_not_found(ctx: _Ctx) -> RemedyError:
    return ctx.http(NotFoundError, f"the file does not exist{ctx.detail}")


def _bad_request(ctx: _Ctx) -> RemedyError:
    return ctx.http(HubError, f"{ctx.service} refused the request as invalid (400){ctx.detail}")


def _by_status(ctx: _Ctx) -> RemedyError:
    status = ctx.status
    if status == 401:
        return ctx.http(AuthError, f"{ctx.service} rejected the token (401). "
                                   "Run 'hf auth login' or set HF_TOKEN to a valid token")
    if status == 402:
        return ctx.http(ForbiddenError, f"{ctx.service} requires a paid plan for this (402){ctx.detail}")
    if status == 403:
        return ctx.http(ForbiddenError, "the token lacks write access or is not the owner's "
                                        f"(403){ctx.detail}. Use a write token of the Space's owner")
    if status == 404:
        return _not_found(ctx)
    if status in RETRY_STATUSES:
        return _unavailable(ctx)
    return ctx.http(HubError, f"{ctx.service} answered {status}{ctx.detail}")


def _unavailable(ctx: _Ctx) -> RemedyError:
    asked = server_wait(ctx.exc)
    wait = f"; it asked to wait {asked:.0f} s" if asked else ""
    if ctx.status == 429:
        reason = (f"{ctx.service} is rate-limiting this token (429){ctx.attempts}{wait}. "
                  "Wait a minute and try again")
    else:
        reason = (f"{ctx.service} kept answering {ctx.status}{ctx.attempts}{wait}. Check {STATUS_PAGE_URL} "
                  "and try again later")
    return ctx.http(HubUnavailableError, reason)


def _unreachable(ctx: _Ctx) -> RemedyError:
    kind = "timed out" if isinstance(ctx.exc, httpx2.TimeoutException) else "connection failed"
    if isinstance(ctx.exc, httpx2.RemoteProtocolError | httpx2.ReadError):
        kind = "connection reset"
    host = ""
    # RuntimeError: httpx2 raises it when no request is attached to the exception.
    with contextlib.suppress(AttributeError, RuntimeError):
        host = f" at {ctx.exc.request.url.host}"  # type: ignore[attr-defined]
    where = "HF_ENDPOINT" if ctx.service == "the Hub" else "the URL"
    return ctx.http(HubUnavailableError, f"could not reach {ctx.service}{host} "
                                         f"({kind}, {type(ctx.exc).__name__}){ctx.attempts}. "
                                         f"Check the network and {where}")


def _offline(ctx: _Ctx) -> RemedyError:
    return ctx.http(HubUnavailableError, "offline mode is on (HF_HUB_OFFLINE). Unset HF_HUB_OFFLINE to reach "
                                         "the Hub")


def _no_token(ctx: _Ctx) -> RemedyError:
    return ctx.http(AuthError, "no Hugging Face token found. Run 'hf auth login' or set HF_TOKEN")


def _oidc(ctx: _Ctx) -> RemedyError:
    return ctx.http(AuthError, f"the OIDC token exchange failed ({_first_line(ctx.exc)}). Unset "
                               "HF_OIDC_RESOURCE or set HF_TOKEN")


def _invalid_id(ctx: _Ctx) -> RemedyError:
    return UsageError(ctx.cannot(f"{_first_line(ctx.exc)} Use the form 'owner/name'"))


def _other(ctx: _Ctx) -> RemedyError:
    return ctx.http(HubError, f"{_first_line(ctx.exc) or type(ctx.exc).__name__}")


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


# Every error type we depend on, mapped to its rule. Lookup walks the MRO, so the most
# specific entry wins (GatedRepoError before RepositoryNotFoundError before HfHubHTTPError).
TRANSLATIONS: dict[type[BaseException], Rule] = {
    hf.RepositoryNotFoundError: _not_found,
    hf.GatedRepoError: _gated,
    hf.DisabledRepoError: _disabled,
    hf.RevisionNotFoundError: _revision_not_found,
    hf.RemoteEntryNotFoundError: _entry_not_found,
    hf.BucketNotFoundError: _not_found,
    hf.JobNotFoundError: _not_found,
    hf.BucketBatchError: _by_status,
    hf.BadRequestError: _bad_request,
    hf.HfHubHTTPError: _by_status,
    hf.LocalTokenNotFoundError: _no_token,
    hf.OIDCError: _oidc,
    hf.OfflineModeIsEnabled: _offline,
    hf.HFValidationError: _invalid_id,
    httpx2.HTTPStatusError: _by_status,
    httpx2.TimeoutException: _unreachable,
    httpx2.TransportError: _unreachable,
    httpx2.DecodingError: _other,
    httpx2.TooManyRedirects: _other,
    httpx2.InvalidURL: _other,
    httpx2.RequestError: _other,
    httpx2.HTTPError: _other,
}

# What `Hub` catches and translates; anything else (KeyError, TypeError...) is a bug and propagates.
TRANSLATABLE: tuple[type[BaseException], ...] = tuple(TRANSLATIONS)


def rule_for(exc_type: type[BaseException]) -> Rule | None:
    """The translation rule for an exception type (most specific entry in its MRO), or None."""
    for cls in exc_type.__mro__:
        if cls in TRANSLATIONS:
            return TRANSLATIONS[cls]
    return None


def _request_id(exc: BaseException) -> str | None:
    request_id = getattr(exc, "request_id", None)
    response = getattr(exc, "response", None)
    if not request_id and isinstance(response, httpx2.Response):
        request_id = response.headers.get("x-request-id") or response.headers.get("x-amzn-trace-id")
    return str(request_id) if request_id else None


def translate(exc: BaseException, *, what: str, space_id: str | None = None, repo_type: str = "space",
              service: str = "the Hub") -> RemedyError:
    """Turn an exception from a Hub call into the RemedyError the CLI reports.

    Args:
        exc: what huggingface_hub or httpx2 raised (a RemedyError is returned unchanged).
        what: the action, as a verb phrase whose object is the Space: "restart", "read the runtime of";
            it may place the Space itself with "{space}": "duplicate {space} to 'bob/copy'".
        space_id: the repo the call was about, named in the message and kept as `space_id`.
        repo_type: "space" (default), "model" or "dataset", for the wording.
        service: who answered, for the wording ("the status page").

    Returns:
        A one-line, redacted RemedyError; HubError subclasses carry `status` and `request_id`.
    """
    if isinstance(exc, RemedyError):
        return exc
    ctx = _Ctx(exc=exc, what=what, repo_id=space_id, repo_type=repo_type, status=status_of(exc),
               request_id=_request_id(exc), service=service)
    error = (rule_for(type(exc)) or _other)(ctx)
    error.message = redact(" ".join(error.message.split()))
    error.args = (error.message,)
    error.space_id = space_id  # type: ignore[attr-defined]
    return error
