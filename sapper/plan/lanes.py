"""Coverage lanes: how a robot, a machine or a line of deminers sweeps one sector.

Boustrophedon coverage (parallel passes driven in alternating directions): passes are
``lane_width - overlap`` apart, the first and the last half a width inside the area,
cut wherever an obstacle or a hole interrupts them, grouped into cells that can be
swept in one zigzag, and the cells visited nearest first. Moves between lanes go
straight when they stay in the free area and around the obstacles otherwise.

Geometry is plain shapely in a metric CRS (metres); project WGS 84 data first with
:func:`sapper.model.geometry.to_metric`. Angles are degrees counter-clockwise from the
x axis (east).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.model.errors import SapperError
from sapper.plan.geom_cells import cells, drive_order
from sapper.plan.geom_route import Router
from sapper.plan.geom_scan import Edges, Segments, from_frame, pass_positions, polygon_edges, scan, to_frame
from sapper.plan.geom_shapes import candidate_angles, free_area

# Defaults when the caller names no asset: the Uran-6 profile below (assumptions, see there).
DEFAULT_SPEED_M_PER_H = 475.0
DEFAULT_TURN_TIME_S = 60.0
GRID_M = 1e-6  # precision of the coverage overlays, metres


@dataclass(frozen=True)
class LanePlan:
    """The lanes of one sector in driving order, the moves between them, and what they cost.

    Coverage guarantee (tested): every lane lies inside ``area`` (the sector minus the
    obstacles) and never crosses an obstacle's interior. Every point of ``area`` lies
    under some lane's footprint (the lane buffered by ``lane_width / 2`` with flat ends),
    except points within ``lane_width / 2`` of the area's boundary that a straight pass
    cannot reach: where an edge runs oblique to the lanes, or where a hole's edge falls
    between two passes. Edges along or across the lanes are covered exactly, so a
    rectangle swept along a side is covered in full. :meth:`uncovered` gives the exact
    remainder, for a manual team to finish.

    Moves between lanes stay inside ``area`` and go round obstacles; only a move between
    separate parts of a sector leaves it (still going round the obstacles). A part that
    obstacles wall in completely cannot be reached on the ground: the moves into and out
    of it go straight across and are listed in ``walled_in``.
    """

    area: BaseGeometry
    starts: np.ndarray = field(repr=False)  # (n, 2) where each lane begins, in driving order
    ends: np.ndarray = field(repr=False)  # (n, 2) where each lane ends
    bends: dict[int, np.ndarray] = field(repr=False)  # corners of move i where it goes round an obstacle
    lane_width: float
    overlap: float
    angle: float
    lane_length_m: float
    connection_length_m: float
    estimated_hours: float
    walled_in: tuple[int, ...] = ()  # moves that cross an obstacle because no way round exists

    @cached_property
    def lanes(self) -> tuple[LineString, ...]:
        """The lanes in driving order, each drawn in its driving direction."""
        return tuple(shapely.linestrings(np.stack([self.starts, self.ends], axis=1)).tolist())

    @cached_property
    def connections(self) -> tuple[LineString, ...]:
        """``connections[i]`` joins the end of ``lanes[i]`` to the start of ``lanes[i + 1]``."""
        a, b = self.ends[:-1], self.starts[1:]
        moves = shapely.linestrings(np.stack([a, b], axis=1)) if len(a) else np.empty(0, dtype=object)
        for i, mid in self.bends.items():
            moves[i] = shapely.linestrings(np.vstack([a[i], mid, b[i]]))
        return tuple(moves.tolist())

    @cached_property
    def path(self) -> LineString:
        """The whole drive as one line: lane, move, lane, ..."""
        if len(self.starts) == 0:
            return LineString()
        coords = np.stack([self.starts, self.ends], axis=1).reshape(-1, 2)
        if self.bends:
            where = np.concatenate([np.full(len(mid), 2 * i + 2) for i, mid in self.bends.items()])
            coords = np.insert(coords, where, np.concatenate(list(self.bends.values())), axis=0)
        return shapely.linestrings(coords)

    @property
    def length_m(self) -> float:
        """Total driven length: lanes plus the moves between them."""
        return self.lane_length_m + self.connection_length_m

    @property
    def turns(self) -> int:
        """Number of moves from one lane to the next."""
        return max(len(self.starts) - 1, 0)

    @property
    def spacing(self) -> float:
        return self.lane_width - self.overlap

    def covered(self) -> BaseGeometry:
        """Ground under the lanes' footprints (each lane buffered by half the width, flat ends).

        The union is snapped to a micrometre grid (thousands of abutting footprints
        otherwise trip floating-point overlay into dropping some of them), and each
        footprint is two grid steps wider so that abutting ones overlap instead of
        leaving zero-width seams.
        """
        if not self.lanes:
            return Polygon()
        half = self.lane_width / 2.0 + 2 * GRID_M
        footprints = shapely.buffer(np.array(self.lanes, dtype=object), half, cap_style="flat")
        return shapely.union_all(footprints, grid_size=GRID_M)

    def uncovered(self) -> BaseGeometry:
        """The part of the area no lane covers (slivers along oblique edges), for manual follow-up."""
        return shapely.difference(self.area, self.covered(), grid_size=GRID_M)


@dataclass(frozen=True, slots=True)
class LaneProfile:
    """Lane width, overlap and pace of one kind of asset."""

    name: str
    lane_width: float
    overlap: float
    speed_m_per_h: float  # along a lane while clearing
    turn_time_s: float
    transit_speed_m_per_h: float  # between lanes, over cleared ground
    source: str

    def options(self) -> dict[str, float]:
        """Keyword arguments for :func:`plan_lanes`."""
        return {
            "lane_width": self.lane_width,
            "overlap": self.overlap,
            "speed_m_per_h": self.speed_m_per_h,
            "turn_time_s": self.turn_time_s,
            "transit_speed_m_per_h": self.transit_speed_m_per_h,
        }


# Speeds are area rates divided by the effective lane (width minus overlap); the area
# rates are the most likely figures of the planner's productivity table.
PROFILES: dict[str, LaneProfile] = {
    p.name: p
    for p in (
        LaneProfile(
            "uran-6",
            1.75,
            0.25,
            DEFAULT_SPEED_M_PER_H,
            DEFAULT_TURN_TIME_S,
            2000.0,
            "1.75 m lane: published Palmyra 2016 figures (DESIGN.md). 475 m/h: 5,000 m2 in a 7-hour day "
            "over a 1.5 m effective lane, ASSUMPTION from press reports of up to one hectare a day. "
            "Overlap 0.25 m, 60 s a turn and 2 km/h between lanes: ASSUMPTIONS.",
        ),
        LaneProfile(
            "mv-4",
            1.7,
            0.2,
            533.0,
            45.0,
            3000.0,
            "MV-4 up to about 1,500 m2/h (DESIGN.md); 800 m2/h most likely (ASSUMPTION) over a 1.5 m "
            "effective lane gives 533 m/h. Flail width 1.7 m, overlap 0.2 m, 45 s a turn and 3 km/h "
            "between lanes: ASSUMPTIONS.",
        ),
        LaneProfile(
            "manual",
            1.0,
            0.0,
            2.86,
            0.0,
            2000.0,
            "1 m lane per deminer (DESIGN.md, e.g. Sudan). 10-50 m2 per deminer-day (HALO Trust), "
            "5-20 m2 in full clearance (Palmyra reports): 20 m2 over a 7-hour day gives 2.86 m/h "
            "(ASSUMPTION). Walking back over cleared ground at 2 km/h: ASSUMPTION.",
        ),
    )
}


def plan_lanes(
    sector: Polygon | MultiPolygon,
    lane_width: float,
    overlap: float = 0.0,
    obstacles: Sequence[BaseGeometry] = (),
    angle: float | None = None,
    speed_m_per_h: float = DEFAULT_SPEED_M_PER_H,
    turn_time_s: float = DEFAULT_TURN_TIME_S,
    transit_speed_m_per_h: float | None = None,
    start: tuple[float, float] | None = None,
) -> LanePlan:
    """Plan the coverage lanes of a sector for an asset of ``lane_width`` metres.

    ``overlap``: metres each pass overlaps the previous one (0 <= overlap < lane_width).
    ``angle``: lane direction in degrees; by default the cheapest of a few candidates
    (the sides of the minimum rotated rectangle and the longest edges), judged by the
    estimated time, so long straight lanes and few turns win.
    ``speed_m_per_h``: along a lane; ``transit_speed_m_per_h`` between lanes (defaults
    to ``speed_m_per_h``); ``turn_time_s``: added for each move between lanes.
    ``start``: where the asset stands; the nearest cell corner is swept first.
    """
    _check(lane_width, overlap, speed_m_per_h, turn_time_s, transit_speed_m_per_h)
    if angle is not None and not math.isfinite(angle):
        raise SapperError(f"lane angle must be a number of degrees, not {angle!r}")
    pace = _Pace(speed_m_per_h, turn_time_s, transit_speed_m_per_h or speed_m_per_h)
    area = free_area(sector, obstacles)
    spacing = lane_width - overlap
    if area.is_empty:
        return _empty(area, lane_width, overlap, angle or 0.0)
    edges = polygon_edges(area)
    origin = (float(area.bounds[0]), float(area.bounds[1]))
    if angle is None:
        sweeps = [_sweep(edges, a, origin, lane_width, spacing) for a in candidate_angles(area)]
        sweep = min(sweeps, key=lambda sw: _estimate(sw, spacing, pace))
    else:
        sweep = _sweep(edges, float(angle), origin, lane_width, spacing)
    found = cells(sweep.segments, sweep.part_of_line)
    order = drive_order(found, sweep.segments, sweep.ys, _start(start, sweep))
    return _assemble(area, obstacles, sweep, order, lane_width, overlap, pace)


@dataclass(frozen=True, slots=True)
class _Pace:
    speed: float  # m/h along lanes
    turn_time: float  # s per move
    transit: float  # m/h between lanes

    def hours(self, lane_m: float, move_m: float, moves: int) -> float:
        return lane_m / self.speed + move_m / self.transit + moves * self.turn_time / 3600.0


@dataclass(frozen=True, slots=True)
class _Sweep:
    """Scan-line pieces of the free area in the frame where lanes run along x."""

    angle: float
    origin: tuple[float, float]
    ys: np.ndarray
    part_of_line: np.ndarray
    segments: Segments


def _sweep(edges: Edges, angle: float, origin: tuple[float, float], width: float, spacing: float) -> _Sweep:
    """Passes for each polygon of the area on its own (a part gets passes fitted to its own extent)."""
    turned = edges.rotated(angle, origin)
    ys_all, parts, pieces = [], [], []
    offset = 0
    for part in np.unique(turned.part).tolist():
        mask = turned.part == part
        own, global_edge = turned.select(mask), np.flatnonzero(mask)
        ymin = float(min(own.y1.min(), own.y2.min()))
        ymax = float(max(own.y1.max(), own.y2.max()))
        ys = pass_positions(ymin, ymax, width, spacing)
        seg = scan(own, ys)
        pieces.append(Segments(seg.line + offset, seg.x0, seg.x1, global_edge[seg.edge0], global_edge[seg.edge1]))
        ys_all.append(ys)
        parts.append(np.full(len(ys), part))
        offset += len(ys)
    segments = Segments(*(np.concatenate([getattr(p, f) for p in pieces]) for f in Segments.__slots__))
    return _Sweep(angle, origin, np.concatenate(ys_all), np.concatenate(parts), segments)


def _estimate(sweep: _Sweep, spacing: float, pace: _Pace) -> float:
    """Rough hours for one lane direction: lane length, one turn and one spacing per extra lane."""
    seg = sweep.segments
    extra = max(len(seg) - 1, 0)
    return pace.hours(float(seg.length.sum()), extra * spacing, extra)


def _start(start: tuple[float, float] | None, sweep: _Sweep) -> tuple[float, float] | None:
    if start is None:
        return None
    x, y = to_frame(np.array([start[0]]), np.array([start[1]]), sweep.angle, sweep.origin)
    return float(x[0]), float(y[0])


def _assemble(area, obstacles, sweep: _Sweep, order, width: float, overlap: float, pace: _Pace) -> LanePlan:
    """Lane and move geometries in the sector's CRS, in driving order, with lengths and time."""
    seg = sweep.segments
    idx, right = order
    if len(idx) == 0:
        return _empty(area, width, overlap, sweep.angle)
    y = sweep.ys[seg.line[idx]]
    xa = np.where(right, seg.x0[idx], seg.x1[idx])
    xb = np.where(right, seg.x1[idx], seg.x0[idx])
    ea = np.where(right, seg.edge0[idx], seg.edge1[idx])
    eb = np.where(right, seg.edge1[idx], seg.edge0[idx])
    ax, ay = from_frame(xa, y, sweep.angle, sweep.origin)
    bx, by = from_frame(xb, y, sweep.angle, sweep.origin)
    starts, ends = np.column_stack([ax, ay]), np.column_stack([bx, by])
    # A move between two points of one boundary edge runs along that edge: inside, no test needed.
    bends, walled_in = _bends(area, obstacles, ends[:-1], starts[1:], same_edge=eb[:-1] == ea[1:])
    lane_len = float(np.abs(xb - xa).sum())
    move_len = _moves_length(ends[:-1], starts[1:], bends)
    return LanePlan(
        area=area,
        starts=starts,
        ends=ends,
        bends=bends,
        lane_width=width,
        overlap=overlap,
        angle=sweep.angle,
        lane_length_m=lane_len,
        connection_length_m=move_len,
        estimated_hours=pace.hours(lane_len, move_len, len(starts) - 1),
        walled_in=walled_in,
    )


