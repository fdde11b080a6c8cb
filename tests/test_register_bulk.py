"""Bulk inserts keep the per-record rules: destruction in place near protected sites, audit entries."""

from __future__ import annotations

from datetime import date

import pytest
import shapely
from shapely.geometry import Point

from sapper import Register
from sapper.model import Contamination, Hazard, HazardStatus, InvalidRecord, Item, ItemState, Method, ProtectedSite

LON, LAT = 38.27, 34.55
M_LON = 91_700.0  # metres per degree of longitude at 34.55 N


def _site(name: str, dx_m: float, buffer_m: float, forbids: bool = True) -> ProtectedSite:
    return ProtectedSite(
        name=name,
        kind="monument",
        geometry=Point(LON + dx_m / M_LON, LAT),
        buffer_m=buffer_m,
        forbidden_methods=(Method.DESTRUCTION_IN_PLACE,) if forbids else (Method.MECHANICAL,),
    )


def _blast(dx_m: float, state: ItemState = ItemState.DESTROYED_IN_PLACE) -> Item:
    return Item(category="uxo", geometry=Point(LON + dx_m / M_LON, LAT), state=state)


def test_bulk_destruction_in_place_inside_a_buffer_is_refused_and_nothing_written(reg: Register) -> None:
    reg.add(_site("Temple of Bel", 0, 150))
    reg.add(_site("Bakery", 2_000, 300, forbids=False))
    batch = [_blast(3_000 + i) for i in range(50)]  # far from both
    batch += [_blast(1_900), _blast(120), _blast(400)]  # inside the bakery's buffer (allowed), Bel's, outside
    with pytest.raises(InvalidRecord, match=r"forbidden within 150 m of Temple of Bel \(site 1\)"):
        reg.add_many(batch)
    assert reg.count("item") == 0


def test_bulk_destruction_outside_buffers_or_not_destroyed_is_accepted(reg: Register) -> None:
    reg.add(_site("Temple of Bel", 0, 150))
    batch = [_blast(160 + i * 10) for i in range(30)]  # 160 m and further: outside the 150 m buffer
    batch.append(_blast(20, state=ItemState.REMOVED))  # near, but not blown up
    stored = reg.add_many(batch)
    assert len(stored) == 31 and reg.count("item", where={"state": "destroyed_in_place"}) == 30


def test_bulk_destruction_names_the_nearest_forbidding_site(reg: Register) -> None:
    reg.add(_site("Far wall", -400, 500))
    reg.add(_site("Theatre", 100, 150))
    with pytest.raises(InvalidRecord, match=r"of Theatre \(site 2\)"):
        reg.add_many([_blast(0)])


def test_large_batch_writes_one_audit_entry_per_record(reg: Register) -> None:
    """Large enough for the bulk paths (PostGIS COPY, GeoPackage index fill)."""
    items = [Item(category="uxo", geometry=Point(LON + i * 1e-5, LAT), model=f"M{i}") for i in range(6_000)]
    stored = reg.add_many(items)
    assert reg.count("item") == 6_000
    for rec in (stored[0], stored[4_321], stored[-1]):
        (entry,) = reg.history("item", rec.id)
        assert entry.action == "insert" and entry.version == 0
        assert entry.after["model"] == rec.model
        assert shapely.from_wkt(entry.after["geometry"]).equals(rec.geometry)
    window = (LON + 999.5e-5, LAT - 1e-4, LON + 1_999.5e-5, LAT + 1e-4)
    assert len(reg.list("item", bbox=window)) == 1_000


def test_records_read_back_equal_to_what_was_written(reg: Register) -> None:
    """Reading takes stored values of the right type as they are: nothing may change on the way."""
    square = shapely.box(LON, LAT, LON + 0.001, LAT + 0.001)
    hazards = [
        Hazard(name="Bare", geometry=square),
        Hazard(
            name="Full",
            geometry=square,
            status="in_clearance",
            contamination="ied",
            land_use="water",
            priority=1,
            blocks_access=True,
            estimated_items=12,
            clearance_depth_cm=13,
            reported_on=date(2016, 4, 2),
            notes="pipes packed with explosive",
            organisation="MAC",
            restricted=True,
            source_key="X-1",
        ),
    ]
    site = _site("Temple of Bel", 0, 150)
    stored = [*reg.add_many(hazards), reg.add(site)]
    read = reg.list("hazard") + reg.list("site")
    assert read == stored
    assert read[1].reported_on == date(2016, 4, 2) and read[1].clearance_depth_cm == 13
    # Vocabularies come back as their enum members, not the bare strings that compare equal.
    assert read[1].contamination is Contamination.IED and read[1].status is HazardStatus.IN_CLEARANCE
    assert read[0].clearance_depth_cm is None and read[0].reported_on is None and read[0].notes == ""
    assert read[2].forbidden_methods == (Method.DESTRUCTION_IN_PLACE,)
