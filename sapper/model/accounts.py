"""Accounts of the operations server: users, their role and organisation, and what a role may do.

Roles are ordered: each one may do everything the one before it may.
- viewer: reads maps, records and reports; writes nothing.
- field_team: a team leader; also sends the daily progress reports and items found by their own team.
- supervisor: operations and quality staff; edits the register and approves land release (IMAS 07.11
  leaves release to the authority's quality management, not to the team that did the work).
- admin: also manages the accounts of their own organisation.
- register_admin: manages the whole register, every organisation's accounts and records. Given
  only from the command line (``sapper user add NAME --role register_admin``), never over the API,
  so a compromised organisation admin cannot make one.

A user sees every record of their own organisation and the records of others unless those are
``restricted``. Pure model: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sapper.i18n import LANGUAGES, N_
from sapper.model.common_passwords import is_common
from sapper.model.enums import Vocabulary
from sapper.model.errors import InvalidRecord, Problem

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD = 8


class Role(Vocabulary):
    VIEWER = "viewer"
    FIELD_TEAM = "field_team"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    REGISTER_ADMIN = "register_admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


@dataclass(frozen=True, kw_only=True)
class User:
    name: str
    role: Role = Role.VIEWER
    organisation: str = ""
    team_id: int | None = None  # the team a field_team user leads
    active: bool = True
    created_at: datetime | None = None
    language: str | None = None  # en, ar or ru; None: the browser's Accept-Language

    def can(self, role: Role) -> bool:
        return self.active and self.role.at_least(role)

    @property
    def all_organisations(self) -> bool:
        """Whether this user acts across organisations (the register-wide role only)."""
        return self.active and self.role == Role.REGISTER_ADMIN

    def sees(self, organisation: str, restricted: bool) -> bool:
        return not restricted or organisation == self.organisation


def check_user(user: User) -> None:
    """Refuse an account the server could not use safely."""
    if not NAME_PATTERN.fullmatch(user.name):
        raise InvalidRecord(
            f"user {user.name!r}",
            N_("a user name is 1-64 letters, digits or . _ @ - and starts with a letter or digit"),
        )
    if user.role == Role.FIELD_TEAM and user.team_id is None:
        raise InvalidRecord(f"user {user.name!r}", N_("a field_team user needs the team they report for (--team ID)"))
    if user.language is not None and user.language not in LANGUAGES:
        choices = ", ".join(LANGUAGES)
        problem = Problem(N_("language {value!r}: give one of {choices}"), value=user.language, choices=choices)
        raise InvalidRecord(f"user {user.name!r}", problem)


def check_password(name: str, password: str) -> None:
    """Refuse a password a guesser tries first (NIST SP 800-63B 5.1.1.2: length, a blocklist, the user name)."""
    if len(password) < MIN_PASSWORD:
        problem = Problem(N_("a password has at least {n} characters"), n=MIN_PASSWORD)
        raise InvalidRecord(f"user {name!r}", problem)
    if password.lower() == name.lower():
        raise InvalidRecord(f"user {name!r}", N_("a password may not be the user name"))
    if is_common(password):
        raise InvalidRecord(
            f"user {name!r}",
            N_("this password is on the list of common passwords that guessers try first; choose another"),
        )
