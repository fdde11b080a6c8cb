"""Window and layer reads (``Register.list``) fetch their rows in the cheapest form the database has
(PostGIS: binary, unsorted, no JIT) and make their records without ``__init__``; every kind of field
must still come back exactly as a one-by-one read gives it and as it was written."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from sapper import Register, init_register
from sapper.model import Hazard, Item, ProtectedSite, Team
from sapper.model.enums import HazardClass, ItemCategory, ItemState, Method, SiteKind, TeamKind
from sapper.model.plan import Plan
from sapper.store.record_maker import records_from_columns
from sapper.store.rows import from_row
from sapper.store.schema import layer
from sapper.testing.postgis import Cluster

LON, LAT = 36.2, 33.5
WINDOW = (LON - 0.01, LAT - 0.01, LON + 0.01, LAT + 0.01)
WORDS = ["", "عند الطريق", "Київ — біля школи", "naïve “quoted” 'text'\ttab", "💣 near the well"]


def _records() -> list[object]:
    holed = Polygon(
        [(LON, LAT), (LON + 0.004, LAT), (LON + 0.004, LAT + 0.004), (LON, LAT + 0.004)],
        [[(LON + 0.001, LAT + 0.001), (LON + 0.002, LAT + 0.001), (LON + 0.002, LAT + 0.002)]],
    )
    two_parts = MultiPolygon([holed, box(LON + 0.005, LAT, LON + 0.006, LAT + 0.001)])
    made_at = datetime(2026, 3, 1, 10, 30, 15, 123000, tzinfo=timezone(timedelta(hours=3)))  # a GeoPackage keeps ms
    return [
        Hazard(name=WORDS[1], geometry=two_parts, hazard_class=HazardClass.CHA, notes=WORDS[2], organisation="mac"),
        Hazard(
            name="h2",
            geometry=box(LON - 0.003, LAT - 0.003, LON - 0.002, LAT - 0.002),
            reported_on=date(2024, 2, 29),
            clearance_depth_cm=None,
            restricted=True,
            organisation="ngo",
            source_key="H-ü",
        ),
        *(
            Item(
                category=category,
                geometry=Point(LON + i * 1e-4, LAT - i * 1e-4),
                state=ItemState.FOUND,
                model=WORDS[i % len(WORDS)],
                depth_cm=None if i % 2 else 12.5,
                weight_kg=None,
                found_on=None if i % 3 else date(2025, 12, 31),
                notes=WORDS[(i + 1) % len(WORDS)],
            )
            for i, category in enumerate([*ItemCategory] * 2)
        ),
        ProtectedSite(
            name="ruin",
            kind=SiteKind.HERITAGE_SITE,
            geometry=LineString([(LON, LAT), (LON + 0.001, LAT)]),
            forbidden_methods=(Method.MECHANICAL, Method.MANUAL),
            notes=WORDS[4],
        ),
        ProtectedSite(name="school", kind=SiteKind.SCHOOL, geometry=Point(LON + 0.002, LAT), forbidden_methods=()),
        ProtectedSite(name="field", kind=SiteKind.HERITAGE_SITE, geometry=two_parts),
        Team(name="team 1", kind=TeamKind.MANUAL, geometry=Point(LON, LAT), capabilities=(Method.MANUAL,)),
        Team(name="team 2", kind=TeamKind.MECHANICAL, geometry=None, capabilities=(), active=False),
        Plan(number=1, made_at=made_at, made_by="أحمد", start_on=date(2026, 3, 2), bound=None, notes=WORDS[3]),
        Plan(number=2, made_at=None, made_by="", gap=0.25),
    ]


def _one_by_one(reg: Register, kind: str, record_id: int) -> object:
    lay = layer(kind)
    [(rid, row)] = reg.backend.select(lay, ids=[record_id])
    return from_row(lay, row, rid)


def _same_fields(listed: object, other: object, *, zone: bool = True) -> None:
    """Equal, field by field of the same type; a date and time in the same zone unless ``zone`` is False."""
    assert listed == other
    assert type(listed) is type(other)
    for name, value in vars(other).items():
        mine = getattr(listed, name)
        assert type(mine) is type(value), name
        if isinstance(value, datetime) and zone:
            assert mine.utcoffset() == value.utcoffset() and mine.tzinfo == value.tzinfo, name
    assert list(vars(listed)) == [f.name for f in dataclasses.fields(listed)]  # as __init__ sets them


def test_every_kind_of_field_reads_back_through_a_window_as_written_and_as_one_by_one(reg: Register) -> None:
    added = {}
    for record in _records():
        stored = reg.add(record)
        added[(layer(type(record)).kind, stored.id)] = stored
    for kind in ("hazard", "item", "site", "team", "plan"):
        lay = layer(kind)
        reads = [reg.list(kind)]
        if lay.geometry_type:
            reads.append(reg.list(kind, bbox=WINDOW))
        for listed in reads:
            assert [r.id for r in listed] == sorted(r.id for r in listed)
            for record in listed:
                _same_fields(record, _one_by_one(reg, kind, record.id))
                _same_fields(record, added[(kind, record.id)], zone=False)  # stored in UTC
        assert len(reads[0]) == sum(1 for key in added if key[0] == kind)
    made = reg.list("plan")[0].made_at
    assert made == datetime(2026, 3, 1, 7, 30, 15, 123000, tzinfo=UTC)


def test_a_point_stored_empty_or_null_by_another_tool_reads_as_one_by_one(reg: Register) -> None:
    """QGIS or ogr2ogr may leave what sapper refuses to write: an empty point, no geometry."""
    items = reg.add_many([Item(category=ItemCategory.UXO, geometry=Point(LON + i * 1e-3, LAT)) for i in range(3)])
    backend = reg.backend
    empty = backend.encode_geometries([Point()])[0]
    backend.execute(f"UPDATE items SET geom = {backend.geometry_param()} WHERE id = {backend.ph}", [empty, items[0].id])
    backend.execute(f"UPDATE items SET geom = NULL WHERE id = {backend.ph}", [items[1].id])
    listed = reg.list("item")
    assert [r.id for r in listed] == [r.id for r in items]
    assert listed[0].geometry.is_empty and listed[0].geometry.geom_type == "Point"
    assert listed[1].geometry is None
    for record in listed:
        one = _one_by_one(reg, "item", record.id)
        assert type(record.geometry) is type(one.geometry)
        assert record == one or (record.geometry.is_empty and one.geometry.is_empty)
    assert [r.id for r in reg.list("item", bbox=WINDOW)] == [items[2].id]


def test_a_window_lists_in_id_order_rows_the_database_holds_in_another_order(reg: Register) -> None:
    """A moved point is written anew at the end of a PostgreSQL table and of its spatial index: the
    window, read without ORDER BY, gets its rows in the table's order and must still list them by id."""
    items = reg.add_many([Item(category=ItemCategory.UXO, geometry=Point(LON + i * 1e-6, LAT)) for i in range(500)])
    moved = items[:50:7]
    for record in moved:
        reg.update(dataclasses.replace(record, geometry=Point(record.geometry.x, LAT + 1e-6)))
    listed = reg.list("item", bbox=WINDOW)
    assert [r.id for r in listed] == [r.id for r in items]
    assert [r.geometry.y for r in listed[:8]] == [LAT + 1e-6, *[LAT] * 6, LAT + 1e-6]


