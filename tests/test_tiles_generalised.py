"""Generalised vector tiles below zoom 15, over real HTTP, on GeoPackage and PostGIS.

Items are counted per cell: the counts of a tile add up to the items its reader may see in it, and
another organisation's restricted hazard adds nothing to them. Hazards below two pixels are counted
too; a larger hazard is drawn, simplified to a pixel, and still covers its place.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, shape

from sapper.model.records import Hazard, Item
from sapper.store import open_register
from sapper.store.tiles import BUFFER, EXTENT, TileId
from sapper.testing.server import LAT, LON, Served, served_demo
from sapper.testing.tiles import features, tile_of, to_lonlat, visible

SECRET_LON, SECRET_LAT = LON + 0.02, LAT + 0.02  # the demo's restricted hazard of "ngo" (0.001 degree square)
HIDDEN_ITEMS = 7  # items of "ngo" inside its restricted hazard: hidden from every other organisation
CIRCLE_VERTICES = 2000


@dataclass
class Site:
    served: Served
    circle: int  # a round hazard of 2,000 vertices, 0.04 degree across, in the middle of a zoom-10 tile
    circle_shape: Polygon


def _circle_centre() -> tuple[float, float]:
    west, south, east, north = tile_of(LON - 0.3, LAT - 0.3, 10).lonlat_box()
    return (west + east) / 2, (south + north) / 2


@pytest.fixture(scope="module")
def site(module_target: str) -> Iterator[Site]:
    with served_demo(module_target, public=True) as served:
        lon, lat = _circle_centre()
        circle = Point(lon, lat).buffer(0.02, quad_segs=CIRCLE_VERTICES // 4)
        reg = open_register(module_target, user="seed")
        try:
            hazard = reg.add(Hazard(name="Round field", geometry=circle, organisation="mac"))
            reg.add_many(
                [
                    Item(category="uxo", geometry=Point(SECRET_LON + 0.0001 * (1 + i), SECRET_LAT + 0.0005),
                         hazard_id=served.demo.secret_hazard, organisation="ngo")
                    for i in range(HIDDEN_ITEMS)
                ]
            )  # fmt: skip
        finally:
            reg.close()
        yield Site(served, hazard.id, circle)


def counted(found: list[dict[str, Any]]) -> int:
    """The items a generalised tile counts; every feature in it is a count, with no id to click."""
    for feature in found:
        assert set(feature["properties"]) <= {"count", "category"}, "a count and its colour, nothing else"
        assert feature["geometry"]["type"] == "Point"
        x, y = feature["geometry"]["coordinates"]
        assert 0 <= x <= EXTENT and 0 <= y <= EXTENT, "a count lies in its tile"
    return sum(int(f["properties"]["count"]) for f in found)


@pytest.mark.parametrize("zoom", [5, 8, 11, 14])
def test_a_low_zoom_items_tile_counts_what_its_reader_sees_and_no_more(site: Site, zoom: int) -> None:
    tile = tile_of(SECRET_LON + 0.0005, SECRET_LAT + 0.0005, zoom)
    sums = {}
    for viewer in ("ngo", "super", None):
        with site.served.client(viewer) as client:
            found = features(client, "items", tile)
            sums[viewer] = counted(found)
            assert sums[viewer] == len(visible(client, "items", tile)), f"{viewer}: counts add up to what it sees"
            assert len(found) < sums[viewer] or sums[viewer] <= 1, "items close together share a count"
    assert sums["ngo"] == sums["super"] + HIDDEN_ITEMS, "the restricted hazard's items count for its owner only"
    assert sums["super"] == sums[None], "nor for an anonymous visitor"


def test_counts_of_neighbouring_tiles_add_up_to_their_parent(site: Site) -> None:
    parent = tile_of(LON, LAT, 12)
    children = [TileId(13, 2 * parent.row + dr, 2 * parent.col + dc) for dr in (0, 1) for dc in (0, 1)]
    with site.served.client("super") as client:
        whole = counted(features(client, "items", parent))
        assert whole == len(site.served.demo.items)
        assert sum(counted(features(client, "items", child)) for child in children) == whole, "no item counted twice"


def test_small_hazards_are_counted_at_national_zoom(site: Site) -> None:
    tile = tile_of(LON, LAT, 5)  # a pixel is 4 km: every hazard here is under two
    for viewer in ("ngo", "super"):
        with site.served.client(viewer) as client:
            found = features(client, "hazards", tile)
            assert all("id" not in f["properties"] and f["properties"]["status"] for f in found), "counts only"
            total = sum(int(f["properties"]["count"]) for f in found)
            assert total == len(visible(client, "hazards", tile)), f"{viewer}: every hazard it sees, counted"
            assert (site.served.demo.secret_hazard in visible(client, "hazards", tile)) == (viewer == "ngo")


@pytest.mark.parametrize("zoom", [9, 10, 12])
def test_a_hazard_at_low_zoom_is_simplified_and_still_covers_its_place(site: Site, zoom: int) -> None:
    tile = tile_of(*_circle_centre(), zoom)
    with site.served.client("super") as client:
        drawn = {f["id"]: f for f in features(client, "hazards", tile) if "id" in f["properties"]}
    assert site.circle in drawn, "a hazard several pixels across is drawn, not counted"
    feature = drawn[site.circle]
    assert set(feature["properties"]) == {"id", "status"}, "its id and colour only at low zoom"
    geom = shape(feature["geometry"])
    vertices = len(shapely.get_coordinates(geom))
    assert 8 <= vertices < 100, f"zoom {zoom}: {vertices} vertices of {CIRCLE_VERTICES}: simplified to the pixel"
    pixel = 360 / ((1 << zoom) * 256)  # a pixel in degrees of longitude
    back = to_lonlat(geom, tile)
    place = shapely.clip_by_rect(site.circle_shape, *tile.lonlat_box(pad=BUFFER / EXTENT))  # its part in the tile
    assert back.hausdorff_distance(place) < 1.5 * pixel, "within a pixel and a half of its outline"
    overlap = back.intersection(place).area / place.area
    assert overlap > 0.9 and np.isclose(back.area, place.area, rtol=0.15), "covers its place"
