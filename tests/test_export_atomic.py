"""Exports and rejects files are written whole or not at all: a missing folder or a full disk is an
error with a sentence, leaves no partial file, and an older file at that path stays as it was."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from shapely.geometry import Point, box

from sapper import Register, init_register
from sapper.formats import export_all, export_layer, import_file
from sapper.model import Hazard, Item
from sapper.model.errors import SapperError

LON, LAT = 38.27, 34.55
FORMATS = ["geojson", "gpkg", "shp", "kml", "csv"]
SMALL = 512 * 1024  # the full disk: room for the hazards in any format, not for 5,000 items
PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


@pytest.fixture
def register(tmp_path: Path) -> Iterator[str]:
    """A register with one hazard and 5,000 items (0.6 MB as CSV, 1.2 MB as GeoPackage, 4 MB as KML)."""
    path = str(tmp_path / "register.gpkg")
    with init_register(path, user="tester") as reg:
        reg.add(Hazard(name="تدمر north", geometry=box(LON, LAT, LON + 0.01, LAT + 0.01), source_key="H-1"))
        reg.add_many(
            [
                Item(category="uxo", geometry=Point(LON + i * 1e-5, LAT + 0.001), hazard_id=1, model=f"M-{i}")
                for i in range(5000)
            ]
        )
    return path


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_folder_is_an_error_and_nothing_is_written(register: str, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / "missing" / f"hazards.{fmt}"
    with init_register(register) as reg, pytest.raises(SapperError, match=r"the folder .*missing does not exist"):
        export_layer(reg, "hazard", target)
    assert not target.parent.exists()


def test_the_command_says_so_instead_of_exported(register: str, tmp_path: Path) -> None:
    done = sapper("export", register, str(tmp_path / "missing" / "hazards.kml"), "-l", "hazards")
    assert done.returncode == 1 and "exported" not in done.stdout
    assert "missing does not exist" in done.stderr.replace("\n", "")


def small_disk(tmp_path: Path) -> Path:
    """A 512 KiB tmpfs, if this system lets the tests mount one."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SMALL}", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    return folder


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    folder = small_disk(tmp_path)
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def older_export(register: str, path: Path) -> dict[str, bytes]:
    """A complete, small export at ``path`` (the hazards), as an earlier run left it."""
    with init_register(register) as reg:
        export_layer(reg, "hazard", path)
    return files(path.parent)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_full_disk_is_an_error_leaving_no_partial_file_and_the_older_one_intact(
    register: str, full_disk: Path, fmt: str
) -> None:
    target = full_disk / f"export.{fmt}"
    before = older_export(register, target)
    done = sapper("export", register, str(target), "-l", "items")
    assert done.returncode == 1, done.stdout
    assert "cannot write" in done.stderr and "exported" not in done.stdout
    assert files(full_disk) == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_file_size_limit_is_an_error_leaving_no_partial_file_and_the_older_one_intact(
    register: str, tmp_path: Path, fmt: str
) -> None:
    """The same on any system, without mounting: writes past RLIMIT_FSIZE fail (EFBIG) like a full disk."""
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / f"export.{fmt}"
    before = older_export(register, target)
    done = sapper("export", register, str(target), "-l", "items", limit=SMALL)
    assert done.returncode == 1, done.stdout
    assert "cannot write" in done.stderr and "exported" not in done.stdout
    assert files(folder) == before


def test_every_layer_into_a_full_disk_leaves_the_older_geopackage(register: str, full_disk: Path) -> None:
    target = full_disk / "everything.gpkg"
    before = older_export(register, target)
    with init_register(register) as reg, pytest.raises(SapperError, match=r"cannot write .*everything.gpkg"):
        export_all(reg, target)
    assert files(full_disk) == before


def test_a_shapefile_replaces_every_part_of_an_older_one(register: str, tmp_path: Path) -> None:
    target = tmp_path / "h.shp"
    with init_register(register) as reg:
        export_layer(reg, "item", target)
        export_layer(reg, "hazard", target)
    assert sorted(p.name for p in tmp_path.iterdir() if p.stem == "h") == sorted(f"h{s}" for s in PARTS)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_rejects_that_cannot_be_written_leave_the_register_unchanged(reg: Register, tmp_path: Path) -> None:
    bad = tmp_path / "items.csv"
    bad.write_text(f"category,lon,lat\nuxo,{LON},{LAT}\nbanana,{LON},{LAT}\n", encoding="utf-8")
    for rejects in (tmp_path / "missing" / "rejects.csv", tmp_path):  # no such folder; a folder, not a file
        with pytest.raises(SapperError, match=r"cannot write"):
            import_file(reg, bad, "items", skip_invalid=True, rejects=rejects)
        assert reg.count("item") == 0
    result = import_file(reg, bad, "items", skip_invalid=True, rejects=tmp_path / "rejects.csv")
    assert (result.added, result.rejected, reg.count("item")) == (1, 1, 1)
    assert "banana" in (tmp_path / "rejects.csv").read_text(encoding="utf-8-sig")


def sapper(*args: str, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it; ``limit`` caps the size of any file it writes."""

    def cap() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "sapper", "-u", "tester", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        preexec_fn=cap if limit else None,
    )
