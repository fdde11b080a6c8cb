"""OGC API - Features Part 4: create, replace, update and delete features.

POST a Feature to ``/items`` (201 with Location and ETag); PUT replaces a feature, PATCH
merges the fields sent (JSON merge patch); DELETE removes it. A PUT or PATCH must say
which version it is based on (If-Match or the ``version`` property): an edit of a record
someone changed since is refused (412 or 409), never written over. Every write goes
through the register, so its checks and the audit log (with the user's name) apply.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sapper.i18n import N_
from sapper.model.accounts import Role
from sapper.model.errors import Conflict
from sapper.model.records import Record
from sapper.server.auth import need, writer
from sapper.server.collections import column_schema, geo_layers
from sapper.server.context import registers
from sapper.server.errors import ApiError, bad_request
from sapper.server.etag import etag, if_match_version, require_version
from sapper.server.features import READ_ONLY, dumps, record_feature, record_from_feature
from sapper.server.idempotent import add_once
from sapper.server.ogc import PREFIX
from sapper.server.permissions import check_write, new_record_defaults, visible
from sapper.server.web import GEOJSON, json_response, root
from sapper.store.schema import GEOMETRY, Layer


def router() -> APIRouter:
    api = APIRouter(prefix=PREFIX, tags=["OGC API - Features: editing"])
    for lay in geo_layers():
        _routes(api, lay)
    return api


def _routes(api: APIRouter, lay: Layer) -> None:
    items = f"/collections/{lay.name}/items"

    async def create(request: Request) -> Response:
        body = await read_json(request)
        return await run_in_threadpool(create_feature, request, lay, body)

    async def replace(request: Request, featureId: str) -> Response:
        body = await read_json(request)
        return await run_in_threadpool(edit_feature, request, lay, featureId, body, False)

    async def update(request: Request, featureId: str) -> Response:
        body = await read_json(request)
        return await run_in_threadpool(edit_feature, request, lay, featureId, body, True)

    def delete(request: Request, featureId: str) -> Response:
        return delete_feature(request, lay, featureId)

    full = _body_doc(lay, partial=False)
    part = _body_doc(lay, partial=True)
    api.add_api_route(items, create, methods=["POST"], operation_id=f"create_{lay.name}", status_code=201,
                      summary=f"Add to {lay.name}", openapi_extra=full)  # fmt: skip
    api.add_api_route(f"{items}/{{featureId}}", replace, methods=["PUT"], operation_id=f"replace_{lay.name}",
                      summary=f"Replace a feature of {lay.name}", openapi_extra=full)  # fmt: skip
    api.add_api_route(f"{items}/{{featureId}}", update, methods=["PATCH"], operation_id=f"update_{lay.name}",
                      summary=f"Change fields of a feature of {lay.name}", openapi_extra=part)  # fmt: skip
    api.add_api_route(f"{items}/{{featureId}}", delete, methods=["DELETE"], operation_id=f"delete_{lay.name}",
                      status_code=204, summary=f"Delete a feature of {lay.name}")  # fmt: skip


def _body_doc(lay: Layer, partial: bool) -> dict[str, Any]:
    props = {c.name: column_schema(c) for c in lay.columns if c.kind != GEOMETRY and not c.is_list}
    props.update({c.name: {"type": "string"} for c in lay.columns if c.is_list})
    feature: dict[str, Any] = {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "geometry": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/GeoJSONGeometry"}]},
            "properties": {"type": "object", "properties": props},
        },
    }
    if not partial:
        feature["required"] = ["type", "geometry", "properties"]
    media = "application/merge-patch+json" if partial else GEOJSON
    return {
        "requestBody": {
            "required": True,
            "content": {media: {"schema": feature}, "application/json": {"schema": feature}},
        }
    }


GEOMETRY_COMPONENT = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"type": "string", "enum": ["Point", "LineString", "Polygon", "MultiPolygon", "MultiLineString"]},
        "coordinates": {"type": "array"},
    },
}


async def read_json(request: Request) -> Any:
    raw = await request.body()  # limits.BodyLimit stops a body larger than --max-body-mb (413)
    if not raw.strip():
        raise bad_request(N_("the request has no body: send a GeoJSON Feature"))
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise bad_request(N_("the body is not JSON ({reason})"), reason=str(exc)) from None


def _feature_id(lay: Layer, feature_id: str) -> int:
    if not feature_id.isdigit() or len(feature_id) > 18:
        message = N_("{collection} has no feature {id!r} (ids are whole numbers)")
        raise ApiError(404, message, params={"collection": lay.name, "id": feature_id})
    return int(feature_id)


def _written(request: Request, lay: Layer, record: Record, status: int, **headers: str) -> Response:
    url = f"{root(request)}{PREFIX}/collections/{lay.name}/items/{record.id}"
    return json_response(
        dumps(record_feature(lay, record)), GEOJSON, status, ETag=etag(lay, record.id, record.version), **headers,
        **({"Location": url} if status == 201 else {}),
    )  # fmt: skip


def create_feature(request: Request, lay: Layer, body: Any) -> Response:
    user = writer(request)
    record, _version = record_from_feature(lay, body)
    given = set((body.get("properties") or {}).keys())
    record = new_record_defaults(user, record, given)
    reg = registers(request).get()
    check_write(reg, user, lay, record)
    reg.user = user.name
    fresh = dataclasses.replace(record, id=None, version=0)
    stored, new = add_once(reg, user, lay, fresh, lambda: reg.add(fresh))
    return _written(request, lay, stored, 201 if new else 200)


def edit_feature(request: Request, lay: Layer, feature_id: str, body: Any, partial: bool) -> Response:
    user = writer(request)
    record_id = _feature_id(lay, feature_id)
    reg = registers(request).get()
    before = visible(reg, user, lay.kind, record_id)
    from_header = if_match_version(request.headers.get("if-match"), lay, record_id, before.version)
    if partial:
        record, from_body = record_from_feature(lay, body, base=before)
    else:
        record, from_body = record_from_feature(lay, body)
        given = set((body.get("properties") or {}).keys())
        kept = {name: getattr(before, name) for name in ("organisation", "restricted") if name not in given}
        record = dataclasses.replace(record, **kept)
    expected = from_header if from_header is not None else from_body
    if expected is None:
        raise require_version(lay, record_id)
    if from_body is not None and from_body != before.version:
        raise Conflict(f"{lay.kind} {record_id}", from_body, before.version)
    check_write(reg, user, lay, dataclasses.replace(record, id=record_id), before)
    reg.user = user.name
    try:
        stored = reg.update(dataclasses.replace(record, id=record_id, version=expected))
    except Conflict as exc:
        if from_header is not None:
            params = {"ref": exc.ref, "expected": exc.expected, "actual": exc.actual}
            raise ApiError(412, Conflict.TEMPLATE, {"ETag": etag(lay, record_id, exc.actual)}, params) from None
        raise
    return _written(request, lay, stored, 200)


def delete_feature(request: Request, lay: Layer, feature_id: str) -> Response:
    user = need(request, Role.SUPERVISOR, f"delete from {lay.name}")
    record_id = _feature_id(lay, feature_id)
    reg = registers(request).get()
    before = visible(reg, user, lay.kind, record_id)
    if_match_version(request.headers.get("if-match"), lay, record_id, before.version)
    check_write(reg, user, lay, before, before)
    reg.user = user.name
    with reg.transaction():
        if reg.backend.current_version(lay, record_id) != before.version:
            message = N_("{kind} {id} changed while you deleted it; read it again")
            raise ApiError(412, message, params={"kind": lay.kind, "id": record_id})
        reg.delete(lay.kind, record_id)
    return Response(status_code=204)


__all__ = ["GEOMETRY_COMPONENT", "READ_ONLY", "router"]
