"""GeoPackage window reads cut the WKB out of a whole column of blobs at once, read flags and days
once per process and leave the cycle collector only the records; every geometry and field must
still read as one blob, one value at a time gives it, whichever tool wrote the file."""

from __future__ import annotations

import gc
import sqlite3
import struct
from datetime import date
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from sapper import init_register
from sapper.model import Hazard, Item
from sapper.model.enums import ItemCategory
from sapper.store import gpkg_binary, open_register
from sapper.store.rows import from_row
from sapper.store.schema import layer

LON, LAT = 36.2, 33.5
HOLED = Polygon(
    [(LON, LAT), (LON + 0.004, LAT), (LON + 0.004, LAT + 0.004), (LON, LAT + 0.004)],
    [[(LON + 0.001, LAT + 0.001), (LON + 0.002, LAT + 0.001), (LON + 0.002, LAT + 0.002)]],
)
SHAPES = [
    MultiPolygon([HOLED, box(LON + 0.005, LAT, LON + 0.006, LAT + 0.001)]),
    HOLED,
    Point(LON, LAT),
    shapely.from_wkt("MULTIPOLYGON EMPTY"),
    shapely.from_wkt("POINT EMPTY"),
]


def _blob(geom: shapely.Geometry, envelope_kind: int, *, empty_flag: bool = False) -> bytes:
    """A GeoPackage blob as the spec allows it, whatever sapper itself writes: envelope kind 0-4
    (none, XY, XYZ, XYM, XYZM), the envelope's extra ordinates filled with made-up numbers."""
    flags = 0x01 | (envelope_kind << 1) | (0x10 if empty_flag else 0)
    minx, miny, maxx, maxy = geom.bounds if not geom.is_empty else (np.nan,) * 4
    extra = {0: (), 1: (), 2: (0.0, 5.0), 3: (1.0, 2.0), 4: (0.0, 5.0, 1.0, 2.0)}[envelope_kind]
    envelope = (minx, maxx, miny, maxy, *extra) if envelope_kind else ()
    header = struct.pack("<2sBBi", b"GP", 0, flags, 4326) + struct.pack(f"<{len(envelope)}d", *envelope)
    return header + shapely.to_wkb(geom, byte_order=1, flavor="iso")


def _same(found: list, expected: list) -> None:
    assert len(found) == len(expected)
    for mine, theirs in zip(found, expected):
        if theirs is None:
            assert mine is None
            continue
        assert mine.geom_type == theirs.geom_type
        assert mine.is_empty == theirs.is_empty
        assert mine.is_empty or mine.equals_exact(theirs, 0)


@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4])
def test_blobs_of_every_envelope_kind_decode_as_one_by_one(kind: int) -> None:
    blobs = [_blob(geom, kind, empty_flag=geom.is_empty) for geom in SHAPES]
    _same(gpkg_binary.decode_many(blobs), SHAPES)  # all with the same flags but the empty ones
    same_flags = [_blob(geom, kind) for geom in SHAPES[:2]] * 3
    _same(gpkg_binary.decode_many(same_flags), SHAPES[:2] * 3)  # the one-pass cut
    _same(gpkg_binary.decode_many([*same_flags, None]), [*SHAPES[:2] * 3, None])
    _same(gpkg_binary.decode_many([memoryview(b) for b in same_flags]), SHAPES[:2] * 3)
    _same([gpkg_binary.decode(b) for b in same_flags], SHAPES[:2] * 3)


def test_blobs_written_by_gdal_decode_as_gdal_reads_them(tmp_path: Path) -> None:
    """GDAL writes XY envelopes for 2D shapes and XYZ ones for 3D, none for points or empty shapes."""
    path = tmp_path / "other.gpkg"
    flat = [*SHAPES[:3], shapely.from_wkt("POLYGON EMPTY")]
    raised = [shapely.force_3d(HOLED, 7.0), shapely.force_3d(SHAPES[0], 3.0)]
    for name, shapes, kind in (("flat", flat, "Unknown"), ("raised", raised, "Unknown")):
        wkbs = np.asarray([shapely.to_wkb(g, flavor="iso") for g in shapes], dtype=object)
        pyogrio.raw.write(path, wkbs, [np.arange(len(shapes))], ["n"], geometry_type=kind, layer=name, crs="EPSG:4326")
    for name in ("flat", "raised"):
        with sqlite3.connect(path) as conn:
            blobs = [r[0] for r in conn.execute(f'SELECT geom FROM "{name}" ORDER BY fid')]
        _, _, wkbs, _ = pyogrio.raw.read(path, layer=name)[:4]
        gdal = [shapely.from_wkb(w) for w in wkbs]
        assert {(b[3] >> 1) & 7 for b in blobs} == ({0, 1} if name == "flat" else {2})
        _same(gpkg_binary.decode_many(blobs), gdal)
        _same(gpkg_binary.decode_many(blobs[:2] * 2), gdal[:2] * 2)


