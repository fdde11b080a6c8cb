"""The low-zoom tile cache, over real HTTP, on GeoPackage and PostGIS.

A tile is stored once per view of the register (an organisation's, everyone's, an anonymous
visitor's) and never handed to another view; a write in the tile makes it stale, and so does one
to another layer that changes what a reader may see (a hazard no longer restricted).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import mapbox_vector_tile
import pytest
from shapely.geometry import Point

from sapper.model.records import Item
from sapper.store import open_register
from sapper.store.tile_cache import CACHE
from sapper.testing.server import LAT, LON, Served, served_demo
from sapper.testing.tiles import counted as items_counted
from sapper.testing.tiles import features, tile_of

SECRET_LON, SECRET_LAT = LON + 0.02, LAT + 0.02  # the demo's restricted hazard of "ngo"
ZOOM = 8


@pytest.fixture
def served(target: str) -> Iterator[Served]:
    with served_demo(target, public=True) as site:
        reg = open_register(target, user="seed")
        try:
            reg.add(
                Item(category="uxo", geometry=Point(SECRET_LON + 0.0005, SECRET_LAT + 0.0005),
                     hazard_id=site.demo.secret_hazard, organisation="ngo")
            )  # fmt: skip
        finally:
            reg.close()
        yield site


def counted(client: Any) -> int:
    return items_counted(client, "items", tile_of(LON, LAT, ZOOM))


def stored(target: str) -> dict[str, tuple[int, int]]:
    """The cached items tiles of ZOOM by scope: (version they were built at, items they count)."""
    reg = open_register(target, user="test")
    try:
        if not reg.backend.existing_columns(CACHE):
            return {}
        rows = reg.backend.execute(f"SELECT scope, version, data FROM {CACHE} WHERE layer = 'items' AND zoom = {ZOOM}")
        tiles = {}
        for scope, version, data in rows.fetchall():
            layer = mapbox_vector_tile.decode(bytes(data))["items"]
            tiles[scope] = (int(version), sum(int(f["properties"]["count"]) for f in layer["features"]))
        return tiles
    finally:
        reg.close()


def audit_id(target: str) -> int:
    reg = open_register(target, user="test")
    try:
        return int(reg.backend.execute("SELECT max(id) FROM audit_log").fetchone()[0])
    finally:
        reg.close()


def test_a_cached_tile_is_kept_per_view_and_never_served_to_another(served: Served) -> None:
    mine = len(served.demo.items)
    with served.client("ngo") as owner:
        assert counted(owner) == mine + 1, "the owner counts the item of its restricted hazard"
    assert stored(served.target) == {"org:ngo": (audit_id(served.target), mine + 1)}, "kept for its view"
    with served.client("super") as other, served.client(None) as anonymous:
        assert counted(other) == mine, "another organisation does not get the owner's cached tile"
        assert counted(anonymous) == mine, "nor does an anonymous visitor"
    with served.client("ngo") as owner:
        assert counted(owner) == mine + 1
    version = audit_id(served.target)
    assert stored(served.target) == {
        "org:ngo": (version, mine + 1),
        "org:mac": (version, mine),
        "org:(anonymous)": (version, mine),
    }


def test_a_write_makes_the_cached_tiles_stale(served: Served) -> None:
    mine = len(served.demo.items)
    with served.client("super") as client:
        assert counted(client) == mine
        assert set(stored(served.target)) == {"org:mac"}
        reg = open_register(served.target, user="super")
        try:
            reg.add(Item(category="uxo", geometry=Point(LON + 0.003, LAT + 0.003), organisation="mac"))
        finally:
            reg.close()
        assert counted(client) == mine + 1, "the new item is counted at once"
        assert stored(served.target)["org:mac"] == (audit_id(served.target), mine + 1), "and the tile stored again"
        reg = open_register(served.target, user="ngo")
        try:  # a write to another layer: the hazard is no longer restricted, so its item may be seen
            hazard = reg.get("hazard", served.demo.secret_hazard)
            reg.update(hazard.__class__(**{**hazard.__dict__, "restricted": False}))
        finally:
            reg.close()
        assert counted(client) == mine + 2, "the item of a hazard no longer restricted is counted"


def test_filtered_and_deep_tiles_are_not_stored(served: Served) -> None:
    with served.client("super") as client:
        tile = tile_of(LON, LAT, ZOOM)
        asked = client.get(f"/ogc/collections/items/tiles/WebMercatorQuad/{ZOOM}/{tile.row}/{tile.col}?category=uxo")
        assert asked.status_code == 200
        deep = tile_of(LON, LAT, 12)
        assert features(client, "items", deep)
    assert stored(served.target) == {}, "only plain tiles to zoom 10 are kept"


def test_a_write_to_a_layer_the_tile_does_not_show_leaves_it_kept(served: Served) -> None:
    mine = len(served.demo.items)
    with served.client("super") as client:
        assert counted(client) == mine
        version, _ = stored(served.target)["org:mac"]
        marker = mapbox_vector_tile.encode(
            [{"name": "items", "features": [{"geometry": "POINT (2048 2048)", "properties": {"count": 999}}]}]
        )
        reg = open_register(served.target, user="super")
        try:  # the kept tile swapped for a marker: seen again only if the cache answers
            reg.backend.execute(f"UPDATE {CACHE} SET data = {reg.backend.ph}", [marker])
            site = reg.get("site", served.demo.sites[0])
            reg.update(site.__class__(**{**site.__dict__, "buffer_m": 150.0}))  # protected sites: not in items tiles
        finally:
            reg.close()
        assert audit_id(served.target) > version
        assert counted(client) == 999, "a write to protected sites leaves the items tile as it was kept"
        assert stored(served.target)["org:mac"][0] == audit_id(served.target), "checked once, then current"
        reg = open_register(served.target, user="super")
        try:
            team = reg.get("team", served.demo.teams[0])  # teams can hide items (a team's restricted records)
            reg.update(team.__class__(**{**team.__dict__, "personnel": 9}))
        finally:
            reg.close()
        assert counted(client) == 999, "a change to a team that hides none of its items leaves the tile kept"
        reg = open_register(served.target, user="ngo")
        try:  # the team handed to the other organisation, restricted: its items leave this view
            team = reg.get("team", served.demo.teams[0])
            reg.update(team.__class__(**{**team.__dict__, "organisation": "ngo", "restricted": True}))
        finally:
            reg.close()
        assert counted(client) == 0, "a change to a layer that hides the tile's items makes it stale"
