"""What both SQL backends share: CRUD, bbox queries, transactions (audit rows: ``audit_rows``).

A backend only supplies its dialect (types, placeholders, geometry encoding and the
spatial-index clause); the SQL itself is written once here.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import numpy as np
from shapely.geometry.base import BaseGeometry

from sapper.store.audit_rows import AuditRows
from sapper.store.batch import map_distinct, storage_column
from sapper.store.identifiers import q
from sapper.store.schema import AUDIT_TABLE, Column, Layer

GEOM = "geom"
BBox = tuple[float, float, float, float]  # minx, miny, maxx, maxy (lon/lat)


class SqlBackend(AuditRows, ABC):
    ph = "?"
    serial_key = ""  # DDL of an "id" primary key the database numbers, for tables that are not layers
    # Rows of a bulk insert of polygons checked and written at a time, for a backend that writes one
    # part while the next is checked (``Register.add_batch``); None: the whole batch at once.
    bulk_piece_rows: int | None = None

    def __init__(self) -> None:
        self._depth = 0

    # --- dialect -----------------------------------------------------------------
    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    @abstractmethod
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    def begin(self) -> None: ...

    @abstractmethod
    def sql_type(self, col: Column) -> str: ...

    @abstractmethod
    def encode_geometries(self, geoms: Sequence[BaseGeometry | None]) -> list[Any]: ...

    @abstractmethod
    def decode_geometries(self, values: Sequence[Any]) -> list[BaseGeometry | None]: ...

    @abstractmethod
    def geometry_param(self) -> str: ...

    @abstractmethod
    def geometry_select(self) -> str: ...

    @abstractmethod
    def bbox_clause(self, lay: Layer) -> str:
        """SQL selecting geometries that intersect the box, through the spatial index;
        its placeholders take ``bbox_params``."""

    def bbox_params(self, bbox: BBox) -> list[float]:
        return list(bbox)

    @abstractmethod
    def next_ids(self, lay: Layer, count: int) -> list[int]: ...

    def hold(self, name: str) -> None:
        """Until the open transaction ends, no other writer's transaction passes ``hold`` with the same
        name: for a number taken from what is stored (the next plan's). Nothing to do by default:
        a GeoPackage's write transactions already go one at a time (BEGIN IMMEDIATE)."""

    @contextmanager
    def bulk(self, lay: Layer, count: int, pieces: int) -> Iterator[None]:
        """``count`` new rows of ``lay`` are written in this transaction, in ``pieces`` inserts: a
        backend may put off work per row until its commit, or number every row with the first
        piece. Nothing by default."""
        yield

    @abstractmethod
    def existing_columns(self, table: str) -> set[str]: ...

    @abstractmethod
    def create_layer(self, lay: Layer) -> None: ...

    def column_ddl(self, col: Column) -> str:
        """A column's definition in CREATE or ALTER TABLE: ``version`` counts from 0, never NULL."""
        default = " NOT NULL DEFAULT 0" if col.name == "version" else ""
        return f"{q(col.name)} {self.sql_type(col)}{default}"

    def add_column(self, lay: Layer, col: Column) -> None:
        self.execute(f"ALTER TABLE {q(lay.name)} ADD COLUMN {self.column_ddl(col)}")

    @abstractmethod
    def close(self) -> None: ...

    def on_write(self, lay: Layer, geoms: Sequence[BaseGeometry | None]) -> None:
        """Hook for a backend that keeps layer metadata (GeoPackage extents)."""

    def before_commit(self) -> None:
        """Hook run once before the outermost transaction commits."""

    def after_rollback(self) -> None:
        """Hook run when the outermost transaction rolls back."""

    def on_savepoint(self, depth: int) -> None:
        """Hook run when a nested transaction (savepoint ``depth``) begins."""

    def after_savepoint_rollback(self, depth: int) -> None:
        """Hook run when a nested transaction (savepoint ``depth``) rolls back."""

    def before_change(self, lay: Layer) -> None:
        """Hook run before rows of a layer are updated or deleted."""

    def encoder(self, col: Column) -> Callable[[Any], Any] | None:
        """How a column's non-null values are written, or None when they go as they are."""
        return None

    def encode_value(self, col: Column, value: Any) -> Any:
        enc = self.encoder(col)
        return value if enc is None or value is None else enc(value)

    def decoder(self, col: Column) -> Callable[[Any], Any] | None:
        """How a column's non-null stored values are read back, or None when they come as they are."""
        return None

    # --- transactions --------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing; nested calls become savepoints."""
        depth = self._depth
        if depth == 0:
            self.begin()
        else:
            self.send(f"SAVEPOINT sp{depth}")
            self.on_savepoint(depth)
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth = depth
            # If the database already undid it (disk full), its error is the one to report.
            with contextlib.suppress(Exception):
                if depth == 0:
                    self.rollback()
                else:
                    self.execute(f"ROLLBACK TO SAVEPOINT sp{depth}")
                    self.execute(f"RELEASE SAVEPOINT sp{depth}")
            if depth == 0:
                self.after_rollback()
            else:
                self.after_savepoint_rollback(depth)
            raise
        self._depth = depth
        if depth == 0:
            self.before_commit()
            self.execute("COMMIT")
        else:
            self.send(f"RELEASE SAVEPOINT sp{depth}")

    def rollback(self) -> None:
        self.execute("ROLLBACK")

    def send(self, sql: str) -> None:
        """A statement whose answer nobody reads (a savepoint): a backend that writes in the
        background may queue it behind those writes."""
        self.execute(sql)

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    # --- schema ------------------------------------------------------------------
    def schema_is_current(self, layers: Sequence[Layer]) -> bool:
        for lay in layers:
            existing = self.existing_columns(lay.name)
            if not existing or any(col.name not in existing for col in lay.attribute_columns):
                return False
        return bool(self.existing_columns(AUDIT_TABLE))

    def ensure_schema(self, layers: Sequence[Layer]) -> None:
        """Create missing layers and add columns the model gained since (migration).

        A current register is left alone: opening it writes nothing and takes no write lock.
        """
        if self.schema_is_current(layers):
            return
        with self.transaction():
            for lay in layers:
                existing = self.existing_columns(lay.name)
                if not existing:
                    self.create_layer(lay)
                    continue
                for col in lay.attribute_columns:
                    if col.name not in existing:
                        self.add_column(lay, col)
            if not self.existing_columns(AUDIT_TABLE):
                self.create_audit_table()

    @abstractmethod
    def create_audit_table(self) -> None: ...

    # --- rows ----------------------------------------------------------------------
    def _names(self, lay: Layer) -> list[str]:
        return [c.name for c in lay.attribute_columns]

    def insert_columns(self, lay: Layer, columns: dict[str, Sequence[Any]], geoms: np.ndarray | None) -> list[int]:
        """Insert records given as columns of their field values (``batch.Batch``); returns their
        new ids. Each column is converted at once, never a row at a time."""
        count = len(geoms) if geoms is not None else len(next(iter(columns.values())))
        if not count:
            return []
        ids = self.next_ids(lay, count)
        values: list[Sequence[Any]] = [ids]
        for col in lay.attribute_columns:
            column = storage_column(col, columns[col.name])
            encode = self.encoder(col)
            values.append(column if encode is None else map_distinct(encode, column))
        cols = ["id", *self._names(lay)]
        params = [self.ph] * len(cols)
        if lay.geometry_type:
            assert geoms is not None
            cols.append(GEOM)
            params.append(self.geometry_param())
        self.write_columns(lay, cols, params, values, geoms)
        if geoms is not None:
            self.on_write(lay, geoms)
        return ids

    def write_columns(
        self, lay: Layer, cols: list[str], params: list[str], values: list[Sequence[Any]], geoms: np.ndarray | None
    ) -> None:
        """Write rows given as columns (``values``, the geometry not yet encoded)."""
        if geoms is not None:
            values = [*values, self.encode_geometries(geoms)]
        sql = f"INSERT INTO {q(lay.name)} ({', '.join(map(q, cols))}) VALUES ({', '.join(params)})"
        self.executemany(sql, list(zip(*values)))

    def update(self, lay: Layer, record_id: int, row: dict[str, Any], expected_version: int) -> bool:
        """Write the row if it is still at ``expected_version``; bump the version."""
        self.before_change(lay)
        sets = [f"{q(c.name)} = {self.ph}" for c in lay.attribute_columns if c.name != "version"]
        values = [self.encode_value(c, row.get(c.name)) for c in lay.attribute_columns if c.name != "version"]
        if lay.geometry_type:
            sets.append(f"{q(GEOM)} = {self.geometry_param()}")
            values.append(self.encode_geometries([row.get("geometry")])[0])
            self.on_write(lay, [row.get("geometry")])
        sets.append(f"{q('version')} = {q('version')} + 1")
        sql = f"UPDATE {q(lay.name)} SET {', '.join(sets)} WHERE {q('id')} = {self.ph} AND {q('version')} = {self.ph}"
        cursor = self.execute(sql, [*values, record_id, expected_version])
        return cursor.rowcount == 1

    def delete(self, lay: Layer, record_id: int) -> None:
        self.before_change(lay)
        self.execute(f"DELETE FROM {q(lay.name)} WHERE {q('id')} = {self.ph}", [record_id])

    def select(
        self,
        lay: Layer,
        *,
        ids: Sequence[int] | None = None,
        bbox: BBox | None = None,
        where: dict[str, Any] | None = None,
        order_by: str = "id",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[tuple[int, dict[str, Any]]]:
        """Rows as (id, row); ``where`` maps a column to a value or a list of values."""
        sql, params = self._select_sql(lay, ids, bbox, where, order_by, limit, offset)
        raw = self.execute(sql, params).fetchall()
        geoms = self.decode_geometries([r[-1] for r in raw]) if lay.geometry_type else [None] * len(raw)
        out = []
        names = [c.name for c in lay.attribute_columns]
        decoded = [(c.name, dec) for c in lay.attribute_columns if (dec := self.decoder(c)) is not None]
        for r, geom in zip(raw, geoms):
            row = dict(zip(names, r[1:]))
            for name, dec in decoded:  # a window of items reads thousands of rows: only columns that need it
                value = row[name]
                if value is not None:
                    row[name] = dec(value)
            if lay.geometry_type:
                row["geometry"] = geom
            out.append((int(r[0]), row))
        return out

    def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        """Every row of a read of many rows; a backend may fetch them in a cheaper form."""
        return self.execute(sql, params).fetchall()

    def candidates_clause(self, lay: Layer) -> str | None:
        """SQL cheaper than ``bbox_clause`` that lets through every geometry meeting the box and
        perhaps some that only come near it (its placeholders take the box); None if there is none."""
        return None

    def _select_sql(
        self,
        lay: Layer,
        ids: Sequence[int] | None,
        bbox: BBox | None,
        where: dict[str, Any] | None,
        order_by: str | None = "id",
        limit: int | None = None,
        offset: int = 0,
        *,
        candidates: str | None = None,
    ) -> tuple[str, list[Any]]:
        """The select; with ``candidates`` (see ``candidates_clause``) that clause stands for the bbox's.
        ``order_by`` None leaves the rows in the order the database finds them."""
        cols = [q("id"), *map(q, self._names(lay))]
        if lay.geometry_type:
            cols.append(self.geometry_select())
        clause, params = self._filters(lay, ids, None if candidates else bbox, where)
        if candidates and bbox is not None:
            clause += f"{' AND' if clause else ' WHERE'} {candidates}"
            params.extend(bbox)
        if order_by not in ("id", None):
            lay.column(order_by)
        sql = f"SELECT {', '.join(cols)} FROM {q(lay.name)}{clause}"
        if order_by is not None:
            sql += f" ORDER BY {q(order_by)}, {q('id')}"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return sql, params

    def explain_bbox(self, lay: Layer, bbox: BBox) -> str:
        """The database's query plan for a bounding-box select: shows the spatial index at work."""
        sql, params = self._select_sql(lay, None, bbox, None)
        return "\n".join(" ".join(map(str, row)) for row in self.execute(self.explain_prefix + sql, params).fetchall())

    explain_prefix = "EXPLAIN "

    def count(self, lay: Layer, *, bbox: BBox | None = None, where: dict[str, Any] | None = None) -> int:
        clause, params = self._filters(lay, None, bbox, where)
        return int(self.execute(f"SELECT count(*) FROM {q(lay.name)}{clause}", params).fetchone()[0])

    def aggregate(self, lay: Layer, group_by: Sequence[str], sums: Sequence[str] = ()) -> list[tuple[Any, ...]]:
        """Rows of (*group values, count, *sums), for summaries without loading geometries."""
        for name in (*group_by, *sums):
            if name != "id":
                lay.column(name)
        groups = ", ".join(map(q, group_by))
        totals = "".join(f", sum({q(name)})" for name in sums)
        sql = f"SELECT {groups}, count(*){totals} FROM {q(lay.name)} GROUP BY {groups}"
        return [tuple(row) for row in self.execute(sql).fetchall()]

    def existing_ids(self, lay: Layer, ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            sql = f"SELECT {q('id')} FROM {q(lay.name)} WHERE {q('id')} IN ({', '.join([self.ph] * len(chunk))})"
            found.update(int(r[0]) for r in self.execute(sql, chunk).fetchall())
        return found

    def maximum(self, lay: Layer, column: str) -> Any:
        lay.column(column)
        return self.execute(f"SELECT max({q(column)}) FROM {q(lay.name)}").fetchone()[0]

    def _filters(
        self, lay: Layer, ids: Sequence[int] | None, bbox: BBox | None, where: dict[str, Any] | None
    ) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        if ids is not None:
            ids = list(ids) or [-1]
            parts.append(f"{q('id')} IN ({', '.join([self.ph] * len(ids))})")
            params.extend(ids)
        if bbox is not None:
            if not lay.geometry_type:
                raise ValueError(f"{lay.kind} has no geometry to filter by bounding box")
            parts.append(self.bbox_clause(lay))
            params.extend(self.bbox_params(bbox))
        for name, value in (where or {}).items():
            col = lay.column(name)
            if isinstance(value, (list, tuple, set, frozenset)):
                values = [self.encode_value(col, _plain(v)) for v in value] or [None]
                parts.append(f"{q(name)} IN ({', '.join([self.ph] * len(values))})")
                params.extend(values)
            elif value is None:
                parts.append(f"{q(name)} IS NULL")
            else:
                parts.append(f"{q(name)} = {self.ph}")
                params.append(self.encode_value(col, _plain(value)))
        return ((" WHERE " + " AND ".join(parts)) if parts else ""), params

    def ids_by_source_key(self, lay: Layer, keys: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        keys = list(keys)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            sql = (
                f"SELECT {q('source_key')}, {q('id')} FROM {q(lay.name)} "
                f"WHERE {q('source_key')} IN ({', '.join([self.ph] * len(chunk))})"
            )
            found.update({k: int(i) for k, i in self.execute(sql, chunk).fetchall()})
        return found

    def current_version(self, lay: Layer, record_id: int) -> int | None:
        sql = f"SELECT {q('version')} FROM {q(lay.name)} WHERE {q('id')} = {self.ph}"
        row = self.execute(sql, [record_id]).fetchone()
        return None if row is None else int(row[0])


def _plain(value: Any) -> Any:
    """Enum members and dates as the plain values the columns hold."""
    if isinstance(value, (date, datetime, bool, int, float)) or value is None:
        return value
    return str(value)
