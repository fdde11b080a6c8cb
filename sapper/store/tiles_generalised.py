"""Vector tiles below the detail zoom: small features counted per cell, the others simplified to a pixel.

A tile of a whole province that carried every item and every vertex would weigh megabytes and take
seconds to build, and the map could not draw it anyway: thousands of features fall into one pixel.
Below ``DETAIL_FROM`` a tile is generalised as web map servers do:

- a feature whose box is under ``TINY_PX`` pixels both ways (every point, and most hazards at national
  zoom) is counted in its cell of a grid of ``CELL`` tile units (32 pixels): one point per cell, with
  ``count`` and the cell's most common colour field (``category``, ``status``...), at the cell's centre
  (16 pixels from its edges: a map's circles of neighbouring cells do not overlap, nor are they cut at the
  tile's edge). Only features inside the tile proper are counted, so no record is counted in two tiles;
- a larger feature keeps its id and colour field only, simplified to one pixel
  (``ST_SimplifyPreserveTopology``) before it is cut to the tile.

The features read are those the caller's filter lets through, visibility rule included: a count never
includes a record its reader may not see. PostGIS does it in one query; for a GeoPackage the boxes
come from the R-tree (no geometry is decoded for what is counted) and numpy counts the cells.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import shapely

from sapper.store.query import Filter, table, where_sql
from sapper.store.schema import Layer
from sapper.store.sql import GEOM, SqlBackend, q
from sapper.store.tiles import (
    BUFFER,
    EXTENT,
    MAX_LATITUDE,
    TileId,
    encode_features,
    in_tile,
    layer_name,
    map_fields,
    plain,
    tile,
)

DETAIL_FROM = 15  # from this zoom a tile carries every feature as it is (the map's first zoom of single items)
TILE_PIXELS = 256
PIXEL = EXTENT // TILE_PIXELS  # tile units in a pixel of a 256-pixel tile
CELL = 32 * PIXEL  # side of a counting cell: 32 pixels, 8 x 8 cells a tile (room for a labelled circle)
TINY_PX = 2  # a feature under 2 pixels both ways is a speck: counted in its cell rather than drawn
COLOUR_FIELDS = ("category", "status", "route", "kind", "result")  # the field a layer's features are coloured by


def built_tile(backend: SqlBackend, lay: Layer, flt: Filter, tile_id: TileId) -> bytes:
    """The tile's bytes: generalised below ``DETAIL_FROM`` (for layers with geometry), in full from there."""
    if tile_id.zoom >= DETAIL_FROM or not lay.geometry_type:
        return tile(backend, lay, flt, tile_id)
    seen = replace(flt, bbox=tile_id.lonlat_box(pad=BUFFER / EXTENT))
    from sapper.store.gpkg import GeoPackageBackend

    if isinstance(backend, GeoPackageBackend):
        return _gpkg_tile(backend, lay, seen, tile_id)
    return _postgis_tile(backend, lay, seen, tile_id)


def colour_field(lay: Layer) -> str | None:
    """The field a feature's colour comes from, kept at every zoom; None when the layer has none."""
    names = {c.name for c in map_fields(lay)}
    return next((name for name in COLOUR_FIELDS if name in names), None)


def pixel_degrees(tile_id: TileId) -> tuple[float, float]:
    """A pixel of the tile in degrees of longitude and of latitude (at the tile's middle)."""
    west, south, east, north = tile_id.lonlat_box()
    lon = (east - west) / TILE_PIXELS
    return lon, lon * math.cos(math.radians((south + north) / 2))


def _frame(tile_id: TileId) -> tuple[float, float, float]:
    """Scale and origin that turn Web Mercator's unit square into this tile's coordinates."""
    scale = float((1 << tile_id.zoom) * EXTENT)
    return scale, float(tile_id.col * EXTENT), float(tile_id.row * EXTENT)


