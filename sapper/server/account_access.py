"""Which accounts an admin may manage over the API: those of their own organisation, never above their own role.

An organisation's ``admin`` lists, creates, changes, disables, removes and reads the history of its own
organisation's accounts only; another organisation's account answers exactly as a missing one does, so a
curious admin learns nothing about who exists elsewhere. ``register_admin`` manages every organisation's
accounts, and is given only on the command line: an API that could grant it would let one stolen admin
password take the whole register.
"""

from __future__ import annotations

from sapper.i18n import N_
from sapper.model.accounts import Role, User
from sapper.model.errors import NotFound
from sapper.server.errors import ApiError
from sapper.store.accounts import Accounts
from sapper.store.audit_rows import AuditEntry

CLI_ONLY = N_(
    "the register_admin role is given only on the command line of the server's machine "
    "(`sapper user add NAME --role register_admin`), never over the API"
)


def visible(actor: User, account: User) -> bool:
    """Whether the account exists as far as the actor can tell."""
    return actor.all_organisations or account.organisation == actor.organisation


def account_for(actor: User, accounts: Accounts, name: str, *, changing: bool = True) -> User:
    """The account ``name`` if the actor may see it (404 as for a missing one otherwise), and change it."""
    account = accounts.find(name)
    if account is None or not visible(actor, account):
        raise NotFound(f"user {name!r}")
    if changing and account.role.rank > actor.role.rank:
        raise ApiError(
            403,
            N_("{name} is a {role}; only a {role} changes that account, not a {actor_role}"),
            params={"name": name, "role": account.role.value, "actor_role": actor.role.value},
        )
    return account


def check_grant(actor: User, role: Role, current: Role | None = None) -> None:
    """Refuse (403) giving a role the API never gives, or one above the actor's own."""
    if role == current:
        return
    if role == Role.REGISTER_ADMIN:
        raise ApiError(403, CLI_ONLY)
    if role.rank > actor.role.rank:
        raise ApiError(
            403,
            N_("{name} is a {role} and cannot give the role {given}, above its own"),
            params={"name": actor.name, "role": actor.role.value, "given": role.value},
        )


def check_organisation(actor: User, organisation: str) -> None:
    """Refuse (403) putting an account into an organisation the actor does not manage."""
    if not actor.all_organisations and organisation != actor.organisation:
        raise ApiError(
            403,
            N_(
                "{name} manages the accounts of organisation {organisation!r} only; "
                "it cannot put an account in {other!r} (a register_admin can)"
            ),
            params={"name": actor.name, "organisation": actor.organisation, "other": organisation},
        )


def visible_history(actor: User, entries: list[AuditEntry]) -> list[AuditEntry]:
    """The entries of an account's history made while it belonged to the actor's organisation.

    Token entries carry no organisation: they belong to the one the account was in at the time.
    """
    if actor.all_organisations:
        return entries
    shown, current = [], None
    for entry in entries:
        states = [s for s in (entry.before, entry.after) if s is not None and "organisation" in s]
        organisations = {s["organisation"] for s in states} or {current}
        if actor.organisation in organisations:
            shown.append(entry)
        if states:
            current = states[-1]["organisation"]
    return shown
