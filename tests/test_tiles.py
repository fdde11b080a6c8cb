"""Vector tiles (OGC API - Tiles, Mapbox Vector Tiles) over real HTTP on GeoPackage and PostGIS.

Served tiles are decoded with mapbox-vector-tile and compared with the register: every feature
a user may see in the tile's box is in it, with its geometry where the register has it, and
nothing lies outside the tile and its buffer. A restricted hazard of another organisation, and
the item found in it, are in no tile another organisation or an anonymous visitor can fetch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, shape

from sapper.model.records import Item
from sapper.server import create_app
from sapper.store import open_register
from sapper.store.tiles import BUFFER, EXTENT, TileId
from sapper.testing.server import LAT, LON, Served, seeded, serving
from sapper.testing.tiles import TILES, tile_of, to_lonlat

MVT = "application/vnd.mapbox-vector-tile"
SECRET_LON, SECRET_LAT = LON + 0.02, LAT + 0.02  # the demo's restricted hazard of "ngo"
Z0_SCALE = 559082264.0287178  # WebMercatorQuad's tile matrix 0 scale denominator (OGC 17-083r4, annex D.1)


@dataclass
class Site:
    served: Served
    secret_item: int  # an item of "ngo", not restricted itself, found in its restricted hazard

    def client(self, user: str | None) -> Any:
        return self.served.client(user)


@pytest.fixture(scope="module")
def site(module_target: str) -> Iterator[Site]:
    demo = seeded(module_target)
    reg = open_register(module_target, user="seed")
    try:
        item = reg.add(
            Item(category="uxo", geometry=Point(SECRET_LON + 0.0005, SECRET_LAT + 0.0005),
                 hazard_id=demo.secret_hazard, organisation="ngo", restricted=False)
        )  # fmt: skip
    finally:
        reg.close()
    with serving(create_app(module_target, public=True)) as server:
        yield Site(Served(server.url, module_target, demo), item.id)


def fetch(client: Any, name: str, tile: TileId, **params: Any) -> dict[int, dict[str, Any]]:
    """The tile's features by id, geometry in tile coordinates (y down); {} for a 204."""
    answer = client.get(f"{TILES.format(name=name)}/{tile.zoom}/{tile.row}/{tile.col}", params=params)
    if answer.status_code == 204:
        assert answer.content == b""
        return {}
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == MVT and "private" in answer.headers["cache-control"]
    layers = mapbox_vector_tile.decode(answer.content, default_options={"y_coord_down": True})
    assert set(layers) == {name}
    assert layers[name]["extent"] == EXTENT
    return {f["id"]: f for f in layers[name]["features"]}


def register_features(client: Any, name: str, tile: TileId) -> dict[int, dict[str, Any]]:
    """What the user may see in the tile's box (with its buffer), read as GeoJSON."""
    box = ",".join(map(str, tile.lonlat_box(pad=BUFFER / EXTENT)))
    page = client.get(f"/ogc/collections/{name}/items", params={"bbox": box, "limit": 10_000}).json()
    return {f["id"]: f for f in page["features"]}


@pytest.mark.parametrize("name", ["hazards", "items"])
@pytest.mark.parametrize("zoom", [15, 17])  # zooms of single features; below, tiles are generalised
def test_tiles_hold_what_the_register_holds_and_lie_in_the_tile(site: Site, name: str, zoom: int) -> None:
    corner = tile_of(LON, LAT + 0.0005, zoom)
    tiles = [TileId(zoom, corner.row + dr, corner.col + dc) for dr in (-1, 0) for dc in range(4)]
    key = {"hazards": "status", "items": "category"}[name]
    shown: set[int] = set()
    with site.client("super") as client:
        for tile in tiles:
            got = fetch(client, name, tile)
            want = register_features(client, name, tile)
            assert set(got) == set(want), f"{tile}: the tile holds what the items page gives for its box"
            cell = 360 / ((1 << zoom) * EXTENT)  # a tile unit in degrees of longitude
            for fid, feature in got.items():
                geom = shape(feature["geometry"])
                assert geom.bounds == pytest.approx(np.clip(geom.bounds, -BUFFER, EXTENT + BUFFER)), "in the tile"
                inside = shapely.clip_by_rect(shape(want[fid]["geometry"]), *tile.lonlat_box(pad=BUFFER / EXTENT))
                assert to_lonlat(geom, tile).hausdorff_distance(inside) < 2 * cell, f"{name} {fid} in {tile}"
                assert feature["properties"][key] == want[fid]["properties"][key]
                for part in getattr(geom, "geoms", [geom]):  # MVT 2.1 4.3.4.4: a positive area in tile coordinates
                    assert not hasattr(part, "exterior") or part.exterior.is_ccw, f"{name} {fid}: exterior ring winding"
                assert feature["properties"]["id"] == fid, "the id is a property too, for a click to read"
                assert not {"notes", "version", "source_key"} & set(feature["properties"]), "what the map needs only"
            shown |= set(got)
    everything = site.served.demo.hazards if name == "hazards" else site.served.demo.items
    assert set(everything) <= shown


