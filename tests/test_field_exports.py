"""`sapper import` of KoboToolbox and ODK Central exports, through the command line, on both backends.

The files are written here as the servers write them: ODK Central's zip of ``Form.csv`` and
``Form-repeat.csv`` (groups joined by ``-``, ``KEY``/``PARENT_KEY``, geopoints split into
``-Latitude``/``-Longitude``/``-Altitude``/``-Accuracy``), KoboToolbox's XLSX (one sheet per repeat
group, ``_index``/``_parent_index``, ``_uuid``, geo answers as ``lat lon alt acc`` text) and GeoJSON.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from openpyxl import Workbook

from sapper import init_register, open_register

LAT, LON = 34.5512, 38.2734  # Palmyra
CENTRAL_HEAD = ["SubmissionDate", "start", "end", "today"]
CENTRAL_TAIL = [
    "meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
    "Status", "ReviewState", "DeviceID", "Edits", "FormVersion",
]  # fmt: skip
ITEM_FIELDS = [
    "hazard", "position-Latitude", "position-Longitude", "position-Altitude", "position-Accuracy", "category",
    "model", "photo", "depth_cm", "condition", "state", "found_on", "notes",
]  # fmt: skip
KOBO_META = [
    "_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by", "__version__",
    "_tags", "_index",
]  # fmt: skip


def sapper(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "sapper", "-u", "cli-tester", *args],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert (result.returncode == 0) == ok, result.stdout + result.stderr
    return result


def csv_text(header: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[row.get(name, "") for name in header] for row in rows])
    return out.getvalue()


def central_meta(uuid: str, who: str = "Team 3") -> dict[str, str]:
    return {
        "SubmissionDate": "2026-11-30T16:02:11.284Z", "start": "2026-11-30T09:00:00.000+03:00",
        "end": "2026-11-30T09:20:00.000+03:00", "today": "2026-11-30", "meta-instanceID": f"uuid:{uuid}",
        "KEY": f"uuid:{uuid}", "SubmitterID": "7", "SubmitterName": who, "AttachmentsPresent": "0",
        "AttachmentsExpected": "0", "Status": "", "ReviewState": "", "DeviceID": "collect:x1", "Edits": "0",
        "FormVersion": "1",
    }  # fmt: skip


def central_zip(path: Path, form_id: str, fields: list[str], rows: list[dict[str, str]], **repeats) -> Path:
    """An ODK Central "all data and media" export: Form.csv and Form-repeat.csv in a zip."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{form_id}.csv", csv_text(CENTRAL_HEAD + fields + CENTRAL_TAIL, rows))
        for name, (repeat_fields, repeat_rows) in repeats.items():
            archive.writestr(f"{form_id}-{name}.csv", csv_text([*repeat_fields, "PARENT_KEY", "KEY"], repeat_rows))
    return path


def item_row(uuid: str, lat: float, lon: float, category: str = "uxo") -> dict[str, str]:
    return central_meta(uuid) | {
        "position-Latitude": str(lat), "position-Longitude": str(lon), "position-Altitude": "402.1",
        "position-Accuracy": "4.5", "category": category, "model": "M107", "depth_cm": "15",
        "condition": "corroded", "state": "found", "found_on": "2026-11-30",
    }  # fmt: skip


def items_by_key(target: str) -> dict[str, object]:
    with open_register(target) as reg:
        return {item.source_key: item for item in reg.list("item")}


def test_a_central_export_of_sapper_s_own_form_imports_once(target: str, tmp_path: Path) -> None:
    init_register(target).close()
    rows = [item_row("a1", LAT, LON), item_row("a2", LAT + 0.001, LON + 0.002, "ap_mine")]
    export = central_zip(tmp_path / "sapper_item_found.zip", "sapper_item_found", ITEM_FIELDS, rows)
    done = sapper("import", target, str(export), "--layer", "items")
    assert "2 added, 0 updated, 0 unchanged" in done.stdout.replace("\n", "")
    items = items_by_key(target)
    assert set(items) == {"odk:uuid:a1", "odk:uuid:a2"}  # the key an ODK Collect submission gets
    first = items["odk:uuid:a1"]
    assert (round(first.geometry.x, 6), round(first.geometry.y, 6)) == (LON, LAT)  # ODK writes latitude first
    assert first.category.value == "uxo" and first.depth_cm == 15 and first.model == "M107"
    again = sapper("import", target, str(export), "--layer", "items")
    assert "0 added, 0 updated, 2 unchanged" in again.stdout.replace("\n", "")


