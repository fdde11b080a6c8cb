"""Coverage lanes: known answers on small shapes, and the coverage guarantee on random polygons with holes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from shapely import affinity
from shapely.geometry import LineString, MultiPolygon, Polygon, box

from sapper.model.errors import SapperError
from sapper.plan.lanes import DEFAULT_SPEED_M_PER_H, PROFILES, plan_lanes

TOL = 1e-6


def offsets(plan, geom) -> tuple[np.ndarray, float, float]:
    """Offsets of the lanes across the sweep direction, and the extent of ``geom`` in that direction."""
    t = math.radians(plan.angle)
    normal = np.array([-math.sin(t), math.cos(t)])
    mids = np.array([np.asarray(lane.interpolate(0.5, normalized=True).coords[0]) for lane in plan.lanes])
    across = shapely.get_coordinates(geom) @ normal
    return np.unique(np.round(mids @ normal, 9)), float(across.min()), float(across.max())


def assert_drive_is_continuous(plan) -> None:
    assert plan.turns == len(plan.connections) == len(plan.lanes) - 1
    for i, move in enumerate(plan.connections):
        assert move.coords[0] == pytest.approx(plan.lanes[i].coords[-1])
        assert move.coords[-1] == pytest.approx(plan.lanes[i + 1].coords[0])
    assert plan.path.geom_type == "LineString"
    assert plan.path.length == pytest.approx(plan.length_m)
    assert plan.length_m == pytest.approx(sum(x.length for x in (*plan.lanes, *plan.connections)))


def test_rectangle_known_answer():
    plan = plan_lanes(box(0, 0, 100, 60), 2.0, speed_m_per_h=1000.0, turn_time_s=36.0)
    assert plan.angle == 0.0  # along the long side
    assert len(plan.lanes) == 30
    assert [lane.coords[0][1] for lane in plan.lanes] == [1.0 + 2 * k for k in range(30)]
    assert all(lane.length == 100.0 for lane in plan.lanes)
    # Zigzag: each lane runs the other way from the one before, turning on the short side.
    assert plan.lanes[0].coords[:] == [(0.0, 1.0), (100.0, 1.0)]
    assert plan.lanes[1].coords[:] == [(100.0, 3.0), (0.0, 3.0)]
    assert plan.turns == 29 and plan.connection_length_m == 58.0
    assert plan.length_m == 3058.0
    assert plan.estimated_hours == pytest.approx(3058.0 / 1000.0 + 29 * 36.0 / 3600.0)
    assert plan.uncovered().area == 0.0
    assert_drive_is_continuous(plan)


def test_overlap_sets_the_spacing_and_the_edges_get_half_a_width():
    plan = plan_lanes(box(0, 0, 100, 60), 2.0, overlap=0.5, angle=0)
    ys = [lane.coords[0][1] for lane in plan.lanes]
    assert ys[0] == 1.0 and ys[-1] == 59.0  # half a width inside the edges
    gaps = np.diff(ys)
    assert np.allclose(gaps[:-1], 1.5)  # lane width minus overlap
    assert 0 < gaps[-1] <= 1.5  # the last gap closes on the far edge
    assert len(ys) == 40
    assert plan.uncovered().area == 0.0


def test_rotated_sector_is_swept_along_its_long_side_and_covered():
    sector = affinity.rotate(box(0, 0, 80, 30), 33, origin=(0, 0))
    plan = plan_lanes(sector, 1.75)
    assert plan.angle == pytest.approx(33.0)
    assert len(plan.lanes) == math.ceil((30 - 1.75) / 1.75) + 1
    assert all(lane.length == pytest.approx(80.0) for lane in plan.lanes)
    passes, lo, hi = offsets(plan, sector)
    assert passes[0] - lo == pytest.approx(1.75 / 2) and hi - passes[-1] == pytest.approx(1.75 / 2)
    assert np.diff(passes).max() <= 1.75 + 1e-9
    assert plan.uncovered().area < 1e-6
    assert_drive_is_continuous(plan)


def test_hole_splits_lanes_and_moves_go_around_it():
    # 100 x 60 with a ruin 20 x 10 in the middle; passes at y = 1, 3, ..., 59.
    hole = box(40, 20, 60, 30)
    plan = plan_lanes(box(0, 0, 100, 60).difference(hole), 2.0, angle=0)
    assert len(plan.lanes) == 35  # 25 full passes and 5 passes cut in two
    assert plan.lane_length_m == 25 * 100 + 5 * 80
    # Hand count: 10 lanes below, 5 left of the ruin, round its top (22 m), 5 right, 15 above.
    assert plan.connection_length_m == 18 + 2 + 8 + 22 + 8 + 10 + 28
    assert plan.uncovered().area == 0.0
    inside = hole.buffer(-TOL)
    assert not any(move.intersects(inside) for move in plan.connections)
    assert not plan.path.intersects(inside)
    assert_drive_is_continuous(plan)


def test_obstacles_act_like_holes():
    ruin = box(40, 20, 60, 30)
    as_hole = plan_lanes(box(0, 0, 100, 60).difference(ruin), 2.0, angle=0)
    as_obstacle = plan_lanes(box(0, 0, 100, 60), 2.0, angle=0, obstacles=[ruin])
    assert as_obstacle.path.equals(as_hole.path)


def test_buffered_obstacles_keep_the_machine_clear_of_a_ruin():
    # To keep a 1.75 m flail off a wall, buffer the ruin by half the width plus a margin
    # (mitred corners: a rounded buffer's chords would cut the corners a little).
    ruin = affinity.rotate(box(30, 10, 50, 25), 17)
    plan = plan_lanes(box(0, 0, 80, 40), 1.75, obstacles=[ruin.buffer(1.75 / 2 + 0.5, join_style="mitre")])
    assert min(lane.distance(ruin) for lane in plan.lanes) >= 1.75 / 2 + 0.5 - TOL
    assert plan.path.distance(ruin) >= 1.75 / 2 + 0.5 - TOL


def test_a_part_walled_in_by_ruins_is_reached_straight_across_and_flagged():
    # A courtyard: four walls close a 10 x 10 m yard inside a 40 x 40 m sector.
    walls = [box(10, 10, 25, 15), box(20, 10, 25, 30), box(10, 25, 25, 30), box(10, 10, 15, 30)]
    plan = plan_lanes(box(0, 0, 40, 40), 2.0, obstacles=walls, angle=0)
    yard = box(15, 15, 20, 25)
    assert any(lane.within(yard.buffer(TOL)) for lane in plan.lanes)
    assert plan.walled_in  # into the yard and out again
    blocked = shapely.union_all(walls).buffer(-TOL)
    for i, move in enumerate(plan.connections):
        assert move.intersects(blocked) == (i in plan.walled_in)


def test_strip_narrower_than_a_lane_gets_one_pass_down_its_middle():
    plan = plan_lanes(box(0, 0, 100, 1.2), 1.75)
    assert len(plan.lanes) == 1
    assert plan.lanes[0].coords[:] in ([(0, 0.6), (100, 0.6)], [(100, 0.6), (0, 0.6)])
    assert plan.turns == 0 and plan.estimated_hours == pytest.approx(100 / DEFAULT_SPEED_M_PER_H)


def test_oblique_edges_leave_slivers_only_along_the_boundary():
    triangle = Polygon([(0, 0), (100, 0), (0, 40)])
    plan = plan_lanes(triangle, 2.0, angle=0)
    missed = plan.uncovered()
    assert missed.area > 0  # a straight pass cannot reach into the corners of the sloping edge
    assert missed.difference(triangle.boundary.buffer(1.0 + TOL, quad_segs=64)).area < 1e-9
    assert plan.area.equals(triangle)


def test_separate_parts_are_each_covered_and_joined_into_one_drive():
    parts = MultiPolygon([box(0, 0, 50, 20), box(70, 5, 120, 15)])
    plan = plan_lanes(parts, 2.0, angle=0)
    assert len(plan.lanes) == 10 + 5
    assert plan.uncovered().area == 0.0
    assert_drive_is_continuous(plan)


def test_start_point_picks_the_nearest_corner():
    plan = plan_lanes(box(0, 0, 100, 60), 2.0, start=(100, 70))
    assert plan.lanes[0].coords[0] == (100.0, 59.0)


def test_default_direction_takes_fewer_turns_than_across():
    corridor = affinity.rotate(box(0, 0, 200, 20), 120, origin=(0, 0))
    chosen = plan_lanes(corridor, 2.0)
    across = plan_lanes(corridor, 2.0, angle=30)
    assert chosen.turns == 9
    assert across.turns > 9 * 9
    assert chosen.estimated_hours < across.estimated_hours


def test_sector_covered_by_obstacles_has_no_lanes():
    plan = plan_lanes(box(0, 0, 10, 10), 1.0, obstacles=[box(-1, -1, 11, 11)])
    assert plan.lanes == () and plan.length_m == 0.0 and plan.turns == 0 and plan.estimated_hours == 0.0


def test_profiles_cite_their_figures():
    for profile in PROFILES.values():
        assert profile.source
        plan = plan_lanes(box(0, 0, 80, 30), **profile.options())
        assert plan.lane_width == profile.lane_width
    assert PROFILES["uran-6"].lane_width == 1.75


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lane_width": 0}, "lane width"),
        ({"lane_width": float("nan")}, "lane width"),
        ({"lane_width": 2, "overlap": 2}, "overlap"),
        ({"lane_width": 2, "overlap": -0.1}, "overlap"),
        ({"lane_width": 2, "speed_m_per_h": 0}, "speed"),
        ({"lane_width": 2, "turn_time_s": -1}, "turn time"),
        ({"lane_width": 2, "angle": float("inf")}, "lane angle"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(kwargs, message):
    with pytest.raises(SapperError, match=message):
        plan_lanes(box(0, 0, 10, 10), **kwargs)


def test_bad_geometry_is_refused_with_the_reason():
    with pytest.raises(SapperError, match="Polygon or MultiPolygon"):
        plan_lanes(LineString([(0, 0), (1, 1)]), 1.0)
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    with pytest.raises(SapperError, match="invalid geometry"):
        plan_lanes(bowtie, 1.0)
    with pytest.raises(SapperError, match="obstacle 2"):
        plan_lanes(box(0, 0, 10, 10), 1.0, obstacles=[box(1, 1, 2, 2), LineString([(0, 0), (1, 1)])])


@st.composite
def sectors_with_ruins(draw):
    """A star-shaped sector (3-12 corners, 10-100 m from its centre), up to 4 rotated ruins, maybe at UTM scale."""
    n = draw(st.integers(3, 12))
    degrees = draw(st.lists(st.integers(0, 359), min_size=n, max_size=n, unique=True))
    angles = np.radians(np.sort(degrees))  # whole degrees: no zero-width spikes
    radii = draw(st.lists(st.floats(10, 100), min_size=n, max_size=n))
    sector = Polygon(np.column_stack([np.cos(angles) * radii, np.sin(angles) * radii]))
    assume(sector.is_valid and sector.area > 50)
    ruins = []
    for _ in range(draw(st.integers(0, 4))):
        cx, cy = draw(st.floats(-60, 60)), draw(st.floats(-60, 60))
        w, h = draw(st.floats(2, 30)), draw(st.floats(2, 30))
        ruins.append(affinity.rotate(box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), draw(st.floats(0, 90))))
    if draw(st.booleans()):  # projected coordinates are large: check the rounding holds there too
        sector = affinity.translate(sector, 612_345.0, 3_823_456.0)
        ruins = [affinity.translate(r, 612_345.0, 3_823_456.0) for r in ruins]
        assume(sector.is_valid)
    return sector, ruins


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(
    case=sectors_with_ruins(),
    width=st.floats(0.5, 5.0),
    overlap_share=st.floats(0.0, 0.5),
    angle=st.one_of(st.none(), st.floats(0, 180)),
)
def test_lanes_cover_random_polygons_with_holes(case, width, overlap_share, angle):
    sector, ruins = case
    note(f"sector {sector.wkt} ruins {[r.wkt for r in ruins]}")
    overlap = width * overlap_share
    plan = plan_lanes(sector, width, overlap=overlap, obstacles=ruins, angle=angle)
    free = plan.area
    assume(not free.is_empty)
    lanes = shapely.union_all(plan.lanes)
    # Lanes stay in the free area, and so do the moves unless they join separate parts; none enters a ruin.
    assert free.buffer(TOL).covers(lanes)
    if isinstance(free, Polygon):
        assert free.buffer(TOL).covers(plan.path)
    for i, move in enumerate(plan.connections):
        crosses = any(move.intersects(ruin.buffer(-TOL)) for ruin in ruins)
        assert crosses == (i in plan.walled_in)
    for lane in plan.lanes:
        assert not any(lane.intersects(ruin.buffer(-TOL)) for ruin in ruins)
    # Coverage: whatever the footprints miss lies within half a width of the boundary
    # (0.1 % slack for the polygonal approximation of the round buffer).
    strip = free.boundary.buffer(width / 2 * 1.001 + TOL, quad_segs=64)
    assert plan.uncovered().difference(strip).area < 1e-6
    # Passes: lane width minus overlap apart, the outer ones half a width inside the edges.
    if isinstance(free, Polygon):
        passes, lo, hi = offsets(plan, free)
        if hi - lo > width:
            assert passes[0] - lo == pytest.approx(width / 2, abs=1e-6)
            assert hi - passes[-1] == pytest.approx(width / 2, abs=1e-6)
            assert np.diff(passes).max(initial=0) <= width - overlap + 1e-6
    assert_drive_is_continuous(plan)
