"""Importing files into the register, on both backends: real files read by GDAL or sapper's CSV reader."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from sapper import Register
from sapper.formats import BadRows, import_file
from sapper.model import Hazard, InvalidRecord, ProtectedSite
from sapper.model.enums import HazardStatus, ItemCategory, ItemState
from sapper.model.errors import SapperError

LON, LAT = 38.27, 34.55  # Palmyra
TODAY = "2016-04-01"


def square(i: int, size: float = 0.001) -> Polygon:
    return box(LON + i * 0.002, LAT, LON + i * 0.002 + size, LAT + size)


def geojson(path: Path, features: list[tuple[dict[str, Any], Any]]) -> Path:
    """A GeoJSON file; geometries given as shapely objects (or None)."""
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": props,
                        "geometry": None if geom is None else shapely.geometry.mapping(geom),
                    }
                    for props, geom in features
                ],
            }
        )
    )
    return path


def gdal_file(path: Path, geoms: list, fields: dict[str, list], driver: str = "GPKG", **options: Any) -> Path:
    """A file written by GDAL itself, as another tool would write it."""
    columns = [np.asarray(values, dtype=object) for values in fields.values()]
    geometry_type = options.pop("geometry_type", geoms[0].geom_type)
    pyogrio.raw.write(
        str(path), shapely.to_wkb(np.asarray(geoms)), columns, list(fields), driver=driver,
        geometry_type=geometry_type, crs=options.pop("crs", "EPSG:4326"), append=path.exists(), **options,
    )  # fmt: skip
    return path


def write_csv(path: Path, header: list[str], rows: list[list[Any]], delimiter: str = ",") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def hazards_file(tmp_path: Path, **changes: Any) -> Path:
    rows = [
        ({"name": "North field", "status": "suspected", "contamination": "ap_mines", "reported_on": TODAY}, square(0)),
        ({"name": "South field", "status": "confirmed", "contamination": "ied", "reported_on": TODAY}, square(1)),
        ({"name": "Bakery", "status": "suspected", "priority": 1, "reported_on": TODAY, "colour": "red"}, square(2)),
    ]
    for i, props in changes.items():
        rows[int(i[1:])][0].update(props)
    return geojson(tmp_path / "hazards.geojson", rows)


def audit_count(reg: Register) -> int:
    return int(reg.backend.execute("SELECT count(*) FROM audit_log").fetchone()[0])


# --- plain imports and re-imports --------------------------------------------------------


def test_import_takes_same_named_fields_and_reports_the_others_once(reg: Register, tmp_path: Path) -> None:
    result = import_file(reg, hazards_file(tmp_path), "hazards")
    assert (result.added, result.rows, result.rejected) == (3, 3, 0)
    assert result.ignored_fields == ["colour"]
    stored = {h.name: h for h in reg.list("hazard")}
    assert stored["South field"].status == HazardStatus.CONFIRMED
    assert stored["Bakery"].priority == 1
    assert stored["North field"].reported_on == date(2016, 4, 1)
    assert stored["North field"].geometry.geom_type == "MultiPolygon"
    assert stored["North field"].original_area_m2 == pytest.approx(10_175, rel=0.01)
    assert all(h.source_key.startswith("sha256:") for h in stored.values())
    assert [e.action for e in reg.history("hazard", stored["Bakery"].id)] == ["insert"]


def test_importing_the_same_file_again_adds_nothing(reg: Register, tmp_path: Path) -> None:
    path = hazards_file(tmp_path)
    import_file(reg, path, "hazards")
    logged = audit_count(reg)
    again = import_file(reg, path, "hazards")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert reg.count("hazard") == 3
    assert audit_count(reg) == logged


def test_identical_rows_without_ids_are_all_kept_and_not_duplicated_later(reg: Register, tmp_path: Path) -> None:
    same = ({"category": "uxo"}, Point(LON, LAT))
    path = geojson(tmp_path / "items.geojson", [same, same, ({"category": "ap_mine"}, Point(LON, LAT))])
    assert import_file(reg, path, "items").added == 3
    assert import_file(reg, path, "items").unchanged == 3
    assert reg.count("item") == 3


IMSMA = {
    "id": "HAZ_ID",
    "id_prefix": "IMSMA:",
    "date_format": "%d/%m/%Y",
    "fields": {"HAZ_NAME": "name", "STATUS": "status", "DATE_INFO": "reported_on", "HAZ_TYPE": "contamination"},
    "constants": {"organisation": "MAC Palmyra"},
    "values": {
        "status": {"Open": "suspected", "Worked on": "in_clearance"},
        "contamination": {"AP": "ap_mines", "IED": "ied"},
    },
}


def imsma_hazards(tmp_path: Path, rows: list[tuple[str, str, str, str, str, Polygon]]) -> Path:
    return geojson(
        tmp_path / "imsma.geojson",
        [
            ({"HAZ_ID": i, "HAZ_NAME": n, "STATUS": s, "DATE_INFO": d, "HAZ_TYPE": t, "REGION": "Homs"}, g)
            for i, n, s, d, t, g in rows
        ],
    )


def test_mapping_renames_fields_maps_values_and_keys_records_by_their_id(reg: Register, tmp_path: Path) -> None:
    path = imsma_hazards(
        tmp_path,
        [
            ("H-1", "Well", "Open", "01/04/2016", "AP", square(0)),
            ("H-2", "Mill", "worked ON ", "02/04/2016", "ied", square(1)),
        ],
    )
    result = import_file(reg, path, "hazards", mapping=IMSMA)
    assert result.added == 2 and result.ignored_fields == ["REGION"]
    mill = reg.list("hazard", where={"source_key": "IMSMA:H-2"})[0]
    assert (mill.name, mill.status, mill.organisation) == ("Mill", HazardStatus.IN_CLEARANCE, "MAC Palmyra")
    assert mill.reported_on == date(2016, 4, 2)
    assert mill.hazard_class.value == "cha"  # the register derives it from the status


def test_a_later_report_updates_through_the_register_and_an_older_one_is_stale(reg: Register, tmp_path: Path) -> None:
    first = [
        ("H-1", "Well", "Open", "01/04/2016", "AP", square(0)),
        ("H-2", "Mill", "Open", "01/04/2016", "AP", square(1)),
    ]
    import_file(reg, imsma_hazards(tmp_path, first), "hazards", mapping=IMSMA)
    later = [
        ("H-1", "Well", "Worked on", "05/04/2016", "AP", square(0)),  # newer information: applied
        ("H-2", "Mill (north)", "Open", "20/03/2016", "AP", square(1)),  # older than what is held: stale
        ("H-3", "Gate", "Open", "05/04/2016", "IED", square(2)),
    ]
    result = import_file(reg, imsma_hazards(tmp_path, later), "hazards", mapping=IMSMA)
    assert (result.added, result.updated, result.stale, result.unchanged) == (1, 1, 1, 0)
    well = reg.list("hazard", where={"source_key": "IMSMA:H-1"})[0]
    assert (well.status, well.version, well.reported_on) == (HazardStatus.IN_CLEARANCE, 1, date(2016, 4, 5))
    history = reg.history("hazard", well.id)
    assert [e.action for e in history] == ["insert", "update"]
    assert history[1].before["status"] == "suspected" and history[1].after["status"] == "in_clearance"
    assert reg.list("hazard", where={"source_key": "IMSMA:H-2"})[0].name == "Mill"


def test_an_update_the_state_machine_forbids_names_the_row_and_writes_nothing(reg: Register, tmp_path: Path) -> None:
    mapping = {"id": "ref"}
    first = geojson(
        tmp_path / "a.geojson", [({"ref": 7, "category": "uxo", "state": "destroyed_in_place"}, Point(LON, LAT))]
    )
    import_file(reg, first, "items", mapping=mapping)
    back = geojson(
        tmp_path / "b.geojson",
        [
            ({"ref": 8, "category": "uxo"}, Point(LON, LAT)),
            ({"ref": 7, "category": "uxo", "state": "found"}, Point(LON, LAT)),
        ],
    )
    with pytest.raises(BadRows, match=r"^feature 2: item \d+: cannot change from destroyed_in_place to found"):
        import_file(reg, back, "items", mapping=mapping)
    assert reg.count("item") == 1
    assert reg.list("item")[0].state == ItemState.DESTROYED_IN_PLACE


def test_links_by_the_other_systems_ids_become_record_ids(reg: Register, tmp_path: Path) -> None:
    import_file(
        reg, imsma_hazards(tmp_path, [("H-1", "Well", "Open", "01/04/2016", "AP", square(0))]), "hazards", mapping=IMSMA
    )
    items = write_csv(
        tmp_path / "items.csv",
        ["ITEM", "HAZ", "TYPE", "lon", "lat"],
        [["I-1", "H-1", "AP mine", LON + 0.0005, LAT + 0.0005], ["I-2", "", "UXO", LON, LAT]],
    )
    mapping = {"id": "ITEM", "id_prefix": "IMSMA:", "fields": {"TYPE": "category"}, "links": {"hazard_id": "HAZ"}}
    assert import_file(reg, items, "items", mapping=mapping).added == 2
    linked = reg.list("item", where={"source_key": "IMSMA:I-1"})[0]
    assert linked.hazard_id == reg.list("hazard")[0].id and linked.category == ItemCategory.AP_MINE
    assert reg.list("item", where={"source_key": "IMSMA:I-2"})[0].hazard_id is None
    unknown = write_csv(tmp_path / "more.csv", ["ITEM", "HAZ", "TYPE", "lon", "lat"], [["I-3", "H-9", "uxo", LON, LAT]])
    with pytest.raises(BadRows, match=r"row 1: hazard_id: no hazard has the id 'IMSMA:H-9'"):
        import_file(reg, unknown, "items", mapping=mapping)


# --- bad rows stop the import, naming the row ------------------------------------------------


BOWTIE = Polygon([(LON, LAT), (LON + 0.001, LAT + 0.001), (LON + 0.001, LAT), (LON, LAT + 0.001)])
# fmt: off
BAD_ROWS = [
    ({"name": "North field"}, Polygon(), r"feature 2: hazard 'North field': has an empty geometry"),
    ({"name": "Bow"}, BOWTIE, r"feature 2: hazard 'Bow': has an invalid geometry \(Self-intersection"),
    ({"name": "Dot"}, Point(LON, LAT), r"feature 2: hazard 'Dot': has a Point geometry where Polygon or MultiPolygon"),
    ({"name": "Nothing"}, None, r"feature 2: hazard 'Nothing': has no geometry"),
    ({"name": "Late", "reported_on": "31/02/2016"}, square(3), r"feature 2: reported_on: '31/02/2016' is not a date"),
    ({"name": "Odd", "contamination": "banana"}, square(3),
     r"feature 2: contamination: unknown contamination 'banana' \(allowed: ap_mines, "),
    ({"name": "Low", "priority": 9}, square(3), r"feature 2: hazard 'Low': priority 9 is outside 1 \(highest\) to 5"),
    ({"name": "Done", "status": "released"}, square(3), r"feature 2: hazard 'Done': a new hazard cannot be released"),
]
# fmt: on


@pytest.mark.parametrize(("props", "geom", "message"), BAD_ROWS)
def test_a_bad_row_stops_the_import_naming_the_row_and_the_problem(
    reg: Register, tmp_path: Path, props: dict[str, Any], geom: Any, message: str
) -> None:
    path = geojson(
        tmp_path / "bad.geojson", [({"name": "Fine"}, square(0)), (props, geom), ({"name": "Also"}, square(1))]
    )
    with pytest.raises(BadRows, match=message) as caught:
        import_file(reg, path, "hazards")
    assert "nothing was imported" in str(caught.value)
    assert reg.count("hazard") == 0
    assert audit_count(reg) == 0


def test_unknown_category_in_a_csv_names_the_row_and_the_allowed_values(reg: Register, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "items.csv",
        ["category", "found_on", "lon", "lat"],
        [
            ["uxo", TODAY, LON, LAT],
            ["ap_mine", TODAY, LON, LAT],
            ["banana", TODAY, LON, LAT],
            ["uxo", "yesterday", LON, LAT],
        ],
    )
    with pytest.raises(BadRows) as caught:
        import_file(reg, path, "items")
    assert str(caught.value).startswith(
        "row 3: category: unknown item category 'banana' (allowed: ap_mine, at_mine, ied_victim_operated"
    )
    assert "(and at least 1 more bad row)" in str(caught.value)
    assert caught.value.problems[1] == ("row 4", "found_on: 'yesterday' is not a date (expected YYYY-MM-DD)")
    assert reg.count("item") == 0


def test_file_level_problems_are_one_clear_error(reg: Register, tmp_path: Path) -> None:
    no_category = write_csv(tmp_path / "a.csv", ["model", "lon", "lat"], [["PMN-2", LON, LAT]])
    with pytest.raises(SapperError, match=r"a.csv has no field for 'category', which every item needs"):
        import_file(reg, no_category, "items")
    with pytest.raises(SapperError, match=r"mapping fields.KIND: a.csv has no field 'KIND' \(its fields: model\)"):
        import_file(reg, no_category, "items", mapping={"fields": {"KIND": "category"}})
    with pytest.raises(SapperError, match=r"fields.KIND: 'kategory' is not a field of item"):
        import_file(reg, no_category, "items", mapping={"fields": {"KIND": "kategory"}})
    no_geometry = write_csv(tmp_path / "b.csv", ["category"], [["uxo"]])
    with pytest.raises(SapperError, match=r"b.csv has no geometry, which every item needs \(a CSV needs a wkt"):
        import_file(reg, no_geometry, "items")
    garbage = tmp_path / "c.geojson"
    garbage.write_text("this is not json")
    with pytest.raises(SapperError, match=r"^cannot read .*c.geojson"):
        import_file(reg, garbage, "items")
    with pytest.raises(SapperError, match=r"unknown layer 'bananas'"):
        import_file(reg, no_category, "bananas")
    with pytest.raises(SapperError, match=r"land is released with `sapper release`"):
        import_file(reg, no_category, "releases")
    assert reg.count("item") == 0


def test_skip_invalid_imports_the_rest_and_writes_rejects_with_reasons(reg: Register, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "items.csv",
        ["category", "model", "wkt"],
        [
            ["uxo", "OF-462", f"POINT ({LON} {LAT})"],
            ["banana", "?", f"POINT ({LON} {LAT})"],
            ["at_mine", "TM-62", "POINT (38.27"],
            [],
            ["ap_mine", "PMN-2", f"POINT ({LON + 0.001} {LAT})"],
        ],
    )
    result = import_file(reg, path, "items", skip_invalid=True)
    assert (result.added, result.rejected) == (2, 2)
    assert reg.count("item") == 2
    assert result.rejects_path == tmp_path / "items.rejects.csv"
    with open(result.rejects_path, encoding="utf-8-sig", newline="") as f:
        rejects = list(csv.DictReader(f))
    assert [r["source_row"] for r in rejects] == ["row 2", "row 3"]  # the blank line 4 is row 4 but holds nothing
    assert rejects[0]["problem"].startswith("category: unknown item category 'banana'")
    assert rejects[1]["problem"] == "wkt: 'POINT (38.27' is not WKT geometry"
    assert rejects[0]["model"] == "?" and rejects[0]["wkt"] == f"POINT ({LON} {LAT})"
    assert [(label, p[:8]) for label, p in result.problems] == [("row 2", "category"), ("row 3", "wkt: 'PO")]


def test_the_registers_own_rules_name_the_row_too(reg: Register, tmp_path: Path) -> None:
    temple = Point(LON, LAT).buffer(0.0005)
    reg.add(
        ProtectedSite(
            name="Temple", kind="monument", geometry=temple, buffer_m=100, forbidden_methods=("destruction_in_place",)
        )
    )
    rows = [
        ["uxo", "destroyed_in_place", LON + 0.03, LAT],
        ["uxo", "destroyed_in_place", LON + 0.0007, LAT],
        ["uxo", "found", LON, LAT],
    ]
    path = write_csv(tmp_path / "items.csv", ["category", "state", "lon", "lat"], rows)
    message = r"^row 2: item: destruction in place is forbidden within 100 m of Temple \(site 1\); render it safe"
    with pytest.raises(BadRows, match=message):
        import_file(reg, path, "items")
    assert reg.count("item") == 0 and audit_count(reg) == 1
    result = import_file(reg, path, "items", skip_invalid=True)
    assert (result.added, result.rejected, reg.count("item")) == (2, 1, 2)


def test_dry_run_counts_but_writes_nothing(reg: Register, tmp_path: Path) -> None:
    result = import_file(reg, hazards_file(tmp_path), "hazards", dry_run=True)
    assert result.added == 3 and result.dry_run
    assert reg.count("hazard") == 0 and audit_count(reg) == 0


# --- formats and coordinate systems -------------------------------------------------------


def test_any_declared_crs_is_reprojected_to_wgs84(reg: Register, tmp_path: Path) -> None:
    # The same point in UTM zone 37N (EPSG:32637), as a partner's GIS would send it.
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 32637, always_xy=True).transform(LON, LAT)
    path = gdal_file(tmp_path / "utm.gpkg", [Point(x, y)], {"category": ["uxo"]}, crs="EPSG:32637", layer="finds")
    import_file(reg, path, "items")
    point = reg.list("item")[0].geometry
    assert point.x == pytest.approx(LON, abs=1e-8) and point.y == pytest.approx(LAT, abs=1e-8)


def test_a_csv_in_metres_needs_its_crs_and_says_so(reg: Register, tmp_path: Path) -> None:
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 32637, always_xy=True).transform(LON, LAT)
    path = write_csv(tmp_path / "utm.csv", ["category", "x", "y"], [["uxo", f"{x:.3f}", f"{y:.3f}"]])
    with pytest.raises(BadRows, match=r"row 1: item: has coordinates outside lon/lat range \(is its CRS declared\?\)"):
        import_file(reg, path, "items")
    import_file(reg, path, "items", crs="EPSG:32637")
    point = reg.list("item")[0].geometry
    assert point.x == pytest.approx(LON, abs=1e-7) and point.y == pytest.approx(LAT, abs=1e-7)


def test_semicolon_csv_with_decimal_commas_and_a_byte_order_mark(reg: Register, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffcategory;Latitude;Longitude;notes\nuxo;34,55;38,27;près du puits\n".encode())
    import_file(reg, path, "items")
    item = reg.list("item")[0]
    assert (item.geometry.x, item.geometry.y, item.notes) == (38.27, 34.55, "près du puits")


def test_shapefile_and_kml_from_other_tools_import(reg: Register, tmp_path: Path) -> None:
    geoms, names = [square(0), square(1)], ["Well", "Mill"]
    fields = {"NAME": names, "Status": ["suspected", "confirmed"], "contamination": ["ied", "uxo"]}
    gdal_file(tmp_path / "h.shp", geoms, fields, "ESRI Shapefile")  # GDAL cuts it to "contaminat"
    gdal_file(tmp_path / "h.kml", geoms, {"name": names}, "LIBKML", layer="hazards")
    shp = import_file(reg, tmp_path / "h.shp", "hazards")
    assert shp.added == 2 and shp.ignored_fields == []
    assert [h.contamination.value for h in reg.list("hazard")] == ["ied", "uxo"]
    kml = import_file(reg, tmp_path / "h.kml", "hazards")
    assert kml.ignored_fields == []  # KML's own housekeeping fields are not reported
    # Same names and polygons, but the KML has no status: different content, so new keys.
    assert kml.added == 2
    assert sorted(h.name for h in reg.list("hazard")) == ["Mill", "Mill", "Well", "Well"]


def test_a_file_with_several_layers_needs_the_one_to_read(reg: Register, tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    for name in ("finds", "more"):
        gdal_file(path, [Point(LON, LAT)], {"category": ["uxo"]}, layer=name)
    with pytest.raises(SapperError, match=r"has several layers \(finds, more\); say which with --source-layer"):
        import_file(reg, path, "items")
    assert import_file(reg, path, "items", source_layer="more").added == 1


def test_an_import_checks_each_geometry_once_and_a_batch_of_records_still_checks_its_own(
    reg: Register, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file's rows are checked before anything is written (so that every bad row is named);
    the register does not check those geometries again, while records added directly are checked."""
    from sapper.formats import geoms
    from sapper.model.geometry import geometry_problems
    from sapper.store import rules

    checked: list[int] = []

    def counted(shapes: Any, allowed: tuple[str, ...]) -> list[str | None]:
        checked.append(len(shapes))
        return geometry_problems(shapes, allowed)

    monkeypatch.setattr(geoms, "geometry_problems", counted)
    monkeypatch.setattr(rules, "geometry_problems", counted)
    path = geojson(tmp_path / "h.geojson", [({"name": f"H{i}"}, square(i)) for i in range(5)])
    assert import_file(reg, path, "hazards").added == 5
    assert sum(checked) == 5
    checked.clear()
    with pytest.raises(InvalidRecord, match="invalid geometry"):
        reg.add_many([Hazard(name="Bow", geometry=BOWTIE)])
    assert sum(checked) == 1
