"""OGC API - Tiles, Part 1 (vector tiles of each collection) and the WebMercatorQuad tile matrix set.

Every collection of the OGC API - Features is also served as Mapbox Vector Tiles on
WebMercatorQuad, the grid of web maps (OGC 17-083r4, annex D.1): a tileset list at
``/collections/{id}/tiles``, its tileset at ``.../tiles/WebMercatorQuad`` and a tile at
``.../tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}``. A tile is an answer for one
user, built under the same visibility rule as a page of features; it goes out ``private``
with an ETag of its bytes, so a browser asks again but gets 304 when nothing changed. A tile
with nothing in it is ``204 No Content``, which the standard allows (/req/core/tc-error B)
and which costs no bytes. The collection's field filters (``?status=confirmed``) apply.

Below zoom 15 a tile is generalised (``sapper.store.tiles_generalised``: small features counted per
cell, the rest simplified to a pixel) and, to zoom 10, kept in the register until a write touches
what it shows (``sapper.store.tile_cache``), one copy per view of the register, never shared between
organisations. A kept tile to zoom 7 out of date only by records added, moved or edited (none hidden
from anyone since) is answered at once, marked ``Sapper-Tile: stale`` with its own (old) ETag, and built
again in the background (``sapper.store.tile_rebuilds``); the next reader gets the new one.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sapper.i18n import N_
from sapper.server.auth import reader
from sapper.server.collections import parse_items_query, served_layers
from sapper.server.context import registers
from sapper.server.errors import ApiError, bad_request
from sapper.server.etag import none_match
from sapper.server.features import dumps
from sapper.server.permissions import seen_by
from sapper.server.web import JSON, json_response, link, root
from sapper.store.schema import Layer
from sapper.store.tile_cache import scope_of, tile_for
from sapper.store.tiles import EXTENT, MAX_ZOOM, TileId, layer_name, map_fields
from sapper.store.tiles_generalised import CELL, DETAIL_FROM, PIXEL, TINY_PX

PREFIX = "/ogc"
MVT = "application/vnd.mapbox-vector-tile"
TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
EPSG_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
REL_VECTOR_TILESETS = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
# Web Mercator's half width in metres (pi times the WGS 84 semi-major axis, 6 378 137 m) and the
# 0.28 mm "standardized rendering pixel" scale denominators are defined by (OGC 17-083r4, 6.1.1).
HALF_WORLD = 20037508.3427892
PIXEL_M = 0.00028
TILE_PIXELS = 256
TILE_PARAMS = ("bbox", "bbox-crs", "crs", "limit", "offset", "cursor", "id")
STALE_HEADER = "Sapper-Tile"  # "stale": the kept tile, out of date by writes that hide nothing, being built again
GEOMETRY_DIMENSION = {"POINT": 0, "MULTIPOINT": 0, "LINESTRING": 1, "MULTILINESTRING": 1}


def router() -> APIRouter:
    api = APIRouter(prefix=PREFIX, tags=["OGC API - Tiles"])
    api.add_api_route("/tileMatrixSets", matrix_sets, methods=["GET"], summary="Tile matrix sets")
    api.add_api_route(f"/tileMatrixSets/{TMS_ID}", matrix_set, methods=["GET"], summary=f"The {TMS_ID} grid")
    for lay in served_layers():
        _collection_routes(api, lay)
    return api


def _collection_routes(api: APIRouter, lay: Layer) -> None:
    base = f"/collections/{lay.name}/tiles"

    def tilesets(request: Request) -> Response:
        return tileset_list(request, lay)

    def tileset(request: Request) -> Response:
        return tileset_doc(request, lay)

    def one_tile(request: Request, tileMatrix: str, tileRow: str, tileCol: str) -> Response:
        return tile_answer(request, lay, tileMatrix, tileRow, tileCol)

    api.add_api_route(base, tilesets, methods=["GET"], operation_id=f"tilesets_{lay.name}",
                      summary=f"{lay.title}: vector tilesets")  # fmt: skip
    api.add_api_route(f"{base}/{TMS_ID}", tileset, methods=["GET"], operation_id=f"tileset_{lay.name}",
                      summary=f"{lay.title}: the {TMS_ID} vector tileset")  # fmt: skip
    api.add_api_route(
        f"{base}/{TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}",
        one_tile,
        methods=["GET"],
        operation_id=f"tile_{lay.name}",
        summary=f"{lay.title}: a vector tile (Mapbox Vector Tile; 204 when empty)",
        response_class=Response,
        responses={200: {"content": {MVT: {}}, "description": "The tile"}, 204: {"description": "An empty tile"}},
    )


def matrix_set_doc() -> dict[str, Any]:
    """WebMercatorQuad as OGC 17-083r4 defines it (annex D.1), in its JSON encoding."""
    matrices = []
    for zoom in range(MAX_ZOOM + 1):
        cell = 2 * HALF_WORLD / TILE_PIXELS / (1 << zoom)
        matrices.append(
            {
                "id": str(zoom),
                "scaleDenominator": cell / PIXEL_M,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-HALF_WORLD, HALF_WORLD],
                "tileWidth": TILE_PIXELS,
                "tileHeight": TILE_PIXELS,
                "matrixWidth": 1 << zoom,
                "matrixHeight": 1 << zoom,
            }
        )
    return {
        "id": TMS_ID,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": EPSG_3857,
        "orderedAxes": ["E", "N"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
    }


def matrix_sets(request: Request) -> Response:
    reader(request)
    url = f"{root(request)}{PREFIX}/tileMatrixSets"
    entry = {"id": TMS_ID, "title": "Google Maps Compatible for the World", "uri": TMS_URI, "crs": EPSG_3857}
    entry["links"] = [link(f"{url}/{TMS_ID}", REL_TILING_SCHEME, JSON, TMS_ID)]
    return json_response(dumps({"tileMatrixSets": [entry], "links": [link(url, "self", JSON, "Tile matrix sets")]}))


def matrix_set(request: Request) -> Response:
    reader(request)
    return json_response(dumps(matrix_set_doc()))


def _tileset_summary(request: Request, lay: Layer) -> dict[str, Any]:
    url = f"{root(request)}{PREFIX}/collections/{lay.name}/tiles/{TMS_ID}"
    return {
        "title": f"{lay.title} ({TMS_ID})",
        "dataType": "vector",
        "crs": EPSG_3857,
        "tileMatrixSetURI": TMS_URI,
        "links": [
            link(url, "self", JSON, f"{lay.title}: the {TMS_ID} tileset"),
            link(f"{root(request)}{PREFIX}/tileMatrixSets/{TMS_ID}", REL_TILING_SCHEME, JSON, TMS_ID),
        ],
    }


def tileset_list(request: Request, lay: Layer) -> Response:
    reader(request)
    url = f"{root(request)}{PREFIX}/collections/{lay.name}/tiles"
    doc = {"tilesets": [_tileset_summary(request, lay)], "links": [link(url, "self", JSON, f"{lay.title}: tilesets")]}
    return json_response(dumps(doc))


def tileset_doc(request: Request, lay: Layer) -> Response:
    reader(request)
    doc = _tileset_summary(request, lay)
    base = f"{root(request)}{PREFIX}/collections/{lay.name}"
    template = f"{base}/tiles/{TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
    doc["links"] += [
        {**link(template, "item", MVT, f"{lay.title} tiles"), "templated": True},
        link(f"{base}?f=json", "collection", JSON, lay.title),
    ]
    fields = {c.name: {"type": "integer" if c.name.endswith("_id") else "string"} for c in map_fields(lay)}
    doc["layers"] = [
        {
            "id": layer_name(lay),
            "title": lay.title,
            "dataType": "vector",
            "geometryDimension": GEOMETRY_DIMENSION.get(lay.geometry_type, 2),
            "propertiesSchema": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, **fields, "count": {"type": "integer"}},
            },
        }
    ]
    doc["description"] = (
        f"Extent {EXTENT} per tile; the fields the map needs, read a feature by id for the rest. Below tile matrix "
        f"{DETAIL_FROM}, features under {TINY_PX} pixels are counted per {CELL // PIXEL}-pixel cell (a point with "
        "count and the most common colour field) and the others simplified to a pixel."
    )
    return json_response(dumps(doc))


def _index(raw: str, name: str) -> int:
    if not raw.isdigit() or len(raw) > 9:
        message = N_("{name} {raw!r} is not in {tms} (whole numbers from 0)")
        raise ApiError(404, message, params={"name": name, "raw": raw, "tms": TMS_ID})
    return int(raw)


def tile_answer(request: Request, lay: Layer, matrix: str, row: str, col: str) -> Response:
    user = reader(request)
    tile_id = TileId(_index(matrix, "tile matrix"), _index(row, "tile row"), _index(col, "tile column"))
    if not tile_id.exists():
        message = N_("{tms} has no tile {matrix}/{row}/{col} (tile matrices 0 to {zoom})")
        raise ApiError(404, message, params={"tms": TMS_ID, "matrix": matrix, "row": row, "col": col, "zoom": MAX_ZOOM})
    for name in TILE_PARAMS:
        if name in request.query_params:
            raise bad_request(
                N_("{name}: a tile is its own box and page; filter by the collection's fields only"), name=name
            )
    view = seen_by(user)
    asked = parse_items_query(lay, request.query_params, view)
    regs = registers(request)
    later = getattr(request.app.state, "tile_rebuilds", None)
    tile = tile_for(regs.get().backend, regs.primary().backend, lay, asked.filter, tile_id, scope_of(view), later)
    marks = {STALE_HEADER: "stale"} if tile.stale else {}
    if not tile.data:
        return Response(status_code=204, headers=marks)
    tag = f'"{hashlib.blake2b(tile.data, digest_size=12).hexdigest()}"'
    if none_match(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag, **marks})
    return Response(content=tile.data, media_type=MVT, headers={"ETag": tag, **marks})
