"""Shape checks and measures shared by sectors and lanes: the free area and its main directions."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.model.errors import SapperError
from sapper.model.geometry import POLYGONAL, as_multipolygon


def free_area(area: BaseGeometry, obstacles: Sequence[BaseGeometry] = (), what: str = "area") -> BaseGeometry:
    """``area`` minus the obstacles, as a Polygon or MultiPolygon (empty Polygon if nothing is left).

    Raises SapperError naming the bad input if the area is not a valid polygon or an
    obstacle is not a valid polygon.
    """
    _check_polygonal(area, what)
    for i, obstacle in enumerate(obstacles):
        _check_polygonal(obstacle, f"obstacle {i + 1}")
    free = area
    if len(obstacles):
        found = np.empty(len(obstacles), dtype=object)
        found[:] = list(obstacles)
        near = found[shapely.intersects(found, area)]  # a city's ruins, most far from this sector
        if len(near):
            free = shapely.difference(area, shapely.union_all(near))
    parts = as_multipolygon(free) if not isinstance(free, (Polygon, MultiPolygon)) else free
    parts = shapely.remove_repeated_points(parts)  # a repeated corner would hide a reflex corner
    if parts.is_empty:
        return Polygon()
    if isinstance(parts, MultiPolygon) and len(parts.geoms) == 1:
        return parts.geoms[0]
    return parts


def _check_polygonal(geom: BaseGeometry, what: str) -> None:
    if geom is None or not isinstance(geom, BaseGeometry):
        raise SapperError(f"{what}: a polygon is needed, got {type(geom).__name__}")
    if geom.is_empty:
        if what.startswith("obstacle"):
            return
        raise SapperError(f"{what}: the geometry is empty")
    if geom.geom_type not in POLYGONAL:
        raise SapperError(f"{what}: a Polygon or MultiPolygon is needed, got a {geom.geom_type}")
    if not geom.is_valid:
        raise SapperError(f"{what}: invalid geometry ({shapely.is_valid_reason(geom)})")


def long_axis_angle(geom: BaseGeometry) -> float:
    """Direction of the long side of the minimum rotated rectangle (degrees in [0, 180), from east, anticlockwise)."""
    return _rectangle_sides(geom)[0]


def candidate_angles(geom: BaseGeometry, edges: int = 4) -> list[float]:
    """Lane directions worth trying: both sides of the minimum rotated rectangle, then the longest edges."""
    angles = list(_rectangle_sides(geom))
    rings = shapely.get_exterior_ring(shapely.get_parts(geom))
    xy = shapely.get_coordinates(rings, return_index=True)
    coords, ring = xy
    same = ring[:-1] == ring[1:]
    d = np.diff(coords, axis=0)[same]
    lengths = np.hypot(d[:, 0], d[:, 1])
    for k in np.argsort(-lengths)[:edges].tolist():
        angles.append(math.degrees(math.atan2(d[k, 1], d[k, 0])) % 180.0)
    unique: list[float] = []
    for a in angles:
        if all(min(abs(a - b), 180.0 - abs(a - b)) > 0.5 for b in unique):
            unique.append(a)
    return unique


def _rectangle_sides(geom: BaseGeometry) -> tuple[float, float]:
    """Directions of the long and the short side of the minimum rotated rectangle."""
    rect = shapely.minimum_rotated_rectangle(geom)
    pts = shapely.get_coordinates(rect)
    if len(pts) < 4:  # degenerate (a line or a point): take its direction
        if len(pts) >= 2:
            dx, dy = pts[-1] - pts[0]
            a = math.degrees(math.atan2(dy, dx)) % 180.0
            return a, (a + 90.0) % 180.0
        return 0.0, 90.0
    s1, s2 = pts[1] - pts[0], pts[2] - pts[1]
    if np.hypot(*s2) > np.hypot(*s1):
        s1, s2 = s2, s1
    return math.degrees(math.atan2(s1[1], s1[0])) % 180.0, math.degrees(math.atan2(s2[1], s2[0])) % 180.0