def test_flags_and_days_stored_by_another_tool_read_as_one_by_one(tmp_path: Path) -> None:
    reg = init_register(tmp_path / "r.gpkg", user="test")
    try:
        made = reg.add_many(
            [
                Hazard(name=f"h{i}", geometry=box(LON, LAT, LON + 1e-3, LAT + 1e-3), reported_on=date(2024, 1, 1 + i))
                for i in range(6)
            ]
        )
        odd = [("yes", "2024-01-05T10:00:00Z", made[0].id), (2, "2024-01-02", made[1].id), (0.0, None, made[2].id)]
        reg.backend.executemany("UPDATE hazards SET blocks_access = ?, reported_on = ? WHERE id = ?", odd)
        lay = layer("hazard")
        for _ in range(2):  # the second read finds its values decoded already
            listed = reg.list("hazard", bbox=(LON - 1, LAT - 1, LON + 1, LAT + 1))
            for record in listed:
                [(rid, row)] = reg.backend.select(lay, ids=[record.id])
                one = from_row(lay, row, rid)
                assert record == one
                assert type(record.blocks_access) is bool and type(record.reported_on) in (date, type(None))
        assert [r.reported_on for r in listed[:3]] == [date(2024, 1, 5), date(2024, 1, 2), None]
    finally:
        reg.close()


def test_the_collector_finds_only_the_records_when_a_window_read_ends(tmp_path: Path) -> None:
    """Re-enabled after a read, the cycle collector walks the young objects: the records and their
    geometries, not also the columns they were made from (twice the walk, measured)."""
    reg = init_register(tmp_path / "r.gpkg", user="test")
    try:
        reg.add_many([Item(category=ItemCategory.UXO, geometry=Point(LON + i * 1e-6, LAT)) for i in range(900)])
        window = (LON - 1, LAT - 1, LON + 1, LAT + 1)
        seen: list[list[object]] = []

        def watch(phase: str, info: dict) -> None:
            if phase == "start" and not seen:
                seen.append([o for o in gc.get_objects(0) if isinstance(o, (list, tuple)) and len(o) == 900])

        gc.collect()
        gc.callbacks.append(watch)
        try:
            found = reg.list("item", bbox=window)
        finally:
            gc.callbacks.remove(watch)
        assert len(found) == 900
        assert seen and len(seen[0]) == 1 and seen[0][0] is found
    finally:
        reg.close()


def test_reads_through_the_mapped_file_see_what_another_connection_wrote_as_the_file_grew_and_shrank(
    tmp_path: Path,
) -> None:
    """A register maps its file for reads (mmap): another writer's rows must show in the next window,
    after the file grew past what was mapped and after a VACUUM cut it down."""
    path = tmp_path / "r.gpkg"
    reader = init_register(path, user="reader")
    writer = open_register(path, user="writer")
    try:
        assert reader.backend.conn.execute("PRAGMA mmap_size").fetchone()[0] > 0
        window = (LON - 1, LAT - 1, LON + 1, LAT + 1)
        assert reader.list("item", bbox=window) == []
        size = path.stat().st_size
        made = writer.add_many(
            [Item(category=ItemCategory.UXO, geometry=Point(LON + i * 1e-6, LAT)) for i in range(3000)]
        )
        writer.backend.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the rows into the file itself, past its old end
        assert path.stat().st_size > 2 * size
        assert [r.id for r in reader.list("item", bbox=window)] == [r.id for r in made]
        grown = path.stat().st_size
        plain = sqlite3.connect(path)  # no mapping: another tool deleting rows and shrinking the file under the reader
        try:
            with plain:
                plain.execute("DELETE FROM items WHERE id > ?", (made[9].id,))
            plain.execute("VACUUM")
        finally:
            plain.close()
        assert path.stat().st_size < grown / 2
        assert [r.geometry for r in reader.list("item", bbox=window)] == [r.geometry for r in made[:10]]
    finally:
        writer.close()
        reader.close()
