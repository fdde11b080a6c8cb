"""The benchmark's data generator writes what it promises: counts, valid geometry, sapper's fields."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import shapely

from sapper.store import layer

GENERATOR = Path(__file__).resolve().parents[1] / "bench" / "generate.py"
EXTENT = (38.20, 34.50, 38.40, 34.60)


def _generate(out: Path, seed: int = 7) -> Path:
    done = subprocess.run(
        [sys.executable, str(GENERATOR), "--hazards", "120", "--items", "900", "--seed", str(seed), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    files = list(out.glob("*.gpkg"))
    assert len(files) == 1, done.stdout
    return files[0]


def test_generator_writes_requested_features_with_valid_geometry(tmp_path: Path) -> None:
    path = _generate(tmp_path)
    for name, count, geom_type in (("hazards", 120, "Polygon"), ("items", 900, "Point")):
        info = pyogrio.read_info(path, layer=name)
        assert info["features"] == count
        assert info["crs"] == "EPSG:4326"
        _, _, geoms, _ = pyogrio.raw.read(path, layer=name)
        geoms = shapely.from_wkb(geoms)
        assert len(geoms) == count
        assert set(shapely.get_type_id(geoms)) == {0 if geom_type == "Point" else 3}
        assert shapely.is_valid(geoms).all()
        assert not shapely.is_empty(geoms).any()
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        if name == "hazards":  # items scatter around hazards and may fall just outside
            assert EXTENT[0] <= minx and EXTENT[1] <= miny and maxx <= EXTENT[2] and maxy <= EXTENT[3]
        # Every field is a field of the register's layer, so the file imports as is.
        columns = {c.name for c in layer(name).columns}
        assert set(info["fields"]) <= columns, set(info["fields"]) - columns


def test_generator_is_deterministic_per_seed(tmp_path: Path) -> None:
    first = _generate(tmp_path / "a")
    again = _generate(tmp_path / "b")
    other = _generate(tmp_path / "c", seed=8)
    _, _, geoms_first, fields_first = pyogrio.raw.read(first, layer="items")
    _, _, geoms_again, fields_again = pyogrio.raw.read(again, layer="items")
    _, _, geoms_other, _ = pyogrio.raw.read(other, layer="items")
    assert list(geoms_first) == list(geoms_again)
    assert all(np.array_equal(a, b) for a, b in zip(fields_first, fields_again))
    assert list(geoms_first) != list(geoms_other)