def _bends(area, obstacles, a: np.ndarray, b: np.ndarray, same_edge: np.ndarray):
    """Corners of the moves a[i] -> b[i] that go round an obstacle (by move index), and the walled-in moves.

    A move between separate parts of the sector cannot stay inside it: it goes round
    the obstacles over whatever ground lies between, or straight across if none can.
    """
    todo = np.flatnonzero(~same_edge)
    bends: dict[int, np.ndarray] = {}
    walled_in: list[int] = []
    if len(todo) == 0:
        return bends, ()
    router = Router(area)
    outside: Router | None = None
    for i in todo[~router.straight(a[todo], b[todo])].tolist():
        points = router.route(tuple(a[i]), tuple(b[i]))
        if len(points) == 2 and len(obstacles):
            if outside is None:
                outside = Router(_ground_between(area, obstacles))
            points = outside.route(tuple(a[i]), tuple(b[i]))
            if len(points) == 2 and not outside.straight(a[i : i + 1], b[i : i + 1])[0]:
                walled_in.append(i)
        if len(points) > 2:
            bends[i] = np.asarray(points[1:-1])
    return bends, tuple(walled_in)


def _ground_between(area, obstacles) -> BaseGeometry:
    """Everywhere around the sector except the obstacles."""
    blocked = shapely.union_all(list(obstacles))
    minx, miny, maxx, maxy = shapely.union_all([area, blocked]).bounds
    pad = 1.0 + 0.01 * max(maxx - minx, maxy - miny)
    return shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad).difference(blocked)


