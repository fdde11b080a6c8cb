"""The GeoPackage is a real OGC GeoPackage: GDAL validates it and reads every layer;
spatial queries go through the R-tree (and the GiST index on PostGIS)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from datetime import date
from pathlib import Path

import pyogrio
import pytest
from shapely.geometry import Point, box

from sapper import Register, init_register
from sapper.model import Hazard, Item, ProtectedSite, Report, Team
from sapper.model.enums import ActivityType
from sapper.store.schema import LAYERS, layer

LON, LAT = 38.27, 34.55
DEBIAN_PYTHON = "/usr/bin/python3"


def validate_gpkg(path: Path) -> subprocess.CompletedProcess[str]:
    """GDAL's own GeoPackage validator (osgeo_utils, Debian's python3-gdal)."""
    code = (
        "import runpy, sys; sys.argv = ['validate_gpkg', sys.argv[1]]; "
        "runpy.run_module('osgeo_utils.samples.validate_gpkg', run_name='__main__')"
    )
    return subprocess.run([DEBIAN_PYTHON, "-c", code, str(path)], capture_output=True, text=True)


def populate(reg: Register) -> None:
    hazards = reg.add_many(
        [
            Hazard(name=f"H{i}", geometry=box(LON + i * 0.003, LAT, LON + i * 0.003 + 0.002, LAT + 0.002))
            for i in range(4)
        ]
    )
    reg.add(Team(name="Dogs", kind="dog", geometry=Point(LON - 0.01, LAT), personnel=4))
    reg.add(
        ProtectedSite(
            name="Temple", kind="monument", geometry=box(LON, LAT + 0.01, LON + 0.001, LAT + 0.011), buffer_m=50
        )
    )
    reg.add(ProtectedSite(name="Arch", kind="monument", geometry=Point(LON + 0.02, LAT + 0.01), buffer_m=30))
    reg.add_many(
        [
            Item(category="uxo", geometry=Point(LON + 0.0005 + i * 1e-5, LAT + 0.0005), hazard_id=hazards[0].id)
            for i in range(20)
        ]
    )
    reg.add(
        Report(
            activity_type=ActivityType.CLEARANCE,
            report_date=date(2016, 4, 1),
            hazard_id=1,
            geometry=box(LON, LAT, LON + 0.001, LAT + 0.002),
        )
    )
    reg.release(1, None, report_id=1, force=True)  # its 20 items are still found
    reg.release(2, "cancelled")  # closes hazard 2: its geometry becomes NULL
    reg.change("hazard", 3, notes="edited")
    reg.delete("hazard", 4)


def test_gdal_validates_the_register_and_reads_every_layer(tmp_path: Path) -> None:
    path = tmp_path / "palmyra.gpkg"
    with init_register(path, user="qa") as reg:
        populate(reg)
        counts = {lay.name: reg.count(lay.kind) for lay in LAYERS}
    result = validate_gpkg(path)
    assert result.returncode == 0, result.stdout + result.stderr
    listed = {name for name, _ in pyogrio.list_layers(path)}
    assert {lay.name for lay in LAYERS} | {"audit_log"} <= listed
    for lay in LAYERS:
        info = pyogrio.read_info(path, layer=lay.name)
        assert info["features"] == counts[lay.name], lay.name
        if lay.geometry_type:
            assert info["crs"] == "EPSG:4326"
            assert info["geometry_type"] in ("MultiPolygon", "Point", "Unknown")
    meta, _, geoms, fields = pyogrio.raw.read(path, layer="hazards")
    names = list(meta["fields"])
    assert fields[names.index("name")].tolist() == ["H0", "H1", "H2"]  # H3 was deleted
    assert fields[names.index("status")].tolist() == ["in_clearance", "released", "suspected"]
    assert geoms[1] is None  # the closed hazard has no polygon left


def test_ogrinfo_reads_features_with_a_spatial_filter(tmp_path: Path) -> None:
    if not shutil.which("ogrinfo"):
        pytest.skip("ogrinfo (gdal-bin) is installed by ./install.sh --test")
    path = tmp_path / "r.gpkg"
    with init_register(path) as reg:
        populate(reg)
    window = [str(v) for v in (LON + 0.0065, LAT, LON + 0.0075, LAT + 0.001)]  # only H2 reaches here
    out = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-q", "-spat", *window, str(path), "hazards"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "name (String) = H2" in out
    assert "name (String) = H0" not in out and "name (String) = H1" not in out
    out = subprocess.run(
        ["ogrinfo", "-ro", "-so", str(path), "items"], capture_output=True, text=True, check=True
    ).stdout
    assert "Feature Count: 20" in out


def test_rtree_holds_the_envelope_of_every_geometry(tmp_path: Path) -> None:
    path = tmp_path / "r.gpkg"
    with init_register(path) as reg:
        populate(reg)
    conn = sqlite3.connect(path)
    for lay in LAYERS:
        if not lay.geometry_type:
            continue
        with_geom = conn.execute(f'SELECT count(*) FROM "{lay.name}" WHERE geom IS NOT NULL').fetchone()[0]
        indexed = conn.execute(f'SELECT count(*) FROM "rtree_{lay.name}_geom"').fetchone()[0]
        assert indexed == with_geom, lay.name
    minx, maxx = conn.execute('SELECT minx, maxx FROM "rtree_hazards_geom" WHERE id = 3').fetchone()
    # SQLite's R-tree keeps float32 boxes rounded outwards (hence the exact re-check in queries).
    assert LON + 0.006 - 1e-5 < minx <= LON + 0.006 and LON + 0.008 <= maxx < LON + 0.008 + 1e-5
    extent = conn.execute("SELECT min_x, max_x FROM gpkg_contents WHERE table_name = 'items'").fetchone()
    assert extent[0] == pytest.approx(LON + 0.0005) and extent[1] == pytest.approx(LON + 0.0005 + 19e-5)


def test_bulk_insert_fills_the_rtree_like_the_trigger(tmp_path: Path) -> None:
    from sapper.store.gpkg import BULK_ROWS

    path = tmp_path / "r.gpkg"
    n = BULK_ROWS + 10
    with init_register(path) as reg:
        reg.add_many([Item(category="uxo", geometry=Point(LON + i * 1e-6, LAT)) for i in range(n)])
        assert reg.count("item", bbox=(LON - 1e-7, LAT - 1e-7, LON + 99.5e-6, LAT + 1e-7)) == 100
    conn = sqlite3.connect(path)
    assert conn.execute('SELECT count(*) FROM "rtree_items_geom"').fetchone()[0] == n
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert "rtree_items_geom_insert" in triggers  # put back after the bulk load


def test_bbox_queries_use_the_spatial_index(reg: Register) -> None:
    reg.add_many(
        [Item(category="uxo", geometry=Point(LON + (i % 200) * 1e-4, LAT + (i // 200) * 1e-4)) for i in range(20_000)]
    )
    if reg.backend.__class__.__name__ == "PostGISBackend":
        reg.backend.execute("ANALYZE items")
    plan = reg.backend.explain_bbox(layer("item"), (LON, LAT, LON + 0.001, LAT + 0.001))
    assert ("rtree_items_geom" in plan and "VIRTUAL TABLE INDEX" in plan) or "items_geom_idx" in plan, plan
