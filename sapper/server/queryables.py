"""The fields of a collection as JSON Schema (OGC API Features Part 3, queryables)."""

from __future__ import annotations

from typing import Any

from sapper.server.collections import ID_SCHEMA, column_schema, filterable, temporal_column
from sapper.store.schema import Layer

GEOMETRY_SCHEMA = {
    "POINT": "https://geojson.org/schema/Point.json",
    "MULTIPOLYGON": "https://geojson.org/schema/MultiPolygon.json",
    "GEOMETRY": "https://geojson.org/schema/Geometry.json",
}


def queryables(lay: Layer, url: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if lay.geometry_type:
        props["geometry"] = {"$ref": GEOMETRY_SCHEMA.get(lay.geometry_type, GEOMETRY_SCHEMA["GEOMETRY"])}
    props["id"] = {"title": "id", **ID_SCHEMA, "description": "the feature id (the feature's id member)"}
    temporal = temporal_column(lay)
    for col in filterable(lay):
        schema = {"title": col.name, **column_schema(col)}
        if temporal is not None and col.name == temporal.name:
            schema["description"] = "the date the datetime parameter filters on"
        props[col.name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url,
        "type": "object",
        "title": lay.title,
        "properties": props,
        "additionalProperties": False,
    }
