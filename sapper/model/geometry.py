"""Geometry checks and metric measurement.

The register stores WGS 84 lon/lat; areas and distances are measured in the UTM zone
of the data (a local metric CRS), as DESIGN.md decides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.i18n import N_
from sapper.model.errors import Problem

WGS84 = 4326
POLYGONAL = ("Polygon", "MultiPolygon")
# Distances are measured in a metric CRS; a degree of latitude is never shorter than
# this, so a box of ``d / METRES_PER_DEGREE_MIN`` degrees is a safe search window.
METRES_PER_DEGREE_MIN = 110_000.0


def search_box(bounds: tuple[float, float, float, float], metres: float) -> tuple[float, float, float, float]:
    """Lon/lat bounds widened so that everything within ``metres`` of them lies inside."""
    minx, miny, maxx, maxy = bounds
    pad_lat = metres / METRES_PER_DEGREE_MIN
    pad_lon = pad_lat / max(0.05, math.cos(math.radians(min(max(abs(miny), abs(maxy)), 89.0))))
    return (minx - pad_lon, miny - pad_lat, maxx + pad_lon, maxy + pad_lat)


def grown_boxes(geoms: np.ndarray, by: float | np.ndarray) -> np.ndarray:
    """Each geometry's bounding box grown by ``by`` (in the geometries' units) on every side: a box
    that holds everything within ``by`` of the geometry, for a spatial index to query."""
    minx, miny, maxx, maxy = shapely.bounds(geoms).T
    return shapely.box(minx - by, miny - by, maxx + by, maxy + by)


@lru_cache(maxsize=64)
def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 UTM zone holding the point."""
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


@lru_cache(maxsize=64)
def _transformers(epsg: int) -> tuple[Transformer, Transformer]:
    forward = Transformer.from_crs(WGS84, epsg, always_xy=True)
    back = Transformer.from_crs(epsg, WGS84, always_xy=True)
    return forward, back


def metric_epsg_for(geom: BaseGeometry) -> int:
    point = geom.representative_point() if not geom.is_empty else shapely.Point(0, 0)
    return utm_epsg(round(point.x, 0), round(point.y, 0))


def to_metric(geom: BaseGeometry, epsg: int | None = None) -> BaseGeometry:
    forward, _ = _transformers(epsg or metric_epsg_for(geom))
    return shapely.transform(geom, lambda xy: _apply(forward, xy))


def to_metric_many(geoms: np.ndarray, epsg: int) -> np.ndarray:
    forward, _ = _transformers(epsg)
    return shapely.transform(geoms, lambda xy: _apply(forward, xy))


def to_wgs84(geom: BaseGeometry, epsg: int) -> BaseGeometry:
    _, back = _transformers(epsg)
    return shapely.transform(geom, lambda xy: _apply(back, xy))


def _apply(transformer: Transformer, xy):
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    xy = xy.copy()
    xy[:, 0], xy[:, 1] = x, y
    return xy


# Edges are straight in lon/lat. Projected as they are, a long edge becomes a chord in metres
# while the same edge cut into pieces (a release along it) follows the projection's curve: the
# pieces' areas would not add up to the whole (about 180 m2 on a 2.8 km runway). Areas are
# measured on edges split every DENSIFY_DEG first, so a polygon measures the same however its
# edges are split.
DENSIFY_DEG = 0.0005  # about 50 m


def densified(geoms):
    """Polygons and lines with their lon/lat edges split every DENSIFY_DEG (points as they are)."""
    return shapely.segmentize(geoms, DENSIFY_DEG)


def area_m2(geom: BaseGeometry | None) -> float:
    if geom is None or geom.is_empty:
        return 0.0
    return float(to_metric(densified(geom)).area)


def areas_m2(geoms: Sequence[BaseGeometry | None]) -> np.ndarray:
    """Areas of many geometries at once: one projection per UTM zone, not per geometry."""
    array = np.asarray(geoms, dtype=object)
    out = np.zeros(len(array))
    present = ~(shapely.is_missing(array) | shapely.is_empty(array))
    if not present.any():
        return out
    zones = utm_epsgs(array[present])
    index = np.flatnonzero(present)
    for epsg in np.unique(zones):
        chosen = index[zones == epsg]
        out[chosen] = _metric_areas(array[chosen], int(epsg))
    return out


POLYGONAL_TYPE_IDS = (3, 6)  # shapely.get_type_id of Polygon, MultiPolygon
LONGEST_RING_SUMMED = 1_000  # coordinates of the longest ring summed here (longer: measured by GEOS)


