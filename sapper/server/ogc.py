"""OGC API - Features, Part 1 (Core, GeoJSON, HTML) and Part 3 queryables: the read side.

Paths live under ``/ogc``: the landing page, ``/conformance``, ``/collections``, one
collection per geometry layer of the register, its ``/items`` (paged, with ``bbox``,
``datetime`` and field filters) and single ``/items/{id}`` with an ETag. Pages are built
from SQL rows straight to JSON text: a page of 100 features never loads a layer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

import anyio.to_thread
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from sapper.i18n import N_
from sapper.model.errors import NotFound
from sapper.server import html
from sapper.server.auth import reader, reader_on_loop
from sapper.server.collections import (
    CRS84,
    PageRequest,
    describe,
    parameter_docs,
    parse_items_query,
    served_layers,
    temporal_column,
)
from sapper.server.context import page_threads, registers
from sapper.server.errors import ApiError
from sapper.server.etag import etag, none_match
from sapper.server.features import INT64, dumps, page_features, properties
from sapper.server.permissions import seen_by
from sapper.server.queryables import queryables
from sapper.server.web import (
    GEOJSON,
    HTML,
    JSON,
    OPENAPI,
    json_response,
    link,
    root,
    self_links,
    wants_html,
    with_query,
)
from sapper.store import query
from sapper.store.reads import Steps, drive
from sapper.store.schema import Layer
from sapper.store.sql import SqlBackend

PREFIX = "/ogc"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
    # vector tiles of every collection (tiles.py)
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]
TITLE = "sapper: register of explosive hazards and their clearance"
FORMAT_PARAM = {"name": "f", "in": "query", "required": False, "schema": {"type": "string", "enum": ["json", "html"]}}


def router() -> APIRouter:
    api = APIRouter(prefix=PREFIX, tags=["OGC API - Features"])
    extra = {"parameters": [FORMAT_PARAM]}
    api.add_api_route("", landing, methods=["GET"], summary="Landing page", openapi_extra=extra)
    api.add_api_route("/conformance", conformance, methods=["GET"], summary="Conformance", openapi_extra=extra)
    api.add_api_route("/collections", collections, methods=["GET"], summary="Collections", openapi_extra=extra)
    for lay in served_layers():
        _collection_routes(api, lay)
    return api


def _collection_routes(api: APIRouter, lay: Layer) -> None:
    base = f"/collections/{lay.name}"

    def collection(request: Request) -> Response:
        return one_collection(request, lay)

    async def items(request: Request) -> Response:
        await reader_on_loop(request)
        reads = await registers(request).page_reads()
        if reads is None:  # a GeoPackage: sqlite3 reads block, so the page is made in a worker thread
            made = partial(_items_in_thread, request, lay)
            return await anyio.to_thread.run_sync(made, limiter=page_threads(request))
        return await reads.drive(items_steps(request, lay, reads.dialect))

    def item(request: Request, featureId: str) -> Response:
        return one_feature(request, lay, featureId)

    def schema(request: Request) -> Response:
        return queryables_doc(request, lay)

    formats = {"parameters": [FORMAT_PARAM]}
    routes = [
        ("", collection, f"describe_{lay.name}", lay.title, formats),
        ("/items", items, f"get_{lay.name}", f"{lay.title}: a page of features", {"parameters": parameter_docs(lay)}),
        ("/items/{featureId}", item, f"get_{lay.name}_feature", f"{lay.title}: one feature", formats),
        ("/queryables", schema, f"queryables_{lay.name}", f"{lay.title}: fields to filter by", None),
    ]
    for path, endpoint, operation_id, summary, extra in routes:
        api.add_api_route(
            base + path, endpoint, methods=["GET"], operation_id=operation_id, summary=summary, openapi_extra=extra
        )


def landing(request: Request) -> Response:
    reader(request)
    base = f"{root(request)}{PREFIX}"
    links = [
        *self_links(request, PREFIX, title="Landing page"),
        link(f"{base}/api?f=json", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
        link(f"{base}/api?f=html", "service-doc", HTML, "The API documentation"),
        link(f"{base}/conformance?f=json", "conformance", JSON, "Conformance classes"),
        link(f"{base}/conformance?f=html", "conformance", HTML, "Conformance classes"),
        link(f"{base}/collections?f=json", "data", JSON, "Collections"),
        link(f"{base}/collections?f=html", "data", HTML, "Collections"),
        link(f"{base}/tileMatrixSets", "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes", JSON, "Tile grids"),
    ]
    doc = {
        "title": TITLE,
        "description": "Hazard areas, explosive ordnance items, protected sites, teams, daily reports and land "
        "released, served from the register of a mine action centre.",
        "links": links,
    }
    if wants_html(request):
        return html.page(TITLE, f"<p>{html.text(doc['description'])}</p>", links)
    return json_response(dumps(doc))


def conformance(request: Request) -> Response:
    reader(request)
    links = self_links(request, f"{PREFIX}/conformance", title="Conformance")
    if wants_html(request):
        return html.page("Conformance", "<ul>" + "".join(f"<li>{c}</li>" for c in CONFORMANCE) + "</ul>", links)
    return json_response(dumps({"conformsTo": CONFORMANCE, "links": links}))


def collections(request: Request) -> Response:
    user = reader(request)
    backend = registers(request).get().backend
    docs = [collection_doc(request, lay, backend, seen_by(user)) for lay in served_layers()]
    links = self_links(request, f"{PREFIX}/collections", title="Collections")
    if wants_html(request):
        rows = [(html.anchor(_html_href(d), d["id"]), html.text(d["title"])) for d in docs]
        return html.page("Collections", html.table(rows, ["collection", "title"]), links)
    return json_response(dumps({"links": links, "collections": docs, "crs": [CRS84]}))


def _html_href(doc: dict[str, Any]) -> str:
    return next(lk["href"] for lk in doc["links"] if lk["rel"] == "items" and lk["type"] == HTML)


def collection_doc(request: Request, lay: Layer, backend: SqlBackend, organisation: str | None) -> dict[str, Any]:
    """A collection's description, with the extent of the data this user may see."""
    url = f"{root(request)}{PREFIX}/collections/{lay.name}"
    seen = query.Filter(organisation=organisation)
    bbox = query.extent(backend, lay, seen)
    extent: dict[str, Any] = {"spatial": {"bbox": [list(bbox) if bbox else [-180.0, -90.0, 180.0, 90.0]], "crs": CRS84}}
    temporal = temporal_column(lay)
    if temporal is not None:
        first, last = query.date_range(backend, lay, temporal, seen)
        extent["temporal"] = {"interval": [[first, last]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return {
        "id": lay.name,
        "title": lay.title,
        "description": describe(lay),
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": extent,
        "links": [
            link(f"{url}?f=json", "self", JSON, lay.title),
            link(f"{url}?f=html", "alternate", HTML, lay.title),
            link(f"{url}/items?f=json", "items", GEOJSON, f"{lay.title} as GeoJSON"),
            link(f"{url}/items?f=html", "items", HTML, f"{lay.title} as HTML"),
            link(f"{url}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json"),
            link(f"{url}/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", JSON, "Vector tiles"),
        ],
    }


def one_collection(request: Request, lay: Layer) -> Response:
    user = reader(request)
    doc = collection_doc(request, lay, registers(request).get().backend, seen_by(user))
    if wants_html(request):
        return html.page(lay.title, f"<p>{html.text(doc['description'])}</p>", doc["links"])
    return json_response(dumps(doc))


def _items_in_thread(request: Request, lay: Layer) -> Response:
    backend = registers(request).get().backend
    return drive(items_steps(request, lay, backend), backend)


def items_steps(request: Request, lay: Layer, backend: SqlBackend) -> Steps[Response]:
    """The items page, as the reads it needs (``backend`` writes their SQL and decodes their
    geometries): driven in a worker thread on a GeoPackage, on the event loop on PostGIS."""
    user = reader(request)
    page_html = wants_html(request)
    asked = parse_items_query(lay, request.query_params, seen_by(user))
    # One row past the page says whether a next page exists. A page reached by cursor is not
    # counted (see _matched); any other counts its matches in the query that reads it, if it can.
    flt, limit, offset = asked.filter, asked.limit + 1, asked.offset
    if asked.cursor is None:
        read = query.select_counted_read(backend, lay, flt, limit=limit, offset=offset)
    else:
        read = query.select_read(backend, lay, flt, limit=limit, offset=offset, after=asked.cursor)
    rows, counted = yield read
    more = len(rows) > asked.limit
    rows = rows[: asked.limit]
    matched = yield from _matched(backend, lay, asked, rows, more, counted)
    path = f"{PREFIX}/collections/{lay.name}/items"
    links = self_links(request, path, GEOJSON, title=lay.title)
    url = f"{root(request)}{path}"
    params = {k: v for k, v in request.query_params.items() if k not in ("offset", "cursor")}
    fmt = "html" if page_html else "json"
    ftype = HTML if page_html else GEOJSON
    if more:  # keyset paging: the next page starts after this page's last id, however deep it is
        next_params = {**params, "f": fmt, "limit": asked.limit, "cursor": rows[-1][0]}
        links.append(link(with_query(url, next_params), "next", ftype, "Next page"))
    if asked.offset > 0:
        prev_params = {**params, "f": fmt, "limit": asked.limit, "offset": max(asked.offset - asked.limit, 0)}
        links.append(link(with_query(url, prev_params), "prev", ftype, "Previous page"))
    elif asked.cursor is not None:
        first = rows[0][0] if rows else min(asked.cursor + 1, INT64)
        before = yield query.cursor_before_read(backend, lay, asked.filter, first, asked.limit)
        prev_params = {**params, "f": fmt, "limit": asked.limit, **({} if before is None else {"cursor": before})}
        links.append(link(with_query(url, prev_params), "prev", ftype, "Previous page"))
    links.append(link(f"{root(request)}{PREFIX}/collections/{lay.name}?f=json", "collection", JSON, lay.title))
    if page_html:
        return _items_html(lay, rows, matched, asked.offset, links)
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    page: dict[str, Any] = {"type": "FeatureCollection"}
    if matched is not None:
        page["numberMatched"] = matched
    page.update(numberReturned=len(rows), timeStamp=stamp, links=links, features=page_features(lay, backend, rows))
    return json_response(orjson.dumps(page), GEOJSON)


def _matched(
    backend: SqlBackend, lay: Layer, asked: PageRequest, rows: list[Any], more: bool, counted: int | None
) -> Steps[int | None]:
    """numberMatched: known without counting on a last page reached by offset, counted on other
    offset pages (by the page's own query where it could), left out on the pages a cursor reaches
    (counting a large layer is what keyset paging saves; the first page gave the count)."""
    if asked.cursor is not None:
        return None
    if not more and (rows or asked.offset == 0):
        return asked.offset + len(rows)
    if counted is not None:
        return counted
    return (yield query.count_read(backend, lay, asked.filter))


def _items_html(lay: Layer, rows: list[Any], matched: int | None, offset: int, links: list[dict[str, Any]]) -> Response:
    names = [c.name for c in lay.attribute_columns]
    cells = [
        [html.anchor(f"/ogc/collections/{lay.name}/items/{rid}?f=html", rid)]
        + [html.text(properties(values)[n]) for n in names]
        for rid, values, _ in rows
    ]
    if matched is None:
        summary = f"<p>Features {rows[0][0]} to {rows[-1][0]} (by id).</p>" if rows else "<p>No more features.</p>"
    else:
        summary = f"<p>Features {offset + 1 if rows else 0}-{offset + len(rows)} of {matched}.</p>"
    return html.page(lay.title, summary + html.table(cells, ["id", *names]), links)


def one_feature(request: Request, lay: Layer, feature_id: str) -> Response:
    user = reader(request)
    page_html = wants_html(request)
    if not feature_id.isdigit() or len(feature_id) > 18:
        message = N_("{collection} has no feature {id!r} (ids are whole numbers)")
        raise ApiError(404, message, params={"collection": lay.name, "id": feature_id})
    record_id = int(feature_id)
    backend = registers(request).get().backend
    flt = query.Filter(ids=[record_id], organisation=seen_by(user))
    rows = query.select(backend, lay, flt)
    if not rows:
        raise ApiError(404, NotFound.TEMPLATE, params={"ref": f"{lay.kind} {record_id}"})
    rid, values, _raw = rows[0]
    tag = etag(lay, rid, int(values["version"]))
    if none_match(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag})
    path = f"{PREFIX}/collections/{lay.name}/items/{rid}"
    links = [
        *self_links(request, path, GEOJSON, title=f"{lay.kind} {rid}"),
        link(f"{root(request)}{PREFIX}/collections/{lay.name}?f=json", "collection", JSON, lay.title),
    ]
    if page_html:
        props = properties(values)
        rows_html = [(html.text(k), html.text(v)) for k, v in props.items()]
        return html.page(f"{lay.kind} {rid}", html.table(rows_html, ["field", "value"]), links)
    feature = page_features(lay, backend, rows)[0]
    feature["links"] = links
    return json_response(orjson.dumps(feature), GEOJSON, ETag=tag)


def queryables_doc(request: Request, lay: Layer) -> Response:
    reader(request)
    url = f"{root(request)}{PREFIX}/collections/{lay.name}/queryables"
    return json_response(dumps(queryables(lay, url)), "application/schema+json")
