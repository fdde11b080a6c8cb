"""Attachments in the register and in its files, on both backends: a whole-register GeoPackage
carries them (OGC 18-000 related tables, read back by GDAL) into another register byte for byte,
a layer exported with `sapper export` gets them as files beside it, and a deleted record takes
its attachments with it."""

from __future__ import annotations

import csv
import hashlib
import io
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path

import pyogrio.raw
import pytest
from PIL import Image
from shapely.geometry import Point
from test_export import gdal_python, validate_gpkg

from sapper import Register, init_register
from sapper.formats import export_all, import_all
from sapper.model import Hazard, Item
from sapper.model.errors import InvalidRecord
from sapper.store.attachments import TABLE, Attachments
from sapper.testing.server import LAT, LON, square

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 32), colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def copy(target: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Register]:
    """A second, empty register on the same backend."""
    where = (
        str(tmp_path / "copy.gpkg")
        if target.endswith(".gpkg")
        else request.getfixturevalue("pg_cluster").new_database()
    )
    register = init_register(where, user="importer")
    yield register
    register.close()


def filled(reg: Register) -> tuple[Hazard, Item]:
    """A hazard entered by hand (no source key) and an item from the field, with a photo each and a PDF."""
    hazard = reg.add(
        Hazard(name="Orchard", geometry=square(LON, LAT), reported_on=date(2016, 4, 1), organisation="mac")
    )
    item = reg.add(Item(category="uxo", geometry=Point(LON, LAT), source_key="odk:uuid:1", organisation="mac"))
    store = Attachments(reg).ensure()
    store.add("hazard", hazard.id, "orchard.jpg", jpeg((200, 10, 10)))
    store.add("hazard", hazard.id, "survey.pdf", PDF)
    store.add("item", item.id, "mortar.jpg", jpeg((10, 10, 200)))
    return hazard, item


def contents(reg: Register) -> dict[tuple[str, str], tuple[str, str, bytes]]:
    """(record kind, name) -> (record's name or key, who added it, bytes), over the whole register."""
    store = Attachments(reg)
    out = {}
    for kind in ("hazard", "item"):
        for att in store.of_kind(kind):
            record = reg.get(kind, att.record_id)
            owner = getattr(record, "name", None) or record.source_key
            out[(kind, att.name)] = (owner, att.added_by, store.data(att.id))
    return out


def test_a_whole_register_geopackage_carries_attachments_byte_for_byte(
    reg: Register, copy: Register, tmp_path: Path
) -> None:
    filled(reg)
    path = tmp_path / "all.gpkg"
    counts = export_all(reg, path)
    assert counts[TABLE] == 3
    checked = validate_gpkg(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    _meta, _fids, _geoms, (data, ctypes, names) = pyogrio.raw.read(
        path, layer=TABLE, columns=["data", "content_type", "name"]
    )  # GDAL reads the media table as the extension lays it out
    assert sorted(zip(names, ctypes)) == [
        ("mortar.jpg", "image/jpeg"), ("orchard.jpg", "image/jpeg"), ("survey.pdf", "application/pdf"),
    ]  # fmt: skip
    assert PDF in [bytes(d) for d in data]
    with closing(sqlite3.connect(path)) as conn:
        relations = conn.execute("SELECT base_table_name, related_table_name, relation_name FROM gpkgext_relations")
        assert sorted(relations) == [("hazards", TABLE, "media"), ("items", TABLE, "media")]
    probe = "import sys; from osgeo import gdal; print(sorted(gdal.OpenEx(sys.argv[1]).GetRelationshipNames() or []))"
    seen = subprocess.run([gdal_python(), "-c", probe, str(path)], capture_output=True, text=True, check=True)
    assert seen.stdout.strip() == f"['hazards_{TABLE}_media', 'items_{TABLE}_media']"  # GDAL reads the relations

    import_all(copy, path)
    assert contents(copy) == contents(reg)
    assert {owner for owner, _by, _data in contents(copy).values()} == {"Orchard", "odk:uuid:1"}
    assert {by for _owner, by, _data in contents(copy).values()} == {"tester"}  # who added them first
    import_all(copy, path)  # again: nothing doubled
    import_all(reg, path)  # into its own register: the hand-entered hazard is known by its content
    assert len(contents(copy)) == len(Attachments(copy).of_kind("hazard")) + len(Attachments(copy).of_kind("item"))
    assert len(Attachments(reg).of_kind("hazard")) == 2 and len(Attachments(copy).of_kind("hazard")) == 2


def test_a_layer_exported_by_the_command_gets_its_attachments_as_files_beside_it(target: str, tmp_path: Path) -> None:
    reg = init_register(target, user="tester")
    try:
        hazard, _item = filled(reg)
    finally:
        reg.close()
    out = tmp_path / "hazards.geojson"
    done = subprocess.run(
        [sys.executable, "-m", "sapper", "export", target, str(out), "--layer", "hazards"],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    folder = tmp_path / "hazards_attachments"
    rows = list(csv.DictReader((folder / "attachments.csv").open(encoding="utf-8")))
    assert sorted(r["name"] for r in rows) == ["orchard.jpg", "survey.pdf"]
    for row in rows:
        assert row["hazard_id"] == str(hazard.id)
        body = (folder / row["file"]).read_bytes()
        assert hashlib.sha256(body).hexdigest() == row["sha256"]
    assert (folder / next(r["file"] for r in rows if r["name"] == "survey.pdf")).read_bytes() == PDF


def test_bytes_decide_and_a_deleted_record_takes_its_attachments(reg: Register) -> None:
    _hazard, item = filled(reg)
    store = Attachments(reg)
    with pytest.raises(InvalidRecord, match=rf"^item {item.id}: notes.jpg is not a photo"):
        store.add("item", item.id, "notes.jpg", b"#!/bin/sh\nrm -rf /\n")
    with pytest.raises(InvalidRecord, match="at most"):
        store.add("item", item.id, "huge.pdf", b"%PDF-" + bytes(11 * 1024 * 1024))
    assert [a.name for a in store.of_record("item", item.id)] == ["mortar.jpg"]
    (photo,) = store.of_record("item", item.id)
    reg.delete("item", item.id)
    assert store.of_kind("item") == []
    last = reg.backend.read_audit(TABLE, photo.id)[-1]
    assert (last.action, last.user, last.before and last.before["name"]) == ("delete", "tester", "mortar.jpg")
    assert len(store.of_kind("hazard")) == 2
