"""Bulk inserts checked and written as columns: the same answers as record by record, all or nothing,
the GeoPackage index built in one pass, PostgreSQL's COPY text made in bulk, files read through Arrow."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon, box

from sapper import Register, init_register
from sapper.formats import BadRows, import_file
from sapper.model import Hazard, InvalidRecord, Item
from sapper.model.geometry import area_m2, areas_m2, as_multipolygon, metric_epsg_for, utm_epsgs
from sapper.store import batch, rules
from sapper.store.copy_binary import ewkb
from sapper.store.schema import layer

LON, LAT = 38.27, 34.55
LARGE = 6_000  # above both bulk paths' thresholds (GeoPackage index fill, PostGIS COPY)


def _item(i: int, **fields: object) -> Item:
    return Item(**{"category": "uxo", "geometry": Point(LON + i * 1e-5, LAT), "source_key": f"K-{i}", **fields})


def _audit_rows(reg: Register) -> int:
    return int(reg.backend.execute("SELECT count(*) FROM audit_log").fetchone()[0])


def test_a_bad_record_in_the_middle_of_a_large_batch_is_named_and_nothing_is_written(reg: Register) -> None:
    items = [_item(i) for i in range(LARGE)]
    items[3_217] = _item(3_217, depth_cm=-4.0)
    with pytest.raises(InvalidRecord, match=r"^item 'K-3217': depth cannot be negative$"):
        reg.add_many(items)
    assert reg.count("item") == 0 and _audit_rows(reg) == 0


def test_an_unknown_word_in_a_large_batch_is_named_before_any_geometry_problem(reg: Register) -> None:
    """Checks run in the same order as record by record: words first, for every record."""
    items = [_item(i) for i in range(LARGE)]
    items[10] = Item(category="uxo", geometry=None, source_key="K-10")  # no geometry: checked later
    items[4_000] = _item(4_000, state="exploded")
    with pytest.raises(InvalidRecord, match=r"^item 'K-4000': state: unknown item state 'exploded'"):
        reg.add_many(items)
    assert reg.count("item") == 0


def test_add_batch_keep_going_writes_the_good_rows_and_names_each_bad_one(reg: Register) -> None:
    items = [_item(i) for i in range(LARGE)]
    items[5] = _item(5, weight_kg=-1.0)
    items[5_999] = _item(5_999, hazard_id=999)  # a link to nothing: refused by the register itself
    added = reg.add_batch(batch.of_records(layer("item"), items), keep_going=True)
    assert {i: str(e) for i, e in added.refused.items()} == {
        5: "item 'K-5': weight cannot be negative",
        5_999: "item 'K-5999': hazard_id names hazard 999, which does not exist",
    }
    assert len(added.ids) == reg.count("item") == LARGE - 2
    window = (LON + 4.5e-5, LAT - 1e-4, LON + 5.5e-5, LAT + 1e-4)  # around item 5 only
    assert reg.list("item", bbox=window) == []


def test_a_skipped_row_of_a_large_file_is_listed_and_the_rest_imported_in_one_pass(
    reg: Register, tmp_path: Path
) -> None:
    features = [
        {
            "type": "Feature",
            "properties": {"source_key": f"K-{i}", "category": "uxo", "depth_cm": -3 if i == 2_500 else 10},
            "geometry": {"type": "Point", "coordinates": [LON + i * 1e-5, LAT]},
        }
        for i in range(LARGE)
    ]
    path = tmp_path / "items.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with pytest.raises(BadRows, match=r"feature 2501: item 'K-2500': depth cannot be negative; nothing was imported"):
        import_file(reg, path, "items")
    assert reg.count("item") == 0
    result = import_file(reg, path, "items", skip_invalid=True)
    assert (result.added, result.rejected) == (LARGE - 1, 1) and reg.count("item") == LARGE - 1


def test_flags_with_empty_cells_import_from_a_gdal_file(reg: Register, tmp_path: Path) -> None:
    """Read through Arrow, a yes/no field with empty cells is True, False and empty, not 1.0 and 0.0."""
    features = [
        {
            "type": "Feature",
            "properties": {"name": name, "blocks_access": flag},
            "geometry": shapely.geometry.mapping(box(LON + k * 0.01, LAT, LON + k * 0.01 + 0.001, LAT + 0.001)),
        }
        for k, (name, flag) in enumerate([("A", True), ("B", None), ("C", False)])
    ]
    path = tmp_path / "hazards.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    import_file(reg, path, "hazards")
    assert [(h.name, h.blocks_access) for h in reg.list("hazard")] == [("A", True), ("B", False), ("C", False)]


def test_bulk_inserts_of_one_transaction_build_the_geopackage_index_in_one_packed_pass(tmp_path: Path) -> None:
    """Two bulk inserts into an empty layer, one transaction: the index is the packed tree one insert
    of all of them makes (not the second half added entry by entry); a savepoint rolled back takes
    its entries back."""

    def nodes(path: Path) -> int:
        with sqlite3.connect(path) as lite:
            assert lite.execute("SELECT rtreecheck('rtree_items_geom')").fetchone()[0] == "ok"
            return int(lite.execute('SELECT count(*) FROM "rtree_items_geom_node"').fetchone()[0])

    items = [_item(i) for i in range(2 * LARGE)]
    with init_register(tmp_path / "one.gpkg", user="t") as reg:
        reg.add_many(items)
    with init_register(tmp_path / "two.gpkg", user="t") as reg, reg.transaction():
        reg.add_many(items[:LARGE])
        with pytest.raises(InvalidRecord), reg.transaction():
            reg.add_many([_item(i, source_key=f"X-{i}") for i in range(LARGE)])
            reg.add(Hazard(name="", geometry=box(LON, LAT, LON + 0.001, LAT + 0.001)))  # refused: no name
        reg.add_many(items[LARGE:])
    assert nodes(tmp_path / "two.gpkg") == nodes(tmp_path / "one.gpkg")
    with sqlite3.connect(tmp_path / "two.gpkg") as lite:
        assert lite.execute("SELECT count(*), min(id), max(id) FROM rtree_items_geom").fetchone() == (
            2 * LARGE,
            1,
            2 * LARGE,
        )


def test_text_with_tabs_newlines_and_backslashes_comes_back_as_written(reg: Register) -> None:
    tricky = ["tab\there", "line\nbreak", "back\\slash", "cr\rlf", "\\N", "", "ünïcödé ش"]
    items = [_item(i, notes=tricky[i % len(tricky)], model="\\N" if i == 1 else "") for i in range(LARGE)]
    reg.add_many(items)
    stored = {rec.source_key: rec for rec in reg.list("item", where={"source_key": [f"K-{i}" for i in range(14)]})}
    assert [stored[f"K-{i}"].notes for i in range(14)] == [tricky[i % len(tricky)] for i in range(14)]
    assert stored["K-1"].model == "\\N" and stored["K-2"].model == ""


def test_geometries_go_to_copy_as_postgis_ewkb_with_the_srid() -> None:
    geoms = np.array([Point(1, 2), None, box(0, 0, 1, 1), MultiPolygon([box(2, 2, 3, 4)]), Point()], dtype=object)
    expected = shapely.to_wkb(shapely.set_srid(geoms, 4326), include_srid=True, output_dimension=2, byte_order=1)
    assert ewkb(geoms) == list(expected)


_polygons = st.builds(
    lambda x, y, w, h: box(x, y, x + w, y + h),
    st.floats(-10, 10),
    st.floats(-10, 10),
    st.floats(0, 1),
    st.floats(0, 1),
)
_geometry = st.one_of(
    st.none(),
    _polygons,
    st.just(Polygon()),
    st.just(Point(LON, LAT)),
    st.just(Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])),  # a bow tie: invalid
    st.builds(lambda x: box(x, 0, x + 1, 1), st.floats(170, 200)),  # partly outside lon/lat range
)
_hazards = st.builds(
    lambda name, priority, items, depth, status, geom: Hazard(
        name=name,
        priority=priority,
        estimated_items=items,
        clearance_depth_cm=depth,
        status=status,
        geometry=geom,
    ),
    st.sampled_from(["North field", "", "  "]),
    st.integers(-1, 7),
    st.integers(-2, 3),
    st.one_of(st.none(), st.integers(-5, 5)),
    st.sampled_from(["suspected", "confirmed", "released", "gone"]),
    _geometry,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_hazards, min_size=1, max_size=12), st.booleans())
def test_a_batch_gives_each_record_the_answer_it_gets_alone(hazards: list[Hazard], restore: bool) -> None:
    """Checked as columns, every record of a batch gets the problem (or the derived fields) it gets
    checked as a batch of one: the vectorised checks are the record checks."""
    lay = layer("hazard")
    ready, problems = rules.prepare_new(None, lay, batch.of_records(lay, hazards), restore=restore)  # type: ignore[arg-type]
    for i, hazard in enumerate(hazards):
        alone, alone_problems = rules.prepare_new(None, lay, batch.of_records(lay, [hazard]), restore=restore)  # type: ignore[arg-type]
        assert (str(problems[i]) if i in problems else None) == (str(alone_problems[0]) if alone_problems else None)
        if i not in problems:
            assert ready.record_values(i) == alone.record_values(0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(_geometry, st.just(Point(1, 2))), max_size=8))
def test_polygons_become_multipolygons_as_one_record_would_make_them(geoms: list) -> None:
    array = np.empty(len(geoms), dtype=object)
    array[:] = geoms
    made = batch.as_multipolygons(array)
    for before, after in zip(geoms, made):
        if before is not None and before.geom_type == "Polygon":
            assert after.geom_type == "MultiPolygon" and after.equals_exact(as_multipolygon(before), 0)
        else:
            assert after is before


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.builds(
            lambda x, y, w, h: box(x, y, x + w, y + h),
            st.floats(-179, 175),
            st.floats(-80, 79),
            st.floats(0.001, 4),
            st.floats(0.001, 2),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_the_metric_zone_of_many_geometries_is_each_ones_own(geoms: list[Polygon]) -> None:
    """Read from the bounds where they lie in one UTM zone, from the point on surface where not."""
    assert utm_epsgs(np.asarray(geoms, dtype=object)).tolist() == [metric_epsg_for(g) for g in geoms]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.builds(
                lambda x, y, w, h: box(x, y, x + w, y + h),
                st.floats(38, 39),
                st.floats(34, 35),
                st.floats(1e-5, 0.003),
                st.floats(1e-5, 0.003),
            ),
            st.builds(
                lambda x, y, r: shapely.Point(x, y).buffer(r, quad_segs=3),
                st.floats(38, 39),
                st.floats(34, 35),
                st.floats(1e-5, 0.002),
            ),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_areas_of_many_equal_each_ones_own_measure(geoms: list[Polygon]) -> None:
    """Many hazards measured at once (edges split only where one is long) get the area each gets alone."""
    assert areas_m2(geoms).tolist() == [area_m2(g) for g in geoms]
