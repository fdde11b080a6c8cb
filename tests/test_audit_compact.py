"""A compact audit log: inserts copy nothing, updates keep what changed, history is still whole."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import shapely
from shapely.geometry import Point, box

from sapper import Register
from sapper.model import Hazard, Item
from sapper.store.audit_rows import AuditEntry
from sapper.store.register import audit_state
from sapper.store.schema import AUDIT_TABLE, layer

LON, LAT = 38.27, 34.55
HAZARDS = layer("hazard")


def field(name: str = "Field") -> Hazard:
    return Hazard(name=name, geometry=box(LON, LAT, LON + 0.002, LAT + 0.002), priority=2)


def now_state(reg: Register, record_id: int) -> dict[str, Any]:
    return audit_state(HAZARDS, reg.get("hazard", record_id))


def test_history_gives_the_whole_state_at_every_step(reg: Register) -> None:
    hid = reg.add(field()).id
    inserted = now_state(reg, hid)
    reg.change("hazard", hid, name="Renamed", priority=1)
    renamed = now_state(reg, hid)
    reg.change("hazard", hid, geometry=box(LON, LAT, LON + 0.003, LAT + 0.003), notes="resurveyed")
    resurveyed = now_state(reg, hid)
    reg.delete("hazard", hid)
    entries = reg.history("hazard", hid)
    assert [(e.action, e.version) for e in entries] == [("insert", 0), ("update", 1), ("update", 2), ("delete", 2)]
    assert [(e.before, e.after) for e in entries] == [
        (None, inserted),
        (inserted, renamed),
        (renamed, resurveyed),
        (resurveyed, None),
    ]
    assert inserted["name"] == "Field" and renamed["name"] == "Renamed" and resurveyed["notes"] == "resurveyed"
    first = shapely.from_wkt(entries[0].after["geometry"])
    assert first.equals(box(LON, LAT, LON + 0.002, LAT + 0.002))


def test_history_of_a_record_still_there_ends_with_its_current_state(reg: Register) -> None:
    hid = reg.add(field()).id
    reg.change("hazard", hid, notes="first visit")
    entries = reg.history("hazard", hid)
    assert entries[-1].after == now_state(reg, hid) and entries[0].after["notes"] in (None, "")
    assert entries[1].before == entries[0].after


def test_an_update_entry_holds_only_the_fields_it_changed(reg: Register) -> None:
    hid = reg.add(field()).id
    reg.change("hazard", hid, name="Renamed")
    insert, update = reg.backend.read_audit(HAZARDS.name, hid)
    assert (insert.before, insert.after) == (None, None)  # the row itself is what was inserted
    assert update.before == {"name": "Field", "version": 0}
    assert update.after == {"name": "Renamed", "version": 1}


def test_a_delete_entry_keeps_the_whole_record(reg: Register) -> None:
    hid = reg.add(field()).id
    last = now_state(reg, hid)
    reg.delete("hazard", hid)
    deleted = reg.backend.read_audit(HAZARDS.name, hid)[-1]
    assert deleted.action == "delete" and deleted.before == last and deleted.after is None


def test_entries_with_full_copies_from_older_registers_read_as_written(reg: Register) -> None:
    """An older register's entries (whole states), then a change made by this version."""
    hid = reg.add(field()).id
    reg.change("hazard", hid, name="Renamed", priority=1)
    renamed = now_state(reg, hid)
    reg.backend.execute(f"DELETE FROM {AUDIT_TABLE} WHERE record_id = {reg.backend.ph}", [hid])
    inserted = {**renamed, "name": "Field", "priority": 2, "version": 0}
    at = datetime(2016, 4, 1, tzinfo=UTC)
    reg.backend.write_audit(
        [
            AuditEntry(at, "ali", "insert", HAZARDS.name, hid, 0, None, inserted),
            AuditEntry(at, "ali", "update", HAZARDS.name, hid, 1, inserted, renamed),
        ]
    )
    reg.change("hazard", hid, notes="resurveyed")
    entries = reg.history("hazard", hid)
    assert [(e.user, e.action) for e in entries] == [("ali", "insert"), ("ali", "update"), ("tester", "update")]
    assert [(e.before, e.after) for e in entries] == [
        (None, inserted),
        (inserted, renamed),
        (renamed, now_state(reg, hid)),
    ]


def _size(reg: Register, table: str) -> int:
    """Bytes a table and its indexes take (not the spatial index)."""
    if reg.backend.ph == "?":
        sql = "SELECT sum(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_master WHERE tbl_name = ?)"
        return int(reg.backend.execute(sql, [table]).fetchone()[0])
    return int(reg.backend.execute("SELECT pg_total_relation_size(%s)", [table]).fetchone()[0])


def test_the_audit_log_of_a_bulk_insert_is_a_small_fraction_of_the_records(reg: Register) -> None:
    n = 20_000
    reg.add_many([Item(category="uxo", geometry=Point(LON + i * 1e-5, LAT), model=f"M{i}") for i in range(n)])
    copies = f"SELECT count(*) FROM {AUDIT_TABLE} WHERE before IS NOT NULL"
    inserts = f"SELECT count(*) FROM {AUDIT_TABLE} WHERE action IN ('insert', 'bulk insert') AND layer = 'items'"
    assert reg.backend.execute(copies).fetchone()[0] == 0
    assert reg.backend.execute(inserts).fetchone()[0] == 1  # the batch's entry names its ids
    # Entries holding a JSON copy of each item took 2-4 times the items' own space.
    assert _size(reg, AUDIT_TABLE) < 0.9 * _size(reg, "items")
    (entry,) = reg.history("item", n // 2)
    assert entry.after["model"] == f"M{n // 2 - 1}"
