"""Geometry helpers for drawing the scenario in metres (UTM zone 37N, where Palmyra lies).

The areas are drawn and measured in the metric CRS, then turned into WGS 84 for the
register. Lengths and areas that must match a published figure are solved for, not
guessed, so a changed input still gives the published total.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from sapper.model.geometry import POLYGONAL, as_multipolygon, to_metric, to_wgs84, utm_epsg

EPSG = utm_epsg(38.27, 34.55)  # WGS 84 / UTM zone 37N
SPECK_M2 = 1.0  # pieces smaller than this are left over from cutting, not land anyone would survey


def metric(geom: BaseGeometry) -> BaseGeometry:
    return to_metric(geom, EPSG)


def wgs84(geom: BaseGeometry) -> BaseGeometry:
    """Back to lon/lat; a polygon whose vertices came too close in the turn is made valid again."""
    out = to_wgs84(geom, EPSG)
    if out.geom_type in POLYGONAL and not out.is_valid:
        out = polygonal(out, speck_m2=0.0)
    return out


def metric_point(lon: float, lat: float) -> Point:
    return metric(Point(lon, lat))


def polygonal(geom: BaseGeometry, speck_m2: float = SPECK_M2) -> MultiPolygon:
    """The polygonal part of a boolean result, made valid, without specks under ``speck_m2``."""
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return MultiPolygon([p for p in as_multipolygon(geom).geoms if p.area >= speck_m2])


def solve(f: Callable[[float], float], target: float, lo: float, hi: float, steps: int = 60) -> float:
    """x in [lo, hi] with f(x) = target, for f increasing (bisection)."""
    for _ in range(steps):
        mid = (lo + hi) / 2
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def rectangle(centre: Point, width: float, height: float, bearing_deg: float = 90.0) -> Polygon:
    """A ``width`` x ``height`` rectangle whose long side points along ``bearing_deg`` (from north)."""
    angle = 90.0 - bearing_deg
    shape = box(-width / 2, -height / 2, width / 2, height / 2)
    shape = shapely.affinity.rotate(shape, angle, origin=(0, 0))
    return shapely.affinity.translate(shape, centre.x, centre.y)


def split_west_to_east(area: BaseGeometry, pieces: int) -> list[MultiPolygon]:
    """Cut ``area`` by meridian lines into ``pieces`` parts of equal area, west first."""
    minx, miny, maxx, maxy = area.bounds
    cuts = [minx]
    for k in range(1, pieces):
        share = area.area * k / pieces
        cuts.append(solve(lambda x: area.intersection(box(minx, miny, x, maxy)).area, share, minx, maxx))
    cuts.append(maxx)
    return [polygonal(area.intersection(box(a, miny - 1, b, maxy + 1))) for a, b in itertools.pairwise(cuts)]


def wedges(area: BaseGeometry, centre: Point, names: Sequence[str]) -> dict[str, MultiPolygon]:
    """Cut ``area`` into equal angular wedges around ``centre``; the first faces north."""
    reach = 10 * max(area.bounds[2] - area.bounds[0], area.bounds[3] - area.bounds[1])
    step = 360.0 / len(names)
    out = {}
    for k, name in enumerate(names):
        a0, a1 = math.radians(k * step - step / 2), math.radians(k * step + step / 2)
        fan = Polygon(
            [
                (centre.x, centre.y),
                (centre.x + reach * math.sin(a0), centre.y + reach * math.cos(a0)),
                (centre.x + reach * math.sin(a1), centre.y + reach * math.cos(a1)),
            ]
        )
        out[name] = polygonal(area.intersection(fan))
    return out


def grid_lines(area: BaseGeometry, spacing: float) -> list[LineString]:
    """East-west and north-south lines every ``spacing`` m, clipped to ``area``, as single segments."""
    minx, miny, maxx, maxy = area.bounds
    lines: list[LineString] = []
    y = miny + spacing / 2
    while y < maxy:
        lines.append(LineString([(minx - 1, y), (maxx + 1, y)]))
        y += spacing
    x = minx + spacing / 2
    while x < maxx:
        lines.append(LineString([(x, miny - 1), (x, maxy + 1)]))
        x += spacing
    return [seg for line in lines for seg in segments(line.intersection(area))]


def segments(geom: BaseGeometry) -> list[LineString]:
    if isinstance(geom, LineString):
        return [geom] if geom.length > 0 else []
    if isinstance(geom, MultiLineString) or hasattr(geom, "geoms"):
        return [s for part in geom.geoms for s in segments(part)]
    return []


def take_length(candidates: Iterable[LineString], length: float) -> list[LineString]:
    """The first lines that add up to exactly ``length`` m (the last one shortened)."""
    taken: list[LineString] = []
    left = length
    for line in candidates:
        if left <= 0:
            break
        if line.length <= left:
            taken.append(line)
            left -= line.length
        else:
            taken.append(substring(line, 0, left))
            left = 0
    if left > 1e-6:
        raise ValueError(f"not enough lines for {length:.0f} m ({left:.0f} m short)")
    return taken


def corridor(lines: Sequence[LineString], width: float) -> BaseGeometry:
    """The strip searched along ``lines``: ``width`` m wide, flat ends."""
    return shapely.union_all([line.buffer(width / 2, cap_style="flat", join_style="mitre") for line in lines])


def cells(area: BaseGeometry, width: float, length: float) -> list[MultiPolygon]:
    """``area`` cut into a grid of ``width`` x ``length`` m sectors, west to east, south to north.

    Nothing is dropped, so the sectors together are the whole area and clearing them all closes it.
    """
    minx, miny, maxx, maxy = area.bounds
    xs = np.arange(minx, maxx, width)
    ys = np.arange(miny, maxy, length)
    x0, y0 = (a.ravel() for a in np.meshgrid(xs, ys, indexing="ij"))
    grid = shapely.box(x0, y0, x0 + width, y0 + length)
    keep = shapely.intersects(grid, area)
    out: list[MultiPolygon] = []
    for raw in shapely.intersection(grid[keep], area):
        piece = polygonal(raw, speck_m2=0.0)
        if piece.area >= SPECK_M2 or (not piece.is_empty and not out):
            out.append(piece)
        elif not piece.is_empty:  # a speck rides with the sector before it, never alone
            out[-1] = polygonal(out[-1].union(piece), speck_m2=0.0)
    return out
