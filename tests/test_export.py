"""Exporting the register: files read back by GDAL with the same features and values, and
an export imported into a fresh register gives the same records (both backends)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyogrio
import pyogrio.raw
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, box

from sapper import Register, init_register
from sapper.formats import export_all, export_layer, import_file
from sapper.formats.names import SHAPEFILE_NAMES
from sapper.model import Activity, Hazard, Item, ProtectedSite, Team
from sapper.model.errors import SapperError
from sapper.model.geometry import as_multipolygon
from sapper.store.schema import LAYERS

LON, LAT = 38.27, 34.55
FORMATS = ["geojson", "gpkg", "shp", "kml", "csv"]


def populate(reg: Register) -> None:
    reg.add_many(
        [
            Hazard(
                name="Colonnade",
                geometry=box(LON, LAT, LON + 0.001, LAT + 0.001),
                status="confirmed",
                contamination="ied",
                priority=1,
                blocks_access=True,
                estimated_items=12,
                clearance_depth_cm=30,
                reported_on=date(2016, 4, 1),
                notes='near "the arch", east side',
                source_key="IMSMA:H-1",
                organisation="MAC",
                land_use="heritage",
            ),
            Hazard(name="تدمر north", geometry=box(LON + 0.002, LAT, LON + 0.0031234567891, LAT + 0.001)),
            Hazard(name="Airfield", geometry=box(LON + 0.1, LAT + 0.02, LON + 0.101, LAT + 0.021), restricted=True),
        ]
    )
    reg.add_many(
        [
            Item(
                category="ap_mine",
                geometry=Point(LON + 0.0005, LAT + 0.0005),
                hazard_id=1,
                depth_cm=7.5,
                weight_kg=0.55,
                found_on=date(2016, 4, 2),
                model="PMN-2",
                source_key="I-1",
            ),
            Item(category="uxo", geometry=Point(LON + 0.05, LAT + 0.01), state="destroyed_in_place"),
        ]
    )
    reg.add(
        ProtectedSite(
            name="Temple of Bel",
            kind="monument",
            geometry=box(LON, LAT + 0.01, LON + 0.002, LAT + 0.012),
            buffer_m=100,
            forbidden_methods=("destruction_in_place", "mechanical"),
            heritage_value=5,
        )
    )
    reg.add(ProtectedSite(name="Arch", kind="monument", geometry=Point(LON + 0.02, LAT + 0.01), buffer_m=30))
    reg.add(ProtectedSite(name="Road", kind="road", geometry=LineString([(LON, LAT), (LON + 0.01, LAT)])))
    reg.add(Team(name="Dogs 1", kind="dog", geometry=Point(LON - 0.01, LAT), personnel=4, capabilities=("dog",)))
    reg.add(Activity(activity_type="clearance", hazard_id=1, team_id=1, start_on=date(2016, 4, 3)))


@pytest.fixture
def full(reg: Register) -> Register:
    populate(reg)
    return reg


@pytest.fixture
def fresh(target: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Register]:
    """A second, empty register on the same backend as ``reg``."""
    other = (
        str(tmp_path / "fresh.gpkg")
        if target.endswith(".gpkg")
        else request.getfixturevalue("pg_cluster").new_database()
    )
    register = init_register(other, user="tester")
    yield register
    register.close()


def read_back(path: Path, layer: str | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Features as GDAL reads them: metadata and one dict per feature (with its FID and geometry)."""
    meta, fids, geoms, values = pyogrio.raw.read(path, layer=layer, return_fids=True)
    names = [str(n) for n in meta["fields"]]
    features = []
    for i in range(len(fids)):
        feature = {name: values[j][i] for j, name in enumerate(names)}
        feature["fid"] = int(fids[i])
        feature["geometry"] = None if geoms is None or geoms[i] is None else shapely.from_wkb(geoms[i])
        features.append(feature)
    return meta, features


