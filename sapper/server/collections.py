"""Which layers the OGC API serves, and what a request may ask of each.

Every layer of the register that has a geometry is a collection, so layers added to
``LAYERS`` later (sectors, lanes) are served without changes here. A layer that mixes
geometry types is also served as read-only views, one per type: QGIS (3.22) gives a layer
the type of its first feature and does not draw the others, so the point monuments of
``protected_sites`` would vanish behind its polygons. GeoServer's advice for mixed tables is
the same split; GDAL and the web map keep reading the whole layer. A collection's query
parameters are its plain fields (equality filters, OGC API Features Part 1 section 7.15.8),
``id``, ``bbox``, ``datetime`` on its date field, ``limit``, and ``cursor`` (keyset paging, which the
``next`` link uses) or ``offset``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from starlette.datastructures import QueryParams

from sapper.i18n import N_
from sapper.server.errors import bad_request
from sapper.server.features import INT64, plain
from sapper.store.query import Filter, View, table
from sapper.store.schema import BOOLEAN, DATE, DATETIME, GEOMETRY, INTEGER, LAYERS, REAL, Column, Layer, layer

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
# The date a record is about, for ``datetime`` filters; other layers use their first date field.
TEMPORAL = {"hazards": "reported_on", "items": "found_on", "reports": "report_date", "releases": "released_on"}
COMMON = {"f", "bbox", "bbox-crs", "crs", "limit", "offset", "cursor", "datetime", "id"}
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": INT64}


def _view(source: str, name: str, title: str, geometry_type: str, types: tuple[str, ...]) -> View:
    lay = layer(source)
    return View(name, lay.kind, lay.record, geometry_type, title, source=lay, geometry_types=types)


VIEWS: tuple[View, ...] = (
    _view(
        "protected_sites",
        "protected_site_areas",
        "Protected sites drawn as areas",
        "MULTIPOLYGON",
        ("POLYGON", "MULTIPOLYGON"),
    ),
    _view(
        "protected_sites", "protected_site_points", "Protected sites drawn as points", "POINT", ("POINT", "MULTIPOINT")
    ),
)


def geo_layers() -> list[Layer]:
    """The register's layers with a geometry: the collections that can be edited."""
    return [lay for lay in LAYERS if lay.geometry_type]


def served_layers() -> list[Layer]:
    """Every collection: each geometry layer, followed by its read-only views."""
    return [shown for lay in geo_layers() for shown in (lay, *(v for v in VIEWS if v.source is lay))]


def describe(lay: Layer) -> str:
    """A collection's description: what it holds, and where to read or edit it otherwise."""
    if isinstance(lay, View):
        kinds = " or ".join(t.lower() for t in lay.geometry_types)
        return (
            f"{lay.title}: the features of {lay.source.name} whose geometry is a {kinds}, read-only (edit them in "
            f"{lay.source.name}). For GIS tools that take one geometry type per layer, such as QGIS."
        )
    kind = "points, lines or polygons" if lay.geometry_type == "GEOMETRY" else f"{lay.geometry_type} geometries"
    views = [v.name for v in VIEWS if v.source is lay]
    split = f"; one geometry type per layer in {' and '.join(views)}" if views else ""
    return f"{lay.title}: the register's {lay.name} layer ({kind.lower()}{split})."


def temporal_column(lay: Layer) -> Column | None:
    names = [c.name for c in lay.columns]
    name = table(lay).name
    if name in TEMPORAL and TEMPORAL[name] in names:
        return lay.column(TEMPORAL[name])
    return next((c for c in lay.columns if c.kind in (DATE, DATETIME)), None)


def filterable(lay: Layer) -> list[Column]:
    return [c for c in lay.columns if c.kind != GEOMETRY and not c.is_list]


@dataclass(frozen=True)
class PageRequest:
    filter: Filter
    limit: int
    offset: int
    cursor: int | None = None  # the last id of the page before: this page starts after it


