"""What the `sapper` command says when the register file is wrong, full, read-only or busy.

A real process each time: one sentence naming the path and the problem, a non-zero exit,
no traceback, and the file as it was. Commands that only read never change a file, and
`sapper init` never takes over another application's file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import Point, box
from test_server_busy import write_lock_held

from sapper import init_register
from sapper.model import Hazard, Item

LON, LAT = 38.27, 34.55


def sapper(*args: str, ok: bool = False, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "sapper", "-u", "qa", *args],
        capture_output=True,
        text=True,
        env={"COLUMNS": "400", "PATH": "/usr/bin:/bin", **env},
    )
    assert (result.returncode == 0) == ok, result.stdout + result.stderr
    if not ok:
        assert "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith("error: "), result.stderr
    return result


def fingerprint(path: Path) -> tuple[str, int]:
    """The file's bytes and its modification time: both stay as they were."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def small_register(path: Path) -> Path:
    with init_register(path, user="qa") as reg:
        reg.add(Hazard(name="Colonnade", geometry=box(LON, LAT, LON + 0.002, LAT + 0.002)))
        reg.add(Item(category="uxo", geometry=Point(LON + 0.001, LAT + 0.001), hazard_id=1))
    return path


def items_file(path: Path, n: int) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"category": "uxo", "notes": f"find {i} " + "x" * 100},
            "geometry": {"type": "Point", "coordinates": [LON + i * 1e-5, LAT]},
        }
        for i in range(n)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_paths_that_are_not_registers(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "dir" / "x.gpkg"
    said = sapper("init", str(missing)).stderr
    assert f"cannot create {missing}: the folder {missing.parent} does not exist" in said
    assert not missing.parent.exists()

    folder = tmp_path / "folder.gpkg"
    folder.mkdir()
    assert f"{folder} is a folder, not a register" in sapper("-r", str(folder), "list", "hazard").stderr
    assert f"{folder} is a folder" in sapper("init", str(folder)).stderr

    csv = tmp_path / "hazards.csv"
    csv.write_text("name,wkt\nA,POINT(38 34)\n")
    noise = tmp_path / "noise.gpkg"
    noise.write_bytes(os.urandom(8192))
    for path in (csv, noise):
        before = fingerprint(path)
        for args in (
            ("-r", str(path), "list", "hazard"),
            ("-r", str(path), "add", "team", "name=T"),
            ("init", str(path)),
        ):
            said = sapper(*args).stderr
            assert f"{path} is not a GeoPackage or SQLite file" in said, said
        assert fingerprint(path) == before


def test_another_applications_files_are_left_alone(tmp_path: Path) -> None:
    ogr = tmp_path / "roads.gpkg"  # a GeoPackage as GDAL writes it
    pyogrio.raw.write(
        str(ogr),
        shapely.to_wkb([Point(LON, LAT)]),
        [np.asarray(["a"], dtype=object)],
        ["name"],
        driver="GPKG",
        geometry_type="Point",
        crs="EPSG:4326",
        layer="roads",
    )
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE stock (id INTEGER PRIMARY KEY, what TEXT)")
    before = {p: fingerprint(p) for p in (ogr, other)}

    for command in (("list", "hazard"), ("summary",), ("show", "hazard", "1"), ("history", "hazard", "1")):
        said = sapper("-r", str(ogr), *command).stderr
        assert f"{ogr} is a GeoPackage but not a sapper register (tables roads)" in said, said
    said = sapper("-r", str(ogr), "add", "team", "name=T", "kind=manual").stderr
    assert "is a GeoPackage but not a sapper register" in said
    assert f"{ogr} is a GeoPackage of another application (tables roads)" in sapper("init", str(ogr)).stderr
    assert f"{other} is a SQLite database of another application (tables stock)" in sapper("init", str(other)).stderr
    assert {p: fingerprint(p) for p in (ogr, other)} == before

    empty = tmp_path / "empty.gpkg"
    empty.touch()
    assert "register ready" in sapper("init", str(empty), ok=True).stdout


def test_reading_commands_never_change_the_register(tmp_path: Path) -> None:
    path = small_register(tmp_path / "register.gpkg")
    before = fingerprint(path)
    r = str(path)
    sapper("-r", r, "list", "hazard", ok=True)
    sapper("-r", r, "list", "item", "--bbox", f"{LON},{LAT},{LON + 1},{LAT + 1}", ok=True)
    sapper("-r", r, "show", "hazard", "1", ok=True)
    sapper("-r", r, "history", "item", "1", ok=True)
    sapper("summary", r, ok=True)
    sapper("export", r, str(tmp_path / "out.geojson"), "--layer", "hazard", ok=True)
    assert fingerprint(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.geojson", "register.gpkg"]  # no journal left either

    # A register from an older sapper lacks a column: reading it must not add it.
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE hazards DROP COLUMN notes")
    before = fingerprint(path)
    said = sapper("-r", r, "list", "hazard").stderr
    assert f"{path} was written by an older sapper" in said
    assert fingerprint(path) == before
    assert "added team" in sapper("-r", r, "add", "team", "name=T", "kind=manual", "personnel=4", ok=True).stdout
    assert "Colonnade" in sapper("-r", r, "list", "hazard", ok=True).stdout


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs of its own (as root, where the permission bits do not stop a write)."""
    point = tmp_path / "mnt"
    point.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(point)]).returncode:
        pytest.skip("needs root and mount(8) for a small or read-only file system")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=True)


def make_read_only(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["mount", "-o", "remount,ro", str(path.parent)], check=True)
    else:
        path.chmod(0o444)
        path.parent.chmod(0o555)


def test_a_read_only_register_is_said_so_and_still_read(mounted: Path) -> None:
    path = small_register(mounted / "register.gpkg")
    make_read_only(path)
    before = fingerprint(path)
    said = sapper("-r", str(path), "add", "team", "name=T", "kind=manual", "personnel=4").stderr
    assert f"{path} is read-only (the file or its folder cannot be written); nothing was changed" in said
    assert "Colonnade" in sapper("-r", str(path), "list", "hazard", ok=True).stdout
    assert fingerprint(path) == before


def test_a_full_disk_is_reported_as_such_and_the_register_kept(mounted: Path, tmp_path: Path) -> None:
    path = small_register(mounted / "register.gpkg")
    with sqlite3.connect(path) as conn:
        before = "\n".join(conn.iterdump())
    said = sapper("import", str(path), str(items_file(tmp_path / "finds.geojson", 3000)), "--layer", "items").stderr
    assert f"cannot write to {path}: the disk is full" in said and "nothing was changed" in said
    assert "cannot rollback" not in said
    with sqlite3.connect(path) as conn:  # the first reader rolls the journal left behind back
        assert "\n".join(conn.iterdump()) == before


def test_a_write_while_another_process_writes_waits_then_says_busy(tmp_path: Path) -> None:
    path = small_register(tmp_path / "register.gpkg")
    with write_lock_held(str(path)):
        said = sapper(
            "-r", str(path), "add", "team", "name=T", "kind=manual", "personnel=4", SAPPER_BUSY_SECONDS="0.3"
        ).stderr
        assert f"{path} is busy with another write (an import?); nothing was changed" in said
        assert "Colonnade" in sapper("-r", str(path), "list", "hazard", ok=True).stdout
