"""Bulk imports timed side by side: sapper's register against GDAL's ogr2ogr on the same file.

ogr2ogr is the reference: it copies features into a GeoPackage or PostGIS table with a
spatial index and nothing else. sapper also checks every record, derives what it
derives (hazard areas in a metric CRS) and writes the audit log (an entry per batch), all in one
transaction; the ratio says what that costs.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import resource
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pyogrio.raw
import shapely

from sapper.store import init_register, is_postgres, layer

CHUNK = 50_000  # records per add_many call, all inside one transaction


@dataclass
class ImportResult:
    method: str
    backend: str
    layer: str
    features: int
    seconds: float
    cpu: float = 0.0  # CPU seconds (CpuMeter): less sensitive than seconds to other work on the machine


def medians(rounds: list[ImportResult]) -> list[ImportResult]:
    """One result per method (in the order first met): the median seconds and CPU seconds of its rounds.

    One import of 100,000 hazards takes about a second, and one such time swings by 10-20 % from
    run to run (ogr2ogr's as much as sapper's); the median of rounds taken in turns does not."""
    by_method: dict[str, list[ImportResult]] = {}
    for result in rounds:
        by_method.setdefault(result.method, []).append(result)
    return [
        dataclasses.replace(
            runs[0],
            seconds=statistics.median(r.seconds for r in runs),
            cpu=statistics.median(r.cpu for r in runs),
        )
        for runs in by_method.values()
    ]


class CpuMeter:
    """CPU seconds used so far by this process, its finished children (ogr2ogr) and, for
    PostGIS, the database server's processes (backends that ended count in the postmaster's
    children time). On a machine loaded by other work, wall-clock ratios swing with the load;
    CPU ratios much less."""

    def __init__(self, server_data: Path | None = None) -> None:
        self.server_data = server_data
        self.tick = os.sysconf("SC_CLK_TCK")

    def __call__(self) -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime + self._server()

    def _server(self) -> float:
        if self.server_data is None:
            return 0.0
        postmaster = int((self.server_data / "postmaster.pid").read_text().split()[0])
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended meanwhile
            pid, ppid = int(stat.parent.name), int(fields[1])
            if pid == postmaster:
                total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
            elif ppid == postmaster:
                total += int(fields[11]) + int(fields[12])
        return total / self.tick


def ogr2ogr(source: Path, layer_name: str, target: str) -> float:
    """Seconds for ``ogr2ogr`` with its default options to copy one layer into ``target``."""
    from register_queries import gdal_name  # bench/ is on sys.path when run as a script

    if is_postgres(target):
        dest = ["-f", "PostgreSQL", gdal_name(target), "-lco", "GEOMETRY_NAME=geom"]
    else:
        dest = ["-f", "GPKG", *(["-update"] if Path(target).exists() else []), target]
    command = [ogr2ogr_path(), *dest, str(source), layer_name]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return seconds


def ogr2ogr_path() -> str:
    found = shutil.which("ogr2ogr")
    if not found:
        raise SystemExit("ogr2ogr not found: install gdal-bin (the reference of this benchmark)")
    return found


def read_source(source: Path, layer_name: str) -> tuple[list[str], Any, list[list[Any]]]:
    """Field names, shapely geometries and each field's values as Python objects (GDAL's Arrow
    stream, as sapper's own file reader reads it)."""
    meta, table = pyogrio.raw.read_arrow(str(source), layer=layer_name)
    names = [str(f) for f in meta["fields"]]
    geoms = shapely.from_wkb(table.column(len(names)).to_numpy(zero_copy_only=False))
    return names, geoms, [table.column(k).to_numpy(zero_copy_only=False).tolist() for k in range(len(names))]


def make_records(layer_name: str, names: list[str], geoms: Any, columns: list[list[Any]]) -> list[Any]:
    """Records from typed columns, as a program holding such columns makes them (the dataclass
    itself, with Python's cycle collector paused: records hold no cycles)."""
    record = layer(layer_name).record
    gc.disable()
    try:
        return [record(**dict(zip(names, row)), geometry=g) for *row, g in zip(*columns, geoms)]
    finally:
        gc.enable()


def sapper_add_many(source: Path, layer_name: str, target: str) -> tuple[float, float]:
    """Read the file, make records, ``Register.add_many`` them in one transaction.

    Returns (seconds in total, seconds of which reading the file and making records).
    """
    reg = init_register(target, user="bench")
    try:
        start = time.perf_counter()
        names, geoms, columns = read_source(source, layer_name)
        making = time.perf_counter() - start
        with reg.transaction():
            for first in range(0, len(geoms), CHUNK):
                tick = time.perf_counter()
                part = slice(first, first + CHUNK)
                records = make_records(layer_name, names, geoms[part], [column[part] for column in columns])
                making += time.perf_counter() - tick
                reg.add_many(records)
        return time.perf_counter() - start, making
    finally:
        reg.close()


def importer() -> Any:
    """sapper's file importer, once the project has one (None before)."""
    try:
        from sapper.formats import import_file
    except ImportError:
        return None
    return import_file


def sapper_import_file(source: Path, layer_name: str, target: str) -> float:
    """Seconds for ``sapper.formats.import_file`` to import one layer of the file (one transaction)."""
    import_file = importer()
    reg = init_register(target, user="bench")
    try:
        start = time.perf_counter()
        result = import_file(reg, source, layer_name, source_layer=layer_name)
        seconds = time.perf_counter() - start
    finally:
        reg.close()
    if result.added != result.rows:
        raise RuntimeError(f"import_file of {layer_name}: {result.counts()} of {result.rows:,} rows")
    return seconds


def count(target: str, table: str) -> int:
    """Features in a table as stored, counted with plain SQL (not through sapper)."""
    if is_postgres(target):
        with psycopg.connect(target) as conn:
            return int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
    import sqlite3

    with sqlite3.connect(target) as lite:
        return int(lite.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def settle(target: str) -> None:
    """A PostGIS database as reads find it once imports are long done: vacuumed and analysed, its pages
    written out. Right after a million rows go in, autovacuum and the checkpointer work for a while on
    one of two cores; hazard windows read then came out at 1.48x plain SQL, on a quiet database 1.26x."""
    if is_postgres(target):
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")
            conn.execute("CHECKPOINT")


def size_mb(target: str) -> float:
    if is_postgres(target):
        with psycopg.connect(target) as conn:
            return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]) / 1e6
    return Path(target).stat().st_size / 1e6
