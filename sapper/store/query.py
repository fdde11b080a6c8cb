"""Pages of a layer for one user: bbox, field filters, a date range and visibility, all in SQL.

The register's own ``list`` filters by equality only; a user must also not see other
organisations' restricted records, and a page needs its total count. Both are done here in
the database, through the spatial index, so a page of 100 features never loads a layer.
What hangs off a restricted record (the items, reports, releases and activities of a hazard,
a plan's rows) is hidden with it: the rule lives here, in ``where_sql``, and nowhere else.
A ``View`` (the features of a layer with one family of geometry types) is queried the same
way: its table is its source layer's, with the geometry type tested in SQL as well.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sapper.store.reads import Read, run
from sapper.store.rules import LINKS
from sapper.store.schema import BOOLEAN, DATE, DATETIME, Column, Layer, layer
from sapper.store.sql import GEOM, BBox, SqlBackend, q

# Every link a row holds to another record (table -> field -> kind): the register's checked links
# and a plan's rows, which name the plan, sector, hazard and team they are about.
PARENTS: dict[str, dict[str, str]] = {
    **LINKS,
    "plan_sectors": {"plan_id": "plan", "hazard_id": "hazard", "team_id": "team"},
    "plan_lanes": {"plan_id": "plan", "sector_id": "plan_sector", "team_id": "team"},
    "plan_assignments": {"plan_id": "plan", "sector_id": "plan_sector", "hazard_id": "hazard", "team_id": "team"},
    "plan_priorities": {"plan_id": "plan", "hazard_id": "hazard"},
    "plan_days": {"plan_id": "plan"},
}

# A row of a page: its id, its attribute values as JSON has them, its stored geometry value.
Row = tuple[int, dict[str, Any], Any]

# WKB geometry type codes (OGC Simple Features, 2D), as a View names its types.
WKB_CODES = {"POINT": 1, "LINESTRING": 2, "POLYGON": 3, "MULTIPOINT": 4, "MULTILINESTRING": 5, "MULTIPOLYGON": 6}


@dataclass(frozen=True)
class View(Layer):
    """A read-only subset of ``source``: its features whose geometry is one of ``geometry_types``.

    GIS tools such as QGIS take one geometry type per layer, so a layer that mixes points and
    polygons (protected sites) is also served as one view per type.
    """

    source: Layer
    geometry_types: tuple[str, ...]


def table(lay: Layer) -> Layer:
    """The layer whose table holds ``lay``'s rows."""
    return lay.source if isinstance(lay, View) else lay


def _geometry_type_sql(backend: SqlBackend, types: Sequence[str]) -> tuple[str, list[Any]]:
    """A condition on the stored geometry's type, evaluated by the database."""
    from sapper.store.gpkg import GeoPackageBackend

    codes = [WKB_CODES[t] for t in types]
    if not isinstance(backend, GeoPackageBackend):
        return f"GeometryType({q(GEOM)}) IN ({', '.join([backend.ph] * len(types))})", list(types)
    # GeoPackage binary (GeoPackage 1.2, 2.1.3): 8 header bytes, an envelope whose size the flags
    # byte's bits 1-3 give (its low hex digit halved), then WKB: a byte-order byte and the type.
    indicator = f"(instr('0123456789', substr(hex(substr({q(GEOM)}, 4, 1)), 2, 1)) - 1) / 2"
    offset = f"CASE {indicator} WHEN 0 THEN 0 WHEN 1 THEN 32 WHEN 4 THEN 64 ELSE 48 END"
    params: list[Any] = [struct.pack(order, code) for code in codes for order in ("<I", ">I")]
    return f"substr({q(GEOM)}, 10 + {offset}, 4) IN ({', '.join([backend.ph] * len(params))})", params


@dataclass(frozen=True)
class Filter:
    """What a request asks of a layer; ``organisation`` None means the caller sees everything."""

    bbox: BBox | None = None
    where: dict[str, Any] = field(default_factory=dict)
    date_column: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    organisation: str | None = None
    ids: Sequence[int] | None = None


def where_sql(backend: SqlBackend, lay: Layer, flt: Filter) -> tuple[str, list[Any]]:
    clause, params = backend._filters(table(lay), flt.ids, flt.bbox, flt.where)
    parts = [clause[len(" WHERE ") :]] if clause else []
    ph = backend.ph
    if isinstance(lay, View):
        condition, values = _geometry_type_sql(backend, lay.geometry_types)
        parts.append(condition)
        params.extend(values)
    if flt.date_column is not None:
        col = lay.column(flt.date_column)
        if flt.date_from is not None:
            parts.append(f"{q(col.name)} >= {ph}")
            params.append(backend.encode_value(col, flt.date_from))
        if flt.date_to is not None:
            parts.append(f"{q(col.name)} <= {ph}")
            params.append(backend.encode_value(col, flt.date_to))
    if flt.organisation is not None:
        restricted = lay.column("restricted")
        parts.append(f"(coalesce({q('restricted')}, {ph}) = {ph} OR {q('organisation')} = {ph})")
        no = backend.encode_value(restricted, False)
        params.extend([no, no, flt.organisation])
        for condition, values in _parents_hidden(backend, table(lay).name, q(table(lay).name), flt.organisation):
            parts.append(f"NOT {condition}")
            params.extend(values)
    return ((" WHERE " + " AND ".join(parts)) if parts else ""), params


