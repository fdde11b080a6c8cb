"""Coverage lanes: known answers on small shapes, and the coverage guarantee on random polygons with holes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from shapely import affinity
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from sapper.model.errors import SapperError
from sapper.plan.lanes import DEFAULT_SPEED_M_PER_H, PROFILES, plan_lanes
from sapper.plan.lanes.laps import QUAD_SEGS, split_spurs

TOL = 1e-6


def passes(plan) -> list[LineString]:
    return [lane for i, lane in enumerate(plan.lanes) if i not in plan.laps]


def offsets(plan, geom) -> tuple[np.ndarray, float, float]:
    """Offsets of the passes in ``geom`` across the sweep direction, and the extent of ``geom`` in that direction."""
    t = math.radians(plan.angle)
    normal = np.array([-math.sin(t), math.cos(t)])
    within = [lane for lane in passes(plan) if geom.buffer(TOL).covers(lane)]
    mids = np.array([lane.interpolate(0.5, normalized=True).coords[0] for lane in within]).reshape(-1, 2)
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
    assert plan.lane_length_m == pytest.approx(sum(lane.length for lane in plan.lanes))


def assert_covered_where_reachable(plan) -> BaseGeometry:
    """What the lanes miss lies where no disc of the lane's width reaches (corner tips, narrow strips)."""
    r = plan.lane_width / 2
    reach = plan.area.buffer(-r, quad_segs=QUAD_SEGS).buffer(r, quad_segs=QUAD_SEGS)
    missed = plan.uncovered()
    assert shapely.intersection(missed, reach, grid_size=TOL).area < 1e-6
    return missed


def test_rectangle_known_answer():
    plan = plan_lanes(box(0, 0, 100, 60), 2.0, speed_m_per_h=1000.0, turn_time_s=36.0)
    assert plan.angle == 0.0  # along the long side
    # First one lap a half width inside the edges, then 28 passes between the lap's long sides.
    assert plan.laps == (0,)
    ring, spurs = split_spurs(np.array(plan.lanes[0].coords))
    assert LineString(ring).equals(box(1, 1, 99, 59).exterior) and plan.lanes[0].is_closed
    # At each corner the lap drives on to the edge and back (1 m each way) before it turns.
    assert len(spurs) == 4 and np.allclose(np.hypot(*(spurs[:, 1] - spurs[:, 0]).T), 1.0)
    assert sorted(map(tuple, np.round(spurs[:, 1], 9) + 0.0)) == [(0, 59), (1, 0), (99, 60), (100, 1)]
    assert plan.lap_length_m == 2 * (98 + 58) + 4 * 2
    ys = [lane.coords[0][1] for lane in passes(plan)]
    assert ys == [3.0 + 2 * k for k in range(28)]
    assert all(lane.length == 98.0 for lane in passes(plan))
    # Zigzag from the lap's end: each pass runs the other way from the one before.
    assert plan.lanes[0].coords[-1] == (99.0, 1.0)
    assert plan.lanes[1].coords[:] == [(99.0, 3.0), (1.0, 3.0)]
    assert plan.lanes[2].coords[:] == [(1.0, 5.0), (99.0, 5.0)]
    assert plan.turns == 28 and plan.connection_length_m == 56.0
    assert plan.lane_length_m == 320 + 28 * 98 and plan.length_m == 3120.0
    # The lap starts on a corner and turns on the spot at the other three: a turn's time each.
    assert plan.pivots == 3
    assert plan.estimated_hours == pytest.approx(3120.0 / 1000.0 + (28 + 3) * 36.0 / 3600.0)
    # The spurs sweep the square corners: nothing is left.
    assert assert_covered_where_reachable(plan).area == 0.0
    assert_drive_is_continuous(plan)


def test_overlap_sets_the_spacing_and_the_passes_overlap_the_lap_by_it():
    plan = plan_lanes(box(0, 0, 100, 60), 2.0, overlap=0.5, angle=0)
    ys = [lane.coords[0][1] for lane in passes(plan)]
    assert ys[0] == 2.5 and ys[-1] == 57.5  # the lap runs at y = 1 and 59: one spacing away
    gaps = np.diff(ys)
    assert np.allclose(gaps[:-1], 1.5)  # lane width minus overlap
    assert 0 < gaps[-1] <= 1.5  # the last gap closes on the lap
    assert len(ys) == 38
    assert plan.uncovered().area == 0.0


