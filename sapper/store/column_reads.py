"""Rows read as columns, for a window of thousands of records (``Register.list``).

A window of items is thousands of rows: decoded a column at a time (each distinct stored value
once, the geometries in one call), it costs a fraction of decoding them value by value.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import shapely

from sapper.store.batch import map_distinct
from sapper.store.schema import Layer
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
) -> tuple[Sequence[int], dict[str, Sequence[Any]]]:
    """The rows ``backend.select`` gives, as columns: their ids, and each column's decoded values by name.

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
    geoms = backend.decode_geometries([r[-1] for r in raw]) if lay.geometry_type else []
    if loose is not None and bbox is not None and raw:
        hits = shapely.intersects(np.asarray(geoms, dtype=object), shapely.box(*bbox))
        if not hits.all():
            raw = [r for r, hit in zip(raw, hits) if hit]
            geoms = [g for g, hit in zip(geoms, hits) if hit]
    stored = list(zip(*raw)) if raw else [()] * (len(lay.attribute_columns) + 1 + bool(lay.geometry_type))
    columns: dict[str, Sequence[Any]] = {}
    for col, values in zip(lay.attribute_columns, stored[1:]):
        decode = backend.decoder(col)
        columns[col.name] = values if decode is None else map_distinct(decode, values)
    if lay.geometry_type:
        columns[GEOMETRY_FIELD] = geoms
    return stored[0], columns
