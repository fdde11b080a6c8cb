"""The API described for machines: the whole server's OpenAPI document, and the OGC API's own.

Every operation lists the 4xx answers it can give, each with the one error body the server
sends (``errors.error_response``: code, description, detail), added here by rules on method,
path and body instead of by hand on each route. The OGC API's document (served at ``/ogc/api``
and linked from its landing page as ``service-desc``) has the OGC root as its server and paths
relative to it, ``/collections/hazards/items``, as GDAL looks them up to learn which query
parameters filter on the server; it is OpenAPI 3.0, the version OGC API - Features Part 1
names and OWSLib and GDAL look for by media type.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from sapper.server.limits import BODY_OPTION, VERTICES_OPTION
from sapper.server.ogc_edit import GEOMETRY_COMPONENT

ERROR = "#/components/schemas/Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every refusal: a sentence saying what is wrong (OGC API exception schema).",
    "required": ["code", "description", "detail"],
    "properties": {
        "code": {"type": "string", "description": "the HTTP status in words, e.g. Not Found"},
        "description": {"type": "string", "description": "what is wrong, naming the record and field"},
        "detail": {"type": "string", "description": "the same sentence, for clients that read FastAPI's field"},
    },
}
ERRORS = {
    400: "A parameter or the body is wrong (not JSON, a field of the wrong type or unknown).",
    401: "Not logged in, or the token or password is wrong.",
    403: "Your role or organisation may not do this.",
    404: "No such record or page, or not one you may see.",
    409: "The record changed since you read it (its version), or the request conflicts with a stored record.",
    412: "If-Match names a version that is no longer the record's.",
    413: f"The request body is larger than the server reads ({BODY_OPTION}).",
    422: f"The record fails the register's checks, or a geometry has more vertices than accepted ({VERTICES_OPTION}).",
    428: "Send If-Match with the ETag read (or the version property): an edit must say what it is based on.",
    429: "Too many attempts, or too many plans running; try again after Retry-After seconds.",
}
WRITES = {"post", "put", "patch", "delete"}
SESSION = {"/api/login", "/api/logout"}  # writes that change no record
VERSIONED = ("/ogc/collections/", "/api/activities/", "/api/hazards/")  # records written with If-Match (etag.py)
THROTTLED = {("post", "/api/login"), ("post", "/api/plans")}
ROLE_MARKS = ("(admin)", "(supervisor)")  # summaries name the role an operation needs


def document(app: FastAPI) -> dict[str, Any]:
    """The whole server's document (OpenAPI 3.1, as FastAPI builds it), with its errors."""
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {})["GeoJSONGeometry"] = GEOMETRY_COMPONENT
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer"},
        "basic": {"type": "http", "scheme": "basic"},
    }
    doc["security"] = [{"bearer": []}, {"basic": []}, {}]
    add_errors(doc)
    return doc


def add_errors(doc: dict[str, Any]) -> None:
    """Each operation's 4xx answers, all with the shared Error schema; FastAPI's 422 goes (the
    server answers a request that fails validation with 400)."""
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components["responses"] = {
        str(status): {"description": text, "content": {"application/json": {"schema": {"$ref": ERROR}}}}
        for status, text in ERRORS.items()
    }
    for path, operations in doc.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status in sorted(statuses(path, method, operation)):
                responses[str(status)] = {"$ref": f"#/components/responses/{status}"}
    schemas = components["schemas"]
    if "HTTPValidationError" not in str(doc["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)


def statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The 4xx answers an operation can give, from what it is: who may call it, whether it names
    a record in its path, whether it writes and takes a body."""
    found = {400, 401}
    write = method in WRITES and path not in SESSION
    if write or any(mark in operation.get("summary", "") for mark in ROLE_MARKS):
        found.add(403)
    if "{" in path:
        found.add(404)
    if write:
        found.add(409)
    if write and "{" in path and path.startswith(VERSIONED):
        found.add(412)
        if method in ("put", "patch"):
            found.add(428)
    if "requestBody" in operation:
        found |= {413, 422}
    if (method, path) in THROTTLED:
        found.add(429)
    return found


def ogc_document(doc: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The OGC API's part of ``doc`` as OpenAPI 3.0, paths relative to ``prefix``; the caller
    adds ``servers`` (the OGC root as the client reached it)."""
    paths = {
        path[len(prefix) :] or "/": operations
        for path, operations in doc["paths"].items()
        if path == prefix or path.startswith(f"{prefix}/")
    }
    components = doc.get("components", {})
    out: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {**doc["info"], "title": f"{doc['info']['title']}: OGC API - Features"},
        "paths": paths,
        "components": {
            "securitySchemes": components.get("securitySchemes", {}),
            "responses": components.get("responses", {}),
            "schemas": {},
        },
        "security": doc.get("security", []),
    }
    schemas = components.get("schemas", {})
    wanted = _schema_refs(out)
    while wanted - out["components"]["schemas"].keys():
        for name in wanted - out["components"]["schemas"].keys():
            out["components"]["schemas"][name] = schemas[name]
        wanted = _schema_refs(out)
    return as_openapi_30(copy.deepcopy(out))


def _schema_refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= _schema_refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _schema_refs(value)
    return found


def as_openapi_30(node: Any) -> Any:
    """JSON Schema of OpenAPI 3.1 in the words of 3.0: null as ``nullable``, ``const`` as a
    one-value ``enum``, ``examples`` as ``example``, numeric exclusive bounds as flags."""
    if isinstance(node, list):
        return [as_openapi_30(value) for value in node]
    if not isinstance(node, dict):
        return node
    node = {key: as_openapi_30(value) for key, value in node.items()}
    for key in ("oneOf", "anyOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [option for option in options if option != {"type": "null"}]
            del node[key]
            node["nullable"] = True
            if len(rest) == 1 and "$ref" not in rest[0]:
                node = {**rest[0], **node}
            elif rest:
                node["allOf" if len(rest) == 1 else key] = rest
    types = node.get("type")
    if isinstance(types, list):
        rest = [t for t in types if t != "null"]
        node["nullable"] = node.get("nullable", False) or "null" in types
        node["type"] = rest[0] if len(rest) == 1 else rest
        if not node["nullable"]:
            del node["nullable"]
    if "const" in node and not isinstance(node["const"], dict):
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list) and "in" not in node and node["examples"]:
        node["example"] = node.pop("examples")[0]
    for bound, flag in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), (int, float)) and not isinstance(node.get(bound), bool):
            node[flag] = node.pop(bound)
            node[bound] = True
    return node
