"""Hazard polygons written in bulk: every one checked and measured, nothing lost on the way.

On PostGIS a large batch is checked and written a piece at a time (``bulk_piece_rows``): the
server stores one piece while the next is checked. A bad polygon anywhere in the batch still
stops all of it, named, and leaves the register as it was; the error is the one the whole batch
meets first; the polygons read back byte for byte (through the register and through GDAL); and
areas measured in bulk, from the coordinates, are each polygon's own measure to the bit.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import psycopg
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from sapper import Register, init_register
from sapper.formats.importer import import_file
from sapper.model import Hazard, InvalidRecord
from sapper.model.geometry import area_m2, areas_m2
from sapper.store import is_postgres, rules
from sapper.store.batch import Batch, Problems, as_multipolygons
from sapper.store.postgis import PostGISBackend
from sapper.store.schema import Layer
from sapper.testing.peek import table_state

LON, LAT = 38.27, 34.55
PIECE = PostGISBackend.bulk_piece_rows or 10_000
N = 2 * PIECE + 1_000  # three pieces on PostGIS
MIDDLE = PIECE + PIECE // 2  # in the second piece
D = 0.0004  # the bad shapes' size in degrees


def polygon(i: int) -> Polygon:
    """Boxes 10-170 m across (edges over 50 m are split before they are measured), every tenth
    with a hole."""
    x, y = LON + (i % 200) * 0.002, LAT + (i // 200) * 0.002
    w = 0.0001 + (i % 16) * 0.0001
    box = shapely.box(x, y, x + w, y + w * 0.7)
    return box.difference(box.centroid.buffer(w / 5, quad_segs=2)) if i % 10 == 0 else box


def hazards(n: int, prefix: str = "H") -> list[Hazard]:
    return [Hazard(name=f"{prefix}{i}", geometry=polygon(i), source_key=f"{prefix}-{i}") for i in range(n)]


BAD = {
    "invalid": (Polygon([(LON, LAT), (LON + D, LAT + D), (LON + D, LAT), (LON, LAT + D)]), "invalid geometry"),
    "wrong type": (LineString([(LON, LAT), (LON + D, LAT)]), "LineString geometry where"),
    "empty": (Polygon(), "empty geometry"),
}


def state(target: str) -> tuple[int, int, int]:
    return table_state(target, "hazards")


@pytest.mark.parametrize("bad", BAD)
def test_a_bad_polygon_in_the_middle_of_a_large_batch_is_named_and_nothing_is_kept(
    reg: Register, target: str, bad: str
) -> None:
    reg.add_many(hazards(3, prefix="held"))
    before = state(target)
    batch = hazards(N)
    geometry, words = BAD[bad]
    batch[MIDDLE] = dataclasses.replace(batch[MIDDLE], geometry=geometry)
    with pytest.raises(InvalidRecord) as caught:
        reg.add_many(batch)
    assert caught.value.ref == f"hazard 'H{MIDDLE}'"
    assert words in str(caught.value)
    assert state(target) == before
    assert len(reg.add_many(hazards(N)[MIDDLE:])) == N - MIDDLE  # the register goes on as before


def test_the_error_raised_is_the_one_the_whole_batch_meets_first(reg: Register, target: str) -> None:
    """Words of the vocabularies are checked before ranges: an unknown word in the last piece is
    the error, not a priority out of range in the first."""
    batch = hazards(N)
    batch[5] = dataclasses.replace(batch[5], priority=9)
    batch[N - 10] = dataclasses.replace(batch[N - 10], status="exploded")
    with pytest.raises(InvalidRecord) as caught:
        reg.add_many(batch)
    assert caught.value.ref == f"hazard 'H{N - 10}'" and "exploded" in str(caught.value)
    assert state(target)[0] == 0


def test_the_next_piece_is_checked_while_the_server_stores_the_one_before(
    pg_cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_cluster.new_database()
    reg = init_register(url, user="tester")
    checked_while_writing = threading.Event()
    prepare_new = rules.prepare_new

    def watched(register: Register, lay: Layer, batch: Batch, **kwargs: Any) -> tuple[Batch, Problems]:
        if reg.backend.writes.pending:
            checked_while_writing.set()
        return prepare_new(register, lay, batch, **kwargs)

    monkeypatch.setattr(rules, "prepare_new", watched)
    other = psycopg.connect(url)
    other.execute("LOCK TABLE hazards IN EXCLUSIVE MODE")  # the first COPY waits for this lock
    unlock = threading.Thread(target=lambda: (checked_while_writing.wait(20), other.rollback()))
    unlock.start()
    try:
        stored = reg.add_many(hazards(N))
    finally:
        unlock.join()
        other.close()
        reg.close()
    assert checked_while_writing.is_set()  # checked while the COPY before it was held back
    assert len(stored) == N and state(url) == (N, 1, stored[-1].id)  # one audit entry for the batch
    assert [h.id for h in stored] == list(range(stored[0].id, stored[0].id + N))  # numbered in one run


def test_polygons_read_back_byte_for_byte_through_the_register_and_gdal(
    reg: Register, target: str, tmp_path: Path
) -> None:
    batch = hazards(N)
    batch[7] = dataclasses.replace(batch[7], geometry=MultiPolygon([polygon(1), polygon(201)]))
    batch[8] = dataclasses.replace(batch[8], geometry=Point(LON, LAT).buffer(0.01, quad_segs=600))  # 2,400 edges
    stored = reg.add_many(batch)
    expected = as_multipolygons(np.array([h.geometry for h in batch], dtype=object))
    wkb = shapely.to_wkb(expected, output_dimension=2).tolist()
    for i in (0, 7, 8, 10, MIDDLE, N - 1):
        got = reg.get("hazard", stored[i].id)
        assert got.geometry.wkb == wkb[i]
        assert got.original_area_m2 == area_m2(expected[i]) > 0
    source = target
    if is_postgres(target):  # GDAL's PostgreSQL driver (Debian's ogr2ogr) copies the table as it reads it
        if not shutil.which("ogr2ogr"):
            pytest.skip("ogr2ogr (gdal-bin) is installed by ./install.sh --test")
        url = urlparse(target)
        name = f"PG:host={url.hostname} port={url.port} dbname={url.path.lstrip('/')} user={url.username}"
        source = str(tmp_path / "copy.gpkg")
        subprocess.run(["ogr2ogr", "-f", "GPKG", source, name, "hazards"], check=True, capture_output=True)
    _, _, geometries, fields = pyogrio.raw.read(source, layer="hazards", columns=["source_key"])
    by_key = dict(zip(fields[0].tolist(), geometries))
    assert len(by_key) == N
    assert all(shapely.from_wkb(by_key[h.source_key]).wkb == wkb[i] for i, h in enumerate(batch))


def test_an_import_with_bad_rows_in_several_pieces_keeps_the_good_and_names_the_bad(
    reg: Register, tmp_path: Path
) -> None:
    geoms = [polygon(i) for i in range(N)]
    bad_rows = (3, MIDDLE, N - 5)
    for i in bad_rows:
        geoms[i] = BAD["invalid"][0]
    path = tmp_path / "hazards.gpkg"
    pyogrio.raw.write(
        str(path),
        shapely.to_wkb(np.array(geoms, dtype=object)),
        [np.array([f"H{i}" for i in range(N)], dtype=object), np.array([f"k{i}" for i in range(N)], dtype=object)],
        ["name", "source_key"],
        driver="GPKG",
        geometry_type="Polygon",
        crs="EPSG:4326",
        layer="hazards",
    )
    result = import_file(reg, path, "hazards", skip_invalid=True, rejects=tmp_path / "rejects.csv")
    assert (result.added, result.rejected) == (N - 3, 3)
    assert all("invalid geometry" in problem for _, problem in result.problems)
    kept = {h.source_key for h in reg.list("hazard")}
    assert kept == {f"k{i}" for i in range(N)} - {f"k{i}" for i in bad_rows}


def shapes() -> Iterator[tuple[str, object]]:
    square = shapely.box(LON, LAT, LON + 0.003, LAT + 0.002)  # edges of 200-300 m: split
    yield "small box", shapely.box(LON, LAT, LON + 0.0001, LAT + 0.0001)
    yield "split box", square
    yield "box with a hole", square.difference(Point(LON + 0.001, LAT + 0.001).buffer(0.0005))
    yield "two parts", MultiPolygon([square, shapely.box(LON + 0.01, LAT, LON + 0.011, LAT + 0.001)])
    yield "one-part multipolygon", MultiPolygon([square])
    yield "repeated point", Polygon([(LON, LAT), (LON + 0.002, LAT), (LON + 0.002, LAT), (LON, LAT + 0.002)])
    yield "many edges", Point(LON, LAT).buffer(0.01, quad_segs=600)
    yield "long thin", shapely.box(LON, LAT, LON + 0.3, LAT + 0.00001)
    yield (
        "hole touching the shell",
        Polygon(
            [(LON, LAT), (LON + 0.002, LAT), (LON + 0.002, LAT + 0.002), (LON, LAT + 0.002)],
            [[(LON, LAT), (LON + 0.001, LAT + 0.0005), (LON + 0.0005, LAT + 0.001)]],
        ),
    )
    yield "next UTM zone", shapely.box(36.5, 34.5, 36.503, 34.502)
    yield "southern", shapely.box(-58.4, -34.6, -58.397, -34.598)


def test_areas_measured_in_bulk_are_each_polygons_own_measure_to_the_bit() -> None:
    named = list(shapes())
    geoms = [g for _, g in named] * 3 + [None, Polygon()]
    measured = areas_m2(geoms).tolist()
    for (name, geom), area in zip(named, measured):
        assert area == area_m2(geom), name
    assert measured[-2:] == [0.0, 0.0]
