"""Rows read as columns, for a window of thousands of records (``Register.list``).

A window of items is thousands of rows: decoded a column at a time (each distinct stored value
once, the geometries in one call), it costs a fraction of decoding them value by value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from itertools import compress
from operator import itemgetter
from typing import Any

import numpy as np
import shapely

from sapper.model.records import Record
from sapper.store.batch import map_distinct
from sapper.store.record_maker import collector_paused
from sapper.store.rows import records
from sapper.store.schema import BOOLEAN, DATE, Column, Layer
from sapper.store.sql import BBox, SqlBackend

GEOMETRY_FIELD = "geometry"  # the record field a layer's geometry column is read into


def select_columns(
    backend: SqlBackend,
    lay: Layer,
    *,
    ids: Sequence[int] | None = None,
    bbox: BBox | None = None,
    where: dict[str, Any] | None = None,
    order_by: str = "id",
    limit: int | None = None,
    offset: int = 0,
) -> tuple[Sequence[int], dict[str, Sequence[Any]], set[str]]:
    """The rows ``backend.select`` gives, as columns: their ids, each column's decoded values by name,
    and the names of the columns whose values are all of their field's Python type or None.

    A whole window (no limit) takes the spatial index's candidates where the backend has a
    cheaper clause for them (``candidates_clause``) and tests them against the box itself, in
    one call, on the geometries it decodes anyway. Its rows are put in id order here: PostgreSQL
    sorting them first copies every row, geometry and all (5-9 % of an items window's time in the
    database and on the wire, measured), where Python sorts a thousand ids in a few microseconds.
    """
    whole = bbox is not None and lay.geometry_type and limit is None and not offset
    loose = backend.candidates_clause(lay) if whole else None
    sort_here = whole and order_by == "id"
    sql, params = backend._select_sql(
        lay, ids, bbox, where, None if sort_here else order_by, limit, offset, candidates=loose
    )
    raw = backend.fetch_all(sql, params)
    if sort_here:
        raw.sort(key=itemgetter(0))
    geoms = backend.decode_geometries(list(map(itemgetter(-1), raw))) if lay.geometry_type else []
    if loose is not None and bbox is not None and raw:
        hits = meets_box(geoms, bbox)
        if not hits.all():
            kept = hits.tolist()
            raw = list(compress(raw, kept))
            geoms = list(compress(geoms, kept))
    stored = list(zip(*raw)) if raw else [()] * (len(lay.attribute_columns) + 1 + bool(lay.geometry_type))
    columns: dict[str, Sequence[Any]] = {}
    typed = {GEOMETRY_FIELD} if lay.geometry_type else set()  # decode_geometries gives geometries or None
    for col, values in zip(lay.attribute_columns, stored[1:]):
        decode = backend.decoder(col)
        if decode is None:
            columns[col.name] = values
            continue
        decoded = decode_column(decode, col, values)
        columns[col.name] = decoded if decoded is not None else map_distinct(decode, values)
        if decoded is not None:
            typed.add(col.name)
    if lay.geometry_type:
        columns[GEOMETRY_FIELD] = geoms
    return stored[0], columns, typed


def meets_box(geoms: Sequence[Any], bbox: BBox) -> np.ndarray:
    """Whether each geometry (or None) intersects the box, as ``shapely.intersects`` answers. One whose
    bounds lie inside the box does; only the others (across its edge, empty, None) are tested."""
    shapes = np.fromiter(geoms, dtype=object, count=len(geoms))
    minx, miny, maxx, maxy = bbox
    bounds = shapely.bounds(shapes)  # NaN for None and empty shapes: never inside, so tested
    hits = (bounds[:, 0] >= minx) & (bounds[:, 1] >= miny) & (bounds[:, 2] <= maxx) & (bounds[:, 3] <= maxy)
    edge = ~hits
    if edge.any():
        hits[edge] = shapely.intersects(shapes[edge], shapely.box(minx, miny, maxx, maxy))
    return hits


# Decoded types of flags and days: a register holds few distinct stored values of them, so each is
# decoded once per process, not once per read (bounded: a column of odd values cannot fill memory).
_MEMO_TYPES = {BOOLEAN: bool, DATE: date}
_MEMO_LIMIT = 20_000
_memos: dict[Callable[[Any], Any], dict[Any, Any]] = {}


def decode_column(decode: Callable[[Any], Any], col: Column, values: Sequence[Any]) -> list[Any] | None:
    """``decode`` of every non-null value (None stays None), as ``map_distinct`` gives it, when the
    column holds flags or days that all decode to exactly the field's type; None otherwise."""
    kind = _MEMO_TYPES.get(col.kind)
    if kind is None or col.vocabulary is not None:
        return None
    memo = _memos.setdefault(decode, {None: None})  # only values decoded to ``kind`` are kept
    try:
        return list(map(memo.__getitem__, values))
    except KeyError:
        pass
    except TypeError:  # unhashable values
        return None
    if len(memo) > _MEMO_LIMIT:  # a new dict, not cleared: another thread may be reading the old one
        memo = _memos[decode] = {None: None}
    try:
        distinct = set(values)
    except TypeError:  # unhashable values
        return None
    new = {value: decode(value) for value in distinct if value not in memo}
    if not all(type(v) is kind for v in new.values()):
        return None
    memo.update(new)
    return list(map(memo.__getitem__, values))


def read_records(
    backend: SqlBackend,
    lay: Layer,
    *,
    bbox: BBox | None = None,
    where: dict[str, Any] | None = None,
    order_by: str = "id",
    limit: int | None = None,
    offset: int = 0,
) -> list[Record]:
    """The records of ``select_columns``'s rows, made with the cycle collector paused. Their columns
    are gone before it runs again: it then walks only the records (half the time, measured)."""
    with collector_paused():  # a window's thousands of new objects hold no cycles
        made = _records_of(backend, lay, bbox, where, order_by, limit, offset)
    return made


def _records_of(
    backend: SqlBackend,
    lay: Layer,
    bbox: BBox | None,
    where: dict[str, Any] | None,
    order_by: str,
    limit: int | None,
    offset: int,
) -> list[Record]:
    ids, columns, typed = select_columns(
        backend, lay, bbox=bbox, where=where, order_by=order_by, limit=limit, offset=offset
    )
    return records(lay, ids, columns, typed)