def parse_items_query(lay: Layer, params: QueryParams, organisation: str | None) -> PageRequest:
    """Check every query parameter; each problem becomes a 400 that names the parameter."""
    columns = {c.name: c for c in filterable(lay)}
    for name in params:
        if name not in COMMON and name not in columns:
            known = ", ".join(sorted(COMMON | set(columns)))
            raise bad_request(
                N_("unknown query parameter {name!r} for {collection} (known: {known})"),
                name=name,
                collection=lay.name,
                known=known,
            )
    for name in ("bbox-crs", "crs"):
        value = params.get(name)
        if value is not None and value != CRS84:
            raise bad_request(N_("{name}: only {crs} (longitude, latitude) is offered"), name=name, crs=CRS84)
    where: dict[str, Any] = {}
    for name, col in columns.items():
        if name in params:
            where[name] = _filter_value(col, params.getlist(name))
    date_col = temporal_column(lay)
    date_from = date_to = None
    if params.get("datetime") is not None:
        if date_col is None:
            raise bad_request(N_("datetime: {collection} has no date to filter by"), collection=lay.name)
        date_from, date_to = parse_datetime(params["datetime"], date_col.kind == DATETIME)
    flt = Filter(
        bbox=parse_bbox(params["bbox"]) if "bbox" in params else None,
        ids=parse_ids(params.getlist("id")) if "id" in params else None,
        where=where,
        date_column=date_col.name if date_col is not None else None,
        date_from=date_from,
        date_to=date_to,
        organisation=organisation,
    )
    cursor = _int(params, "cursor", 0, 0, INT64) if "cursor" in params else None
    offset = _int(params, "offset", 0, 0, 10**9)
    if cursor is not None and offset:
        raise bad_request(
            N_("cursor={cursor} and offset={offset}: give one of them (the next link gives a cursor)"),
            cursor=cursor,
            offset=offset,
        )
    return PageRequest(flt, _int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT), offset, cursor)


def _filter_value(col: Column, raws: list[str]) -> Any:
    values = []
    for raw in raws:
        parts = raw.split(",") if col.vocabulary is not None else [raw]
        values.extend(plain(col, part.strip()) for part in parts)
    return values[0] if len(values) == 1 else values


def parse_ids(raws: list[str]) -> list[int]:
    """Feature ids, comma-separated or the parameter repeated."""
    ids = []
    for raw in raws:
        for part in raw.split(","):
            part = part.strip()
            if not part.isdigit() or not 1 <= int(part) <= INT64:
                raise bad_request(
                    N_("id={raw!r}: expected feature ids (whole numbers from 1), separated by commas"), raw=raw
                )
            ids.append(int(part))
    return ids