def _parents_hidden(backend: SqlBackend, name: str, row: str, organisation: str) -> list[tuple[str, list[Any]]]:
    """One ``EXISTS`` per link of table ``name`` (its row called ``row``): true when that link names a
    record hidden from ``organisation``, itself or through its own links (a lane's sector's hazard).

    Each is a lookup by primary key per row, so a page stays as index-driven as it was.
    """
    ph = backend.ph
    out = []
    for link, kind in PARENTS.get(name, {}).items():
        parent = layer(kind).name
        alias = q(f"{row.strip(chr(34))}_{link}")
        own = f"(coalesce({alias}.{q('restricted')}, {ph}) = {ph} AND {alias}.{q('organisation')} <> {ph})"
        restricted = layer(kind).column("restricted")
        no, yes = backend.encode_value(restricted, False), backend.encode_value(restricted, True)
        conditions, params = [own], [no, yes, organisation]
        for condition, values in _parents_hidden(backend, parent, alias, organisation):
            conditions.append(condition)
            params.extend(values)
        sql = (
            f"EXISTS (SELECT 1 FROM {q(parent)} AS {alias} WHERE {alias}.{q('id')} = {row}.{q(link)} "
            f"AND ({' OR '.join(conditions)}))"
        )
        out.append((sql, params))
    return out


def ids(backend: SqlBackend, lay: Layer, flt: Filter) -> set[int]:
    """The ids of the rows the filter lets through."""
    clause, params = where_sql(backend, lay, flt)
    return {int(r[0]) for r in backend.execute(f"SELECT {q('id')} FROM {q(table(lay).name)}{clause}", params)}


def select(
    backend: SqlBackend,
    lay: Layer,
    flt: Filter,
    *,
    limit: int | None = None,
    offset: int = 0,
    after: int | None = None,
) -> list[Row]:
    """Rows as (id, attribute values as JSON has them, stored geometry value), in id order.

    Values are ready for JSON (dates as ISO text, booleans as booleans) without a round trip
    through Python dates; the geometry stays as the database returned it (GeoPackage binary
    or WKB) so the caller can convert a whole page at once. ``after`` starts the page past
    that id (keyset paging): the primary key's index finds the page, where an offset would
    walk every row before it.
    """
    return run(backend, select_read(backend, lay, flt, limit=limit, offset=offset, after=after))[0]


def count(backend: SqlBackend, lay: Layer, flt: Filter) -> int:
    return run(backend, count_read(backend, lay, flt))


def select_counted_read(
    backend: SqlBackend, lay: Layer, flt: Filter, *, limit: int, offset: int = 0
) -> Read[tuple[list[Row], int | None]]:
    """A page of ``select``, and how many rows the filter lets through in all; None when the page is
    empty (no row carried the count), has no bbox, or is read from a GeoPackage: ``count`` it then.

    A window on PostGIS gives both in one query (``count(*) OVER ()``): the page's sort visits
    every row in the window anyway, and a second query would find them all again (a third of an
    items page's time in the database, measured). Without a bbox the page is read along the
    primary key and stops after ``limit`` rows, while the window count would first copy every row
    of the layer (1.8x a plain count, measured on 200,000 items); SQLite copies the rows too,
    slower than a count of its own through the R-tree (measured).
    """
    from sapper.store.gpkg import GeoPackageBackend

    counted = not isinstance(backend, GeoPackageBackend) and flt.bbox is not None
    return select_read(backend, lay, flt, limit=limit, offset=offset, counted=counted)


