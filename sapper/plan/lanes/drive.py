"""The drive of one sector: which lap or pass comes next, and how the machine moves between them.

A sector's free ground may fall apart into several polygons. Each is driven whole
before the next (nearest first): its outer lap, then the laps round its obstacles
(nearest first), then its passes cell by cell (:mod:`sapper.plan.lanes.cells`). Laps
come first so that the turns at the ends of the passes swing over ground the laps have
already cleared. Each lap starts at its point nearest to where the machine stands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from sapper.plan.lanes.cells import cells, drive_order
from sapper.plan.lanes.laps import pivots, start_at
from sapper.plan.lanes.route import Router, room_around
from sapper.plan.lanes.scan import Segments, from_frame, to_frame


@dataclass(frozen=True, slots=True)
class Legs:
    """Laps and passes in driving order (coordinates in the sector's CRS)."""

    starts: np.ndarray  # (n, 2)
    ends: np.ndarray  # (n, 2)
    shapes: dict[int, np.ndarray]  # leg i is a lap: its points between start and end
    edge_in: np.ndarray  # boundary edge a pass starts on (-1 for a lap)
    edge_out: np.ndarray  # boundary edge a pass ends on (-1 for a lap)
    length_m: float
    pivots: int  # lap corners turned on the spot


@dataclass(frozen=True, slots=True)
class Frame:
    """The sweep's frame (lanes along x) and its scan-line pieces."""

    angle: float
    origin: tuple[float, float]
    ys: np.ndarray
    part_of_line: np.ndarray
    segments: Segments


def order_legs(
    parts: list[BaseGeometry],
    laps: list[list[np.ndarray]],
    frame: Frame,
    start: tuple[float, float] | None,
    dress: Callable[[np.ndarray], np.ndarray] = lambda lap: lap,
) -> Legs:
    """Drive ``parts`` (polygons, with ``laps[k]`` the laps of part k) nearest first, from ``start``.

    ``dress`` adds to each lap, once its start is chosen, what is driven along it (the
    spurs into its corners).
    """
    seg = frame.segments
    seg_part = frame.part_of_line[seg.line] if len(seg) else np.empty(0, dtype=np.int64)
    bounds = np.searchsorted(seg_part, np.arange(len(parts) + 1))  # segments are grouped by part
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]] = []
    here = None if start is None else np.asarray(start, dtype=float)
    todo = np.ones(len(parts), dtype=bool)
    geoms = np.array(parts, dtype=object)
    turned = 0
    while todo.any():
        if here is None:
            k = int(np.flatnonzero(todo)[0])
        else:
            dist = shapely.distance(shapely.points(here), geoms)
            k = int(np.argmin(np.where(todo, dist, np.inf)))
        todo[k] = False
        for ring in _nearest_first(laps[k], here):
            ring = start_at(ring, None if here is None else tuple(here))
            turned += pivots(ring)
            ring = dress(ring)
            blocks.append((ring[:1], ring[-1:], ring, np.array([-1]), np.array([-1])))
            here = ring[-1]
        lo, hi = bounds[k], bounds[k + 1]
        if hi > lo:
            block = _passes(frame, lo, hi, here)
            blocks.append(block)
            here = block[1][-1]
    return _join(blocks, turned)


def _nearest_first(rings: list[np.ndarray], here: np.ndarray | None) -> list[np.ndarray]:
    """The exterior lap first, then the hole laps, each the nearest to where the one before began."""
    if len(rings) <= 2:
        return rings
    out, rest = [rings[0]], list(rings[1:])
    spot = here if here is not None else rings[0][0]
    lines = np.array([shapely.linestrings(ring) for ring in rest], dtype=object)
    left = np.ones(len(rest), dtype=bool)
    while left.any():
        dist = np.where(left, shapely.distance(shapely.points(spot), lines), np.inf)
        k = int(np.argmin(dist))
        left[k] = False
        out.append(rest[k])
        spot = start_at(rest[k], tuple(spot))[0]
    return out


def _passes(frame: Frame, lo: int, hi: int, here: np.ndarray | None):
    """The passes of one part (segments ``lo:hi``) in zigzag order, cell by cell, in the sector's CRS."""
    seg = frame.segments
    sub = Segments(*(getattr(seg, f)[lo:hi] for f in Segments.__slots__))
    at = None
    if here is not None:
        x, y = to_frame(here[:1], here[1:], frame.angle, frame.origin)
        at = (float(x[0]), float(y[0]))
    idx, right = drive_order(cells(sub, frame.part_of_line), sub, frame.ys, at)
    y = frame.ys[sub.line[idx]]
    xa = np.where(right, sub.x0[idx], sub.x1[idx])
    xb = np.where(right, sub.x1[idx], sub.x0[idx])
    ea = np.where(right, sub.edge0[idx], sub.edge1[idx])
    eb = np.where(right, sub.edge1[idx], sub.edge0[idx])
    starts = np.column_stack(from_frame(xa, y, frame.angle, frame.origin))
    ends = np.column_stack(from_frame(xb, y, frame.angle, frame.origin))
    return starts, ends, None, ea, eb


def _join(blocks, turned: int) -> Legs:
    if not blocks:
        nothing = np.empty((0, 2))
        return Legs(nothing, nothing, {}, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), 0.0, 0)
    shapes: dict[int, np.ndarray] = {}
    length = 0.0
    n = 0
    for starts, ends, ring, _, _ in blocks:
        if ring is not None:
            shapes[n] = ring[1:-1]
            length += float(np.hypot(*np.diff(ring, axis=0).T).sum())
        else:
            length += float(np.hypot(*(ends - starts).T).sum())
        n += len(starts)
    return Legs(
        starts=np.vstack([b[0] for b in blocks]),
        ends=np.vstack([b[1] for b in blocks]),
        shapes=shapes,
        edge_in=np.concatenate([b[3] for b in blocks]),
        edge_out=np.concatenate([b[4] for b in blocks]),
        length_m=length,
        pivots=turned,
    )


def moves(area: BaseGeometry, obstacles, a: np.ndarray, b: np.ndarray, same_edge: np.ndarray):
    """Corners of the moves a[i] -> b[i] that go round an obstacle (by move index), and the walled-in moves.

    A move between two points of one boundary edge runs along that edge: inside, no
    test needed (``same_edge``). A move between separate parts of the sector cannot
    stay inside it: it goes round the obstacles over whatever ground lies between, or
    straight across if none can.
    """
    todo = np.flatnonzero(~same_edge)
    bends: dict[int, np.ndarray] = {}
    walled_in: list[int] = []
    if len(todo) == 0 or _convex(area):  # in a convex area every straight move stays inside
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


def _convex(area: BaseGeometry) -> bool:
    """One polygon with no holes that fills its convex hull (to rounding)."""
    if area.geom_type != "Polygon" or len(area.interiors):
        return False
    return area.area >= area.convex_hull.area * (1.0 - 1e-12)


def _ground_between(area: BaseGeometry, obstacles) -> BaseGeometry:
    """Everywhere around the sector except the obstacles."""
    blocked = shapely.union_all(list(obstacles))
    return room_around(shapely.union_all([area, blocked])).difference(blocked)


def moves_length(a: np.ndarray, b: np.ndarray, bends: dict[int, np.ndarray]) -> float:
    lengths = np.hypot(*(b - a).T)
    for i, mid in bends.items():
        pts = np.vstack([a[i], mid, b[i]])
        lengths[i] = np.hypot(*np.diff(pts, axis=0).T).sum()
    return float(lengths.sum())
