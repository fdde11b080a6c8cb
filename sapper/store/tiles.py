"""Mapbox Vector Tiles of a layer, on the WebMercatorQuad grid, for one user.

A tile holds what ``query.where_sql`` lets the caller see, and nothing else: the visibility
rule is the same one the feature pages use, so a restricted record never reaches a tile built
for another organisation or an anonymous visitor. A tile carries the few fields the map
colours and labels by, not whole records; a click reads the feature by id.

PostGIS builds the tile itself (``ST_AsMVT``, ``ST_AsMVTGeom``, ``ST_TileEnvelope``). For a
GeoPackage the rows are read through the R-tree, moved to tile coordinates, clipped and
snapped to the tile's grid with shapely in one vectorised pass, then encoded with
mapbox-vector-tile: the same result PostGIS gives, a vertex per grid cell at most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely

from sapper.store.query import Filter, table, where_sql
from sapper.store.schema import DATE, DATETIME, Column, Layer
from sapper.store.sql import GEOM, SqlBackend, q

EXTENT = 4096  # tile coordinates per side: the MVT 2.1 default, and ST_AsMVT's
BUFFER = 64  # tile units drawn past each edge, so strokes do not break at tile seams (ST_AsMVTGeom's default)
MAX_ZOOM = 24  # the deepest tile matrix of WebMercatorQuad (OGC 17-083r4, annex D.1)
MAX_LATITUDE = 85.0511287798066  # where Web Mercator's square world ends: atan(sinh(pi))
# The fields a map needs to colour, label and filter a feature, with its id (also the MVT feature id,
# which Leaflet.VectorGrid does not hand to click handlers); a click reads the rest by id.
MAP_FIELDS = (
    "name", "label", "status", "route", "category", "state", "kind", "result",
    "activity_type", "team_id", "plan_id", "hazard_id", "report_date",
)  # fmt: skip


@dataclass(frozen=True)
class TileId:
    """A tile of WebMercatorQuad: tile matrix (zoom), row from the top, column from the west."""

    zoom: int
    row: int
    col: int

    @classmethod
    def at(cls, lon: float, lat: float, zoom: int) -> TileId:
        """The tile of ``zoom`` holding a point (on an edge: the one east and south of it)."""
        side = 1 << zoom
        lat = min(max(lat, -MAX_LATITUDE), MAX_LATITUDE)
        row = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * side)
        col = int((lon + 180) / 360 * side)
        return cls(zoom, min(max(row, 0), side - 1), min(max(col, 0), side - 1))

    def exists(self) -> bool:
        side = 1 << self.zoom
        return 0 <= self.zoom <= MAX_ZOOM and 0 <= self.row < side and 0 <= self.col < side

    def lonlat_box(self, pad: float = 0.0) -> tuple[float, float, float, float]:
        """The tile's box in longitude and latitude, widened by ``pad`` tiles on each side."""
        side = 1 << self.zoom
        west, east = self.col - pad, self.col + 1 + pad
        north, south = self.row - pad, self.row + 1 + pad

        def lat(row: float) -> float:
            row = min(max(row, 0.0), float(side))
            return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / side))))

        def lon(col: float) -> float:
            return min(max(col / side * 360.0 - 180.0, -180.0), 180.0)

        return (lon(west), lat(south), lon(east), lat(north))


def map_fields(lay: Layer) -> list[Column]:
    """The columns of ``lay`` that go into its tiles."""
    return [c for c in lay.attribute_columns if c.name in MAP_FIELDS and not c.is_list]


def layer_name(lay: Layer) -> str:
    """The name of the tile's one layer: the collection's id."""
    return lay.name


def tile(backend: SqlBackend, lay: Layer, flt: Filter, tile_id: TileId) -> bytes:
    """The tile's bytes; empty bytes when nothing the filter lets through lies in it."""
    seen = replace(flt, bbox=tile_id.lonlat_box(pad=BUFFER / EXTENT))
    from sapper.store.gpkg import GeoPackageBackend

    if isinstance(backend, GeoPackageBackend):
        return _encoded(backend, lay, seen, tile_id)
    return _postgis_tile(backend, lay, seen, tile_id)