def record_id(feature: dict[str, Any], fmt: str) -> int:
    return {"gpkg": feature["fid"], "kml": None}.get(fmt) or int(feature.get("sapper_id") or feature["id"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_gdal_reads_every_format_back_with_the_same_features_and_values(
    full: Register, tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / f"hazards.{fmt}"
    assert export_layer(full, "hazards", path) == 3
    meta, features = read_back(path)
    assert len(features) == 3
    by_id = {record_id(f, fmt): f for f in features}
    colonnade = by_id[1]
    name_field = "Name" if fmt == "kml" else "name"
    short = (lambda n: SHAPEFILE_NAMES.get(n, n)) if fmt == "shp" else (lambda n: n)
    assert colonnade[name_field] == "Colonnade" and by_id[2][name_field] == "تدمر north"
    assert colonnade["status"] == "confirmed" and colonnade[short("contamination")] == "ied"
    assert int(colonnade["priority"]) == 1 and int(colonnade[short("estimated_items")]) == 12
    assert str(colonnade[short("reported_on")]).replace("/", "-")[:10] == "2016-04-01"
    assert colonnade["notes"] == 'near "the arch", east side'
    assert bool(colonnade[short("blocks_access")]) in (True,) or colonnade[short("blocks_access")] in ("true", "1")
    for record in full.list("hazard"):
        got = by_id[record.id]["geometry"]
        if fmt == "csv":  # GDAL's CSV driver keeps the WKT column as text
            got = shapely.from_wkt(by_id[record.id]["wkt"])
        got = as_multipolygon(got)  # a Shapefile and KML do not tell one-part multipolygons from polygons
        assert got.normalize().equals_exact(record.geometry.normalize(), 1e-12), fmt
    if fmt != "csv":
        assert meta["crs"] == "EPSG:4326"


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_then_import_into_a_fresh_register_gives_the_same_records(
    full: Register, fresh: Register, tmp_path: Path, fmt: str
) -> None:
    for kind in ("hazard", "item", "team"):
        path = tmp_path / f"{kind}.{fmt}"
        export_layer(full, kind, path)
        result = import_file(fresh, path, kind)
        assert result.rejected == 0 and result.added == full.count(kind)
        assert set(result.ignored_fields) <= {"id"}  # the register gives its own ids; version, area: its own
        for before, after in zip(full.list(kind), fresh.list(kind)):
            assert comparable(after, keep_key=before.source_key is not None) == comparable(before), (fmt, kind)
            if before.geometry is not None:  # GeoJSON and KML write 15 significant digits: 1e-9 degree is 0.1 mm
                assert shapely.normalize(after.geometry).equals_exact(shapely.normalize(before.geometry), 1e-9)
            if before.source_key is None:
                assert after.source_key.startswith("sha256:")
        assert import_file(fresh, path, kind).unchanged == full.count(kind)  # and again: nothing new


def comparable(record: Any, keep_key: bool = True) -> dict[str, Any]:
    values = dataclasses.asdict(record)
    values["geometry"] = record.geometry is None
    values["original_area_m2"] = round(values.get("original_area_m2", 0.0), 3)
    if not keep_key:
        values["source_key"] = None
    return values


def test_shapefile_names_are_short_and_read_back_as_sapper_fields(
    full: Register, fresh: Register, tmp_path: Path
) -> None:
    path = tmp_path / "sites.shp"
    with pytest.raises(SapperError, match=r"mix geometry types \(MultiLineString, MultiPolygon, Point\) .* Shapefile"):
        export_layer(full, "site", path)
    assert export_layer(full, "site", path, where={"name": "Arch"}) == 1
    info = pyogrio.read_info(path)
    assert all(len(name) <= 10 for name in info["fields"])
    assert {"forbidden", "heritage"} <= set(info["fields"])
    path = tmp_path / "hazards.shp"
    export_layer(full, "hazard", path)
    import_file(fresh, path, "hazard")
    assert fresh.get("hazard", 1).clearance_depth_cm == 30 and fresh.get("hazard", 1).blocks_access


def test_all_layers_into_one_geopackage_that_gdal_validates(full: Register, tmp_path: Path) -> None:
    path = tmp_path / "everything.gpkg"
    counts = export_all(full, path)
    expected = {
        "hazards": 3,
        "items": 2,
        "protected_sites": 3,
        "teams": 1,
        "activities": 1,
        "reports": 0,
        "releases": 0,
    }
    assert {name: counts[name] for name in expected} == expected
    assert set(counts) == {lay.name for lay in LAYERS}
    result = validate_gpkg(path)
    assert result.returncode == 0, result.stdout + result.stderr
    layers = {str(name) for name, _ in pyogrio.list_layers(path)}
    assert layers == set(counts)
    _, sites = read_back(path, "protected_sites")
    assert {f["fid"]: f["geometry"].geom_type for f in sites} == {1: "Polygon", 2: "Point", 3: "LineString"}
    _, activities = read_back(path, "activities")
    assert activities[0]["activity_type"] == "clearance" and activities[0]["geometry"] is None


def test_bbox_and_field_filters_choose_what_is_exported(full: Register, tmp_path: Path) -> None:
    path = tmp_path / "h.geojson"
    assert export_layer(full, "hazard", path, bbox=(LON - 0.001, LAT - 0.001, LON + 0.01, LAT + 0.01)) == 2
    assert export_layer(full, "hazard", path, where={"restricted": True}) == 1
    assert read_back(path)[1][0]["name"] == "Airfield"
    assert export_layer(full, "hazard", path, where={"status": "suspected"}, bbox=(0, 0, 1, 1)) == 0
    assert read_back(path)[1] == []


def test_csv_of_points_with_lonlat_columns_and_another_crs(full: Register, fresh: Register, tmp_path: Path) -> None:
    export_layer(full, "hazard", tmp_path / "hazards.gpkg")
    import_file(fresh, tmp_path / "hazards.gpkg", "hazard")  # item 1 lies in hazard 1
    path = tmp_path / "items.csv"
    export_layer(full, "item", path, lonlat=True)
    header = path.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header[-2:] == ["lon", "lat"] and "wkt" not in header
    import_file(fresh, path, "item")
    assert fresh.get("item", 1).geometry.equals(full.get("item", 1).geometry)
    with pytest.raises(SapperError, match="--lonlat needs points, and hazard 1 is a MultiPolygon"):
        export_layer(full, "hazard", tmp_path / "h.csv", lonlat=True)
    utm = tmp_path / "utm.gpkg"
    export_layer(full, "item", utm, crs="EPSG:32637")
    meta, features = read_back(utm)
    x, y = Transformer.from_crs(4326, 32637, always_xy=True).transform(LON + 0.0005, LAT + 0.0005)
    assert meta["crs"] == "EPSG:32637"
    assert (features[0]["geometry"].x, features[0]["geometry"].y) == (pytest.approx(x), pytest.approx(y))
    import_file(fresh, utm, "item")  # read back into lon/lat: the same points, so nothing new
    assert fresh.count("item") == 2


def test_unknown_format_or_layer_is_one_clear_error(full: Register, tmp_path: Path) -> None:
    with pytest.raises(SapperError, match=r"cannot tell the format of h.xlsx"):
        export_layer(full, "hazard", tmp_path / "h.xlsx")
    with pytest.raises(SapperError, match=r"unknown layer 'bananas'"):
        export_layer(full, "bananas", tmp_path / "h.gpkg")
    with pytest.raises(SapperError, match=r"all layers go into one GeoPackage"):
        export_all(full, tmp_path / "h.geojson")


def test_the_commands_as_a_user_runs_them(full: Register, target: str, tmp_path: Path) -> None:
    out = tmp_path / "all.gpkg"
    done = sapper("export", target, str(out))
    assert "exported every layer to" in done.stdout and "3 hazards" in done.stdout
    shp = tmp_path / "h.shp"
    assert "exported 2 hazards" in sapper("export", target, str(shp), "-l", "hazards", "restricted=no").stdout
    bad = tmp_path / "items.csv"
    bad.write_text(f"category,lon,lat\nuxo,{LON},{LAT}\nbanana,{LON},{LAT}\n")
    failed = sapper("import", target, str(bad), "--layer", "items", ok=False)
    assert "error: row 2: category: unknown item category 'banana'" in failed.stderr.replace("\n", "")
    done = sapper("import", target, str(bad), "-l", "items", "--skip-invalid")
    assert "1 added, 0 updated, 0 unchanged, 0 stale, 1 rejected" in done.stdout.replace("\n", "")
    assert (tmp_path / "items.rejects.csv").exists()
    again = sapper("import", target, str(shp), "-l", "hazards")
    assert "0 added, 0 updated, 2 unchanged" in again.stdout.replace("\n", "")


def sapper(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "sapper", "-u", "cli-tester", *args],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert (result.returncode == 0) == ok, result.stdout + result.stderr
    return result


def validate_gpkg(path: Path) -> subprocess.CompletedProcess[str]:
    """GDAL's GeoPackage validator, run by the first Python on PATH that has GDAL's osgeo_utils."""
    return subprocess.run(
        [gdal_python(), "-m", "osgeo_utils.samples.validate_gpkg", str(path)], capture_output=True, text=True
    )


def gdal_python() -> str:
    """The validator runs with GDAL's own Python bindings: this Python, or a python3 on PATH or next
    to GDAL's ogrinfo (Debian's python3-gdal)."""
    directories = os.environ.get("PATH", "").split(os.pathsep)
    directories.append(os.path.dirname(shutil.which("ogrinfo") or ""))
    candidates = [sys.executable, *(shutil.which("python3", path=d) for d in directories if d)]
    for python in dict.fromkeys(c for c in candidates if c):
        probe = subprocess.run([python, "-c", "import osgeo_utils.samples.validate_gpkg"], capture_output=True)
        if probe.returncode == 0:
            return python
    pytest.fail("no Python with GDAL's osgeo_utils (Debian: python3-gdal) to validate GeoPackages")