def select_read(
    backend: SqlBackend,
    lay: Layer,
    flt: Filter,
    *,
    limit: int | None = None,
    offset: int = 0,
    after: int | None = None,
    counted: bool = False,
) -> Read[tuple[list[Row], int | None]]:
    """``select``'s rows, and with ``counted`` the number of rows matched (None on an empty page)."""
    attrs = lay.attribute_columns
    cols = [q("id"), *(q(c.name) for c in attrs)]
    if lay.geometry_type:
        cols.append(backend.geometry_select())
    if counted:
        cols.append("count(*) OVER ()")
    clause, params = where_sql(backend, lay, flt)
    if after is not None:
        clause += f"{' AND' if clause else ' WHERE'} {q('id')} > {backend.ph}"
        params.append(int(after))
    sql = f"SELECT {', '.join(cols)} FROM {q(table(lay).name)}{clause} ORDER BY {q('id')}"
    if limit is not None:
        sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    names = [c.name for c in attrs]
    plan = [(i, _JSON_READY[c.kind]) for i, c in enumerate(attrs, start=1) if c.kind in _JSON_READY]
    geometry = len(attrs) + 1 if lay.geometry_type else None

    def answer(raws: Sequence[Sequence[Any]]) -> tuple[list[Row], int | None]:
        out = []
        for raw in raws:
            values = dict(zip(names, raw[1 : len(attrs) + 1]))
            for i, convert in plan:
                if raw[i] is not None:
                    values[names[i - 1]] = convert(raw[i])
            out.append((int(raw[0]), values, None if geometry is None else raw[geometry]))
        matched = int(raws[-1][-1]) if counted and raws else None
        return out, matched

    return Read(sql, params, answer)


def count_read(backend: SqlBackend, lay: Layer, flt: Filter) -> Read[int]:
    clause, params = where_sql(backend, lay, flt)
    return Read(f"SELECT count(*) FROM {q(table(lay).name)}{clause}", params, lambda rows: int(rows[0][0]))


def cursor_before_read(backend: SqlBackend, lay: Layer, flt: Filter, first: int, limit: int) -> Read[int | None]:
    """The cursor of the page of ``limit`` rows that ends just before id ``first``: the id one row
    further back, or None when that page is the first. Read backwards along the primary key."""
    clause, params = where_sql(backend, lay, flt)
    clause += f"{' AND' if clause else ' WHERE'} {q('id')} < {backend.ph}"
    sql = f"SELECT {q('id')} FROM {q(table(lay).name)}{clause} ORDER BY {q('id')} DESC LIMIT 1 OFFSET {int(limit)}"
    return Read(sql, [*params, int(first)], lambda rows: int(rows[0][0]) if rows else None)


def _iso(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat()


# What a column's stored value needs to become its JSON value (others go as they are).
_JSON_READY = {BOOLEAN: bool, DATE: _iso, DATETIME: _iso}


def sums(
    backend: SqlBackend, lay: Layer, flt: Filter, group_by: Sequence[str], totals: Sequence[str] = ()
) -> list[tuple[Any, ...]]:
    """Rows of (*group values, count, *sums) over what the filter lets through."""
    for name in (*group_by, *totals):
        if name != "id":
            lay.column(name)
    clause, params = where_sql(backend, lay, flt)
    groups = ", ".join(map(q, group_by))
    added = "".join(f", sum({q(name)})" for name in totals)
    head = f"{groups}, " if group_by else ""
    sql = f"SELECT {head}count(*){added} FROM {q(table(lay).name)}{clause}"
    if group_by:
        sql += f" GROUP BY {groups}"
    return [tuple(row) for row in backend.execute(sql, params).fetchall()]


def extent(backend: SqlBackend, lay: Layer, flt: Filter | None = None) -> tuple[float, float, float, float] | None:
    """The bounding box of what the filter lets through (the whole layer without one).

    On a GeoPackage from the R-tree's boxes; on PostGIS exact, by a scan (ST_EstimatedExtent
    would be quicker but approximate, and blind to what a user may see).
    """
    if not lay.geometry_type:
        return None
    from sapper.store.gpkg import GeoPackageBackend

    clause, params = where_sql(backend, lay, flt or Filter())
    if isinstance(backend, GeoPackageBackend):
        name = table(lay).name
        sql = f'SELECT min(minx), min(miny), max(maxx), max(maxy) FROM "rtree_{name}_geom"'
        if clause:
            sql += f" WHERE id IN (SELECT {q('id')} FROM {q(name)}{clause})"
    else:
        sql = (
            f'SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent("geom") AS e '
            f"FROM {q(table(lay).name)}{clause}) AS x"
        )
    row = backend.execute(sql, params).fetchone()
    if row is None or row[0] is None:
        return None
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def date_range(
    backend: SqlBackend, lay: Layer, col: Column, flt: Filter | None = None
) -> tuple[str | None, str | None]:
    """The first and last value of a date column, as RFC 3339 instants (None when empty)."""
    clause, params = where_sql(backend, lay, flt or Filter())
    sql = f"SELECT min({q(col.name)}), max({q(col.name)}) FROM {q(table(lay).name)}{clause}"
    row = backend.execute(sql, params).fetchone()

    def instant(value: Any) -> str | None:
        if value is None:
            return None
        text = _iso(value)
        return text if "T" in text else f"{text[:10]}T00:00:00Z"

    return instant(row[0]), instant(row[1])