def _postgis_tile(backend: SqlBackend, lay: Layer, flt: Filter, tile_id: TileId) -> bytes:
    ph = backend.ph
    fields = [f"{q(c.name)}::text AS {q(c.name)}" if c.kind in (DATE, DATETIME) else q(c.name) for c in map_fields(lay)]
    clause, params = where_sql(backend, lay, flt)
    envelope = f"ST_TileEnvelope({ph}::integer, {ph}::integer, {ph}::integer)"
    shape = f"ST_AsMVTGeom(ST_Transform({q(GEOM)}, 3857), {envelope}, {EXTENT}, {BUFFER}, true)"
    columns = ", ".join([f"{q('id')} AS mvt_id", q("id"), *fields, f"{shape} AS mvt_geom"])
    rows = f"SELECT {columns} FROM {q(table(lay).name)}{clause}"
    mvt = f"ST_AsMVT(t.*, {ph}::text, {EXTENT}, 'mvt_geom', 'mvt_id')"
    sql = f"SELECT {mvt} FROM ({rows}) AS t WHERE mvt_geom IS NOT NULL"
    xyz = [tile_id.zoom, tile_id.col, tile_id.row]
    row = backend.execute(sql, [layer_name(lay), *xyz, *params]).fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def _encoded(backend: SqlBackend, lay: Layer, flt: Filter, tile_id: TileId) -> bytes:
    fields = map_fields(lay)
    clause, params = where_sql(backend, lay, flt)
    cols = ", ".join([q("id"), *(q(c.name) for c in fields), backend.geometry_select()])
    rows = backend.execute(f"SELECT {cols} FROM {q(table(lay).name)}{clause}", params).fetchall()
    if not rows:
        return b""
    shapes = in_tile(np.asarray(backend.decode_geometries([r[-1] for r in rows]), dtype=object), tile_id)
    features = []
    for row, shape in zip(rows, shapes):
        if shape is None or shape.is_empty:
            continue
        props = {"id": int(row[0])} | {c.name: plain(v) for c, v in zip(fields, row[1:-1]) if v is not None}
        features.append({"id": int(row[0]), "geometry": shape, "properties": props})
    return encode_features(lay, features) if features else b""


def encode_features(lay: Layer, features: list[dict[str, Any]]) -> bytes:
    """Features in tile coordinates (y down) as the tile's one layer."""
    options = {
        "extents": EXTENT,
        "y_coord_down": True,
        "check_winding_order": False,  # oriented above for the whole tile at once
        "on_invalid_geometry": mapbox_vector_tile.encoder.on_invalid_geometry_make_valid,
    }
    return mapbox_vector_tile.encode([{"name": layer_name(lay), "features": features}], default_options=options)


def in_tile(geoms: np.ndarray, tile_id: TileId) -> np.ndarray:
    """Geometries in tile coordinates (y down), clipped to the tile and its buffer, snapped to the grid.

    Snapping keeps polygons valid and drops what collapses below a grid cell, as ST_AsMVTGeom does;
    rings are oriented here, vectorised, rather than feature by feature by the encoder.
    """
    scale = (1 << tile_id.zoom) * EXTENT
    x0, y0 = tile_id.col * EXTENT, tile_id.row * EXTENT

    def to_tile(coords: np.ndarray) -> np.ndarray:
        lon, lat = coords[:, 0], np.clip(coords[:, 1], -MAX_LATITUDE, MAX_LATITUDE)
        x = (lon / 360.0 + 0.5) * scale - x0
        y = (0.5 - np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) / (2 * np.pi)) * scale - y0
        return np.column_stack([x, y])

    moved = shapely.transform(geoms, to_tile)
    clipped = shapely.clip_by_rect(moved, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    # MVT 2.1 (4.3.4.4): exterior rings clockwise on screen, which is anticlockwise with y down
    return shapely.orient_polygons(shapely.set_precision(clipped, 1.0), exterior_cw=False)


def plain(value: Any) -> Any:
    """A value as MVT stores it: text, number or boolean."""
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
