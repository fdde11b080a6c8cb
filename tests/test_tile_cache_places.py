"""The tile cache made stale by place, over real HTTP, on GeoPackage and PostGIS.

A write makes stale only the kept tiles its record lay or lies in: an item added in another town
leaves a national tile over this one kept; one added, moved in or out, edited or deleted here makes
it built again. A record made restricted, or a hazard whose restriction hides its items, leaves every
other view's tiles at once, wherever they are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import mapbox_vector_tile
import pytest
from shapely.geometry import Point

from sapper.model.records import Item
from sapper.store import open_register
from sapper.store.register import Register
from sapper.store.tile_cache import CACHE
from sapper.testing.server import LAT, LON, Served, served_demo
from sapper.testing.tiles import counted as items_counted
from sapper.testing.tiles import features, tile_of

ZOOM = 8  # a tile of 1.4 degrees: the demo's town, A, in one tile
ELSEWHERE = Point(LON + 3.0, LAT + 1.0)  # town B, 300 km away: another tile at every zoom from 4
MARKER = 999  # the count of the tile put in the cache in place of the one built: seen only if the cache answers


@pytest.fixture
def served(target: str) -> Iterator[Served]:
    with served_demo(target, public=True) as site:
        yield site


def counted(client: Any, lon: float = LON, lat: float = LAT, zoom: int = ZOOM) -> int:
    return items_counted(client, "items", tile_of(lon, lat, zoom))


def writing(served: Served, write: Callable[[Register], object], user: str = "super") -> None:
    reg = open_register(served.target, user=user)
    try:
        write(reg)
    finally:
        reg.close()


def marked(served: Served) -> None:
    """Every kept items tile swapped for one counting MARKER items: a tile built again counts the real ones."""
    tile = mapbox_vector_tile.encode(
        [{"name": "items", "features": [{"geometry": "POINT (2048 2048)", "properties": {"count": MARKER}}]}]
    )
    writing(served, lambda reg: reg.backend.execute(f"UPDATE {CACHE} SET data = {reg.backend.ph}", [tile]))


def kept_versions(served: Served, zoom: int = ZOOM) -> dict[str, int]:
    """The audit id each kept items tile of ``zoom`` over town A was built at (or last found current), by scope."""
    tile = tile_of(LON, LAT, zoom)
    found: dict[str, int] = {}

    def read(reg: Register) -> None:
        sql = f"SELECT scope, version FROM {CACHE} WHERE layer = 'items' AND zoom = {zoom} AND tile_row = {tile.row} "
        found.update({s: int(v) for s, v in reg.backend.execute(sql + f"AND tile_col = {tile.col}").fetchall()})

    writing(served, read)
    return found


def moved(reg: Register, item_id: int, to: Point) -> None:
    reg.change("item", item_id, geometry=to)


def test_a_write_in_another_town_leaves_the_tile_kept(served: Served) -> None:
    mine = len(served.demo.items)
    with served.client("super") as client:
        assert counted(client) == mine
        marked(served)
        writing(served, lambda reg: reg.add(Item(category="uxo", geometry=ELSEWHERE, organisation="mac")))
        assert counted(client) == MARKER, "an item added 300 km away leaves the tile over this town kept"
        far = counted(client, ELSEWHERE.x, ELSEWHERE.y)
        assert far == 1, "the tile over the other town counts it"
        there = features(client, "items", tile_of(ELSEWHERE.x, ELSEWHERE.y, ZOOM))
        assert there, "and was built"
        writing(served, lambda reg: moved(reg, _far_item(reg), Point(ELSEWHERE.x + 0.5, ELSEWHERE.y)))
        writing(served, lambda reg: reg.delete("item", _far_item(reg)))
        assert counted(client) == MARKER, "moved and deleted over there: still kept here"
    versions = kept_versions(served)
    assert list(versions) == ["org:mac"]
    writing(served, lambda reg: None)
    assert versions["org:mac"] == audit_id(served), "found current once checked, so the next reader does not check"


def _far_item(reg: Register) -> int:
    return max(i.id for i in reg.list("item") if i.geometry.x > LON + 2)


def audit_id(served: Served) -> int:
    found: list[int] = []
    writing(served, lambda reg: found.append(int(reg.backend.execute("SELECT max(id) FROM audit_log").fetchone()[0])))
    return found[0]


WRITES_HERE = {
    "added": (lambda reg, demo: reg.add(Item(category="uxo", geometry=Point(LON + 0.01, LAT), organisation="mac")), 1),
    "moved in": (
        lambda reg, demo: moved(reg, reg.add(Item(category="uxo", geometry=ELSEWHERE, organisation="mac")).id,
                                Point(LON + 0.01, LAT)),
        1,
    ),
    "moved out": (lambda reg, demo: moved(reg, demo.items[0], ELSEWHERE), -1),
    "deleted": (lambda reg, demo: reg.delete("item", demo.items[0]), -1),
}  # fmt: skip


@pytest.mark.parametrize("write", WRITES_HERE)
def test_a_write_in_the_tile_makes_it_built_again(served: Served, write: str) -> None:
    change, by = WRITES_HERE[write]
    mine = len(served.demo.items)
    with served.client("super") as client:
        assert counted(client) == mine
        marked(served)
        writing(served, lambda reg: change(reg, served.demo))
        assert counted(client) == mine + by, f"an item {write} here is counted at once"
    assert kept_versions(served) == {"org:mac": audit_id(served)}, "and the tile kept again"


def test_an_edit_in_the_tile_that_moves_nothing_makes_it_built_again(served: Served) -> None:
    with served.client("super") as client:
        counted(client)
        marked(served)
        writing(served, lambda reg: reg.change("item", served.demo.items[0], category="ap_mine"))
        assert counted(client) == len(served.demo.items), "an item's colour changed here: built again"


def test_an_item_made_restricted_leaves_the_other_views_at_once(served: Served) -> None:
    mine = len(served.demo.items)
    with served.client("super") as owner, served.client("ngo") as other, served.client(None) as anonymous:
        assert [counted(owner), counted(other), counted(anonymous)] == [mine, mine, mine]
        assert set(kept_versions(served)) == {"org:mac", "org:ngo", "org:(anonymous)"}
        writing(served, lambda reg: reg.change("item", served.demo.items[0], restricted=True))
        assert counted(other) == mine - 1, "another organisation no longer sees it"
        assert counted(anonymous) == mine - 1, "nor does a visitor"
        assert counted(owner) == mine, "its organisation still does"


def test_a_hazard_made_restricted_hides_its_items_wherever_they_lie(served: Served) -> None:
    mine = len(served.demo.items)
    hazard = served.demo.hazards[0]
    writing(served, lambda reg: reg.change("item", served.demo.items[0], hazard_id=hazard))
    with served.client("ngo") as other:
        assert counted(other) == mine
        marked(served)
        writing(served, lambda reg: reg.change("hazard", served.demo.hazards[1], name="Renamed"))
        assert counted(other) == MARKER, "a hazard renamed hides no item: the items tile stays kept"
        writing(served, lambda reg: reg.change("hazard", hazard, restricted=True))
        assert counted(other) == mine - 1, "its hazard made restricted hides the item from another organisation"


def test_a_long_run_of_writes_makes_every_tile_built_again(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sapper.store.tile_changes.PLACE_LIMIT", 3)
    with served.client("super") as client:
        counted(client)
        marked(served)
        far = [
            Item(category="uxo", geometry=Point(ELSEWHERE.x + 0.01 * i, ELSEWHERE.y), organisation="mac")
            for i in range(5)
        ]
        writing(served, lambda reg: reg.add_many(far))
        assert counted(client) == len(served.demo.items), "an import past the limit is not checked item by item"


def kept_then_written_far(served: Served, client: Any) -> None:
    """On PostgreSQL only: the tile over town A kept (counting MARKER), then an item added in town B."""
    if not served.target.startswith("postgresql://"):
        pytest.skip("PostgreSQL's audit ids can commit out of order; SQLite has one writer at a time")
    counted(client)
    marked(served)
    writing(served, lambda reg: reg.add(Item(category="uxo", geometry=ELSEWHERE, organisation="mac")))


def test_a_kept_tile_is_served_while_another_write_is_in_flight(served: Served) -> None:
    with served.client("super") as client:
        kept_then_written_far(served, client)
        built = kept_versions(served)["org:mac"]
        other = open_register(served.target, user="super")
        with other, other.transaction():  # a write through sapper of another client, its audit entry not committed
            other.add(Item(category="uxo", geometry=ELSEWHERE, organisation="mac"))
            assert counted(client) == MARKER, "checked against what is committed: a write far away leaves it"
            assert kept_versions(served)["org:mac"] == built, "but not marked current while a write is in flight"
        assert counted(client) == MARKER
        assert kept_versions(served)["org:mac"] == audit_id(served), "marked current once none is"


def test_a_transaction_that_writes_no_audit_entry_leaves_the_tile_marked_current(served: Served) -> None:
    """A job queue's transactions, another database's, or an analyze of the audit log are no write to this register."""
    import psycopg

    with served.client("super") as client:
        kept_then_written_far(served, client)
        with psycopg.connect(served.target) as other:
            other.execute("CREATE TABLE job_queue_like (n int)")
            other.execute("INSERT INTO job_queue_like VALUES (1)")  # a write, open, to another table
            other.execute("ANALYZE audit_log")  # as autovacuum does: a transaction id, and a lock on the log
            assert counted(client) == MARKER
            assert kept_versions(served)["org:mac"] == audit_id(served), "marked current: no audit id is in flight"
