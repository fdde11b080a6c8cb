"""A bulk insert is one audit entry per batch, and every record's history still names its insert.

The batch's entry holds who, when and the run of ids it inserted; ``history`` of any record of
the batch (first, middle, last) gives that record its own insert, then what followed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shapely.geometry import Point

from sapper import Register
from sapper.model import Item
from sapper.store import audit
from sapper.store.schema import AUDIT_TABLE

LON, LAT = 38.27, 34.55
N = 3_000  # above the PostGIS COPY threshold


def _items(n: int, tag: str) -> list[Item]:
    return [Item(category="uxo", geometry=Point(LON + i * 1e-5, LAT), model=f"{tag}{i}") for i in range(n)]


def _entries(reg: Register) -> int:
    return int(reg.backend.execute(f"SELECT count(*) FROM {AUDIT_TABLE} WHERE layer = 'items'").fetchone()[0])


def test_a_bulk_insert_is_one_audit_entry_and_each_record_keeps_its_insert(reg: Register) -> None:
    start = datetime.now(UTC)
    stored = reg.add_many(_items(N, "A"))
    end = datetime.now(UTC)
    assert _entries(reg) == 1  # not one per record
    first, middle, last = stored[0], stored[N // 2], stored[-1]
    for rec in (first, middle, last):
        (entry,) = reg.history("item", rec.id)
        assert (entry.action, entry.user, entry.record_id, entry.version) == ("insert", "tester", rec.id, 0)
        assert start <= entry.at <= end
        assert entry.before is None and entry.after["model"] == rec.model

    reg.change("item", middle.id, model="renamed")
    reg.delete("item", first.id)  # the record whose id the batch's entry carries
    assert [(e.action, e.user) for e in reg.history("item", middle.id)] == [("insert", "tester"), ("update", "tester")]
    insert, update = reg.history("item", middle.id)
    assert insert.after["model"] == middle.model and update.after["model"] == "renamed"
    insert, delete = reg.history("item", first.id)
    assert (insert.action, delete.action) == ("insert", "delete") and delete.before["model"] == first.model
    assert reg.history("item", last.id + 1) == []  # past the batch: no insert to show


def test_batches_by_different_users_each_name_their_own(reg: Register) -> None:
    first_batch = reg.add_many(_items(N, "A"))
    reg.user = "omar"
    second_batch = reg.add_many(_items(N, "B"))
    reg.user = "tester"
    single = reg.add(_items(1, "C")[0])
    assert _entries(reg) == 3
    assert [e.user for e in reg.history("item", first_batch[-1].id)] == ["tester"]
    assert [e.user for e in reg.history("item", second_batch[0].id)] == ["omar"]
    assert [e.user for e in reg.history("item", second_batch[-1].id)] == ["omar"]
    (entry,) = reg.history("item", single.id)
    assert entry.after["model"] == "C0"


def test_interleaved_batches_are_runs_and_each_id_finds_its_own(reg: Register) -> None:
    """Two writers taking numbers from one PostgreSQL sequence at once get interleaved ids."""
    ali_at, omar_at = datetime(2016, 4, 1, tzinfo=UTC), datetime(2016, 4, 2, tzinfo=UTC)
    reg.backend.write_audit(audit.insert_entries(ali_at, "ali", "items", [10, 11, 12, 20, 21]))
    reg.backend.write_audit(audit.insert_entries(omar_at, "omar", "items", list(range(13, 20))))
    assert _entries(reg) == 3  # ali's two runs, omar's one

    def inserted_by(record_id: int) -> list[tuple[str, datetime]]:
        return [(e.user, e.at) for e in audit.record_entries(reg.backend, "items", record_id)]

    assert inserted_by(10) == inserted_by(12) == inserted_by(20) == inserted_by(21) == [("ali", ali_at)]
    assert inserted_by(13) == inserted_by(15) == inserted_by(19) == [("omar", omar_at)]
    assert inserted_by(9) == inserted_by(22) == []


def test_id_runs() -> None:
    assert audit.id_runs([]) == []
    assert audit.id_runs([5]) == [(5, 5)]
    assert audit.id_runs([3, 1, 2, 7, 8, 10]) == [(1, 3), (7, 8), (10, 10)]
