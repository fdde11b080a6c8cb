"""Sending a new record twice adds it once: a client names it with its own ``source_key``.

A browser that sent a report while the network dropped cannot tell whether the server got it;
it sends it again with the same key (a UUID it made). The key is unique per layer, so the
register holds at most one record under it; a resend of a key already stored adds nothing and
answers with the stored record (200 instead of 201). A key the user may not see, or that names
another user's record, is refused as before (409): a key is not a way to read others' records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sapper.model.accounts import User
from sapper.model.records import Record
from sapper.server.errors import integrity_errors
from sapper.server.permissions import is_visible
from sapper.store.register import Register
from sapper.store.schema import Layer


def stored_under(reg: Register, user: User, lay: Layer, key: str | None) -> Record | None:
    """The record this user already sent under ``key``, if any."""
    if not key:
        return None
    found = reg.backend.ids_by_source_key(lay, [key])
    record_id = found.get(key)
    if record_id is None or not is_visible(reg, user, lay, record_id):
        return None
    record = reg.get(lay.kind, record_id)
    sender = getattr(record, "reported_by", None)
    if sender not in (None, "", user.name) or record.organisation != user.organisation:
        return None
    return record


def add_once(reg: Register, user: User, lay: Layer, record: Record, add: Callable[[], Any]) -> tuple[Record, bool]:
    """The stored record and whether it is new: ``add()`` runs only if the key is not stored yet.

    Two resends racing each other: the second one's insert hits the unique key, and it answers
    with the first one's record."""
    key = getattr(record, "source_key", None)
    before = stored_under(reg, user, lay, key)
    if before is not None:
        return before, False
    try:
        return add(), True
    except tuple(integrity_errors()):
        after = stored_under(reg, user, lay, key)
        if after is None:
            raise
        return after, False