def _metric_areas(geoms: np.ndarray, epsg: int) -> np.ndarray:
    """Areas of geometries with their edges split as ``_densified_for_area`` splits them, projected
    to ``epsg``, as ``shapely.area`` measures them.

    A polygon of one ring (most hazards) is split, projected and summed here, from its coordinates,
    as GEOS does it (``Densifier::densifyPoints``, then ``Area::ofRingSigned``: the same points and
    terms in the same order, so the very same figure) without making the split and the projected
    polygons, which took most of the time; the others go through GEOS. (GEOS would also repair a
    split polygon that came out invalid; an invalid polygon is refused by the register anyway.)"""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    counts = np.bincount(index, minlength=len(geoms))
    starts = np.cumsum(counts) - counts
    # One ring: its first coordinate comes back at its end and nowhere else (a second ring starts
    # after the first closed, so the first coordinate is met three times or more).
    at_first = (coords == coords[starts[index]]).all(axis=1)
    one_ring = (
        np.isin(shapely.get_type_id(geoms), POLYGONAL_TYPE_IDS)
        & (counts >= 4)
        & (np.bincount(index, weights=at_first, minlength=len(geoms)) == 2)
    )
    one_ring[one_ring] &= at_first[(starts + counts - 1)[one_ring]]
    dx, dy = np.diff(coords[:, 0]), np.diff(coords[:, 1])
    within = index[1:] == index[:-1]  # coordinate i and i + 1 are an edge
    length = np.sqrt(dx * dx + dy * dy)  # as GEOS's LineSegment::getLength
    one_ring[index[1:][within & (length == 0)]] = False  # GEOS drops a repeated point: left to it
    pieces = np.ones(len(coords), dtype=np.int64)  # points each coordinate stands for once split
    long_edge = within & (length > DENSIFY_DEG)
    pieces[:-1][long_edge] = np.ceil(length[long_edge] / DENSIFY_DEG)
    one_ring[one_ring] &= np.bincount(index, weights=pieces, minlength=len(geoms))[one_ring] <= LONGEST_RING_SUMMED
    out = np.zeros(len(geoms))
    rings = np.flatnonzero(one_ring)
    if len(rings):
        out[rings] = _ring_areas(coords, index, pieces, length, one_ring, epsg)
    others = np.flatnonzero(~one_ring)
    if len(others):
        out[others] = shapely.area(to_metric_many(_densified_for_area(geoms[others]), epsg))
    return out


def _ring_areas(
    coords: np.ndarray, index: np.ndarray, pieces: np.ndarray, length: np.ndarray, chosen: np.ndarray, epsg: int
) -> np.ndarray:
    """The area of each chosen one-ring polygon (in order): its edges split into ``pieces`` as
    GEOS's ``Densifier::densifyPoints`` splits them, projected, then GEOS's shoelace sum."""
    taken = np.flatnonzero(chosen[index])
    source = np.repeat(taken, pieces[taken])  # each point of the split rings: the coordinate it follows
    first_of = np.cumsum(pieces[taken]) - pieces[taken]
    step = np.arange(len(source)) - np.repeat(first_of, pieces[taken])  # 0: the coordinate itself
    x, y = coords[source, 0], coords[source, 1]
    inserted = np.flatnonzero(step)
    if len(inserted):
        at, count = source[inserted], pieces[source[inserted]]
        edge = length[at]
        fraction = (step[inserted] * (edge / count)) / edge
        x[inserted] = coords[at, 0] + fraction * (coords[at + 1, 0] - coords[at, 0])
        y[inserted] = coords[at, 1] + fraction * (coords[at + 1, 1] - coords[at, 1])
    forward, _ = _transformers(epsg)
    x, y = forward.transform(x, y)
    ring_of = index[source]
    sizes = np.bincount(ring_of)[np.flatnonzero(chosen)]
    starts = np.cumsum(sizes) - sizes
    order = np.argsort(-sizes, kind="stable")  # the longest first: term j of every ring is a prefix
    first, terms = starts[order], sizes[order] - 2
    x0 = x[first]
    total = np.zeros(len(first))
    for j in range(int(terms.max())):  # as Area::ofRingSigned: sum += (x[i] - x0) * (y[i-1] - y[i+1])
        k = int(np.searchsorted(-terms, -j, side="left"))  # the rings with a term j
        at = first[:k] + 1 + j
        total[:k] += (x[at] - x0[:k]) * (y[at - 1] - y[at + 1])
    areas = np.empty(len(first))
    areas[order] = np.abs(total / 2.0)
    return areas