def _int(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(N_("{name}={raw!r}: expected a whole number"), name=name, raw=raw) from None
    if value < low:
        raise bad_request(N_("{name}={value}: must be at least {low}"), name=name, value=value, low=low)
    return min(value, high)  # the standard lets a server cap the limit


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    try:
        numbers = [float(v) for v in raw.split(",")]
    except ValueError:
        raise bad_request(N_("bbox={raw!r}: expected minlon,minlat,maxlon,maxlat as numbers"), raw=raw) from None
    if len(numbers) == 6:  # minx, miny, minz, maxx, maxy, maxz
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(v == v and abs(v) != float("inf") for v in numbers):
        raise bad_request(N_("bbox={raw!r}: expected 4 (or 6) finite numbers: minlon,minlat,maxlon,maxlat"), raw=raw)
    minx, miny, maxx, maxy = numbers
    if miny > maxy:
        raise bad_request(
            N_("bbox={raw!r}: the southern edge {miny} is north of the northern edge {maxy}"),
            raw=raw,
            miny=miny,
            maxy=maxy,
        )
    if minx > maxx:  # crosses the antimeridian: far from any city we clear; take the whole width
        minx, maxx = -180.0, 180.0
    return (minx, miny, maxx, maxy)


def parse_datetime(raw: str, timestamps: bool) -> tuple[Any, Any]:
    """An instant or an interval ``start/end`` with ``..`` (or nothing) for an open end."""
    if "/" in raw:
        start_text, _, end_text = raw.partition("/")
        if "/" in end_text:
            raise bad_request(N_("datetime={raw!r}: an interval has one '/'"), raw=raw)
        start = _moment(start_text, raw, end=False, timestamps=timestamps)
        end = _moment(end_text, raw, end=True, timestamps=timestamps)
        if start is None and end is None:
            raise bad_request(N_("datetime={raw!r}: at least one end of the interval must be given"), raw=raw)
        if start is not None and end is not None and start > end:
            raise bad_request(N_("datetime={raw!r}: the interval ends before it starts"), raw=raw)
        return start, end
    start = _moment(raw, raw, end=False, timestamps=timestamps)
    end = _moment(raw, raw, end=True, timestamps=timestamps)
    if start is None:
        raise bad_request(N_("datetime={raw!r}: give a date, a date-time or an interval start/end"), raw=raw)
    return start, end


def _moment(text: str, raw: str, *, end: bool, timestamps: bool) -> Any:
    text = text.strip()
    if text in ("", ".."):
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if not timestamps:
                return day
            return datetime.combine(day, time.max if end else time.min, UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise bad_request(
            N_("datetime={raw!r}: {text!r} is not an RFC 3339 date or date-time"), raw=raw, text=text
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment if timestamps else moment.astimezone(UTC).date()


def parameter_docs(lay: Layer) -> list[dict[str, Any]]:
    """The OpenAPI description of a collection's query parameters."""
    docs: list[dict[str, Any]] = [
        _param("f", {"type": "string", "enum": ["json", "html"]}, "Format of the answer."),
        _param(
            "bbox",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
            "Only features whose extent meets this box: minlon,minlat,maxlon,maxlat (CRS84).",
            explode=False,
        ),
        _param("bbox-crs", {"type": "string", "enum": [CRS84]}, "CRS of bbox (only CRS84)."),
        _param("crs", {"type": "string", "enum": [CRS84]}, "CRS of the answer (only CRS84)."),
        _param(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            "Features per page.",
        ),
        _param("offset", {"type": "integer", "minimum": 0, "default": 0}, "Features to skip (next links use cursor)."),
        _param(
            "cursor",
            {"type": "integer", "minimum": 0, "maximum": INT64},
            "The page starts after the feature with this id (features come in id order); the next link gives it.",
        ),
        _param(
            "id",
            {"type": "array", "items": ID_SCHEMA},
            "Only the features with these ids: id=12,40 (the id member, also the id property).",
            explode=False,
        ),
    ]
    temporal = temporal_column(lay)
    if temporal is not None:
        docs.append(
            _param(
                "datetime",
                {"type": "string"},
                f"Date or interval (start/end, '..' for open) on {temporal.name}.",
            )
        )
    for col in filterable(lay):
        docs.append(_param(col.name, column_schema(col), f"Only features whose {col.name} equals this."))
    return docs


def column_schema(col: Column) -> dict[str, Any]:
    if col.vocabulary is not None:
        return {"type": "string", "enum": [m.value for m in col.vocabulary]}
    return {
        INTEGER: {"type": "integer", "minimum": -(2**63) + 1, "maximum": 2**63 - 1},
        REAL: {"type": "number"},
        BOOLEAN: {"type": "boolean"},
        DATE: {"type": "string", "format": "date"},
        DATETIME: {"type": "string", "format": "date-time"},
    }.get(col.kind, {"type": "string"})


def _param(name: str, schema: dict[str, Any], description: str, explode: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
    doc["description"] = description
    if not explode:
        doc["style"] = "form"
        doc["explode"] = False
    return doc
