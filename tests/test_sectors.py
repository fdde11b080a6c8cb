"""Work sectors: known grids, sliver merging, area conservation on random hazards with ruins."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from shapely import affinity
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from sapper.model.errors import SapperError
from sapper.plan.lanes import plan_lanes
from sapper.plan.sectors import split_into_sectors


def assert_partition(sectors, free) -> None:
    """The sectors tile the free area: same total, no overlap, nothing outside, nothing missing."""
    total = sum(s.area_m2 for s in sectors)
    assert total == pytest.approx(free.area, rel=1e-9, abs=1e-6)
    # Snap rounding: floating overlay misjudges edges that neighbours share up to the last bit.
    union = shapely.union_all([s.geometry for s in sectors], grid_size=1e-9)
    assert union.area == pytest.approx(total, rel=1e-9, abs=1e-6)  # no two sectors overlap
    assert shapely.symmetric_difference(union, free, grid_size=1e-9).area < 1e-6 * max(free.area, 1.0)
    for s in sectors:
        assert s.geometry.area == pytest.approx(s.area_m2)
        assert s.geometry.geom_type in ("Polygon", "MultiPolygon")
    assert [s.index for s in sectors] == list(range(len(sectors)))
    assert len({s.label for s in sectors}) == len(sectors)


def test_rectangle_known_grid_and_sliver_merged():
    # 170 x 65 m in 80 x 30 m sectors: columns 80, 80, 10; rows 30, 30, 5.
    sectors = split_into_sectors(box(0, 0, 170, 65))
    got = {s.label: (s.row, s.col, round(s.area_m2, 6)) for s in sectors}
    assert got == {
        "A1": (0, 0, 2400.0),
        "A2": (0, 1, 2400.0),
        "A3": (0, 2, 300.0),  # 10 x 30: above the 240 m2 floor (a tenth of a sector), kept
        "B1": (1, 0, 2400.0),
        "B2": (1, 1, 2400.0),
        "B3": (1, 2, 350.0),  # 10 x 30 plus the 10 x 5 corner, which shares 10 m with it and only 5 m with C2
        "C1": (2, 0, 400.0),
        "C2": (2, 1, 400.0),
    }
    # Serpentine order: along row A, back along row B, along row C.
    assert [s.label for s in sectors] == ["A1", "A2", "A3", "B3", "B2", "B1", "C1", "C2"]
    assert sectors[3].geometry.equals(box(160, 30, 170, 65))
    assert_partition(sectors, box(0, 0, 170, 65))


def test_no_floor_keeps_every_piece():
    sectors = split_into_sectors(box(0, 0, 170, 65), min_area=0)
    assert len(sectors) == 9
    assert {s.label: s.area_m2 for s in sectors}["C3"] == pytest.approx(50.0)


def test_size_is_configurable():
    sectors = split_into_sectors(box(0, 0, 100, 40), width=20, length=50)
    assert len(sectors) == 4
    assert all(s.area_m2 == pytest.approx(1000.0) for s in sectors)


def test_road_corridor_gets_sectors_along_the_road():
    road = affinity.rotate(box(0, 0, 1000, 12), 33, origin=(0, 0))
    sectors = split_into_sectors(road)
    assert len(sectors) == math.ceil(1000 / 80)  # one row of sectors, 80 m along the road
    assert {s.row for s in sectors} == {0}
    for s in sectors[:-1]:
        rect = shapely.get_coordinates(shapely.minimum_rotated_rectangle(s.geometry))
        sides = sorted([np.hypot(*(rect[1] - rect[0])), np.hypot(*(rect[2] - rect[1]))])
        assert sides == pytest.approx([12.0, 80.0])
    assert_partition(sectors, road)


def test_angle_overrides_the_orientation():
    sectors = split_into_sectors(box(0, 0, 160, 60), angle=90)
    # Sectors now 80 m along y and 30 m across x.
    assert len(sectors) == 6
    minx, miny, maxx, maxy = sectors[0].geometry.bounds
    assert (maxx - minx, maxy - miny) == pytest.approx((30.0, 60.0))


def test_obstacles_are_cut_out():
    ruins = [box(70, 10, 90, 20), affinity.rotate(box(20, 35, 40, 45), 30)]
    area = box(0, 0, 160, 60)
    sectors = split_into_sectors(area, obstacles=ruins)
    for s in sectors:
        for ruin in ruins:
            assert s.geometry.intersection(ruin).area < 1e-9
    assert_partition(sectors, area.difference(shapely.union_all(ruins)))


def test_small_island_is_kept_as_its_own_sector():
    hazard = MultiPolygon([box(0, 0, 80, 30), box(500, 500, 505, 505)])
    sectors = split_into_sectors(hazard, angle=0)
    assert sorted(round(s.area_m2) for s in sectors) == [25, 2400]
    assert_partition(sectors, hazard)


def test_nothing_left_after_obstacles_gives_no_sectors():
    assert split_into_sectors(box(0, 0, 10, 10), obstacles=[box(-1, -1, 11, 11)]) == []


@pytest.mark.parametrize(
    ("area", "kwargs", "message"),
    [
        (box(0, 0, 10, 10), {"width": 0}, "sector width"),
        (box(0, 0, 10, 10), {"length": -5}, "sector length"),
        (box(0, 0, 10, 10), {"min_area": -1}, "minimum sector area"),
        (box(0, 0, 10, 10), {"angle": float("nan")}, "sector angle"),
        (Point(0, 0), {}, "Polygon or MultiPolygon"),
        (Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]), {}, "invalid geometry"),
        (box(0, 0, 10, 10), {"obstacles": [LineString([(0, 0), (1, 1)])]}, "obstacle 1"),
    ],
)
def test_bad_input_is_refused_with_the_reason(area, kwargs, message):
    with pytest.raises(SapperError, match=message):
        split_into_sectors(area, **kwargs)


def test_lanes_of_each_sector_stay_in_it():
    ruin = affinity.rotate(box(60, 20, 75, 35), 20)
    sectors = split_into_sectors(box(0, 0, 200, 90), obstacles=[ruin])
    for s in sectors:
        plan = plan_lanes(s.geometry, 1.75, obstacles=[ruin])
        assert s.geometry.buffer(1e-6).covers(shapely.union_all(plan.lanes))
        assert not any(lane.intersects(ruin.buffer(-1e-6)) for lane in plan.lanes)


@st.composite
def hazards_with_ruins(draw):
    """A star-shaped hazard 20-400 m across with up to 5 rotated ruins."""
    n = draw(st.integers(3, 14))
    degrees = np.sort(draw(st.lists(st.integers(0, 359), min_size=n, max_size=n, unique=True)))
    radii = draw(st.lists(st.floats(10, 200), min_size=n, max_size=n))
    t = np.radians(degrees)
    hazard = Polygon(np.column_stack([np.cos(t) * radii, np.sin(t) * radii]))
    assume(hazard.is_valid and hazard.area > 1)
    ruins = []
    for _ in range(draw(st.integers(0, 5))):
        cx, cy = draw(st.floats(-150, 150)), draw(st.floats(-150, 150))
        w, h = draw(st.floats(2, 60)), draw(st.floats(2, 60))
        ruins.append(affinity.rotate(box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), draw(st.floats(0, 90))))
    return hazard, ruins


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(
    case=hazards_with_ruins(),
    width=st.floats(5, 60),
    length=st.floats(5, 120),
    angle=st.one_of(st.none(), st.floats(0, 180)),
    share=st.floats(0, 0.5),
)
def test_sectors_conserve_the_area_of_random_hazards(case, width, length, angle, share):
    hazard, ruins = case
    note(f"hazard {hazard.wkt} ruins {[r.wkt for r in ruins]}")
    sectors = split_into_sectors(hazard, width, length, obstacles=ruins, angle=angle, min_area=share * width * length)
    free = hazard.difference(shapely.union_all(ruins)) if ruins else hazard
    assume(free.area > 0)
    assert_partition(sectors, free)
    for ruin in ruins:
        inside = ruin.buffer(-1e-6)
        assert all(s.geometry.intersection(inside).area < 1e-6 for s in sectors)


def test_a_thin_hazard_along_the_grid_keeps_all_its_ground() -> None:
    # found by the random test above: the hazard's long edge lies along its one cell's edge, and
    # floating overlay clipped the cell to nothing, so the hazard had no sector at all
    hazard = shapely.from_wkt(
        "POLYGON ((-7.071067811865475 7.0710678118654755, -1.5643446504023104 -9.876883405951377, "
        "47.82065422794586 -73.63734999230562, -7.071067811865475 7.0710678118654755))"
    )
    sectors = split_into_sectors(hazard, 9.89146021354496, 117.92340970957122, min_area=0.2857 * 9.89 * 117.92)
    assert_partition(sectors, hazard)