def test_a_postgis_window_is_neither_sorted_nor_compiled_by_the_database(pg_cluster: Cluster) -> None:
    """The database's own plan of the window read (auto_explain): no Sort node, no JIT compiling,
    even where the planner would compile any query (jit_above_cost 0)."""
    with init_register(pg_cluster.new_database(), user="tester") as reg:
        reg.add_many([Item(category=ItemCategory.UXO, geometry=Point(LON + i * 1e-4, LAT)) for i in range(50)])
        conn = reg.backend.conn
        plans: list[str] = []
        conn.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
        for setting in (
            "LOAD 'auto_explain'",
            "SET auto_explain.log_min_duration = 0",
            "SET auto_explain.log_level = 'notice'",
            "SET jit_above_cost = 0",
        ):
            conn.execute(setting)
        assert len(reg.list("item", bbox=WINDOW)) == 50
        [plan] = [p for p in plans if 'FROM "items"' in p]
        assert "Sort" not in plan and "JIT" not in plan, plan


@dataclasses.dataclass(kw_only=True)
class _Checked:
    name: str
    size: int = 0

    def __post_init__(self) -> None:
        self.size = len(self.name)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Frozen:
    name: str
    size: int = 0


@pytest.mark.parametrize("cls", [Item, _Checked, _Frozen])
def test_records_made_from_columns_are_those_their_constructor_makes(cls: type) -> None:
    """A class whose ``__init__`` does more than set fields (``__post_init__``, frozen) is made by it."""
    if cls is Item:
        names = [
            "notes",
            "id",
            "category",
            "geometry",
            "state",
            "version",
            "source_key",
            "organisation",
            "restricted",
            "hazard_id",
            "team_id",
            "model",
            "condition",
            "depth_cm",
            "weight_kg",
            "found_on",
        ]
        row = {"id": 7, "category": ItemCategory.UXO, "geometry": Point(1, 2), "notes": "ü"}
        values = [[row.get(name, getattr(Item(category=ItemCategory.UXO), name))] * 2 for name in names]
    else:
        names, values = ["size", "name"], [[0, 0], ["abc", "de"]]
    made = records_from_columns(cls, names, values)
    expected = [cls(**dict(zip(names, row))) for row in zip(*values)]
    assert made == expected
    assert [list(vars(m)) for m in made] == [list(vars(e)) for e in expected]
