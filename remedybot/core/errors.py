"""The RemedyError tree and the exit codes: the contract with scripts.

    RemedyError                    something went wrong; exit_code says how scripts see it
    ├── UsageError                 the arguments cannot be acted on (malformed Space id, bad file)
    │   └── PlanFileError          a plan file is missing, unreadable or malformed
    ├── HubError                   the Hub answered with an error we could not retry away
    │   ├── AuthError              no token, or a token the Hub rejects
    │   ├── ForbiddenError         the token is valid but may not do this (read-only, not owner)
    │   ├── NotFoundError          the Space or repo does not exist, or is private to someone else
    │   └── HubUnavailableError    retries ran out on 408/429/5xx or connection errors
    ├── RefusedError               a safety check refused to go on (stale or tampered plan, no approval)
    └── NotImplementedYetError     the command exists but is not built yet

Messages are built once, here, from attributes; they never contain a token.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every remedybot command (README, `--help` epilog)."""

    OK = 0  # healthy, or fixed and verified
    FAILED = 1  # Hub or apply error
    USAGE = 2  # bad arguments
    REFUSED = 3  # preflight failed, stale plan, or confirmation declined
    UNVERIFIED = 4  # fix applied, Space still unhealthy
    NO_MATCH = 5  # no signature matched; ticket written
    NOT_BUILT = 6  # the command is registered but not built yet
    UNHEALTHY = 7  # diagnose/scan: the Space is failing, with a known cause
    PROPOSED = 8  # fix --propose / apply: a pull request with the fix waits for the owner to merge it


EXIT_CODE_HELP = (
    "Exit codes: 0 OK (healthy, or fixed and verified) · 1 FAILED (Hub or apply error) · "
    "2 USAGE (bad arguments) · 3 REFUSED (safety check, stale plan, declined) · "
    "4 UNVERIFIED (fix applied, Space still unhealthy) · 5 NO_MATCH (no signature matched) · "
    "6 NOT_BUILT (command not built yet) · 7 UNHEALTHY (diagnose: failing, cause known) · "
    "8 PROPOSED (a pull request with the fix awaits merging)"
)


class RemedyError(Exception):
    """Something went wrong that the user can act on."""

    exit_code: ExitCode = ExitCode.FAILED
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint


class UsageError(RemedyError):
    """The arguments cannot be acted on."""

    exit_code = ExitCode.USAGE


class PlanFileError(UsageError):
    """A plan file is missing, unreadable or malformed."""


class HubError(RemedyError):
    """The Hub answered with an error that retrying did not clear."""

    def __init__(self, message: str, *, status: int | None = None, request_id: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.request_id = request_id


class AuthError(HubError):
    """No token was found, or the Hub rejected the token."""


class ForbiddenError(HubError):
    """The token is valid but lacks the right to do this."""


class NotFoundError(HubError):
    """The Space or repository does not exist, or is not visible with this token."""


class HubUnavailableError(HubError):
    """Retries ran out on rate limits, server errors or connection failures."""


class RefusedError(RemedyError):
    """A safety check refused to go on."""

    exit_code = ExitCode.REFUSED


class NotImplementedYetError(RemedyError):
    """The command is registered but not built yet."""

    exit_code = ExitCode.NOT_BUILT


def refusal(action: str, reason: str, remedy: str) -> RefusedError:
    """Build the one refusal frame: "Refusing to <action>: <reason>. <remedy>."

    Playbooks and the apply engine supply only the parts; the wording lives here.
    """
    return RefusedError(f"Refusing to {action}: {reason}. {remedy.rstrip('.')}.")