def test_a_bad_submission_stops_the_import_or_is_rejected(target: str, tmp_path: Path) -> None:
    init_register(target).close()
    rows = [item_row("b1", LAT, LON), item_row("b2", LAT, LON, category="")]
    export = central_zip(tmp_path / "sapper_item_found.zip", "sapper_item_found", ITEM_FIELDS, rows)
    failed = sapper("import", target, str(export), "--layer", "items", ok=False)
    said = failed.stderr.replace("\n", "")
    assert "submission 2" in said and "uuid:b2" in said and "category is missing" in said
    assert items_by_key(target) == {}  # all or nothing
    done = sapper("import", target, str(export), "--layer", "items", "--skip-invalid")
    assert "1 added, 0 updated, 0 unchanged, 0 stale, 1 rejected" in done.stdout.replace("\n", "")
    rejects = (tmp_path / "sapper_item_found.rejects.csv").read_text(encoding="utf-8-sig")
    assert "submission 2" in rejects and "category is missing" in rejects
    assert set(items_by_key(target)) == {"odk:uuid:b1"}


def test_a_central_repeat_group_is_linked_by_parent_key(target: str, tmp_path: Path) -> None:
    init_register(target).close()
    area = f"{LAT} {LON} 0 0;{LAT} {LON + 0.01} 0 0;{LAT + 0.01} {LON + 0.01} 0 0;{LAT} {LON} 0 0"
    fields = ["hazard", "survey_date", "evidence_kind", "evidence", "area", "contamination", "land_use", "outcome"]
    row = central_meta("n1") | {"survey_date": "2026-11-29", "evidence_kind": "direct", "area": area}
    row |= {"evidence": "shepherd saw a mine", "contamination": "ap_mines", "land_use": "agriculture"}
    row |= {"outcome": "confirm"}
    other = central_meta("n2") | {"survey_date": "2026-11-29", "evidence_kind": "indirect", "area": area}
    other |= {"outcome": "confirm"}
    informants = [
        {"informant_name": name, "informant_role": role, "PARENT_KEY": parent, "KEY": f"{parent}/informant[{n}]"}
        for name, role, parent, n in [
            ("Ahmad", "shepherd", "uuid:n1", 1), ("Huda", "teacher", "uuid:n1", 2), ("Omar", "farmer", "uuid:n2", 1)
        ]
    ]  # fmt: skip
    export = central_zip(
        tmp_path / "sapper_nts.zip", "sapper_nts", fields, [row, other],
        informant=(["informant_name", "informant_role"], informants),
    )  # fmt: skip
    sapper("import", target, str(export), "--layer", "hazards")
    with open_register(target) as again:
        hazards = {h.source_key: h for h in again.list("hazard")}
    assert hazards["odk:uuid:n1"].status.value == "confirmed"  # direct evidence (IMAS 07.11)
    assert "informants: Ahmad - shepherd, Huda - teacher" in hazards["odk:uuid:n1"].notes
    assert "Omar" not in hazards["odk:uuid:n1"].notes and "Omar - farmer" in hazards["odk:uuid:n2"].notes


