"""numberMatched of a bbox page of OGC API items, over real HTTP on GeoPackage and PostGIS.

On PostGIS the page and its count come from one query; they must still count only what the
reader may see (not another organisation's restricted items, nor items of its restricted
hazard), follow every write at once, and agree with the features the pages hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from shapely.geometry import Point

from sapper.model.records import Item
from sapper.server import create_app
from sapper.store import open_register
from sapper.store.async_reads import AsyncReads
from sapper.store.reads import Read
from sapper.testing.server import LAT, LON, Served, seed, serving

ITEMS = "/ogc/collections/items/items"
WINDOW = f"{LON + 0.05},{LAT + 0.05},{LON + 0.06},{LAT + 0.06}"
PAGE = 15


def _in_window(i: int, **fields: Any) -> Item:
    return Item(category="uxo", geometry=Point(LON + 0.0501 + 0.0001 * (i % 90), LAT + 0.0501), **fields)


@pytest.fixture
def api(target: str) -> Iterator[Served]:
    demo = seed(target)
    reg = open_register(target, user="seed")
    try:
        reg.add_many([_in_window(i, organisation="mac") for i in range(40)])
        reg.add_many([_in_window(i, organisation="ngo", restricted=True) for i in range(40, 50)])
        reg.add_many([_in_window(i, organisation="mac", hazard_id=demo.secret_hazard) for i in range(50, 55)])
        reg.add_many([_in_window(i, organisation="ngo") for i in range(55, 60)])
    finally:
        reg.close()
    with serving(create_app(target)) as server:
        yield Served(server.url, target, demo)


def _walk(client: Any) -> tuple[int, list[int]]:
    """The first page's numberMatched and the ids of every page, by offset."""
    first = client.get(ITEMS, params={"bbox": WINDOW, "limit": PAGE}).json()
    ids, offset, page = [], 0, first
    while page["features"]:
        ids += [f["id"] for f in page["features"]]
        offset += PAGE
        page = client.get(ITEMS, params={"bbox": WINDOW, "limit": PAGE, "offset": offset}).json()
    return first["numberMatched"], ids


def test_a_window_counts_what_its_reader_may_see_and_follows_writes(api: Served) -> None:
    with api.client("viewer") as mac, api.client("ngo") as ngo:
        matched, ids = _walk(mac)
        assert matched == len(ids) == 45  # 40 of mac's, 5 of the ngo's unrestricted; no restricted ones
        assert len(set(ids)) == len(ids)
        matched, ids = _walk(ngo)
        assert matched == len(ids) == 60  # the ngo sees its own restricted items and hazard

        reg = open_register(api.target, user="seed")
        try:
            added = reg.add(_in_window(99, organisation="mac"))
            assert mac.get(ITEMS, params={"bbox": WINDOW, "limit": PAGE}).json()["numberMatched"] == 46
            reg.delete("item", added.id)
            reg.delete("item", reg.list("item", bbox=(LON + 0.05, LAT + 0.05, LON + 0.06, LAT + 0.06))[0].id)
        finally:
            reg.close()
        assert mac.get(ITEMS, params={"bbox": WINDOW, "limit": PAGE}).json()["numberMatched"] == 44
        beyond = mac.get(ITEMS, params={"bbox": WINDOW, "limit": PAGE, "offset": 100}).json()
        assert beyond["numberMatched"] == 44 and beyond["features"] == []


def test_a_window_page_on_postgis_is_read_and_counted_in_one_query(
    api: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not api.target.startswith("postgresql"):
        pytest.skip("a GeoPackage counts in a query of its own (quicker there)")
    asked: list[str] = []
    run = AsyncReads.run  # on PostGIS a page's reads go from the event loop, through the async pool

    async def noted(self: AsyncReads, read: Read[Any]) -> Any:
        if 'FROM "items"' in read.sql:
            asked.append(read.sql)
        return await run(self, read)

    monkeypatch.setattr(AsyncReads, "run", noted)
    with api.client("viewer") as mac:
        page = mac.get(ITEMS, params={"bbox": WINDOW, "limit": PAGE}).json()
    assert page["numberMatched"] == 45 and len(page["features"]) == PAGE
    assert len(asked) == 1, asked
