"""Records as GeoJSON features and back.

Properties carry every field of the record, named as in the register (and the GeoPackage),
lists as comma-separated text as GIS tools store them. ``version`` travels with each
feature so a client can send it back and be refused if someone changed the record since.
The record's id is the feature's ``id`` and, first, an ``id`` property too: QGIS (3.22)
makes no field of the feature id, and users quote hazard and item ids in their reports.
pygeoapi's providers mostly keep the id field in properties too; GDAL reads both, the member
as the feature id and the property as a field. An ``id`` property sent back is ignored.
Input is checked field by field; each problem names the field.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import date, datetime
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from sapper.i18n import N_
from sapper.i18n.errors import reason
from sapper.model.errors import Problem
from sapper.model.records import Record
from sapper.server.errors import ApiError, bad_request
from sapper.server.limits import VERTICES_OPTION, max_vertices
from sapper.store.rows import to_row, typed
from sapper.store.schema import GEOMETRY, INTEGER, REAL, TEXT, Column, Layer
from sapper.store.sql import SqlBackend

READ_ONLY = {"version", "original_area_m2"}  # kept by the register
INT64 = 2**63 - 1
POLYGON_TYPE_ID = 3  # shapely.get_type_id


def json_value(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def properties(values: dict[str, Any]) -> dict[str, Any]:
    return {name: json_value(v) for name, v in values.items()}


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=json_value)


def geojson_texts(backend: SqlBackend, raws: list[Any], multi: bool = False) -> list[str]:
    """GeoJSON geometry texts for stored geometry values, converted as one array.

    With ``multi`` a Polygon goes out as a MultiPolygon of one part: QGIS types a layer by its
    first feature, so a collection declared MULTIPOLYGON must not start with a Polygon.
    """
    geoms = np.asarray(backend.decode_geometries(raws), dtype=object)
    if multi:
        single = shapely.get_type_id(geoms) == POLYGON_TYPE_ID
        if single.any():
            geoms[single] = shapely.multipolygons(geoms[single], indices=np.arange(int(single.sum())))
    try:
        texts = shapely.to_geojson(geoms)
    except shapely.errors.GEOSException:  # an empty geometry somewhere: convert one by one
        texts = [_one_geojson(g) for g in geoms]
    return ["null" if t is None else t for t in texts]


def _one_geojson(geom: BaseGeometry | None) -> str | None:
    if geom is None or geom.is_empty:
        return None
    return shapely.to_geojson(geom)


def page_features(lay: Layer, backend: SqlBackend, rows: list[tuple[int, dict[str, Any], Any]]) -> list[dict[str, Any]]:
    """The features of a page, for ``orjson.dumps``: each geometry is its GeoJSON text already (a
    ``Fragment``, copied as it is), so a page is written in one call without a dict per geometry.
    ``json.dumps`` of each feature's properties took a fifth of an items page's time (measured)."""
    raws = [raw for _, _, raw in rows]
    multi = lay.geometry_type == "MULTIPOLYGON"
    geometries = geojson_texts(backend, raws, multi) if lay.geometry_type else ["null"] * len(rows)
    fragment = orjson.Fragment
    return [
        {"type": "Feature", "id": rid, "geometry": fragment(geom), "properties": {"id": rid, **values}}
        for (rid, values, _), geom in zip(rows, geometries)
    ]


def record_feature(lay: Layer, record: Record) -> dict[str, Any]:
    row = to_row(lay, record)
    geom = row.pop("geometry", None)
    return {
        "type": "Feature",
        "id": record.id,
        "geometry": None if geom is None or geom.is_empty else json.loads(shapely.to_geojson(geom)),
        "properties": properties({"id": record.id, **row}),
    }


def record_from_feature(lay: Layer, body: Any, *, base: Record | None = None) -> tuple[Record, int | None]:
    """The record a feature describes, and the version it names (None if it names none).

    Without ``base`` it is a new record; with ``base`` the feature's fields are laid over
    it (a partial update, as JSON merge patch).
    """
    where = f"{lay.kind} {base.id}" if base is not None else Problem(N_("new {kind}"), kind=lay.kind)
    if not isinstance(body, dict):
        raise bad_request(N_("{where}: send a GeoJSON Feature (a JSON object)"), where=where)
    if base is None and body.get("type") != "Feature":
        raise bad_request(N_('{where}: send a GeoJSON Feature ("type": "Feature")'), where=where)
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise bad_request(N_("{where}: properties must be a JSON object"), where=where)
    values, version = field_values(lay, props, where)
    if lay.geometry_type and "geometry" in body:
        values["geometry"] = read_geometry(body["geometry"], where)
    if base is not None:
        return dataclasses.replace(base, **values), version
    try:
        return lay.record(**values), version
    except TypeError as exc:
        missing = str(exc).split("argument", 1)[-1].strip(": ")
        raise bad_request(N_("{where}: missing {missing}"), where=where, missing=missing) from None


def field_values(lay: Layer, props: dict[str, Any], where: str) -> tuple[dict[str, Any], int | None]:
    values: dict[str, Any] = {}
    version = None
    for name, raw in props.items():
        if name == "id":
            continue
        if name == "version":
            version = plain(lay.column("version"), raw, where)
            continue
        if name in READ_ONLY:
            continue
        if name == "source_key" and raw == "":
            raw = None  # an empty key is no key: it must not collide with other empty ones
        try:
            col = lay.column(name)
        except KeyError as exc:
            raise bad_request(N_("{where}: {problem}"), where=where, problem=exc.args[0]) from None
        if col.kind == GEOMETRY:
            raise bad_request(
                N_("{where}: the geometry goes in the feature's geometry, not in properties"), where=where
            )
        values[name] = plain(col, raw, where)
    return values, version


def plain(col: Column, raw: Any, where: str = "") -> Any:
    """A user's value for a column, typed and within what both databases can store."""
    prefix = Problem(N_("{where}: "), where=where) if where else ""
    field = col.name
    if isinstance(raw, dict) or (isinstance(raw, list) and not col.is_list):
        kind = type(raw).__name__
        raise bad_request(
            N_("{prefix}{field}: expected a single value, got {kind}"), prefix=prefix, field=field, kind=kind
        )
    if col.kind == TEXT and not col.is_list and col.vocabulary is None and isinstance(raw, (int, float, bool)):
        raw = str(raw)
    try:
        value = typed(col, raw)
    except (ValueError, TypeError) as exc:
        raise bad_request(N_("{prefix}{field}: {problem}"), prefix=prefix, field=field, problem=reason(exc)) from None
    if value is None and not col.nullable and not col.is_list:
        raise bad_request(N_("{prefix}{field}: needs a value (it cannot be null or empty)"), prefix=prefix, field=field)
    if isinstance(value, str) and "\x00" in value:
        raise bad_request(N_("{prefix}{field}: text may not contain NUL characters"), prefix=prefix, field=field)
    if col.kind == INTEGER and value is not None and abs(value) > INT64:
        raise bad_request(N_("{prefix}{field}: {value} is too large"), prefix=prefix, field=field, value=value)
    if col.kind == REAL and value is not None and not math.isfinite(value):
        raise bad_request(
            N_("{prefix}{field}: {value} is not a finite number"), prefix=prefix, field=field, value=value
        )
    return value


def read_geometry(data: Any, where: str) -> BaseGeometry | None:
    """A geometry a client sent, as GeoJSON; every route parses client geometries here, so the
    server's vertex limit (``--max-vertices``) holds on all of them."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise bad_request(N_("{where}: geometry must be a GeoJSON geometry object or null"), where=where)
    try:
        geom = shape(data)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, shapely.errors.ShapelyError) as exc:
        detail = str(exc) or type(exc).__name__
        raise bad_request(N_("{where}: geometry is not valid GeoJSON ({detail})"), where=where, detail=detail) from None
    vertices, limit = shapely.get_num_coordinates(geom), max_vertices()
    if vertices > limit:
        too_many = N_("{where}: geometry has {vertices:,} vertices; at most {limit:,} are accepted (set with {option})")
        raise ApiError(
            422, too_many, params={"where": where, "vertices": vertices, "limit": limit, "option": VERTICES_OPTION}
        )
    if geom.has_z:
        geom = shapely.force_2d(geom)
    coords = shapely.get_coordinates(geom)
    if coords.size and not np.isfinite(coords).all():
        raise bad_request(N_("{where}: geometry has coordinates that are not finite numbers"), where=where)
    return geom
