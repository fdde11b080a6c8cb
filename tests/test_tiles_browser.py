"""The map draws hazards, items and land released from vector tiles, in Chromium, on both backends.

The browser asks for tiles (``/tiles/WebMercatorQuad/{z}/{y}/{x}``), not for pages of GeoJSON,
for these layers; every feature of the register in view is drawn; a click on a hazard drawn
from a tile opens its details, read by id. From afar items are drawn as labelled counts that add
up to what the viewer may see; at town zoom they wait until one zooms in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import mapbox_vector_tile
from playwright.sync_api import Page
from shapely.geometry import Point, shape

from sapper.store.tiles import TileId
from sapper.testing.browser import Site, login, map_settled, move_map

TILED = {"hazards": "hazards", "items": "items", "releases": "released"}  # collection: map pane
HAZARD = 4  # the Agora, in clearance


def drawn_ids(page: Page, pane: str) -> set[int]:
    ids = page.eval_on_selector_all(f".leaflet-{pane}-pane path[data-id]", "ps => ps.map(p => p.dataset.id)")
    return {int(i) for i in ids}


def in_view(page: Page, site: Site, collection: str) -> dict[int, Any]:
    """The features of the register in the map's view, as the viewer may see them."""
    box = page.evaluate("(() => { const b = window.sapperMap.map.getBounds(); return b.toBBoxString(); })()")
    with site.api("viewer") as client:
        page_ = client.get(f"/ogc/collections/{collection}/items", params={"bbox": box, "limit": 10_000}).json()
    return {f["id"]: shape(f["geometry"]) for f in page_["features"]}


def in_tiles(site: Site, urls: list[str]) -> set[int]:
    """The ids in the tiles the browser fetched, fetched again by the viewer."""
    ids: set[int] = set()
    with site.api("viewer") as client:
        for url in set(urls):
            answer = client.get(url)
            if answer.status_code == 200:
                ids |= {
                    f["id"] for layer in mapbox_vector_tile.decode(answer.content).values() for f in layer["features"]
                }
    return ids


def tiles_settled(page: Page) -> None:
    page.wait_for_function("() => !document.querySelector('.leaflet-tile-container .leaflet-tile-loading')")
    page.wait_for_load_state("networkidle")


def map_over_hazard(palmyra: Site, page: Page) -> tuple[Any, Point]:
    """The hazard the tests look at (as the API gives it) and a point inside it, with the map open as a viewer."""
    with palmyra.api("viewer") as client:
        hazard: Any = client.get(f"/ogc/collections/hazards/items/{HAZARD}").json()
    login(page, palmyra.url, "viewer")
    map_settled(page)
    return hazard, shape(hazard["geometry"]).representative_point()


def test_the_map_draws_hazards_items_and_releases_from_tiles(palmyra: Site, page: Page) -> None:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    _, inside = map_over_hazard(palmyra, page)
    move_map(page, inside.y, inside.x, 16)
    tiles_settled(page)
    for collection, pane in TILED.items():
        asked = [u for u in urls if f"/ogc/collections/{collection}/tiles/WebMercatorQuad/16/" in u]
        assert asked, f"{collection}: the map asked for tiles"
        pages = [u for u in urls if f"/ogc/collections/{collection}/items?" in u]
        assert all(parse_qs(urlparse(u).query)["limit"] == ["1"] for u in pages), (
            f"{collection}: only counted, no pages"
        )
        want, tiled, got = in_view(page, palmyra, collection), in_tiles(palmyra, asked), drawn_ids(page, pane)
        assert want and got == tiled, f"{collection}: drawn what the tiles hold"
        slivers = {i for i, g in want.items() if i not in got}
        cell = 360 / (2**16 * 4096)  # a grid cell of a tile at zoom 16, in degrees
        thin = {i for i in slivers if 2 * want[i].area / want[i].length < cell}
        assert slivers == thin, f"{collection}: in view, not drawn, and wider than a grid cell: {slivers - thin}"
    shapes = page.eval_on_selector_all(".leaflet-items-pane path", "paths => paths.map(p => p.getAttribute('d'))")
    assert any("a" in d for d in shapes) and any(d.count("L") == 2 for d in shapes), "circles and triangles"


def test_a_click_on_a_hazard_drawn_from_a_tile_opens_its_details(palmyra: Site, page: Page) -> None:
    hazard, inside = map_over_hazard(palmyra, page)
    for layer in ("items", "progress", "releases"):  # what lies over the hazard
        page.uncheck(f"[data-layer='{layer}'] input")
    move_map(page, inside.y, inside.x, 17)
    tiles_settled(page)
    assert HAZARD in drawn_ids(page, "hazards")
    point = page.evaluate(
        f"(() => {{ const p = window.sapperMap.map.latLngToContainerPoint([{inside.y}, {inside.x}]);"
        " const r = document.getElementById('map').getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; })()"
    )
    with page.expect_request(lambda r: r.url.endswith(f"/ogc/collections/hazards/items/{HAZARD}")):
        page.mouse.click(*point)
    assert page.inner_text("#details-title") == f"Hazard {HAZARD}: {hazard['properties']['name']}"
    page.wait_for_selector("#balance th")
    highlighted = page.eval_on_selector(
        f".leaflet-hazards-pane path[data-id='{HAZARD}']", "p => p.getAttribute('stroke')"
    )
    assert highlighted == "#00e5ff", "the clicked hazard is outlined"


def test_from_afar_items_are_counted_and_at_town_zoom_they_wait(palmyra: Site, page: Page) -> None:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    _, inside = map_over_hazard(palmyra, page)
    move_map(page, inside.y, inside.x, 10)
    tiles_settled(page)
    drawn = page.eval_on_selector_all(".leaflet-items-pane path[data-count]", "ps => ps.map(p => +p.dataset.count)")
    labels = page.eval_on_selector_all(".leaflet-items-pane text.tile-count", "ts => ts.map(t => t.textContent)")
    assert drawn and len(labels) == len(drawn), "every count drawn as a circle with its label"
    asked = {u for u in urls if "/ogc/collections/items/tiles/WebMercatorQuad/10/" in u}
    counted, boxes = 0, []
    with palmyra.api("viewer") as client:
        for url in asked:
            answer = client.get(url)
            if answer.status_code == 200:
                layer = mapbox_vector_tile.decode(answer.content)["items"]
                counted += sum(f["properties"]["count"] for f in layer["features"])
            z, row, col = (int(p) for p in url.rsplit("/", 3)[1:])
            boxes.append(",".join(map(str, TileId(z, row, col).lonlat_box())))
        seen = sum(
            client.get("/ogc/collections/items/items", params={"bbox": box, "limit": 1}).json()["numberMatched"]
            for box in boxes
        )
    assert sum(drawn) == counted == seen, "the counts drawn are the items the viewer may see in those tiles"
    urls.clear()
    move_map(page, inside.y, inside.x, 13)
    tiles_settled(page)
    assert not [u for u in urls if "/ogc/collections/items/tiles/" in u], "no items tile asked at town zoom"
    assert page.locator(".leaflet-items-pane path").count() == 0
