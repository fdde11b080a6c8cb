"""A crash in the middle of an import leaves the register exactly as it was.

A real ``sapper import`` process is killed with SIGKILL while it is writing (the
GeoPackage's rollback journal holds pages the import already changed in the file;
PostGIS has grown the table with uncommitted rows), then the register is compared
with a snapshot taken before: every table, the audit log, and for the GeoPackage
GDAL's validator.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psycopg
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import Point, box
from test_export import validate_gpkg

from sapper import init_register
from sapper.model import Hazard, Item
from sapper.store.schema import AUDIT_TABLE, LAYERS

LON, LAT = 38.27, 34.55
ROWS = 60_000  # enough for a few seconds of writing
# A GeoPackage import keeps up to 64 MiB of changed pages in SQLite's cache (gpkg_rtree.BULK_CACHE_KIB) before
# any reach the file: the items it writes must overflow that for the file to change while the import runs
GPKG_ROWS = 400_000


def big_items_file(path: Path, n: int = ROWS) -> Path:
    rng = np.random.default_rng(7)
    points = shapely.points(LON + rng.random(n) * 0.05, LAT + rng.random(n) * 0.03)
    categories = np.asarray(["uxo", "ap_mine", "at_mine", "axo"], dtype=object)[rng.integers(0, 4, n)]
    models = np.asarray([f"model {i % 97}" for i in range(n)], dtype=object)
    pyogrio.raw.write(
        str(path),
        shapely.to_wkb(points),
        [categories, models, rng.random(n) * 20],
        ["category", "model", "depth_cm"],
        driver="GPKG",
        geometry_type="Point",
        crs="EPSG:4326",
        layer="items",
    )
    return path


def gpkg_snapshot(path: str) -> str:
    """Every statement that would rebuild the file: tables, indexes, triggers, rows."""
    with sqlite3.connect(path) as conn:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()


def postgis_snapshot(url: str) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row, per table of the register and the audit log."""
    out = {}
    with psycopg.connect(url) as conn:
        for table in [lay.name for lay in LAYERS] + [AUDIT_TABLE]:
            count, digest = conn.execute(
                f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY id)) FROM \"{table}\" t"
            ).fetchone()
            out[table] = (count, digest or "")
    return out


def wait_until(condition: Callable[[], bool], proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the import ended (code {proc.returncode}) before it was seen writing: {proc.stderr.read()}")
        if condition():
            return
        time.sleep(0.02)
    pytest.fail("the import was never seen writing")


# Kill only after more than two batches of 10,000 rows went in (about 4.5 MB of GeoPackage file beyond
# what the cache holds; 1.7 MB of PostGIS table each), so an import that committed batch by batch would
# leave some behind and fail this test.
GPKG_GROWTH = 8_000_000
POSTGIS_GROWTH = 4_000_000


def gpkg_writing(path: Path) -> Callable[[], bool]:
    """True once the import has written much to the file itself while its transaction is open:
    the rollback journal holds what the file held before (a "hot journal" if the writer dies)."""
    journal = Path(f"{path}-journal")
    start = path.stat().st_size

    def writing() -> bool:
        return journal.exists() and path.stat().st_size > start + GPKG_GROWTH

    return writing


def postgis_writing(url: str) -> Callable[[], bool]:
    """True once the items table has grown by many uncommitted rows."""
    conn = psycopg.connect(url, autocommit=True)
    start = conn.execute("SELECT pg_relation_size('items')").fetchone()[0]

    def writing() -> bool:
        return conn.execute("SELECT pg_relation_size('items')").fetchone()[0] > start + POSTGIS_GROWTH

    return writing


def test_killing_an_import_midway_leaves_the_register_as_it_was(target: str, tmp_path: Path) -> None:
    reg = init_register(target, user="before")
    reg.add_many(
        [Hazard(name=f"H{i}", geometry=box(LON + i * 0.01, LAT, LON + i * 0.01 + 0.002, LAT + 0.002)) for i in range(3)]
    )
    reg.add_many([Item(category="uxo", geometry=Point(LON + 0.001, LAT + 0.001), hazard_id=1)])
    reg.change("hazard", 2, notes="checked")
    reg.close()
    is_gpkg = target.endswith(".gpkg")
    source = big_items_file(tmp_path / "finds.gpkg", GPKG_ROWS if is_gpkg else ROWS)
    before = gpkg_snapshot(target) if is_gpkg else postgis_snapshot(target)
    writing = gpkg_writing(Path(target)) if is_gpkg else postgis_writing(target)

    proc = subprocess.Popen(
        [sys.executable, "-m", "sapper", "import", target, str(source), "--layer", "items"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(writing, proc)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL

    if is_gpkg:
        assert Path(f"{target}-journal").exists()  # the interrupted write left its hot journal
        result = validate_gpkg(Path(target))  # any reader rolls the journal back first
        assert result.returncode == 0, result.stdout + result.stderr
        assert gpkg_snapshot(target) == before
    else:
        assert postgis_snapshot(target) == before
    reg = init_register(target, user="after")
    assert reg.count("item") == 1 and reg.count("hazard") == 3
    assert [e.action for e in reg.history("hazard", 2)] == ["insert", "update"]
    reg.close()
