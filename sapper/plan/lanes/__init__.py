"""Coverage lanes: how a robot, a machine or a line of deminers sweeps one sector.

Headland laps, then boustrophedon passes. The machine first drives one lap round the
outline and one round each obstacle or hole, half a width inside the free ground
(:mod:`sapper.plan.lanes.laps`); then parallel passes driven in alternating directions,
``lane_width - overlap`` apart, sweep the *inner area* the laps enclose, each pass
running from lap line to lap line, so its footprint overlaps the lap's. Passes are cut
wherever an obstacle interrupts them, grouped into cells that can be swept in one
zigzag, and the cells visited nearest first (:mod:`sapper.plan.lanes.drive`). Moves
between lanes go straight when they stay in the free area and around the obstacles
otherwise. A part of the sector narrower than one lane everywhere gets passes only,
as many as its width needs (one down the middle of a narrow strip).

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
from sapper.model.geometry import as_multipolygon
from sapper.plan.lanes.drive import Frame, moves, moves_length, order_legs
from sapper.plan.lanes.laps import QUAD_SEGS, inner_area, lap_rings, narrow_parts, opening_of, split_spurs, with_spurs
from sapper.plan.lanes.scan import Edges, Segments, pass_positions, polygon_edges, scan
from sapper.plan.lanes.shapes import candidate_angles, free_area

# Defaults when the caller names no asset: the Uran-6 profile below (assumptions, see there).
DEFAULT_SPEED_M_PER_H = 475.0
DEFAULT_TURN_TIME_S = 60.0
GRID_M = 1e-6  # precision of the coverage overlays, metres


@dataclass(frozen=True)
class LanePlan:
    """The lanes of one sector (laps and passes) in driving order, the moves between them, and what they cost.

    Coverage guarantee (tested): every lane lies inside ``area`` (the sector minus the
    obstacles) and never crosses an obstacle's interior. The footprint of a pass is the
    pass buffered by ``lane_width / 2`` with flat ends; the footprint of a lap is the lap
    buffered by ``lane_width / 2`` with round joins (a tracked machine pivots at a
    corner), except its spurs, which have flat ends like passes: at each corner sharper
    than ``PIVOT_DEG`` the lap drives on until the tool meets the far edge, then backs
    out, where the tool's footprint fits (:func:`sapper.plan.lanes.laps.with_spurs`).
    Together the footprints cover every point of ``area`` that a disc of the lane's
    width can reach without leaving ``area`` (the morphological opening, erosion then
    dilation with round joins: :meth:`reachable`), to 1e-6 m2, and with the spurs the
    corners of 90 degrees or more whole. What may be left (:meth:`uncovered`, for a
    manual team) is the tip of a corner sharper than 90 degrees, which no flat tool of
    that width can enter, and ground narrower than a lane. Such ground still gets
    passes without a lap, as a plain zigzag (one pass down the middle of a strip): a
    whole part narrower than a lane, and a narrow passage off a wider part when it has
    at least ``lane_width`` squared of area. Passes lie ``lane_width - overlap`` apart,
    and the outer ones that far from the lap line, so they overlap the lap by
    ``overlap``. Laps and passes are lanes alike: ``laps`` says which are laps.

    Moves between lanes stay inside ``area`` and go round obstacles; only a move between
    separate parts of a sector leaves it (still going round the obstacles). A part that
    obstacles wall in completely cannot be reached on the ground: the moves into and out
    of it go straight across and are listed in ``walled_in``.
    """

    area: BaseGeometry
    starts: np.ndarray = field(repr=False)  # (n, 2) where each lane begins, in driving order
    ends: np.ndarray = field(repr=False)  # (n, 2) where each lane ends (a lap ends where it began)
    bends: dict[int, np.ndarray] = field(repr=False)  # corners of move i where it goes round an obstacle
    lane_width: float
    overlap: float
    angle: float
    lane_length_m: float  # laps and passes
    connection_length_m: float
    estimated_hours: float
    walled_in: tuple[int, ...] = ()  # moves that cross an obstacle because no way round exists
    shapes: dict[int, np.ndarray] = field(default_factory=dict, repr=False)  # lap i: its points between the ends
    inner: BaseGeometry = field(default_factory=Polygon, repr=False)  # area eroded by half a width; rings = laps
    pivots: int = 0  # lap corners turned on the spot (sharper than PIVOT_DEG): each costs a turn's time

    @cached_property
    def lanes(self) -> tuple[LineString, ...]:
        """The lanes (laps and passes) in driving order, each drawn in its driving direction."""
        lines = shapely.linestrings(np.stack([self.starts, self.ends], axis=1)) if len(self.starts) else []
        lines = np.array(lines, dtype=object)
        for i, mid in self.shapes.items():
            lines[i] = shapely.linestrings(np.vstack([self.starts[i], mid, self.ends[i]]))
        return tuple(lines.tolist())

    @property
    def laps(self) -> tuple[int, ...]:
        """Indices of the lanes that are headland laps (the others are straight passes)."""
        return tuple(sorted(self.shapes))

    @property
    def lap_length_m(self) -> float:
        """Length of the laps alone (included in ``lane_length_m``)."""
        return float(sum(self.lanes[i].length for i in self.laps))

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
        n = len(self.starts)
        if n == 0:
            return LineString()
        ends = np.stack([self.starts, self.ends], axis=1).reshape(-1, 2)  # start 0, end 0, start 1, ...
        # a lap's shape goes before its end (odd rows), a move's bends before the next start (even rows)
        inserts = sorted(
            [(2 * i + 1, xy) for i, xy in self.shapes.items()] + [(2 * i + 2, xy) for i, xy in self.bends.items()],
            key=lambda t: t[0],
        )
        if not inserts:
            return shapely.linestrings(ends)
        chunks = np.split(ends, [at for at, _ in inserts])
        pieces = [chunks[0]]
        for (_, xy), chunk in zip(inserts, chunks[1:], strict=True):
            pieces += [np.asarray(xy).reshape(-1, 2), chunk]
        return shapely.linestrings(np.concatenate(pieces))

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
        """Ground under the lanes' footprints (passes and spurs with flat ends, laps with round joins).

        The union is snapped to a micrometre grid (thousands of abutting footprints
        otherwise trip floating-point overlay into dropping some of them), and each
        footprint is two grid steps wider so that abutting ones overlap instead of
        leaving zero-width seams.
        """
        if not self.lanes:
            return Polygon()
        half = self.lane_width / 2.0 + 2 * GRID_M
        lanes = np.array(self.lanes, dtype=object)
        is_lap = np.zeros(len(lanes), dtype=bool)
        is_lap[list(self.laps)] = True
        laps = [split_spurs(shapely.get_coordinates(lane)) for lane in lanes[is_lap]]
        spurs = [shapely.linestrings(s) for _, s in laps if len(s)]
        footprints = [
            shapely.buffer(lanes[~is_lap], half, cap_style="flat"),
            shapely.buffer(
                np.array([shapely.linestrings(ring) for ring, _ in laps], dtype=object), half, quad_segs=QUAD_SEGS
            ),
            shapely.buffer(np.concatenate(spurs) if spurs else np.empty(0, dtype=object), half, cap_style="flat"),
        ]
        if self.laps:
            # The laps' outer half once more, drawn the way reachable() draws it: GEOS
            # simplifies a line's buffer and a polygon's a little differently (by up to
            # 1 % of the distance), and the two must agree along the edge.
            footprints.append([shapely.difference(opening_of(self.inner, self.lane_width), self.inner)])
        return shapely.union_all(np.concatenate(footprints), grid_size=GRID_M)

    def uncovered(self) -> BaseGeometry:
        """The part of the area no lane covers (corner tips, narrow strips), for manual follow-up.

        Polygons only: the grid can leave zero-width lines where footprints meet the edge.
        """
        missed = shapely.difference(self.area, self.covered(), grid_size=GRID_M)
        return missed if isinstance(missed, (Polygon, MultiPolygon)) else as_multipolygon(missed)

    def reachable(self) -> BaseGeometry:
        """The ground a disc of the lane's width reaches inside the area (the lanes cover all of it)."""
        return opening_of(self.inner, self.lane_width)


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
    to ``speed_m_per_h``); ``turn_time_s``: added for each move between lanes and for
    each sharp corner of a lap (turned on the spot, see ``LanePlan.pivots``).
    ``start``: where the asset stands; the nearest part of the sector is driven first,
    from the point of its lap nearest to it.
    """
    _check(lane_width, overlap, speed_m_per_h, turn_time_s, transit_speed_m_per_h)
    if angle is not None and not math.isfinite(angle):
        raise SapperError(f"lane angle must be a number of degrees, not {angle!r}")
    pace = _Pace(speed_m_per_h, turn_time_s, transit_speed_m_per_h or speed_m_per_h)
    area = free_area(sector, obstacles)
    if area.is_empty:
        return _empty(area, lane_width, overlap, angle or 0.0)
    inner = inner_area(area, lane_width)
    fat = list(shapely.get_parts(inner)) if not inner.is_empty else []  # laps and passes
    thin = narrow_parts(area, inner, lane_width)  # passes only
    parts = fat + thin
    laps = [lap_rings(p) for p in fat] + [[] for _ in thin]
    edges = polygon_edges(np.array(parts, dtype=object))
    lapped = np.arange(len(parts)) < len(fat)
    origin = (float(area.bounds[0]), float(area.bounds[1]))
    spacing = lane_width - overlap
    if angle is None:
        frames = [_sweep(edges, lapped, a, origin, lane_width, spacing) for a in candidate_angles(area)]
        frame = min(frames, key=lambda f: _estimate(f, spacing, pace))
    else:
        frame = _sweep(edges, lapped, float(angle), origin, lane_width, spacing)
    legs = order_legs(parts, laps, frame, start, dress=lambda lap: with_spurs(lap, area, lane_width))
    if len(legs.starts) == 0:
        return _empty(area, lane_width, overlap, frame.angle)
    a, b = legs.ends[:-1], legs.starts[1:]
    # A move between two points of one edge of the inner area runs along it: inside, no test needed.
    same_edge = (legs.edge_out[:-1] == legs.edge_in[1:]) & (legs.edge_out[:-1] >= 0)
    bends, walled_in = moves(area, obstacles, a, b, same_edge)
    move_len = moves_length(a, b, bends)
    return LanePlan(
        area=area,
        starts=legs.starts,
        ends=legs.ends,
        bends=bends,
        lane_width=lane_width,
        overlap=overlap,
        angle=frame.angle,
        lane_length_m=legs.length_m,
        connection_length_m=move_len,
        estimated_hours=pace.hours(legs.length_m, move_len, len(legs.starts) - 1 + legs.pivots),
        walled_in=walled_in,
        shapes=legs.shapes,
        inner=inner,
        pivots=legs.pivots,
    )


@dataclass(frozen=True, slots=True)
class _Pace:
    speed: float  # m/h along lanes
    turn_time: float  # s per move
    transit: float  # m/h between lanes

    def hours(self, lane_m: float, move_m: float, moves: int) -> float:
        return lane_m / self.speed + move_m / self.transit + moves * self.turn_time / 3600.0


def _sweep(
    edges: Edges, lapped: np.ndarray, angle: float, origin: tuple[float, float], width: float, spacing: float
) -> Frame:
    """Passes for each polygon on its own (a part gets passes fitted to its own extent).

    A part with laps gets its outer passes ``spacing`` inside its extent, so they overlap
    the lap by the overlap; a part whose every point is within half a width of its lap
    (at most a width high) needs no pass. A part without laps gets its outer passes half
    a width inside its extent, as a plain boustrophedon sweep.
    """
    turned = edges.rotated(angle, origin)
    ys_all, parts, pieces = [], [], []
    offset = 0
    for part in np.unique(turned.part).tolist():
        mask = turned.part == part
        own, global_edge = turned.select(mask), np.flatnonzero(mask)
        ymin = float(min(own.y1.min(), own.y2.min()))
        ymax = float(max(own.y1.max(), own.y2.max()))
        if not lapped[part]:
            ys = pass_positions(ymin, ymax, width, spacing)
        elif ymax - ymin > width:
            margin = spacing - width / 2.0  # first pass centre ``spacing`` above the extent
            ys = pass_positions(ymin + margin, ymax - margin, width, spacing)
        else:
            continue
        seg = scan(own, ys)
        pieces.append(Segments(seg.line + offset, seg.x0, seg.x1, global_edge[seg.edge0], global_edge[seg.edge1]))
        ys_all.append(ys)
        parts.append(np.full(len(ys), part))
        offset += len(ys)
    if not pieces:
        nothing, none = np.empty(0), np.empty(0, dtype=np.int64)
        return Frame(angle, origin, nothing, none, Segments(none, nothing, nothing, none, none))
    segments = Segments(*(np.concatenate([getattr(p, f) for p in pieces]) for f in Segments.__slots__))
    return Frame(angle, origin, np.concatenate(ys_all), np.concatenate(parts), segments)


def _estimate(frame: Frame, spacing: float, pace: _Pace) -> float:
    """Rough hours for one lane direction: pass length, one turn and one spacing per extra pass."""
    seg = frame.segments
    extra = max(len(seg) - 1, 0)
    return pace.hours(float(seg.length.sum()), extra * spacing, extra)


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
