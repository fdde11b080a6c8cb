"""Which language a command writes in: ``--lang``, else the one kept with the user's account, else English."""

from __future__ import annotations

from sapper import i18n
from sapper.store.sql import SqlBackend


def account_language(backend: SqlBackend, name: str | None) -> str | None:
    """The language kept with account ``name`` in this register; None if it has none or no accounts."""
    if not name:
        return None
    from sapper.store.accounts import USERS, Accounts

    if not backend.existing_columns(USERS):
        return None
    try:
        user = Accounts(backend).find(name)
    except Exception:  # a register from before accounts kept a language: no column yet
        return None
    return user.language if user else None


def chosen_language(given: str | None, backend: SqlBackend, user: str | None) -> str:
    if given:
        return i18n.parse_language(given)
    return account_language(backend, user) or i18n.DEFAULT
