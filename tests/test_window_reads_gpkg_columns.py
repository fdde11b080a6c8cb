"""A window read takes a column of text whole when every value is text, looks for points only in a
column that starts with a point's blob, and tests against the window only the shapes whose bounds are
not inside it; whatever another tool stored (no text, bytes, numbers; points and polygons mixed,
points with a Z) must still read as a one-by-one read gives it, and the window keep what GEOS keeps."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from sapper import init_register
from sapper.model import Hazard
from sapper.store import gpkg_binary
from sapper.store.column_reads import meets_box
from sapper.store.rows import from_row
from sapper.store.schema import layer

LON, LAT = 36.2, 33.5
WINDOW = (LON - 1, LAT - 1, LON + 1, LAT + 1)


def test_text_stored_by_another_tool_as_no_text_bytes_or_a_number_reads_as_one_by_one(tmp_path: Path) -> None:
    reg = init_register(tmp_path / "r.gpkg", user="test")
    try:
        made = reg.add_many(
            [Hazard(name=f"h{i}", geometry=box(LON, LAT, LON + 1e-3, LAT + 1e-3), notes="n") for i in range(5)]
        )
        odd = [(b"\xffbytes", None, made[1].id), (None, 7, made[3].id)]  # a TEXT column makes 7 the text "7"
        reg.backend.executemany("UPDATE hazards SET name = ?, notes = ? WHERE id = ?", odd)
        lay = layer("hazard")
        for listed in (reg.list("hazard", bbox=WINDOW), reg.list("hazard")):
            assert len(listed) == 5
            for record in listed:
                [(rid, row)] = reg.backend.select(lay, ids=[record.id])
                assert record == from_row(lay, row, rid)
                assert type(record.name) is str and type(record.notes) is str
            assert [r.notes for r in listed] == ["n", "", "n", "7", "n"]
            assert listed[3].name == "" and listed[1].name == str(b"\xffbytes")
    finally:
        reg.close()


def test_words_stored_by_another_tool_as_no_word_or_in_capitals_read_as_one_by_one(tmp_path: Path) -> None:
    reg = init_register(tmp_path / "r.gpkg", user="test")
    try:
        made = reg.add_many([Hazard(name=f"h{i}", geometry=box(LON, LAT, LON + 1e-3, LAT + 1e-3)) for i in range(4)])
        odd = [(None, "suspected", made[0].id), ("sha", "SUSPECTED", made[2].id)]
        reg.backend.executemany("UPDATE hazards SET hazard_class = ?, status = ? WHERE id = ?", odd)
        lay = layer("hazard")
        for listed in (reg.list("hazard", bbox=WINDOW), reg.list("hazard")):
            for record in listed:
                [(rid, row)] = reg.backend.select(lay, ids=[record.id])
                assert record == from_row(lay, row, rid)
            assert listed[0].hazard_class is None
            assert listed[2].status is listed[1].status
    finally:
        reg.close()


def _point_z_blob(x: float, y: float, z: float) -> bytes:
    """A 3D point as GDAL writes it: header without envelope, then ISO WKB Point Z (type 1001)."""
    return struct.pack("<2sBBi", b"GP", 0, 1, 4326) + struct.pack("<BI3d", 1, 1001, x, y, z)


def test_columns_of_points_and_polygons_mixed_decode_as_one_by_one() -> None:
    points = [Point(LON + i * 1e-3, LAT) for i in range(3)]
    polygon = MultiPolygon([box(LON, LAT, LON + 1e-3, LAT + 1e-3)])
    blobs = gpkg_binary.encode_many([*points, polygon])
    raised = _point_z_blob(LON, LAT, 12.5)
    for column in (blobs, blobs[::-1], [blobs[0], raised, blobs[1]], [raised, *blobs[:3]], [blobs[0], None, blobs[1]]):
        found = gpkg_binary.decode_many(column)
        one_by_one = [gpkg_binary.decode(b) for b in column]
        assert len(found) == len(column)
        for mine, theirs in zip(found, one_by_one):
            assert (mine is None and theirs is None) or (
                shapely.get_coordinate_dimension(mine) == shapely.get_coordinate_dimension(theirs)
                and mine.equals_exact(theirs, 0)
            )
    assert shapely.has_z(gpkg_binary.decode_many([blobs[0], raised])[1])


def test_the_window_keeps_exactly_the_shapes_geos_finds_meeting_it() -> None:
    """Shapes inside, outside, across an edge, touching it, wrapped round it (an L whose box covers the
    window, parts on both sides), empty or missing, against windows from inside to around them all."""
    ell = Polygon([(0, 0), (3, 0), (3, 1), (1, 1), (1, 3), (0, 3)])
    shapes = [
        box(0.2, 0.2, 0.4, 0.4),
        box(5, 5, 6, 6),
        box(0.5, 0.5, 2.5, 2.5),
        box(2, 2, 2.5, 2.5),
        ell,
        MultiPolygon([box(0, 0, 0.5, 0.5), box(2.5, 2.5, 3, 3)]),
        Point(1.5, 1.5),
        Point(2, 2),
        shapely.from_wkt("MULTIPOLYGON EMPTY"),
        None,
    ]
    windows = [(1.5, 1.5, 2.0, 2.0), (1.2, 1.2, 2.8, 2.8), (0.0, 0.0, 0.5, 0.5), (-1.0, -1.0, 7.0, 7.0), (2, 2, 2, 2)]
    for window in windows:
        expected = shapely.intersects(np.asarray(shapes, dtype=object), box(*window))
        assert meets_box(shapes, window).tolist() == expected.tolist(), window
    assert meets_box([], windows[0]).tolist() == []
