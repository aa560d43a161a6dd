"""Who may view the console and who may approve: decided from the policy file's [serve] table.

An `Identity` is a signed-in Hugging Face user: a username and the organisations they belong to with their
role there (the OAuth user info's `orgs[].roleInOrg`, or `whoami`'s `orgs` locally). A policy entry is a
username or `org:NAME`; for viewers `org:NAME` means any member of NAME, for approvers a member with write
access (role `write` or `admin`). With no [serve] table the watched owners decide: an owner (a user) and the
members of an owning organisation may view, and the user owner and members with write access may approve.
Pure: no Hub call, no state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from remedybot.fleet.policy import Policy

WRITE_ROLES = frozenset({"write", "admin"})


class Role(StrEnum):
    NONE = "none"
    VIEWER = "viewer"
    APPROVER = "approver"


@dataclass(frozen=True)
class Identity:
    """A signed-in person: username, and organisation -> role (None when the Hub did not say)."""

    username: str
    orgs: dict[str, str | None] = field(default_factory=dict)

    def member_of(self, org: str, *, write: bool = False) -> bool:
        if org not in self.orgs:
            return False
        return not write or (self.orgs[org] or "") in WRITE_ROLES


def identity_from_whoami(data: dict[str, Any]) -> Identity:
    """The token's account from `Hub.whoami()`: the person who started a local console."""
    orgs = {str(o.get("name")): o.get("roleInOrg") for o in data.get("orgs") or [] if o.get("name")}
    return Identity(username=str(data.get("name")), orgs=orgs)


def identity_from_oauth(user_info: Any) -> Identity:
    """The person from huggingface_hub's `OAuthUserInfo` (`parse_huggingface_oauth(request).user_info`)."""
    orgs = {str(o.preferred_username): o.role_in_org for o in (user_info.orgs or []) if o.preferred_username}
    return Identity(username=str(user_info.preferred_username), orgs=orgs)


def _matches(person: Identity, entries: tuple[str, ...], *, write: bool) -> bool:
    for entry in entries:
        if entry.startswith("org:"):
            if person.member_of(entry[4:], write=write):
                return True
        elif entry == person.username:
            return True
    return False


def role_of(person: Identity, policy: Policy, owners: list[str]) -> Role:
    """The person's role under `policy` for a console watching `owners`."""
    default = tuple(owners) + tuple(f"org:{o}" for o in owners)
    approvers = policy.approvers or default
    if _matches(person, approvers, write=True):
        return Role.APPROVER
    viewers = policy.viewers or default
    if _matches(person, viewers, write=False):
        return Role.VIEWER
    return Role.NONE
