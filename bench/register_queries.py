"""Bounding-box queries of 1 km² windows: sapper's Register.list against GDAL and plain SQL.

All three read the same layer of the same register (a sapper register is a valid
GeoPackage and its PostGIS tables are plain PostGIS tables), through the same spatial
index, so the difference is the reader: sapper builds checked records, GDAL fills
arrays, plain SQL only fetches rows.

Run on its own, it times the windows of a register already made (by register_bench.py, say),
sapper against plain SQL, so that two versions of sapper can take turns on the same data:

    python bench/register_queries.py REGISTER --windows 50 --repeat 5
    PYTHONPATH=/path/to/other/checkout python bench/register_queries.py REGISTER ...
    python bench/register_queries.py REGISTER --profile    # where sapper's window reads spend their time
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import pstats
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import psycopg
import pyogrio.raw

import sapper
from sapper.store import Register, is_postgres, layer, open_register, query

BBox = tuple[float, float, float, float]
METRES_PER_DEGREE_LAT = 111_320.0  # WGS 84 mean


@dataclass
class QueryStats:
    method: str
    seconds: list[float]
    counts: list[int]
    empty_seconds: float  # median time of a window with nothing in it: the fixed cost per query

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def p95_ms(self) -> float:
        return float(np.percentile(self.seconds, 95)) * 1000

    @property
    def median_count(self) -> float:
        return statistics.median(self.counts)

    @property
    def per_1000_ms(self) -> float:
        """Median time per 1,000 features returned, over windows that returned any."""
        rates = [s / c * 1000 for s, c in zip(self.seconds, self.counts) if c]
        return statistics.median(rates) * 1000 if rates else float("nan")


def windows(extent: BBox, n: int, seed: int, side_m: float = 1000.0) -> list[BBox]:
    """``n`` square windows of ``side_m`` (1 km² by default) placed evenly at random inside ``extent``."""
    minx, miny, maxx, maxy = extent
    rng = np.random.default_rng(seed)
    dlat = side_m / METRES_PER_DEGREE_LAT
    dlon = dlat / math.cos(math.radians((miny + maxy) / 2))
    xs = rng.uniform(minx, maxx - dlon, n)
    ys = rng.uniform(miny, maxy - dlat, n)
    return [(float(x), float(y), float(x + dlon), float(y + dlat)) for x, y in zip(xs, ys)]


def gdal_name(target: str) -> str:
    """How GDAL opens a register: the file path, or a PG: connection string."""
    if not is_postgres(target):
        return target
    url = urlparse(target)
    parts = [f"host={url.hostname}", f"port={url.port or 5432}", f"dbname={url.path.lstrip('/')}"]
    if url.username:
        parts.append(f"user={url.username}")
    return "PG:" + " ".join(parts)


def methods(reg: Register, target: str, kind: str, stack: ExitStack) -> dict[str, Callable[[BBox], int]]:
    """Ways to read one window of a layer; each returns the number of features it read."""
    lay = layer(kind)
    source = gdal_name(target)
    if source.startswith("PG:"):
        source += f" tables={lay.name}"  # spares GDAL a scan of every table when it opens

    def sapper(bbox: BBox) -> int:
        return len(reg.list(kind, bbox=bbox))

    readers: dict[str, Callable[[BBox], int]] = {"sapper Register.list": sapper}
    python = gdal_python()
    if python:
        readers["GDAL Arrow, open once"] = _gdal_reader(python, source, lay.name, stack)
    if not is_postgres(target):  # pyogrio's own GDAL has no PostgreSQL driver

        def gdal_per_query(bbox: BBox) -> int:
            return len(pyogrio.raw.read(source, layer=lay.name, bbox=bbox, return_fids=True)[1])

        readers["GDAL pyogrio, opens per query"] = gdal_per_query
    readers["plain SQL"] = _plain_sql(target, lay.name, stack)
    return readers


@cache
def gdal_python() -> str | None:
    """A Python with GDAL's own bindings (osgeo): this one, or the system's (Debian python3-gdal)."""
    for candidate in (sys.executable, "/usr/bin/python3"):
        probe = subprocess.run([candidate, "-c", "import osgeo.ogr"], capture_output=True)
        if probe.returncode == 0:
            return candidate
    print("no Python with GDAL bindings (osgeo): skipping the GDAL open-once reader", file=sys.stderr)
    return None


def _gdal_reader(python: str, source: str, table: str, stack: ExitStack) -> Callable[[BBox], int]:
    """A gdal_reader.py process holding the layer open; one window in, one count out."""
    script = Path(__file__).with_name("gdal_reader.py")
    proc = subprocess.Popen(
        [python, str(script), source, table], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    stack.callback(proc.wait, timeout=30)
    stack.callback(proc.stdin.close)
    assert proc.stdin is not None and proc.stdout is not None

    def read(bbox: BBox) -> int:
        proc.stdin.write(" ".join(repr(v) for v in bbox) + "\n")
        proc.stdin.flush()
        answer = proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"GDAL reader stopped on {source} {table}")
        return int(answer)

    return read


def _plain_sql(target: str, table: str, stack: ExitStack) -> Callable[[BBox], int]:
    """All columns of the rows in the window, as the driver returns them (no decoding).

    PostGIS tests the geometry exactly (ST_Intersects, through the GiST index); plain
    SQLite cannot, so the GeoPackage query returns the R-tree's candidates (envelopes).
    """
    if is_postgres(target):
        conn = psycopg.connect(target, autocommit=True)
        stack.callback(conn.close)
        sql = f'SELECT * FROM "{table}" WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))'
        return lambda bbox: len(conn.execute(sql, bbox).fetchall())
    lite = sqlite3.connect(target)
    stack.callback(lite.close)
    sql = (
        f'SELECT * FROM "{table}" WHERE id IN (SELECT id FROM "rtree_{table}_geom" '
        "WHERE maxx >= ? AND maxy >= ? AND minx <= ? AND miny <= ?)"
    )
    return lambda bbox: len(lite.execute(sql, bbox).fetchall())


def measure(
    readers: dict[str, Callable[[BBox], int]], boxes: list[BBox], empty: BBox, repeat: int = 1
) -> list[QueryStats]:
    """Time every reader on every window, rotating who goes first so no one always gets a warm cache.

    With ``repeat`` every reader reads every window that many times, the readers taking turns,
    and its best time counts: other work on a shared machine only ever adds time, so the best of
    a few is the steadier figure of what the reader itself costs."""
    for read in readers.values():  # warm up: open files, connections, caches
        read(boxes[0])
    names = list(readers)
    seconds: dict[str, list[float]] = {n: [] for n in names}
    counts: dict[str, list[int]] = {n: [] for n in names}
    for i, bbox in enumerate(boxes):
        best: dict[str, float] = {}
        for _ in range(repeat):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                start = time.perf_counter()
                found = readers[name](bbox)
                best[name] = min(best.get(name, float("inf")), time.perf_counter() - start)
                if len(counts[name]) == i:
                    counts[name].append(found)
        for name in names:
            seconds[name].append(best[name])
    stats = []
    for name in names:
        fixed = []
        for _ in range(10):
            start = time.perf_counter()
            readers[name](empty)
            fixed.append(time.perf_counter() - start)
        stats.append(QueryStats(name, seconds[name], counts[name], statistics.median(fixed)))
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="1 km² windows of an existing register: sapper against plain SQL")
    parser.add_argument("register", help="a register: a .gpkg path or a postgresql:// URL")
    parser.add_argument("--layers", default="hazards,items", help="comma-separated: hazards, items")
    parser.add_argument("--windows", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1, help="reads of each window per reader; the best counts")
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--profile", action="store_true", help="cProfile sapper's reads of the windows instead")
    args = parser.parse_args(argv)
    print(f"sapper from {Path(sapper.__file__).parent}", flush=True)
    with open_register(args.register, user="bench") as reg, ExitStack() as stack:
        extent = query.extent(reg.backend, layer("hazard"))
        assert extent is not None, "no hazards in the register"
        boxes = windows(extent, args.windows, args.seed)
        for table in args.layers.split(","):
            kind = layer(table).kind
            if args.profile:
                profile = cProfile.Profile()
                profile.runcall(lambda k=kind: [reg.list(k, bbox=bbox) for bbox in boxes])
                out = io.StringIO()
                pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(15)
                print(f"\n--- profile: Register.list of {table} ---\n" + out.getvalue().split("\n\n", 1)[-1])
                continue
            readers = {"sapper": lambda bbox, k=kind: len(reg.list(k, bbox=bbox))}
            readers["plain SQL"] = _plain_sql(args.register, table, stack)
            mine, plain = measure(readers, boxes, (0.0, 0.0, 0.009, 0.009), args.repeat)
            print(
                f"{table}: {mine.median_count:.0f} features (median); sapper {mine.median_ms:.2f} ms, "
                f"plain SQL {plain.median_ms:.2f} ms (medians): {mine.median_ms / plain.median_ms:.2f}x; "
                f"all windows {sum(mine.seconds) / sum(plain.seconds):.2f}x",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