def _postgis_tile(backend: SqlBackend, lay: Layer, flt: Filter, tile_id: TileId) -> bytes:
    ph = backend.ph
    clause, params = _boxed_where(backend, lay, flt)
    colour = colour_field(lay)
    pick = f"{q(colour)}::text" if colour else "NULL::text"
    points = lay.geometry_type == "POINT"  # every point is counted: no geometry to draw
    lon_px, lat_px = pixel_degrees(tile_id)
    scale, x0, y0 = _frame(tile_id)
    box = f"{q(GEOM)}::box2d"  # the box stored with the geometry: no coordinate is walked
    # a point's own coordinates are its box's centre, read without making the box
    lon, lat = (
        ("ST_X(geom)", "ST_Y(geom)") if points else ("(ST_XMin(b) + ST_XMax(b)) / 2", "(ST_YMin(b) + ST_YMax(b)) / 2")
    )
    lat = f"least(greatest({lat}, {-MAX_LATITUDE}), {MAX_LATITUDE})"
    tiny = "true" if points else f"(ST_XMax(b) - ST_XMin(b) < {ph} AND ST_YMax(b) - ST_YMin(b) < {ph})"
    rows = (
        f"SELECT id, colour, geom, ({lon} / 360.0 + 0.5) * {ph} - {ph} AS x, "
        f"(0.5 - ln(tan(pi() / 4 + radians({lat}) / 2)) / (2 * pi())) * {ph} - {ph} AS y, {tiny} AS tiny "
        f"FROM (SELECT {q('id')} AS id, {pick} AS colour, {q(GEOM)} AS geom, {'NULL' if points else box} AS b "
        f"FROM {q(table(lay).name)}{clause}) AS boxed"
    )
    # Counted per (cell, colour) by hashing, then the most common colour of each cell (ties: the first in
    # order). Cells outside the tile proper are dropped after counting: a filter on x and y in the scan
    # makes the planner expect a handful of rows and check the visibility rule in nested loops.
    tally = (
        f"SELECT floor(x / {CELL}) AS cx, floor(y / {CELL}) AS cy, colour, count(*) AS n FROM rows "
        "WHERE tiny GROUP BY 1, 2, 3"
    )
    side = EXTENT // CELL
    cells = (
        "SELECT cx, cy, sum(n)::bigint AS n, "
        "(array_agg(colour ORDER BY n DESC, colour) FILTER (WHERE colour IS NOT NULL))[1] AS colour "
        f"FROM tally WHERE cx >= 0 AND cx < {side} AND cy >= 0 AND cy < {side} GROUP BY cx, cy"
    )
    features = (
        "SELECT NULL::bigint AS mvt_id, NULL::bigint AS id, colour, n AS count, "
        f"ST_MakePoint((cx + 0.5) * {CELL}, (cy + 0.5) * {CELL}) AS mvt_geom FROM cells"
    )
    values = [scale, x0, scale, y0, *([] if points else [TINY_PX * lon_px, TINY_PX * lat_px]), *params]
    if not points:
        envelope = f"ST_TileEnvelope({ph}::integer, {ph}::integer, {ph}::integer)"
        simple = f"ST_SimplifyPreserveTopology(geom, {ph})"
        features += (
            " UNION ALL SELECT id::bigint, id::bigint, colour, NULL::bigint, "
            f"ST_AsMVTGeom(ST_Transform({simple}, 3857), {envelope}, {EXTENT}, {BUFFER}, true) FROM rows WHERE NOT tiny"
        )
        values += [lat_px, tile_id.zoom, tile_id.col, tile_id.row]
    named = f"colour AS {q(colour)}" if colour else "colour"
    sql = (
        f"WITH rows AS ({rows}), tally AS MATERIALIZED ({tally}), cells AS ({cells}), features AS ({features}) "
        f"SELECT ST_AsMVT(t.*, {ph}::text, {EXTENT}, 'mvt_geom', 'mvt_id') FROM "
        f"(SELECT mvt_id, id, {named}, count, mvt_geom FROM features WHERE mvt_geom IS NOT NULL) AS t"
    )
    with backend.transaction():
        # the planner's cost of ST_AsMVTGeom calls for JIT compiling, which takes longer than the query
        backend.execute("SET LOCAL jit = off")
        row = backend.execute(sql, [*values, layer_name(lay)]).fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def _boxed_where(backend: SqlBackend, lay: Layer, flt: Filter) -> tuple[str, list]:
    """The filter's condition with its box as a test of stored boxes (``&&``, through the index) rather than
    of geometries: what meets the box but not the tile proper is neither counted nor, once clipped, drawn."""
    clause, params = where_sql(backend, lay, replace(flt, bbox=None))
    assert flt.bbox is not None
    near = f"{q(GEOM)} && ST_MakeEnvelope({', '.join([backend.ph] * 4)}, 4326)"
    return f" WHERE {near}" + (f" AND {clause[len(' WHERE ') :]}" if clause else ""), [*flt.bbox, *params]