@pytest.mark.parametrize("viewer", ["super", None])
def test_a_restricted_hazard_and_its_item_are_in_no_tile_of_another_organisation(
    site: Site, viewer: str | None
) -> None:
    secret, item = site.served.demo.secret_hazard, site.secret_item
    for zoom in (15, 17):
        tile = tile_of(SECRET_LON + 0.0005, SECRET_LAT + 0.0005, zoom)
        with site.client("ngo") as owner, site.client(viewer) as other:
            assert secret in fetch(owner, "hazards", tile) and item in fetch(owner, "items", tile)
            assert secret not in fetch(other, "hazards", tile), f"zoom {zoom}: restricted hazard shown to {viewer}"
            assert item not in fetch(other, "items", tile), f"zoom {zoom}: its item shown to {viewer}"
    with site.client(viewer) as other:  # alone in its tile: the others get an empty tile
        lone = tile_of(SECRET_LON + 0.0005, SECRET_LAT + 0.0005, 17)
        answer = other.get(f"{TILES.format(name='hazards')}/{lone.zoom}/{lone.row}/{lone.col}")
        assert answer.status_code == 204


def test_tile_matrix_set_and_tileset_documents(site: Site) -> None:
    with site.client(None) as client:
        listed = client.get("/ogc/tileMatrixSets").json()["tileMatrixSets"]
        assert [t["id"] for t in listed] == ["WebMercatorQuad"]
        doc = client.get("/ogc/tileMatrixSets/WebMercatorQuad").json()
        assert doc["uri"] == "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
        assert doc["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857" and doc["orderedAxes"] == ["E", "N"]
        matrices = doc["tileMatrices"]
        assert [m["id"] for m in matrices] == [str(z) for z in range(25)]
        assert matrices[0]["scaleDenominator"] == pytest.approx(Z0_SCALE, rel=1e-9)
        for z, m in enumerate(matrices):
            assert m["matrixWidth"] == m["matrixHeight"] == 2**z and m["tileWidth"] == m["tileHeight"] == 256
            assert m["cellSize"] * 256 * 2**z == pytest.approx(2 * 20037508.3427892)
            assert m["scaleDenominator"] == pytest.approx(m["cellSize"] / 0.00028)
            assert m["cornerOfOrigin"] == "topLeft" and m["pointOfOrigin"] == [-20037508.3427892, 20037508.3427892]
        conforms = client.get("/ogc/conformance").json()["conformsTo"]
        for conf in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt"):
            assert f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{conf}" in conforms
        collection = client.get("/ogc/collections/hazards").json()
        tilesets = next(lk for lk in collection["links"] if lk["rel"].endswith("/tilesets-vector"))
        listing = client.get(tilesets["href"]).json()["tilesets"][0]
        assert listing["dataType"] == "vector" and listing["tileMatrixSetURI"] == doc["uri"]
        tileset = client.get(next(lk["href"] for lk in listing["links"] if lk["rel"] == "self")).json()
        template = next(lk for lk in tileset["links"] if lk["rel"] == "item")
        assert template["type"] == MVT and template["templated"] is True
        assert template["href"].endswith("/hazards/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
        assert {"id", "status", "count"} <= set(tileset["layers"][0]["propertiesSchema"]["properties"])


def test_bad_tiles_are_refused_and_an_unchanged_tile_is_not_sent_again(site: Site) -> None:
    base = TILES.format(name="hazards")
    tile = tile_of(LON, LAT + 0.0005, 14)
    with site.client("super") as client:
        assert client.get(f"{base}/3/8/0").status_code == 404, "row 8 is past the 8 rows of tile matrix 3"
        assert client.get(f"{base}/25/0/0").status_code == 404, "WebMercatorQuad ends at tile matrix 24"
        assert client.get(f"{base}/-1/0/0").status_code == 404
        refused = client.get(f"{base}/{tile.zoom}/{tile.row}/{tile.col}", params={"bbox": "0,0,1,1"})
        assert refused.status_code == 400 and "bbox" in refused.json()["description"]
        first = client.get(f"{base}/{tile.zoom}/{tile.row}/{tile.col}")
        again = client.get(
            f"{base}/{tile.zoom}/{tile.row}/{tile.col}", headers={"If-None-Match": first.headers["etag"]}
        )
        assert again.status_code == 304 and again.content == b""
        assert fetch(client, "hazards", tile, status="confirmed") == {}, "the collection's field filters apply"
        assert client.get(f"{TILES.format(name='items')}/0/0/0").status_code == 200, "points stay at tile matrix 0"
        assert client.get(f"{base}/0/0/0").status_code == 200, "hazards far below a pixel are counted"
        assert client.get(f"{base}/2/0/0").status_code == 204, "no hazard near the North Pole"
