"""What the audit log keeps of a record, and the full states read back from it.

The log is kept small: an insert names who, when and which record (the row itself holds
what was inserted), an update keeps only the fields it changed (their values before and
after), and a delete keeps the whole record, which is gone from its table otherwise.
Readers still get every state in full: ``full_states`` walks back from the record as it
is now (or as its delete left it), undoing one update at a time.

Registers written before the log was compact hold a full copy in every entry; those
entries are read as they were written.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from sapper.model.wkt import to_wkt_many
from sapper.store.schema import DATE, DATETIME, Layer
from sapper.store.sql import AuditEntry

State = dict[str, Any]


def audit_dicts(lay: Layer, rows: Sequence[dict[str, Any]]) -> list[State]:
    """Rows as JSON-ready values; geometry as WKT that reads back to the same coordinates."""
    wkts: Sequence[str | None] = []
    if lay.geometry_type:
        wkts = to_wkt_many([row.get("geometry") for row in rows])
    dated = [c.name for c in lay.columns if c.kind in (DATE, DATETIME)]
    out = []
    for i, row in enumerate(rows):
        plain = dict(row)
        for name in dated:
            if plain[name] is not None:
                plain[name] = plain[name].isoformat()
        if lay.geometry_type:
            plain["geometry"] = wkts[i]
        out.append(plain)
    return out


def as_read_back(state: State) -> State:
    """A state as the log gives it back after storing it as JSON (enum members as text, and so on)."""
    return json.loads(json.dumps(state, default=str))


def changed_fields(before: State, after: State) -> tuple[State, State]:
    """The fields an update changed: their values before and after (the version always changes)."""
    before, after = as_read_back(before), as_read_back(after)
    keys = [k for k in after.keys() | before.keys() if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def is_full_copy(entry: AuditEntry) -> bool:
    """Whether an entry holds whole states, as every entry did before the log was compact.

    A compact update holds only the fields whose value changed; a full copy also holds
    fields that did not change (no update changes every field it stores)."""
    if entry.action == "insert":
        return entry.after is not None
    if entry.action == "update":
        before, after = entry.before or {}, entry.after or {}
        return any(before.get(k) == after.get(k) for k in after.keys() | before.keys())
    return True  # a delete always keeps the whole record


def full_states(entries: Sequence[AuditEntry], current: State | None) -> list[AuditEntry]:
    """The entries with whole states before and after, oldest first.

    ``current`` is the record as it is now (None once deleted). Walking from the newest
    entry back: the state after an entry is the state before the next one; undoing an
    update's changed fields gives the state before it; a delete's record and a full copy
    stand as they were written.
    """
    state = current
    out: list[AuditEntry] = []
    for entry in reversed(entries):
        if is_full_copy(entry):
            out.append(entry)
            state = entry.before
            continue
        if entry.action == "insert":
            out.append(dataclasses.replace(entry, after=dict(state or {})))
            state = None
            continue
        after = {**(state or {}), **(entry.after or {})}
        before = {**after, **(entry.before or {})}
        out.append(dataclasses.replace(entry, before=before, after=after))
        state = before
    out.reverse()
    return out


def needs_current(entries: Sequence[AuditEntry]) -> bool:
    """Whether reading these entries in full takes the record as it is now."""
    return any(not is_full_copy(e) for e in entries)