def test_triangle_is_covered_but_for_the_tips_of_its_sharp_corners():
    triangle = Polygon([(0, 0), (100, 0), (0, 40)])
    plan = plan_lanes(triangle, 2.0, angle=0)
    assert plan.area.equals(triangle)
    assert len(plan.laps) == 1 and plan.lanes[0].is_closed
    assert len(split_spurs(np.array(plan.lanes[0].coords))[1]) == 3  # one into each corner
    missed = assert_covered_where_reachable(plan)
    # In a corner of angle a < 90 degrees a flat tool 2r wide cannot enter the triangle
    # between the two edges and the tool's front where its far end meets the far edge:
    # 2 r cot(a) from the corner along the edge the lap comes in on (either edge).
    corners, bound = [], 0.0
    for (v, p, q), a in zip(
        [((0, 0), (100, 0), (0, 40)), ((100, 0), (0, 40), (0, 0)), ((0, 40), (0, 0), (100, 0))],
        [math.pi / 2, math.atan(0.4), math.pi / 2 - math.atan(0.4)],
    ):
        v, e1, e2 = np.array(v), np.array(p) - v, np.array(q) - v
        e1, e2 = e1 / np.hypot(*e1), e2 / np.hypot(*e2)
        reach_in = 2 / math.tan(a)
        for along, other in ((e1, e2), (e2, e1)):
            corners.append(Polygon([v, v + along * reach_in, v + other * 2 / math.sin(a)]))
        bound += 2 / math.tan(a)  # r x (2 r cot a) with r = 1
    assert 0 < missed.area < bound
    assert missed.difference(shapely.union_all(corners)).area < 1e-6
    assert missed.intersection(Point(0, 0).buffer(3)).area == 0.0  # the square corner is swept whole
    assert_drive_is_continuous(plan)


def test_rotated_parallelogram_is_covered_with_passes_along_its_long_side():
    shape = affinity.rotate(affinity.skew(box(0, 0, 80, 30), xs=25), 33, origin=(0, 0))
    plan = plan_lanes(shape, 1.75)
    assert plan.angle == pytest.approx(33.0)
    assert len(plan.laps) == 1
    lengths = [lane.length for lane in passes(plan)]
    assert max(lengths) - min(lengths) < 30 * math.tan(math.radians(25)) + 1e-6
    passes_at, lo, hi = offsets(plan, plan.inner)
    assert passes_at[0] - lo == pytest.approx(1.75) and hi - passes_at[-1] == pytest.approx(1.75)
    assert np.diff(passes_at).max() <= 1.75 + 1e-9
    missed = assert_covered_where_reachable(plan)
    assert 0 < missed.area < 2.0  # four corner tips
    assert_drive_is_continuous(plan)


def test_round_hole_gets_a_lap_and_the_ground_round_it_is_covered():
    hole = Point(30, 20).buffer(8, quad_segs=16)
    plan = plan_lanes(box(0, 0, 60, 40).difference(hole), 2.0, angle=0)
    assert len(plan.laps) == 2
    lap = plan.lanes[plan.laps[1]]
    assert 0.99 <= lap.distance(hole) <= 1.0 + 1e-9 and lap.is_closed  # half a width off the hole
    assert assert_covered_where_reachable(plan).area == 0.0
    inside = hole.buffer(-TOL)
    assert not plan.path.intersects(inside)
    assert plan.pivots == 3  # the outer lap's corners; round the hole it bends gently
    assert_drive_is_continuous(plan)


def test_hole_splits_passes_and_moves_go_around_it():
    # 100 x 60 with a ruin 20 x 10 in the middle; a lap round each, passes at y = 3, 5, ..., 57.
    hole = box(40, 20, 60, 30)
    plan = plan_lanes(box(0, 0, 100, 60).difference(hole), 2.0, angle=0)
    assert len(plan.laps) == 2 and len(plan.lanes) == 2 + 22 + 2 * 6  # passes y = 19 ... 29 cut in two
    lap = plan.lanes[plan.laps[1]]
    # 1 m off the ruin's sides, round its corners on chords (the nearest at r cos(pi / 4 / QUAD_SEGS)).
    assert lap.distance(hole) == pytest.approx(math.cos(math.pi / 4 / QUAD_SEGS))
    assert lap.hausdorff_distance(hole.exterior) == pytest.approx(1.0)
    assert plan.lane_length_m == pytest.approx(320 + lap.length + 22 * 98 + (39 + 39) + 5 * (38 + 38))
    assert_covered_where_reachable(plan)
    inside = hole.buffer(-TOL)
    assert not any(move.intersects(inside) for move in plan.connections)
    assert not plan.path.intersects(inside)
    assert plan.bends  # at least one move goes round the ruin
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
    assert sum(lane.within(yard.buffer(TOL)) for lane in plan.lanes) >= 2  # its lap and its passes
    assert plan.walled_in  # into the yard and out again
    blocked = shapely.union_all(walls).buffer(-TOL)
    for i, move in enumerate(plan.connections):
        assert move.intersects(blocked) == (i in plan.walled_in)


