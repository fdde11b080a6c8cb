"""Records of one layer as columns: what a bulk insert checks, derives and writes.

A million items are a few lists, not a million objects walked field by field: each check,
derived field and conversion runs once per column (numpy and shapely arrays, or one call
per distinct value of a column of words), and a record added alone goes through the same
code as a batch of one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from operator import attrgetter, is_
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon

from sapper.model.errors import InvalidRecord
from sapper.model.records import Record
from sapper.store.record_maker import collector_paused, records_from_columns
from sapper.store.schema import GEOMETRY, Column, Layer

POLYGON_TYPE_ID = 3  # shapely.get_type_id of a Polygon
Problems = dict[int, InvalidRecord]  # row of a batch -> why it cannot go in, naming the record


@dataclass
class Batch:
    """Field values of new records, one list per field of the layer (the geometry as a shapely
    array); ``ids`` are the records' own ids where they had one (errors name them by it)."""

    lay: Layer
    columns: dict[str, list[Any]]
    geometries: np.ndarray | None
    ids: list[int | None] | None = None
    # Every geometry already passed ``geometry_problems`` for this layer, as the register checks
    # them (an import checks its file's rows before writing): not checked a second time.
    geometries_checked: bool = False

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def replace(self, **columns: list[Any]) -> Batch:
        """A batch with some columns replaced (the others shared, not copied)."""
        return dataclasses.replace(self, columns={**self.columns, **columns})

    def take(self, rows: Sequence[int]) -> Batch:
        """The batch of the given rows only."""
        index = np.asarray(rows, dtype=np.int64)
        return Batch(
            self.lay,
            {name: [column[i] for i in rows] for name, column in self.columns.items()},
            None if self.geometries is None else self.geometries[index],
            None if self.ids is None else [self.ids[i] for i in rows],
            self.geometries_checked,
        )

    def pieces(self, size: int) -> list[Batch]:
        """The batch cut into consecutive batches of ``size`` rows (the last may be shorter)."""
        if len(self) <= size:
            return [self]
        return [
            Batch(
                self.lay,
                {name: column[start : start + size] for name, column in self.columns.items()},
                None if self.geometries is None else self.geometries[start : start + size],
                None if self.ids is None else self.ids[start : start + size],
                self.geometries_checked,
            )
            for start in range(0, len(self), size)
        ]

    def ref(self, i: int) -> str:
        """How errors name row ``i``: as ``rules.ref`` names the record it would be."""
        names = self.columns.get("name")
        record_id = self.ids[i] if self.ids else None
        return record_ref(self.lay, record_id, names[i] if names else None, self.columns["source_key"][i])

    def record_values(self, i: int) -> dict[str, Any]:
        values = {name: column[i] for name, column in self.columns.items()}
        if self.geometries is not None:
            values["geometry"] = self.geometries[i]
        return values


