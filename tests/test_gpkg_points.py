"""Points are stored without the optional envelope, as GDAL stores them, and every reader still finds them.

GeoPackage 1.2 (clause 2.1.3) lets a geometry's header carry no envelope (indicator 0); for a
point it would only repeat the coordinates in 32 bytes. The R-tree entry of a point is its
coordinates, whether the spec's trigger writes it or sapper builds the index of an empty layer
packed, writing the R-tree's tables itself.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import Point

from sapper import init_register
from sapper.model import Hazard, Item
from sapper.store import gpkg_binary
from sapper.store.gpkg import BULK_ROWS

LON, LAT = 38.27, 34.55
HEADER_BYTES, POINT_WKB_BYTES = 8, 21  # "GP", version, flags, srs_id; then byte order, type, x, y


def _points(n: int) -> list[Point]:
    return [Point(LON + (i % 100) * 1e-4, LAT + (i // 100) * 1e-4) for i in range(n)]


def _register_of_points(path: Path, n: int) -> list[Item]:
    with init_register(path, user="tester") as reg:
        stored = reg.add_many([Item(category="uxo", geometry=p, model=f"M{i}") for i, p in enumerate(_points(n))])
        stored.append(reg.add(Item(category="uxo", geometry=Point(LON - 0.01, LAT - 0.01), model="single")))
    return stored


@pytest.mark.parametrize("n", [10, BULK_ROWS + 10], ids=["trigger", "bulk fill"])
def test_a_point_blob_has_no_envelope_and_is_what_gdal_writes(tmp_path: Path, n: int) -> None:
    path = tmp_path / "r.gpkg"
    stored = _register_of_points(path, n)
    gdal_file = tmp_path / "gdal.gpkg"
    wkb = shapely.to_wkb(np.array([r.geometry for r in stored]), flavor="iso")
    pyogrio.raw.write(gdal_file, wkb, [], [], geometry_type="Point", crs="EPSG:4326", driver="GPKG", layer="p")
    with sqlite3.connect(path) as ours, sqlite3.connect(gdal_file) as gdal:
        blobs = [bytes(r[0]) for r in ours.execute("SELECT geom FROM items ORDER BY id")]
        gdal_blobs = [bytes(r[0]) for r in gdal.execute("SELECT geom FROM p ORDER BY fid")]
    assert len(blobs) == n + 1
    assert {len(b) for b in blobs} == {HEADER_BYTES + POINT_WKB_BYTES}
    assert {b[3] for b in blobs} == {0x01}  # little-endian, envelope indicator 0, not empty
    assert blobs == gdal_blobs  # byte for byte what GDAL writes for the same points


@pytest.mark.parametrize("n", [10, BULK_ROWS + 10], ids=["trigger", "bulk fill"])
def test_gdal_and_the_rtree_find_points_without_envelope(tmp_path: Path, n: int) -> None:
    path = tmp_path / "r.gpkg"
    stored = _register_of_points(path, n)
    target = stored[n // 2]
    x, y = target.geometry.x, target.geometry.y
    window = (x - 2e-5, y - 2e-5, x + 2e-5, y + 2e-5)  # around this one point only

    _meta, fids, wkbs, _fields = pyogrio.raw.read(path, layer="items", return_fids=True)
    read = dict(zip(fids.tolist(), shapely.from_wkb(wkbs)))
    assert all(read[r.id].equals_exact(r.geometry, 0.0) for r in stored)  # GDAL reads every point as written
    _meta, fids, _wkbs, _fields = pyogrio.raw.read(path, layer="items", bbox=window, return_fids=True)
    assert fids.tolist() == [target.id]  # GDAL's spatial filter goes through the R-tree

    with sqlite3.connect(path) as conn:
        box = conn.execute("SELECT minx, maxx, miny, maxy FROM rtree_items_geom WHERE id = ?", [target.id]).fetchone()
        found = conn.execute(
            "SELECT id FROM rtree_items_geom WHERE maxx >= ? AND maxy >= ? AND minx <= ? AND miny <= ?", window
        ).fetchall()
        indexed = conn.execute("SELECT count(*) FROM rtree_items_geom").fetchone()[0]
        checked = conn.execute("SELECT rtreecheck('rtree_items_geom')").fetchone()[0]  # SQLite's own audit
    # The entry is the point itself (SQLite keeps float32, rounded outwards).
    assert box[0] <= x <= box[1] and box[2] <= y <= box[3] and box[1] - box[0] < 1e-5 and box[3] - box[2] < 1e-5
    assert [r[0] for r in found] == [target.id] and indexed == n + 1 and checked == "ok"

    with init_register(path, user="tester") as reg:
        assert [r.id for r in reg.list("item", bbox=window)] == [target.id]
        moved = reg.change("item", target.id, geometry=Point(LON + 0.05, LAT + 0.05))  # the update trigger
        assert reg.list("item", bbox=window) == []
        assert [r.id for r in reg.list("item", bbox=(LON + 0.0499, LAT + 0.0499, LON + 0.0501, LAT + 0.0501))] == [
            moved.id
        ]


def test_envelope_of_a_point_blob_is_its_coordinates() -> None:
    blob = gpkg_binary.encode(Point(LON, LAT))
    assert gpkg_binary.envelope(blob) == (LON, LON, LAT, LAT)
    big_endian = blob[:8] + shapely.to_wkb(Point(LON, LAT), byte_order=0, flavor="iso")
    assert gpkg_binary.envelope(big_endian) == (LON, LON, LAT, LAT)  # another writer's byte order
    assert gpkg_binary.decode(big_endian).equals(Point(LON, LAT))
    assert gpkg_binary.intersects_box(blob, LON - 1e-6, LAT - 1e-6, LON + 1e-6, LAT + 1e-6) == 1
    assert gpkg_binary.intersects_box(blob, LON + 1e-6, LAT - 1e-6, LON + 2e-6, LAT + 1e-6) == 0
    assert gpkg_binary.is_empty(gpkg_binary.encode(Point())) == 1


def test_a_packed_index_holds_the_entries_the_trigger_writes(tmp_path: Path) -> None:
    """The first bulk insert into an empty layer builds its R-tree packed; later ones go through
    SQLite. Entries (float32 boxes rounded outwards) must be the very ones SQLite writes."""
    rng = np.random.default_rng(5)
    n = BULK_ROWS * 2
    corners = np.column_stack([LON - 0.1 + rng.random(n) * 0.2, LAT - 0.05 + rng.random(n) * 0.1])
    hazards = [Hazard(name=f"H{i}", geometry=shapely.box(x, y, x + 1e-3, y + 7e-4)) for i, (x, y) in enumerate(corners)]
    entries = {}
    for name, chunk in (("packed", n), ("trigger", BULK_ROWS - 1)):
        path = tmp_path / f"{name}.gpkg"
        with init_register(path, user="tester") as reg:
            for start in range(0, n, chunk):
                reg.add_many(hazards[start : start + chunk])
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT rtreecheck('rtree_hazards_geom')").fetchone()[0] == "ok"
            entries[name] = conn.execute("SELECT * FROM rtree_hazards_geom ORDER BY id").fetchall()
            window = (LON, LAT, LON + 0.01, LAT + 0.01)
            _meta, fids, _wkbs, _fields = pyogrio.raw.read(path, layer="hazards", bbox=window, return_fids=True)
            wanted = [i + 1 for i, (x, y) in enumerate(corners) if shapely.box(*window).intersects(hazards[i].geometry)]
            assert sorted(fids.tolist()) == wanted
    assert len(entries["packed"]) == n and entries["packed"] == entries["trigger"]
