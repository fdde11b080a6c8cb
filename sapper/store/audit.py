"""What the audit log keeps of a record, and the full states read back from it.

The log is kept small: an insert names who, when and which record (the row itself holds
what was inserted), an update keeps only the fields it changed (their values before and
after), and a delete keeps the whole record, which is gone from its table otherwise.
A batch of inserts (an import) is one "bulk insert" entry per run of consecutive ids it
took: the first id in ``record_id``, the last in ``after``. Readers still get every state
in full: ``record_entries`` gives each record its own insert, and ``full_states`` walks
back from the record as it is now (or as its delete left it), undoing one update at a time.

Registers written before the log was compact hold a full copy in every entry; those
entries are read as they were written.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sapper.model.wkt import to_wkt_many
from sapper.store.audit_rows import AuditEntry
from sapper.store.schema import AUDIT_TABLE, DATE, DATETIME, Layer
from sapper.store.sql import SqlBackend, q

State = dict[str, Any]
BULK_INSERT = "bulk insert"
# Finds the bulk insert covering a record with one index step, however many entries the log
# holds; SQLite and PostgreSQL use a partial index only for a query naming the same literal.
BULK_INDEX = (
    f"CREATE INDEX \"{AUDIT_TABLE}_bulk_inserts\" ON {q(AUDIT_TABLE)} (layer, record_id) WHERE action = '{BULK_INSERT}'"
)


def id_runs(ids: Sequence[int]) -> list[tuple[int, int]]:
    """Ids as (first, last) runs of consecutive numbers. A batch's ids are one run unless
    another writer took numbers from the same sequence meanwhile (PostgreSQL)."""
    runs: list[tuple[int, int]] = []
    for i in sorted(ids):
        if runs and i == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def insert_entries(at: datetime, user: str, layer_name: str, ids: Sequence[int]) -> list[AuditEntry]:
    """Who inserted which records, and when: an entry per run of ids, not per record."""
    return [
        AuditEntry(at, user, "insert", layer_name, first, 0, None, None)
        if first == last
        else AuditEntry(at, user, BULK_INSERT, layer_name, first, 0, None, {"last_id": last})
        for first, last in id_runs(ids)
    ]


def record_entries(backend: SqlBackend, layer_name: str, record_id: int) -> list[AuditEntry]:
    """A record's entries, oldest first, with its insert even when a bulk entry holds it."""
    entries = [e for e in backend.read_audit(layer_name, record_id) if e.action != BULK_INSERT]
    if any(e.action == "insert" for e in entries):
        return entries
    bulk = _covering_bulk_insert(backend, layer_name, record_id)
    return entries if bulk is None else [bulk, *entries]


def _covering_bulk_insert(backend: SqlBackend, layer_name: str, record_id: int) -> AuditEntry | None:
    """The insert of a record as its batch's entry says it: runs never overlap (an id is taken
    once), so the run starting nearest below the record holds it, or none does."""
    ph = backend.ph
    sql = (
        f"SELECT id, at, username, record_id, after FROM {q(AUDIT_TABLE)} WHERE layer = {ph} "
        f"AND action = '{BULK_INSERT}' AND record_id <= {ph} ORDER BY record_id DESC LIMIT 1"
    )
    row = backend.execute(sql, [layer_name, record_id]).fetchone()
    if row is None or json.loads(row[4])["last_id"] < record_id:
        return None
    at = row[1] if isinstance(row[1], datetime) else datetime.fromisoformat(row[1].replace("Z", "+00:00"))
    return AuditEntry(at, row[2], "insert", layer_name, record_id, 0, None, None, id=int(row[0]))


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