def joined(parts: Sequence[Batch]) -> Batch:
    """Consecutive batches of one layer (``Batch.pieces``) as one."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    columns = {name: list(chain.from_iterable(part.columns[name] for part in parts)) for name in first.columns}
    geometries = None if first.geometries is None else np.concatenate([part.geometries for part in parts])
    ids = None if first.ids is None else list(chain.from_iterable(part.ids or () for part in parts))
    return Batch(first.lay, columns, geometries, ids, all(part.geometries_checked for part in parts))


def record_ref(lay: Layer, record_id: int | None, name: str | None, source_key: str | None) -> str:
    """A record as errors name it: by id once it has one, else by name or source key."""
    if record_id is not None:
        return f"{lay.kind} {record_id}"
    name = name or source_key
    return f"{lay.kind} {name!r}" if name else f"new {lay.kind}"


def of_records(lay: Layer, records: Sequence[Record]) -> Batch:
    """Records as a batch: their field values as they are (nothing parsed or checked yet)."""
    names = [col.name for col in lay.columns if col.kind != GEOMETRY]
    shaped = ["geometry"] if lay.geometry_type else []
    with collector_paused():  # one pass over the records (each read once), then turned into columns
        fields = list(zip(*map(attrgetter("id", *shaped, *names), records)))
    columns = {name: list(column) for name, column in zip(names, fields[1 + len(shaped) :])}
    geometries = np.fromiter(fields[1], dtype=object, count=len(records)) if shaped else None
    return Batch(lay, columns, geometries, list(fields[0]))


def of_values(
    lay: Layer, values: dict[str, list[Any]], count: int, geometries: Sequence[Any] | np.ndarray | None
) -> Batch:
    """A batch from some fields' columns (lists, or numpy arrays taken as Python values); a field
    not given takes its default (fields without a default must be given)."""
    columns: dict[str, list[Any]] = {}
    for name, default in defaults(lay).items():
        column = values.get(name)
        if column is None:
            columns[name] = [default() for _ in range(count)] if callable(default) else [default] * count
        else:
            columns[name] = column.tolist() if isinstance(column, np.ndarray) else list(column)
    if lay.geometry_type:
        shapes = np.full(count, None, dtype=object)
        if geometries is not None:
            shapes[:] = list(geometries)
        geometries = shapes
    return Batch(lay, columns, geometries)


def defaults(lay: Layer) -> dict[str, Any]:
    """Each field's default: a value, a factory (called per record), or None for a required field."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(lay.record):
        if f.name in ("id", "geometry"):
            continue
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory
        else:
            out[f.name] = None
    return out


def fill_missing(column: list[Any], missing: object, default: Any) -> list[Any]:
    """The column with every ``missing`` cell given the field's default (the same list if none is)."""
    if not any(map(is_, column, repeat(missing))):  # a C loop: twice a generator's speed
        return column
    return [(default() if callable(default) else default) if v is missing else v for v in column]


def as_records(ready: Batch, ids: Sequence[int | None], *, version: int | None = None) -> list[Record]:
    """The batch's rows as records with these ids (and ``version``, if given), made a row at a time
    from the columns without each record's ``__init__`` when it only sets the fields."""
    columns = dict(ready.columns)
    if version is not None:
        columns["version"] = [version] * len(ids)
    names = ["id", *columns]
    values: list[Sequence[Any]] = [ids, *columns.values()]
    if ready.geometries is not None:
        names.append("geometry")
        values.append(ready.geometries.tolist())
    return records_from_columns(ready.lay.record, names, values)


def as_multipolygons(geoms: np.ndarray) -> np.ndarray:
    """Polygons as one-part MultiPolygons (an empty one as an empty MultiPolygon); the same
    array if it holds none."""
    polygons = np.flatnonzero(shapely.get_type_id(geoms) == POLYGON_TYPE_ID)
    if not len(polygons):
        return geoms
    out = geoms.copy()
    parts = geoms[polygons]
    full = ~shapely.is_empty(parts)
    out[polygons[full]] = shapely.multipolygons(parts[full], indices=np.arange(int(full.sum())))
    for i in polygons[~full]:
        out[i] = MultiPolygon()
    return out


def map_distinct(convert: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    """``convert`` of every non-null value, called once per distinct value (None stays None).

    A column of words, dates or flags holds a handful of distinct values in a million rows."""
    try:
        memo = {v: convert(v) for v in set(values) if v is not None}
    except TypeError:  # unhashable values (lists): one call each
        return [None if v is None else convert(v) for v in values]
    memo[None] = None
    return list(map(memo.__getitem__, values))


def storage_column(col: Column, values: Sequence[Any]) -> list[Any]:
    """A column's values as a row holds them (``rows.to_row``): vocabulary words as text,
    lists as comma-separated words, the rest as they are."""
    if col.is_list:
        return map_distinct(lambda value: ",".join(v.value for v in value), values)
    if col.vocabulary is not None:
        return map_distinct(lambda member: member.value, values)
    return list(values)
