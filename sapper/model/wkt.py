"""WKT that reads back to the very same coordinates.

GEOS writes 15 significant digits (or a fixed number of decimals), which changes about
one coordinate in 200 by its last bit; CSV files sapper writes should read back exactly,
so coordinates are written as Python writes floats: the shortest text that parses to
the same number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


def to_wkt_many(geoms: Sequence[BaseGeometry | None]) -> list[str | None]:
    array = np.asarray(geoms, dtype=object)
    if len(array) and (shapely.get_type_id(array) == 0).all() and not shapely.is_empty(array).any():
        xs, ys = shapely.get_x(array).tolist(), shapely.get_y(array).tolist()
        return [f"POINT ({_num(x)} {_num(y)})" for x, y in zip(xs, ys)]
    return [to_wkt(g) for g in array]


def to_wkt(geom: BaseGeometry | None) -> str | None:
    if geom is None:
        return None
    kind = geom.geom_type
    if geom.is_empty:
        return f"{kind.upper()} EMPTY"
    return f"{kind.upper()} {_body(geom)}"


def _body(geom: BaseGeometry) -> str:
    kind = geom.geom_type
    if kind == "Point":
        return f"({_coords(geom.coords)})"
    if kind in ("LineString", "LinearRing"):
        return f"({_coords(geom.coords)})"
    if kind == "Polygon":
        rings = [geom.exterior, *geom.interiors]
        return "(" + ", ".join(f"({_coords(r.coords)})" for r in rings) + ")"
    if kind == "MultiPoint":
        return "(" + ", ".join(f"({_coords(p.coords)})" for p in geom.geoms) + ")"
    if kind in ("MultiLineString", "MultiPolygon"):
        return "(" + ", ".join(_body(part) for part in geom.geoms) + ")"
    return "(" + ", ".join(to_wkt(part) or "" for part in geom.geoms) + ")"  # GeometryCollection


def _coords(coords: Sequence[Sequence[float]]) -> str:
    return ", ".join(f"{_num(c[0])} {_num(c[1])}" for c in coords)


def _num(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text