def _gpkg_tile(backend: SqlBackend, lay: Layer, flt: Filter, tile_id: TileId) -> bytes:
    # The R-tree's boxes (float32, rounded outwards) are all a count needs: no geometry is read or
    # tested here; what a box finds outside the tile proper is not counted, nor drawn once clipped.
    clause, params = where_sql(backend, lay, replace(flt, bbox=None))
    colour = colour_field(lay)
    name = table(lay).name
    picked = f", {q(colour)}" if colour else ", NULL"
    rtree = q(f"rtree_{name}_{GEOM}")
    sql = (
        f"SELECT t.id, t.colour, r.minx, r.maxx, r.miny, r.maxy FROM {rtree} AS r "
        f"JOIN (SELECT {q('id')} AS id{picked} AS colour FROM {q(name)}{clause}) AS t ON t.id = r.id "
        "WHERE r.maxx >= ? AND r.maxy >= ? AND r.minx <= ? AND r.miny <= ?"
    )
    assert flt.bbox is not None
    rows = backend.execute(sql, [*params, *flt.bbox]).fetchall()
    if not rows:
        return b""
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    colours = np.array([r[1] for r in rows], dtype=object)
    boxes = np.array([r[2:] for r in rows], dtype=np.float64)
    lon_px, lat_px = pixel_degrees(tile_id)
    tiny = (boxes[:, 1] - boxes[:, 0] < TINY_PX * lon_px) & (boxes[:, 3] - boxes[:, 2] < TINY_PX * lat_px)
    features = _counted(boxes[tiny], colours[tiny], tile_id, colour)
    features += _drawn(backend, lay, colour, ids[~tiny], lat_px, tile_id)
    return encode_features(lay, features) if features else b""


def _counted(boxes: np.ndarray, colours: np.ndarray, tile_id: TileId, colour: str | None) -> list[dict]:
    """One point per occupied cell: how many features it holds and their most common colour."""
    scale, x0, y0 = _frame(tile_id)
    lon = (boxes[:, 0] + boxes[:, 1]) / 2
    lat = np.clip((boxes[:, 2] + boxes[:, 3]) / 2, -MAX_LATITUDE, MAX_LATITUDE)
    x = (lon / 360.0 + 0.5) * scale - x0
    y = (0.5 - np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) / (2 * np.pi)) * scale - y0
    inside = (x >= 0) & (x < EXTENT) & (y >= 0) & (y < EXTENT)
    x, y, colours = x[inside], y[inside], colours[inside]
    if not len(x):
        return []
    side = EXTENT // CELL
    cells, which = np.unique((y // CELL) * side + x // CELL, return_inverse=True)
    counts = np.bincount(which, minlength=len(cells))
    known = np.array([c is not None for c in colours], dtype=bool)
    values, code = np.unique(colours[known].astype(str), return_inverse=True)
    tally = np.zeros((len(cells), max(len(values), 1)), dtype=np.int64)
    np.add.at(tally, (which[known], code), 1)
    features = []
    for cell in range(len(cells)):
        props: dict = {"count": int(counts[cell])}
        if colour and tally[cell].any():
            props[colour] = str(values[int(tally[cell].argmax())])  # ties: the first in order, as mode() gives
        row, col = divmod(int(cells[cell]), side)
        centre = shapely.Point((col + 0.5) * CELL, (row + 0.5) * CELL)
        features.append({"geometry": centre, "properties": props})
    return features


def _drawn(
    backend: SqlBackend, lay: Layer, colour: str | None, ids: np.ndarray, tolerance: float, tile_id: TileId
) -> list[dict]:
    """The features large enough to draw: id and colour field, simplified to a pixel, cut to the tile."""
    rows = []
    name = table(lay).name
    picked = f", {q(colour)}" if colour else ", NULL"
    for start in range(0, len(ids), 500):
        chunk = [int(i) for i in ids[start : start + 500]]
        marks = ", ".join([backend.ph] * len(chunk))
        sql = f"SELECT {q('id')}{picked}, {backend.geometry_select()} FROM {q(name)} WHERE {q('id')} IN ({marks})"
        rows += backend.execute(sql, chunk).fetchall()
    if not rows:
        return []
    geoms = np.asarray(backend.decode_geometries([r[2] for r in rows]), dtype=object)
    shapes = in_tile(shapely.simplify(geoms, tolerance, preserve_topology=True), tile_id)
    features = []
    for row, shape in zip(rows, shapes):
        if shape is None or shape.is_empty:
            continue
        props = {"id": int(row[0])} | ({colour: plain(row[1])} if colour and row[1] is not None else {})
        features.append({"id": int(row[0]), "geometry": shape, "properties": props})
    return features
