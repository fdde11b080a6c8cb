"""Headland laps: one lap half a width inside the outline and round every obstacle, before the passes.

Parallel passes cannot follow an edge oblique to them: a pass stops where its centre
line meets the edge, so a strip up to half a width deep is missed along such edges and
round ruins. Coverage planners close it with headland (contour) laps driven round the
field and each obstacle, then sweep what is left with parallel passes that end on the
lap line (the headland of agricultural coverage planning, e.g. Oksanen and Visala 2009;
Fields2Cover, Mier et al. 2023).

The lap line is the boundary of the *inner area*: the free area eroded by half a lane
width with round joins, i.e. every place the centre of a disc-shaped footprint of the
lane width can stand without leaving the free area. Why that closes the gaps: the
ground a footprint can reach is the opening (inner area dilated by half a width). A
point of it outside the inner area, or less than half a width inside it, lies within
half a width of the lap line, so under the lap. A point deeper inside has a disc of
half a width around it inside the inner area; the passes over the inner area are at
most a width apart, so one crosses that disc, and its piece through the point's column
runs inside the inner area: the point is under that pass. What no disc reaches (tips
of corners, strips narrower than a lane) is outside the opening; a spur into each
sharp corner then sweeps what a flat tool can reach of the tip (a square corner whole).

Arcs are drawn with ``QUAD_SEGS`` chords a quarter circle; the coverage footprint of a
lap (:meth:`sapper.plan.lanes.LanePlan.covered`) and the opening use the same count, so
the overlays agree exactly.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

QUAD_SEGS = 8  # chords per quarter circle on the laps' round corners and footprints
# A lap corner sharper than this is turned on the spot and costs a turn's time; gentler
# bends (the chords round a ruin's corner, 90 / QUAD_SEGS degrees each) are driven
# through. ASSUMPTION.
PIVOT_DEG = 45.0


def inner_area(area: BaseGeometry, width: float) -> BaseGeometry:
    """Where a lane's centre may run with its whole width in ``area``: erosion by half a width, round joins.

    Rings keep the orientation GEOS gives them (re-orienting would change how GEOS
    simplifies them when buffered, and the laps' footprints must match :func:`opening`).
    """
    inner = shapely.buffer(area, -width / 2.0, quad_segs=QUAD_SEGS)
    parts = shapely.get_parts(inner)
    parts = parts[~shapely.is_empty(parts) & (shapely.area(parts) > 0)]  # no slivers collapsed to a point
    if len(parts) == 0:
        return Polygon()
    return parts[0] if len(parts) == 1 else shapely.multipolygons(parts)


def opening(area: BaseGeometry, width: float) -> BaseGeometry:
    """The ground a footprint of ``width`` (a disc) reaches while staying in ``area``: erode, then dilate."""
    return opening_of(inner_area(area, width), width)


def narrow_parts(area: BaseGeometry, inner: BaseGeometry, width: float) -> list[Polygon]:
    """The ground the laps cannot reach that still deserves passes of its own.

    Parts of ``area`` with no inner area at all (narrower than a lane everywhere), and
    pieces of the other parts beyond the laps' reach (a passage narrower than a lane,
    the tip of a sharp corner) of at least ``width`` squared: smaller pieces, such as
    the tip of a square corner, are left to a manual team rather than given a pass of
    their own.
    """
    whole = shapely.get_parts(area)
    if inner.is_empty:
        return list(whole)
    lapped = shapely.intersects(whole, inner)
    beyond = shapely.get_parts(shapely.difference(shapely.union_all(whole[lapped]), opening_of(inner, width)))
    beyond = beyond[(shapely.get_type_id(beyond) == 3) & (shapely.area(beyond) >= width * width)]
    return [*whole[~lapped], *beyond]


def opening_of(inner: BaseGeometry, width: float) -> BaseGeometry:
    """The ground a footprint reaches from the inner area: its dilation by half a width."""
    return shapely.buffer(inner, width / 2.0, quad_segs=QUAD_SEGS) if not inner.is_empty else Polygon()


def lap_rings(part: Polygon) -> list[np.ndarray]:
    """The laps of one polygon of the inner area as closed rings of points, the exterior first, then holes.

    Each runs with the inner area on its left (exterior counter-clockwise, holes clockwise).
    """
    out = []
    for k, ring in enumerate((part.exterior, *part.interiors)):
        xy = shapely.get_coordinates(ring)
        ccw = bool(shapely.is_ccw(ring))
        out.append(xy if ccw == (k == 0) else xy[::-1])
    return out


def with_spurs(lap: np.ndarray, area: BaseGeometry, width: float) -> np.ndarray:
    """The lap with a spur into each sharp corner: on, then back, before it turns.

    A lap turning on the spot at a corner of the area sweeps a disc there and misses the
    corner's tip. Driving on until the front of the tool meets the far edge, then
    backing out, sweeps the tip of a square corner whole and most of any other: in a
    corner of angle ``a`` the spur is ``w/2 tan(a/2)`` long up to 90 degrees and
    ``w/2 cot(a/2)`` above. A spur is only driven where its footprint (flat ends) stays
    in ``area``; corners gentler than ``PIVOT_DEG`` get none.
    """
    pts = lap[:-1]
    if len(pts) < 3:
        return lap
    d_in = pts - np.roll(pts, 1, axis=0)
    d_out = np.roll(pts, -1, axis=0) - pts
    n_in, n_out = np.hypot(*d_in.T), np.hypot(*d_out.T)
    ok = (n_in > 0) & (n_out > 0)
    u_in = d_in / np.where(ok, n_in, 1.0)[:, None]
    u_out = d_out / np.where(ok, n_out, 1.0)[:, None]
    turn = np.arccos(np.clip(np.einsum("ij,ij->i", u_in, u_out), -1.0, 1.0))
    left = u_in[:, 0] * u_out[:, 1] - u_in[:, 1] * u_out[:, 0] > 0  # towards the inner area: a convex corner
    corner = np.flatnonzero(ok & left & (turn > np.radians(PIVOT_DEG)) & (turn < np.pi - 1e-6))
    if len(corner) == 0:
        return lap
    half_angle = (np.pi - turn[corner]) / 2.0  # half the area's angle at the corner
    length = width / 2.0 * np.minimum(np.tan(half_angle), 1.0 / np.tan(half_angle))
    tips = pts[corner] + u_in[corner] * length[:, None]
    spurs = shapely.linestrings(np.stack([pts[corner], tips], axis=1))
    room = shapely.buffer(area, 1e-6 * max(1.0, width), join_style="mitre")
    fits = shapely.covers(room, shapely.buffer(spurs, width / 2.0, cap_style="flat"))
    spur_at = dict(zip(corner[fits].tolist(), tips[fits]))
    out = [pts[0]]
    for i in range(1, len(pts)):
        out.append(pts[i])
        if i in spur_at:
            out += [spur_at[i], pts[i]]
    out.append(lap[-1])
    if 0 in spur_at:  # the corner the lap starts on: its spur comes at the end
        out += [spur_at[0], lap[-1]]
    return np.asarray(out)


def split_spurs(lap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A lap's points without its spurs, and the spurs as (k, 2, 2) segments (corner, tip)."""
    if len(lap) < 3:
        return lap, np.empty((0, 2, 2))
    tip = np.flatnonzero(np.all(lap[:-2] == lap[2:], axis=1)) + 1  # out and straight back
    spurs = np.stack([lap[tip - 1], lap[tip]], axis=1) if len(tip) else np.empty((0, 2, 2))
    keep = np.ones(len(lap), dtype=bool)
    keep[tip] = False
    keep[tip + 1] = False
    return lap[keep], spurs