def _densified_for_area(geoms: np.ndarray) -> np.ndarray:
    """``densified`` where it adds points: a geometry whose consecutive coordinates all lie within
    DENSIFY_DEG of each other (an upper bound of its longest edge) has nothing to split, and is
    measured as it is (the same coordinates, so the same area)."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    longest = np.zeros(len(geoms))
    if len(coords) > 1:
        same = index[1:] == index[:-1]
        steps = np.hypot(*np.diff(coords, axis=0).T)
        np.maximum.at(longest, index[1:][same], steps[same])
    split = longest >= DENSIFY_DEG * (1 - 1e-9)
    if not split.any():
        return geoms
    out = geoms.copy()
    out[split] = densified(geoms[split])
    return out


def utm_epsgs(geoms: np.ndarray) -> np.ndarray:
    """``metric_epsg_for`` of many geometries (none empty): read from the bounds of each that lies
    in one zone and hemisphere (then every point of it, its point on surface too, gives that zone),
    from its point on surface otherwise."""
    bounds = shapely.bounds(geoms)
    lon, lat = np.round(bounds[:, 0::2]), np.round(bounds[:, 1::2])  # as round(x, 0): half to even
    zone = np.minimum(np.floor((lon + 180.0) / 6.0) + 1, 60)
    north = lat >= 0
    epsg = (np.where(north[:, 0], 32600, 32700) + zone[:, 0]).astype(np.int64)
    unsure = np.flatnonzero((zone[:, 0] != zone[:, 1]) | (north[:, 0] != north[:, 1]))
    if len(unsure):
        points = shapely.point_on_surface(geoms[unsure])
        xs, ys = shapely.get_x(points).tolist(), shapely.get_y(points).tolist()
        epsg[unsure] = [utm_epsg(round(x, 0), round(y, 0)) for x, y in zip(xs, ys)]
    return epsg


def geometry_problems(geoms: Sequence[BaseGeometry | None], allowed_types: tuple[str, ...]) -> list[str | None]:
    """``geometry_problem`` for many geometries; the common all-good case costs a few array calls."""
    array = np.asarray(geoms, dtype=object)
    if not len(array):
        return []
    missing = shapely.is_missing(array)
    ok = ~missing
    ok[ok] = ~shapely.is_empty(array[ok])
    ok[ok] &= np.isin(shapely.get_type_id(array[ok]), [_TYPE_IDS[t] for t in allowed_types])
    ok[ok] &= shapely.is_valid(array[ok])
    if ok.any():
        bounds = shapely.bounds(array[ok])
        inside = (bounds[:, 0] >= -180) & (bounds[:, 2] <= 180) & (bounds[:, 1] >= -90) & (bounds[:, 3] <= 90)
        ok[ok] = inside
    return [None if good else geometry_problem(geom, allowed_types) for good, geom in zip(ok, array)]


_TYPE_IDS = {
    "Point": 0,
    "LineString": 1,
    "LinearRing": 2,
    "Polygon": 3,
    "MultiPoint": 4,
    "MultiLineString": 5,
    "MultiPolygon": 6,
    "GeometryCollection": 7,
}


def distance_m(a: BaseGeometry, b: BaseGeometry) -> float:
    epsg = metric_epsg_for(a)
    return float(to_metric(a, epsg).distance(to_metric(b, epsg)))


def transform_crs(geom: BaseGeometry, source: CRS | int | str, target: CRS | int | str = WGS84) -> BaseGeometry:
    transformer = Transformer.from_crs(source, target, always_xy=True)
    return shapely.transform(geom, lambda xy: _apply(transformer, xy))


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Keep only the polygonal parts, as one MultiPolygon (empty if none)."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom]) if not geom.is_empty else MultiPolygon()
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, (Polygon, MultiPolygon))]
    polys: list[Polygon] = []
    for part in parts:
        polys.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    return MultiPolygon([p for p in polys if not p.is_empty])


def geometry_problem(geom: BaseGeometry | None, allowed_types: tuple[str, ...]) -> str | None:
    """Why this geometry cannot go in the register, or None if it can."""
    if geom is None:
        return N_("has no geometry")
    if geom.is_empty:
        return N_("has an empty geometry")
    if geom.geom_type not in allowed_types:
        expected = " or ".join(allowed_types)
        return Problem(N_("has a {kind} geometry where {expected} is expected"), kind=geom.geom_type, expected=expected)
    if not geom.is_valid:
        return Problem(N_("has an invalid geometry ({reason})"), reason=shapely.is_valid_reason(geom))
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        return N_("has coordinates outside lon/lat range (is its CRS declared?)")
    return None