def _moves_length(a: np.ndarray, b: np.ndarray, bends: dict[int, np.ndarray]) -> float:
    lengths = np.hypot(*(b - a).T)
    for i, mid in bends.items():
        pts = np.vstack([a[i], mid, b[i]])
        lengths[i] = np.hypot(*np.diff(pts, axis=0).T).sum()
    return float(lengths.sum())


def _empty(area, width, overlap, angle) -> LanePlan:
    nothing = np.empty((0, 2))
    return LanePlan(area, nothing, nothing, {}, width, overlap, angle, 0.0, 0.0, 0.0)


def _check(width, overlap, speed, turn_time, transit) -> None:
    if not (isinstance(width, (int, float)) and math.isfinite(width) and width > 0):
        raise SapperError(f"lane width must be a positive number of metres, not {width!r}")
    if not (0 <= overlap < width):
        raise SapperError(f"overlap must be at least 0 m and less than the lane width ({width} m), not {overlap!r}")
    if not speed > 0:
        raise SapperError(f"speed must be positive (metres per hour), not {speed!r}")
    if transit is not None and not transit > 0:
        raise SapperError(f"transit speed must be positive (metres per hour), not {transit!r}")
    if not turn_time >= 0:
        raise SapperError(f"turn time must be 0 s or more, not {turn_time!r}")
