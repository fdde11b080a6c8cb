"""The GeoPackage backend: plain ``sqlite3``, no SpatiaLite.

Writes the tables of OGC GeoPackage 1.2 (gpkg_spatial_ref_sys, gpkg_contents,
gpkg_geometry_columns, gpkg_extensions), GeoPackage binary geometries and the R-tree
spatial index extension with the spec's triggers. The few SQL functions those
triggers call (ST_MinX... ST_IsEmpty) are registered from Python on every connection;
GDAL and QGIS bring their own.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from sapper.model.errors import SapperError
from sapper.store import audit, dberrors, gpkg_binary, gpkg_rtree
from sapper.store.gpkg_rtree import BULK_ROWS
from sapper.store.schema import AUDIT_TABLE, BOOLEAN, DATE, DATETIME, INTEGER, REAL, Column, Layer
from sapper.store.sql import GEOM, SqlBackend, q

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10200  # GeoPackage 1.2.0
SRS_WGS84 = (
    "WGS 84 geodetic",
    4326,
    "EPSG",
    4326,
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]',
    "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid",
)
BUSY_ENV = "SAPPER_BUSY_SECONDS"
DEFAULT_BUSY_SECONDS = 30.0
REGISTER_MARK = "hazards"  # with the audit log: the tables that make a file a sapper register

CORE_TABLES = [
    """CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
       organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
       definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
       identifier TEXT UNIQUE, description TEXT DEFAULT '',
       last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
       min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
       CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
       geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
       CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
       CONSTRAINT uk_gc_table_name UNIQUE (table_name),
       CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
       CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
    """CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
       definition TEXT NOT NULL, scope TEXT NOT NULL,
       CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
]

SQL_TYPES = {INTEGER: "INTEGER", REAL: "DOUBLE", BOOLEAN: "BOOLEAN", DATE: "DATE", DATETIME: "DATETIME"}


def _boolean(value: Any) -> int:
    return int(bool(value))


def _iso_date(value: date | str) -> str:
    return value.isoformat()[:10] if isinstance(value, date) else str(value)


def register_functions(conn: sqlite3.Connection) -> None:
    """The GeoPackage SQL functions the R-tree triggers need."""
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, gpkg_binary.st_function(i), deterministic=True)
    conn.create_function("ST_IsEmpty", 1, gpkg_binary.is_empty, deterministic=True)
    conn.create_function("sapper_intersects_box", 5, gpkg_binary.intersects_box, deterministic=True)


# How GeoPackage stores its data types: BOOLEAN as 0/1, DATE and DATETIME as ISO 8601 text
_DECODERS: dict[str, Callable[[Any], Any]] = {
    BOOLEAN: bool,
    DATE: lambda value: date.fromisoformat(value[:10]),
    DATETIME: lambda value: datetime.fromisoformat(value.replace("Z", "+00:00")),
}


# Reads map the file instead of copying its pages through read() calls: a 1 km² window of hazards
# 13 % less time in SQLite (measured, bench/README.md). Writes still go through the journal as
# before (SQLite maps read-only unless built otherwise), so a crash loses nothing more.
MMAP_BYTES = 1 << 30


class NotARegister(SapperError, ValueError):
    """The path is not a sapper register (a folder, another file, another application's data)."""


def busy_timeout_ms() -> int:
    """How long a write waits for another writer (an import?) before giving up: 30 s, or
    ``SAPPER_BUSY_SECONDS``. The server answers 503 when the wait runs out."""
    return int(float(os.environ.get(BUSY_ENV, DEFAULT_BUSY_SECONDS)) * 1000)


def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    """A connection; read-only ones open the file with ``mode=ro``, so SQLite cannot change it."""
    target: str | Path = f"{path.resolve().as_uri()}?mode=ro" if read_only else path
    try:
        return sqlite3.connect(target, isolation_level=None, check_same_thread=False, uri=read_only)
    except sqlite3.OperationalError as exc:
        verb = "open" if path.exists() else "create"
        raise NotARegister(f"cannot {verb} {path}: {exc} (is its folder there and writable?)") from None


class GeoPackageBackend(SqlBackend):
    ph = "?"
    explain_prefix = "EXPLAIN QUERY PLAN "
    serial_key = '"id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL'

    def __init__(self, path: str | Path, create: bool = False, read_only: bool = False) -> None:
        super().__init__()
        self.path = Path(path)
        if self.path.is_dir():
            raise NotARegister(f"{self.path} is a folder, not a register; give the path of a .gpkg file")
        if not self.path.exists():
            if not create:
                raise FileNotFoundError(f"no register at {self.path} (create one with `sapper init {self.path}`)")
            if not self.path.parent.is_dir():
                raise NotARegister(f"cannot create {self.path}: the folder {self.path.parent} does not exist")
        self.conn = _connect(self.path, read_only and not create)
        self.conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms()}")
        self.conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        register_functions(self.conn)
        self._extents: dict[str, list[float]] = {}
        self._index = gpkg_rtree.DeferredIndex()  # entries of bulk inserts, written before reads and commit
        self._claim(create)

    def _tables(self) -> set[str]:
        try:
            rows = self.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')").fetchall()
        except sqlite3.OperationalError as exc:  # unreadable; a busy lock goes on as it is (503, "busy")
            self.conn.close()
            if dberrors.is_busy(exc):
                raise
            raise NotARegister(f"cannot read {self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:  # a CSV, an image, random bytes: "file is not a database"
            self.conn.close()
            raise NotARegister(
                f"{self.path} is not a GeoPackage or SQLite file ({exc}); sapper leaves it alone"
            ) from None
        return {r[0] for r in rows}

    def _claim(self, create: bool) -> None:
        """Accept a sapper register; with ``create``, also a new, empty file or an empty GeoPackage.

        Anything else is refused without writing a byte: sapper never adds its tables to a
        file another application made (a GeoPackage from ogr2ogr, a SQLite database).
        """
        tables = self._tables()
        if {REGISTER_MARK, AUDIT_TABLE} <= tables:
            return
        others = sorted(t for t in tables if not t.startswith(("gpkg_", "rtree_", "sqlite_")))
        kind = "a GeoPackage" if "gpkg_contents" in tables else "a SQLite database"
        if others:
            self.conn.close()
            shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
            if create:
                raise NotARegister(
                    f"{self.path} is {kind} of another application (tables {shown}); "
                    "sapper will not take it over: `sapper init` a new file and import from this one"
                )
            raise NotARegister(
                f"{self.path} is {kind} but not a sapper register (tables {shown}); "
                "`sapper init` a new register and import from it"
            )
        if not create:
            self.conn.close()
            raise NotARegister(f"{self.path} is {kind} but not a sapper register yet; `sapper init {self.path}` it")
        if "gpkg_contents" not in tables:
            self._create_core()

    def set_wal(self, on: bool) -> str:
        """Write-ahead log on or off (kept in the file); returns the journal mode now in force.

        In WAL mode readers go on while a long write (an import) runs; the ``-wal`` and ``-shm``
        files beside the register are part of it while it is open.
        """
        return str(self.execute(f"PRAGMA journal_mode = {'WAL' if on else 'DELETE'}").fetchone()[0])

    def rollback(self) -> None:
        # SQLite rolls back by itself on some errors (disk full); a second ROLLBACK would then
        # fail with "no transaction is active" and hide the cause.
        if self.conn.in_transaction:
            self.execute("ROLLBACK")

    def _create_core(self) -> None:
        self.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        self.execute(f"PRAGMA user_version = {USER_VERSION}")
        with self.transaction():
            for ddl in CORE_TABLES:
                self.execute(ddl)
            self.executemany(
                "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        "Undefined Cartesian SRS",
                        -1,
                        "NONE",
                        -1,
                        "undefined",
                        "undefined Cartesian coordinate reference system",
                    ),
                    (
                        "Undefined geographic SRS",
                        0,
                        "NONE",
                        0,
                        "undefined",
                        "undefined geographic coordinate reference system",
                    ),
                    SRS_WGS84,
                ],
            )

    # --- dialect -----------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def begin(self) -> None:
        self.execute("BEGIN IMMEDIATE")

    def sql_type(self, col: Column) -> str:
        return SQL_TYPES.get(col.kind, "TEXT")

    def encode_geometries(self, geoms: Sequence[BaseGeometry | None]) -> list[Any]:
        return gpkg_binary.encode_many(geoms)

    def decode_geometries(self, values: Sequence[Any]) -> list[BaseGeometry | None]:
        return gpkg_binary.decode_many(values)

    def geometry_param(self) -> str:
        return "?"

    def geometry_select(self) -> str:
        return q(GEOM)

    def bbox_clause(self, lay: Layer) -> str:
        self._index.write(self.execute, self.executemany, lay.name)  # the index answers for every row
        # The R-tree holds each geometry's envelope rounded outwards to float32: a box inside the
        # window is a sure hit, and only the boxes across its edge are tested exactly (in Python).
        rtree = q(f"rtree_{lay.name}_{GEOM}")
        return (
            f'"id" IN (SELECT {rtree}.id FROM {rtree} '
            "WHERE maxx >= ? AND maxy >= ? AND minx <= ? AND miny <= ? "
            "AND ((minx >= ? AND miny >= ? AND maxx <= ? AND maxy <= ?) OR sapper_intersects_box("
            f"(SELECT g.{q(GEOM)} FROM {q(lay.name)} AS g WHERE g.id = {rtree}.id), ?, ?, ?, ?)))"
        )

    def bbox_params(self, bbox: tuple[float, float, float, float]) -> list[float]:
        return [*bbox, *bbox, *bbox]

    def candidates_clause(self, lay: Layer) -> str:
        self._index.write(self.execute, self.executemany, lay.name)  # the index answers for every row
        rtree = q(f"rtree_{lay.name}_{GEOM}")
        return f'"id" IN (SELECT id FROM {rtree} WHERE maxx >= ? AND maxy >= ? AND minx <= ? AND miny <= ?)'

    def encoder(self, col: Column) -> Callable[[Any], Any] | None:
        if col.kind == BOOLEAN:
            return _boolean
        if col.kind == DATE:
            return _iso_date
        if col.kind == DATETIME:
            return self.encode_timestamp
        return None

    def decoder(self, col: Column) -> Callable[[Any], Any] | None:
        return _DECODERS.get(col.kind)

    def encode_timestamp(self, moment: datetime) -> str:
        utc = moment.astimezone(UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"

    def next_ids(self, lay: Layer, count: int) -> list[int]:
        row = self.execute(
            f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), "
            f"coalesce((SELECT max(id) FROM {q(lay.name)}), 0))",
            [lay.name],
        ).fetchone()
        start = int(row[0]) + 1
        return list(range(start, start + count))

    def existing_columns(self, table: str) -> set[str]:
        return {r[1] for r in self.execute(f"PRAGMA table_info({q(table)})").fetchall()}

    def create_layer(self, lay: Layer) -> None:
        cols = ['"id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL']
        if lay.geometry_type:
            cols.append(f"{q(GEOM)} {lay.geometry_type}")
        cols += [self.column_ddl(c) for c in lay.attribute_columns]
        self.execute(f"CREATE TABLE {q(lay.name)} ({', '.join(cols)})")
        self.execute(f'CREATE UNIQUE INDEX "{lay.name}_source_key" ON {q(lay.name)} ("source_key")')
        data_type = "features" if lay.geometry_type else "attributes"
        self.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES (?, ?, ?, ?, ?)",
            [lay.name, data_type, lay.name, lay.title, 4326 if lay.geometry_type else None],
        )
        if not lay.geometry_type:
            return
        self.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, 4326, 0, 0)", [lay.name, GEOM, lay.geometry_type]
        )
        gpkg_rtree.create(self.execute, lay.name)

    def create_audit_table(self) -> None:
        self.execute(
            f"CREATE TABLE {q(AUDIT_TABLE)} (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, at DATETIME NOT NULL, "
            "username TEXT NOT NULL, action TEXT NOT NULL, layer TEXT NOT NULL, record_id INTEGER NOT NULL, "
            "version INTEGER NOT NULL, before TEXT, after TEXT)"
        )
        self.execute(f'CREATE INDEX "{AUDIT_TABLE}_record" ON {q(AUDIT_TABLE)} (layer, record_id)')
        self.execute(audit.BULK_INDEX)
        self.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES (?, 'attributes', ?, ?)",
            [AUDIT_TABLE, AUDIT_TABLE, "Audit log: who changed what, when; changed fields, deleted records"],
        )

    # --- bulk and metadata -----------------------------------------------------------
    def write_columns(
        self, lay: Layer, cols: list[str], params: list[str], values: list[Sequence[Any]], geoms: np.ndarray | None
    ) -> None:
        if geoms is None or len(geoms) < BULK_ROWS:
            super().write_columns(lay, cols, params, values, geoms)
            return
        blobs, bounds = gpkg_binary.encode_array(geoms)
        rows = list(zip(*values, blobs))
        sql = f"INSERT INTO {q(lay.name)} ({', '.join(map(q, cols))}) VALUES ({', '.join(params)})"
        in_transaction = lambda: self.conn.in_transaction  # noqa: E731
        gpkg_rtree.without_insert_trigger(self.execute, in_transaction, lay.name, lambda: self.executemany(sql, rows))
        self._index.add(lay.name, values[0], bounds)

    def before_change(self, lay: Layer) -> None:
        self._index.write(self.execute, self.executemany, lay.name)  # the triggers then keep the index right

    def on_savepoint(self, depth: int) -> None:
        self._index.savepoint(depth)

    def after_savepoint_rollback(self, depth: int) -> None:
        self._index.rolled_back_to(depth)

    def on_write(self, lay: Layer, geoms: Sequence[BaseGeometry | None]) -> None:
        extent = self._extents.setdefault(lay.name, [float("inf"), float("inf"), float("-inf"), float("-inf")])
        bounds = shapely.bounds(np.asarray(geoms, dtype=object))
        if len(bounds) and not np.isnan(bounds).all():
            extent[0] = min(extent[0], float(np.nanmin(bounds[:, 0])))
            extent[1] = min(extent[1], float(np.nanmin(bounds[:, 1])))
            extent[2] = max(extent[2], float(np.nanmax(bounds[:, 2])))
            extent[3] = max(extent[3], float(np.nanmax(bounds[:, 3])))

    def before_commit(self) -> None:
        """Write the index entries bulk inserts held back; keep gpkg_contents' extent and
        last_change true to what was written."""
        for table in sorted(self._index.waiting_tables()):
            self._index.write(self.execute, self.executemany, table)
        self._index.clear()
        for table, (minx, miny, maxx, maxy) in self._extents.items():
            if minx == float("inf"):
                self.execute(
                    "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?",
                    [table],
                )
                continue
            self.execute(
                "UPDATE gpkg_contents SET min_x = min(coalesce(min_x, ?), ?), min_y = min(coalesce(min_y, ?), ?), "
                "max_x = max(coalesce(max_x, ?), ?), max_y = max(coalesce(max_y, ?), ?), "
                "last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?",
                [minx, minx, miny, miny, maxx, maxx, maxy, maxy, table],
            )
        self._extents.clear()

    def after_rollback(self) -> None:
        self._extents.clear()
        self._index.clear()

    def close(self) -> None:
        self.conn.close()
