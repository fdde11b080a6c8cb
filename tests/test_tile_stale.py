"""Kept national-zoom tiles served at once after a write, built again in the background; over real HTTP,
on GeoPackage and PostGIS.

After a write that hides nothing from anyone (an item added), the next reader of a z5 tile gets the kept
tile at once, marked ``Sapper-Tile: stale`` with its old ETag, and a later one the tile built again. A
write that may hide a record (made restricted, deleted) is never answered from the kept tile, nor is a
tile out of date for longer than the server's bound; two readers of a stale tile start one rebuild.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import mapbox_vector_tile
import pytest
from shapely.geometry import Point
from test_tile_cache_places import MARKER, audit_id, kept_versions, marked, writing

from sapper.model.records import Item
from sapper.store import tile_cache
from sapper.store.tile_rebuilds import THREAD_NAME
from sapper.testing.server import LAT, LON, Served, served_demo
from sapper.testing.tiles import tile_of, tile_url

ZOOM = 5  # a tile of 11 degrees: most of a country
HERE = Point(LON + 0.01, LAT)  # in the demo's town, in the tile
STALE = "Sapper-Tile"


@pytest.fixture
def served(target: str) -> Iterator[Served]:
    with served_demo(target, public=True) as site:
        yield site


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, list[Any]]]:
    """Background rebuilds held until the event is set, each noted (the tile) as it starts."""
    building = tile_cache.built_tile
    gate, rebuilds = threading.Event(), []

    def held_back(*args: Any) -> bytes:
        if threading.current_thread().name == THREAD_NAME:
            rebuilds.append(args[-1])
            assert gate.wait(30)
        return building(*args)

    monkeypatch.setattr(tile_cache, "built_tile", held_back)
    yield gate, rebuilds
    gate.set()


def asked(client: Any, headers: dict[str, str] | None = None) -> tuple[int, str | None, str | None]:
    """The items tile of ZOOM over the town: the items it counts, its Sapper-Tile header and its ETag."""
    answer = client.get(tile_url("items", tile_of(LON, LAT, ZOOM)), headers=headers or {})
    assert answer.status_code in (200, 204, 304), answer.text
    if answer.status_code != 200:
        return 0, answer.headers.get(STALE), answer.headers.get("etag")
    found = mapbox_vector_tile.decode(answer.content).get("items", {"features": []})["features"]
    return sum(int(f["properties"]["count"]) for f in found), answer.headers.get(STALE), answer.headers["etag"]


def until(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    """Wait for ``condition`` to hold, asking again every 50 ms; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the tile was not built again in time"
        time.sleep(0.05)


def rebuilt(served: Served, scope: str = "org:mac") -> Callable[[], bool]:
    """Whether the kept tile of ``scope`` is at the register's latest version: built again since the write."""
    return lambda: kept_versions(served, ZOOM).get(scope) == audit_id(served)


def add_here(served: Served) -> None:
    writing(served, lambda reg: reg.add(Item(category="uxo", geometry=HERE, organisation="mac")))


def test_an_item_added_in_the_tile_serves_the_kept_tile_then_the_new_one(
    served: Served, held: tuple[threading.Event, list[Any]]
) -> None:
    gate, _ = held
    mine = len(served.demo.items)
    with served.client("super") as client:
        assert asked(client)[:2] == (mine, None)
        marked(served)
        count, stale, tag = asked(client)
        assert (count, stale) == (MARKER, None), "the kept tile, current"
        add_here(served)
        assert asked(client) == (MARKER, "stale", tag), "after an item added there: the kept tile at once, marked"
        assert asked(client, {"If-None-Match": tag})[1:] == ("stale", tag), "still the old tile: 304 to its ETag"
        gate.set()
        until(rebuilt(served))
        count, stale, new_tag = asked(client)
        assert (count, stale) == (mine + 1, None), "once built again, the new tile with the new item"
        assert new_tag != tag


def test_an_item_made_restricted_leaves_other_views_at_once(served: Served) -> None:
    mine = len(served.demo.items)
    with served.client("super") as owner, served.client("ngo") as other, served.client(None) as anonymous:
        assert [asked(c)[0] for c in (owner, other, anonymous)] == [mine, mine, mine]
        marked(served)
        writing(served, lambda reg: reg.change("item", served.demo.items[0], restricted=True))
        assert asked(other)[:2] == (mine - 1, None), "another organisation no longer sees it, never stale"
        assert asked(anonymous)[:2] == (mine - 1, None), "nor does a visitor"
        assert asked(owner)[:2] == (mine, None), "its organisation still does"


def test_a_hazard_made_restricted_hides_its_items_at_once(served: Served) -> None:
    mine = len(served.demo.items)
    hazard = served.demo.hazards[0]
    writing(served, lambda reg: reg.change("item", served.demo.items[0], hazard_id=hazard))
    with served.client("ngo") as other:
        assert asked(other)[0] == mine
        marked(served)
        writing(served, lambda reg: reg.change("hazard", hazard, restricted=True))
        assert asked(other)[:2] == (mine - 1, None), "its hazard made restricted hides the item at once, never stale"


def test_a_delete_in_the_tile_is_never_served_stale(served: Served) -> None:
    mine = len(served.demo.items)
    with served.client(None) as anonymous:
        assert asked(anonymous)[0] == mine
        marked(served)
        writing(served, lambda reg: reg.delete("item", served.demo.items[0]))
        assert asked(anonymous)[:2] == (mine - 1, None), "a deleted record may have been deleted to hide it"


def test_a_tile_out_of_date_past_the_bound_is_built_at_once(target: str) -> None:
    with served_demo(target, public=True, tile_stale_s=0) as served, served.client("super") as client:
        mine = len(served.demo.items)
        assert asked(client)[0] == mine
        marked(served)
        add_here(served)
        assert asked(client)[:2] == (mine + 1, None), "behind by longer than the server allows: built now"


def test_two_readers_of_a_stale_tile_start_one_rebuild(served: Served, held: tuple[threading.Event, list[Any]]) -> None:
    gate, rebuilds = held
    mine = len(served.demo.items)
    with served.client("super") as one, served.client("super") as two:
        assert asked(one)[0] == mine
        marked(served)
        add_here(served)
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(asked, [one, two]))
        assert [a[:2] for a in answers] == [(MARKER, "stale")] * 2, "both served the kept tile at once"
        assert asked(one)[:2] == (MARKER, "stale"), "and a third while it is built"
        gate.set()
        until(rebuilt(served))
        assert len(rebuilds) == 1, "one rebuild for every reader of the same tile and view"
        assert asked(two)[:2] == (mine + 1, None)