def pivots(lap: np.ndarray) -> int:
    """Corners of a lap (its inner points) where the direction changes by more than ``PIVOT_DEG``."""
    d = np.diff(lap, axis=0)
    a, b = d[:-1], d[1:]
    cos = np.einsum("ij,ij->i", a, b) / np.maximum(np.hypot(*a.T) * np.hypot(*b.T), 1e-300)
    return int(np.count_nonzero(cos < np.cos(np.radians(PIVOT_DEG))))


def start_at(ring: np.ndarray, point: tuple[float, float] | None) -> np.ndarray:
    """The closed ring redrawn to start and end at its point nearest ``point`` (unchanged without one)."""
    if point is None:
        return ring
    a, d = ring[:-1], np.diff(ring, axis=0)
    length2 = np.einsum("ij,ij->i", d, d)
    t = np.einsum("ij,ij->i", np.asarray(point) - a, d) / np.where(length2 > 0, length2, 1.0)
    foot = a + np.clip(t, 0.0, 1.0)[:, None] * d
    k = int(np.argmin(np.hypot(*(foot - np.asarray(point)).T)))
    out = np.vstack([foot[k], a[k + 1 :], a[: k + 1], foot[k]])
    keep = np.ones(len(out), dtype=bool)
    keep[1:] = np.any(out[1:] != out[:-1], axis=1)  # the foot may fall on a corner
    return out[keep]
