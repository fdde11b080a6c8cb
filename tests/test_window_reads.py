"""Window reads (``Register.list`` with a bounding box) read a column at a time; they must give
the very records the record-by-record path gives, and exactly the features the window touches."""

from __future__ import annotations

import gc
import random
from datetime import date

import shapely
from shapely.geometry import MultiPolygon, Point, box

from sapper import Register
from sapper.model import Hazard, Item, ProtectedSite, Team
from sapper.model.enums import (
    Contamination,
    HazardClass,
    ItemCategory,
    ItemState,
    LandUse,
    Method,
    SiteKind,
    TeamKind,
)
from sapper.store.rows import from_row
from sapper.store.schema import layer

LON, LAT = 38.27, 34.55
EDGE = 0.01  # the windows' corner is at (LON, LAT) + EDGE


def _maybe(rng: random.Random, value: object) -> object:
    return None if rng.random() < 0.3 else value


def _random_register(reg: Register, rng: random.Random) -> None:
    """Records with every kind of field, empty or not, some exactly on or a hair outside a window's edge."""
    corner = LON + EDGE
    xs = [corner, corner + 1e-9, corner - 1e-9, *(LON + rng.uniform(0, 2 * EDGE) for _ in range(150))]
    teams = reg.add_many(
        [
            Team(
                name=f"team {i}",
                kind=rng.choice(list(TeamKind)),
                geometry=Point(rng.uniform(LON, LON + 2 * EDGE), LAT + rng.uniform(0, 2 * EDGE)),
                capabilities=tuple(rng.sample(list(Method), rng.randint(0, 3))),
                active=rng.random() < 0.5,
                organisation=rng.choice(["mac", "ngo"]),
                restricted=rng.random() < 0.2,
            )
            for i in range(6)
        ]
    )
    hazards = reg.add_many(
        [
            Hazard(
                name=f"hazard {i}",
                geometry=box(x, LAT + i * 1e-4, x + rng.uniform(1e-5, 2e-3), LAT + i * 1e-4 + 1e-3),
                hazard_class=rng.choice(list(HazardClass)),
                contamination=rng.choice(list(Contamination)),
                land_use=rng.choice(list(LandUse)),
                priority=rng.randint(1, 5),
                blocks_access=rng.random() < 0.5,
                estimated_items=rng.randint(0, 50),
                clearance_depth_cm=_maybe(rng, rng.randint(10, 100)),
                reported_on=_maybe(rng, date(2024, 1, 1 + i % 28)),
                notes=rng.choice(["", "near the road", "عند الطريق"]),
                source_key=_maybe(rng, f"H-{i}"),
                organisation=rng.choice(["mac", "ngo"]),
                restricted=rng.random() < 0.2,
            )
            for i, x in enumerate(xs[:40])
        ]
    )
    reg.add_many(
        [
            Item(
                category=rng.choice(list(ItemCategory)),
                geometry=Point(x, LAT + rng.uniform(0, 2 * EDGE)),
                state=rng.choice([ItemState.FOUND, ItemState.REMOVED, ItemState.RENDERED_SAFE]),
                hazard_id=_maybe(rng, rng.choice(hazards).id),
                team_id=_maybe(rng, rng.choice(teams).id),
                model=rng.choice(["", "PMN-2", "M16"]),
                depth_cm=_maybe(rng, round(rng.uniform(0, 30), 1)),
                weight_kg=_maybe(rng, 0.5),
                found_on=_maybe(rng, date(2024, 2, 1 + rng.randint(0, 27))),
                source_key=_maybe(rng, f"I-{j}"),
            )
            for j, x in enumerate(xs)
        ]
    )
    reg.add_many(
        [
            ProtectedSite(
                name=f"site {i}",
                kind=rng.choice(list(SiteKind)),
                geometry=Point(x, LAT + 0.005) if i % 2 else box(x, LAT, x + 1e-3, LAT + 1e-3),
                buffer_m=rng.choice([0.0, 50.0]),
                forbidden_methods=tuple(rng.sample(list(Method), rng.randint(0, 3))),
                heritage_value=rng.randint(0, 5),
            )
            for i, x in enumerate(xs[:30])
        ]
    )


def test_a_window_gives_the_records_one_by_one_reads_give_and_exactly_what_it_touches(reg: Register) -> None:
    rng = random.Random(2016)
    _random_register(reg, rng)
    windows = [(LON, LAT, LON + EDGE, LAT + EDGE)]
    for _ in range(6):
        x, y = LON + rng.uniform(0, EDGE), LAT + rng.uniform(0, EDGE)
        windows.append((x, y, x + rng.uniform(1e-3, EDGE), y + rng.uniform(1e-3, EDGE)))
    for kind in ("hazard", "item", "site", "team"):
        lay = layer(kind)
        every = {rid: from_row(lay, row, rid) for rid, row in reg.backend.select(lay)}
        for window in windows:
            found = reg.list(kind, bbox=window)
            touched = sorted(rid for rid, rec in every.items() if shapely.intersects(rec.geometry, box(*window)))
            assert [rec.id for rec in found] == touched, (kind, window)
            for rec in found:
                one = every[rec.id]
                assert rec == one, (kind, rec.id)
                assert type(rec) is type(one)
                assert {k: type(v) for k, v in vars(rec).items()} == {k: type(v) for k, v in vars(one).items()}
    edge = reg.list("item", bbox=windows[0])
    assert any(rec.geometry.x == LON + EDGE for rec in edge)  # on the edge: in
    assert not any(rec.geometry.x > LON + EDGE for rec in edge)  # a hair outside: out


def test_a_window_read_leaves_the_cycle_collector_as_it_found_it(reg: Register) -> None:
    reg.add_many([Item(category=ItemCategory.UXO, geometry=Point(LON + i * 1e-5, LAT)) for i in range(50)])
    window = (LON - 1, LAT - 1, LON + 1, LAT + 1)
    assert gc.isenabled()
    assert len(reg.list("item", bbox=window)) == 50
    assert gc.isenabled()
    gc.disable()
    try:
        assert len(reg.list("item", bbox=window)) == 50
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_window_between_the_parts_of_a_multipolygon_finds_nothing(reg: Register) -> None:
    """Its envelope crosses the window, but neither part meets it: not counted, listed or paged."""
    parts = MultiPolygon([box(LON, LAT, LON + 0.001, LAT + 0.001), box(LON, LAT + 0.009, LON + 0.001, LAT + 0.01)])
    reg.add(ProtectedSite(name="two ruins", kind=SiteKind.HERITAGE_SITE, geometry=parts))
    between = (LON - 0.001, LAT + 0.004, LON + 0.002, LAT + 0.005)
    assert reg.count("site", bbox=between) == 0
    assert reg.list("site", bbox=between) == []
    assert reg.list("site", bbox=between, limit=10) == []
    touching = (LON - 0.001, LAT + 0.0005, LON + 0.002, LAT + 0.005)
    assert reg.count("site", bbox=touching) == 1 == len(reg.list("site", bbox=touching, limit=10))