def kobo_xlsx(path: Path, main: list[list[object]], repeat_name: str, repeat: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "Palmyra clearance log"
    for line in main:
        sheet.append(line)
    other = book.create_sheet(repeat_name)
    for line in repeat:
        other.append(line)
    book.save(path)
    return path


def test_a_kobo_xlsx_repeat_group_through_a_mapping(target: str, tmp_path: Path) -> None:
    """Another organisation's form: one submission per day, the items found as a repeat group."""
    init_register(target).close()
    main = [
        ["start", "end", "team_name", "work_day", "meta/instanceID", *KOBO_META],
        ["2026-11-30T08:00", "2026-11-30T15:00", "Bravo", "2026-11-30", "uuid:k1", 11, "k1", "", "", "", "", "amal",
         "vRk1", "", 1],
        ["2026-12-01T08:00", "2026-12-01T15:00", "Bravo", "2026-12-01", "uuid:k2", 12, "k2", "", "", "", "", "amal",
         "vRk1", "", 2],
    ]  # fmt: skip
    repeat_head = ["finds/kind", "finds/where", "finds/what", "_index", "_parent_table_name", "_parent_index"]
    repeat_head += ["_submission__id", "_submission__uuid"]
    repeat = [
        repeat_head,
        ["UXO", f"{LAT} {LON} 402 5", "mortar", 1, "Palmyra clearance log", 1, 11, "k1"],
        ["AP mine", f"{LAT + 0.001} {LON} 402 5", "PMN-2", 2, "Palmyra clearance log", 1, 11, "k1"],
        ["UXO", f"{LAT} {LON + 0.001} 402 5", "grenade", 3, "Palmyra clearance log", 2, 12, "k2"],
    ]
    export = kobo_xlsx(tmp_path / "clearance_log.xlsx", main, "finds", repeat)
    mapping = tmp_path / "kobo.toml"
    mapping.write_text(
        'layer = "items"\n[fields]\n"finds/what" = "model"\n"finds/kind" = "category"\nwork_day = "found_on"\n'
        '[values.category]\nUXO = "uxo"\n"AP mine" = "ap_mine"\n[constants]\norganisation = "MAC Palmyra"\n'
    )
    done = sapper("import", target, str(export), "--mapping", str(mapping), "--source-layer", "finds")
    assert "3 added" in done.stdout
    items = items_by_key(target)
    assert set(items) == {"odk:uuid:k1/finds[1]", "odk:uuid:k1/finds[2]", "odk:uuid:k2/finds[1]"}
    mine = items["odk:uuid:k1/finds[2]"]
    assert mine.category.value == "ap_mine" and mine.model == "PMN-2" and str(mine.found_on) == "2026-11-30"
    assert (round(mine.geometry.x, 4), round(mine.geometry.y, 4)) == (LON, round(LAT + 0.001, 4))
    assert str(items["odk:uuid:k2/finds[1]"].found_on) == "2026-12-01"  # the parent's answer, by _parent_index
    again = sapper("import", target, str(export), "--mapping", str(mapping), "--source-layer", "finds")
    assert "0 added, 0 updated, 3 unchanged" in again.stdout.replace("\n", "")


def test_a_geojson_export_takes_the_feature_geometry(target: str, tmp_path: Path) -> None:
    init_register(target).close()
    props = {"category": "uxo", "state": "found", "found_on": "2026-11-30", "meta": {"instanceID": "uuid:g1"}}
    feature = {"type": "Feature", "id": "uuid:g1", "properties": props}
    feature["geometry"] = {"type": "Point", "coordinates": [LON, LAT, 402.0]}
    path = tmp_path / "sapper_item_found.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    sapper("import", target, str(path), "--layer", "items")
    item = items_by_key(target)["odk:uuid:g1"]
    assert (round(item.geometry.x, 6), round(item.geometry.y, 6)) == (LON, LAT)


def test_an_unknown_table_is_named_with_the_ones_there(target: str, tmp_path: Path) -> None:
    init_register(target).close()
    export = central_zip(
        tmp_path / "sapper_item_found.zip", "sapper_item_found", ITEM_FIELDS, [item_row("c", LAT, LON)]
    )
    failed = sapper("import", target, str(export), "--layer", "items", "--source-layer", "finds", ok=False)
    assert "has no table 'finds' (tables: sapper_item_found)" in failed.stderr.replace("\n", "")