def test_strip_narrower_than_a_lane_gets_one_pass_down_its_middle():
    plan = plan_lanes(box(0, 0, 100, 1.2), 1.75)
    assert len(plan.lanes) == 1 and plan.laps == ()
    assert plan.lanes[0].coords[:] in ([(0, 0.6), (100, 0.6)], [(100, 0.6), (0, 0.6)])
    assert plan.turns == 0 and plan.estimated_hours == pytest.approx(100 / DEFAULT_SPEED_M_PER_H)
    assert plan.uncovered().area == 0.0


def test_passage_narrower_than_a_lane_gets_a_pass_down_its_middle():
    # A yard with a 1.2 m passage leading off it: no lap fits the passage, one pass runs along it.
    ground = box(0, 0, 40, 20).union(box(40, 8, 90, 9.2))
    plan = plan_lanes(ground, 2.0, angle=0)
    assert len(plan.laps) == 1
    along = [lane for lane in passes(plan) if lane.coords[0][1] == pytest.approx(8.6)]
    assert len(along) == 1 and along[0].length > 49 and max(x for x, _ in along[0].coords) == 90.0
    missed = assert_covered_where_reachable(plan)
    assert missed.area < 0.1  # at the passage's mouth


def test_separate_parts_are_each_covered_and_joined_into_one_drive():
    parts = MultiPolygon([box(0, 0, 50, 20), box(70, 5, 120, 15)])
    plan = plan_lanes(parts, 2.0, angle=0)
    assert len(plan.laps) == 2 and len(plan.lanes) == (1 + 8) + (1 + 3)
    assert plan.laps in ((0, 4), (0, 9))  # one part whole (lap, passes), then the other
    assert plan.uncovered().area == 0.0
    assert_drive_is_continuous(plan)


def test_start_point_picks_the_nearest_point_of_the_lap():
    plan = plan_lanes(box(0, 0, 100, 60), 2.0, start=(100, 70))
    assert plan.lanes[0].coords[0] == (99.0, 59.0) == plan.lanes[0].coords[-1]
    assert plan.lanes[0].coords[-3:] == [(99.0, 59.0), (99.0, 60.0), (99.0, 59.0)]  # its corner's spur last


def test_default_direction_takes_fewer_turns_than_across():
    corridor = affinity.rotate(box(0, 0, 200, 20), 120, origin=(0, 0))
    chosen = plan_lanes(corridor, 2.0)
    across = plan_lanes(corridor, 2.0, angle=30)
    assert chosen.turns == 8  # the lap and 8 passes
    assert across.turns > 8 * 9
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
    # Coverage: whatever the footprints miss lies where no disc of the lane's width reaches.
    assert_covered_where_reachable(plan)
    # Laps: one round each ring of the inner area, closed, half a width off the free area's edge
    # (up to 2 % less: GEOS draws offsets with chords and simplifies them by 1 % of the distance).
    inner_rings = shapely.get_num_interior_rings(shapely.get_parts(plan.inner)).sum() + len(
        shapely.get_parts(plan.inner)
    )
    assert len(plan.laps) == (inner_rings if not plan.inner.is_empty else 0)
    for i in plan.laps:
        lap = plan.lanes[i]
        assert lap.is_closed
        ring, spurs = split_spurs(np.array(lap.coords))
        assert width / 2 * 0.98 <= LineString(ring).distance(free.boundary) <= width / 2 + 1e-6
        for spur in spurs:  # into a corner, the tool's footprint inside the free area
            assert free.buffer(TOL, join_style="mitre").covers(LineString(spur).buffer(width / 2, cap_style="flat"))
    # Passes: lane width minus overlap apart, the outer ones that far from the lap line.
    if isinstance(free, Polygon) and isinstance(plan.inner, Polygon) and not plan.inner.is_empty:
        along, lo, hi = offsets(plan, plan.inner)
        if hi - lo > 2 * plan.spacing:
            assert along[0] - lo == pytest.approx(plan.spacing, abs=1e-6)
            assert hi - along[-1] == pytest.approx(plan.spacing, abs=1e-6)
            assert np.diff(along).max(initial=0) <= plan.spacing + 1e-6
    assert_drive_is_continuous(plan)
