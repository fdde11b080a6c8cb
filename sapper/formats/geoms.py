"""Geometries of a whole file at once: reprojection to WGS 84, layer types, row problems.

Done on shapely arrays (one pyproj call for all coordinates), so a million points cost
about as much as a few; the per-row wording comes from the model's geometry_problem,
called only for the rows that fail.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from sapper.model.errors import SapperError
from sapper.model.geometry import WGS84, geometry_problems, transform_crs
from sapper.store.schema import ACCEPTS, Layer

TYPE_IDS = {"Point": 0, "LineString": 1, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5, "MultiPolygon": 6}


def parse_crs(text: str) -> CRS:
    try:
        return CRS.from_user_input(text)
    except CRSError:
        raise SapperError(f"unknown CRS {text!r} (give it as EPSG:code, e.g. EPSG:32637)") from None


def is_wgs84(crs: CRS) -> bool:
    return crs.equals(CRS.from_epsg(WGS84), ignore_axis_order=True) or crs.to_epsg() == WGS84


def to_wgs84(geoms: np.ndarray, crs: str | None) -> np.ndarray:
    """Reproject from ``crs`` (None: already lon/lat) to EPSG:4326, lon/lat order."""
    if crs is None:
        return geoms
    source = parse_crs(crs)
    if is_wgs84(source):
        return geoms
    return np.asarray(transform_crs(geoms, source, WGS84), dtype=object)


def from_wgs84(geoms: np.ndarray, crs: str | None) -> np.ndarray:
    if crs is None:
        return geoms
    target = parse_crs(crs)
    if is_wgs84(target):
        return geoms
    return np.asarray(transform_crs(geoms, WGS84, target), dtype=object)


def normalise(geoms: np.ndarray, lay: Layer) -> np.ndarray:
    """Polygons become one-part MultiPolygons in layers that store MultiPolygons."""
    if lay.geometry_type != "MULTIPOLYGON":
        return geoms
    polygons = np.flatnonzero(shapely.get_type_id(geoms) == TYPE_IDS["Polygon"])
    if len(polygons):
        geoms = geoms.copy()
        parts = geoms[polygons]
        ok = ~shapely.is_empty(parts)
        chosen = parts[ok]
        geoms[polygons[ok]] = shapely.multipolygons(chosen, indices=np.arange(len(chosen)))
    return geoms


def row_geometry_problems(geoms: np.ndarray, lay: Layer, required: bool) -> dict[int, str]:
    """Rows whose geometry cannot go in the layer, in the register's own words."""
    problems = geometry_problems(geoms, ACCEPTS[lay.geometry_type])
    return {
        i: problem
        for i, (problem, geom) in enumerate(zip(problems, geoms))
        if problem is not None and (geom is not None or required)
    }
