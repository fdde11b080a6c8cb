"""Keyset paging of OGC API items over real HTTP on GeoPackage and PostGIS.

``next`` links carry a cursor (the page's last id), so walking a layer of thousands of features
sees each exactly once, also when features are added and deleted between pages, where an
offset would skip as many features as were deleted before it. ``offset`` is still accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from shapely.geometry import Point

from sapper.model.records import Item
from sapper.server import create_app
from sapper.store import open_register
from sapper.testing.server import LAT, LON, Served, seeded, serving

ITEMS = "/ogc/collections/items/items"
MANY = 3000
PAGE = 400


def items(count: int, start: int = 0) -> list[Item]:
    return [
        Item(category="uxo", geometry=Point(LON + 0.00001 * (i % 100), LAT + 0.00001 * (i // 100)), organisation="mac")
        for i in range(start, start + count)
    ]


@pytest.fixture
def api(target: str) -> Iterator[Served]:
    demo = seeded(target)
    reg = open_register(target, user="seed")
    try:
        reg.add_many(items(MANY))
    finally:
        reg.close()
    with serving(create_app(target)) as server:
        yield Served(server.url, target, demo)


def next_link(page: dict[str, Any]) -> str | None:
    return next((lk["href"] for lk in page["links"] if lk["rel"] == "next"), None)


def all_ids(client: Any) -> list[int]:
    return sorted(f["id"] for f in client.get(ITEMS, params={"limit": 10_000}).json()["features"])


def test_walking_a_large_layer_sees_every_feature_once(api: Served) -> None:
    with api.client("viewer") as client:
        everything = all_ids(client)
        assert len(everything) == MANY + len(api.demo.items)
        page = client.get(ITEMS, params={"limit": PAGE}).json()
        assert page["numberMatched"] == len(everything), "the first page counts the matches"
        seen: list[int] = []
        while True:
            seen += [f["id"] for f in page["features"]]
            url = next_link(page)
            if url is None:
                break
            query = parse_qs(urlsplit(url).query)
            assert query["cursor"] == [str(seen[-1])] and "offset" not in query, url
            page = client.get(url).json()
            assert "numberMatched" not in page, "pages after the first are not counted again"
        assert seen == everything, "in id order, no duplicate and no gap"


def test_features_added_and_deleted_between_pages_neither_repeat_nor_vanish(api: Served) -> None:
    with api.client("super") as client:
        before = all_ids(client)
        page = client.get(ITEMS, params={"limit": PAGE}).json()
        seen = [f["id"] for f in page["features"]]
        reg = open_register(api.target, user="super")
        try:
            added = [i.id for i in reg.add_many(items(7, start=MANY))]
            for gone in seen[:25]:  # already read: an offset would now skip 25 unread features
                reg.delete("item", gone)
        finally:
            reg.close()
        url = next_link(page)
        while url is not None:
            page = client.get(url).json()
            seen += [f["id"] for f in page["features"]]
            url = next_link(page)
    assert len(seen) == len(set(seen)), "no feature twice"
    assert seen == before + added, "every feature there at the start, and those added after it, once each"


def test_prev_links_and_offsets_still_work(api: Served) -> None:
    with api.client("viewer") as client:
        everything = all_ids(client)
        first = client.get(ITEMS, params={"limit": 50}).json()
        second = client.get(next_link(first)).json()
        third = client.get(next_link(second)).json()
        assert [f["id"] for f in third["features"]] == everything[100:150]
        back = next(lk["href"] for lk in third["links"] if lk["rel"] == "prev")
        assert [f["id"] for f in client.get(back).json()["features"]] == everything[50:100]
        back = next(lk["href"] for lk in second["links"] if lk["rel"] == "prev")
        assert "cursor" not in back and [f["id"] for f in client.get(back).json()["features"]] == everything[:50]
        deep = client.get(ITEMS, params={"limit": 10, "offset": 2000}).json()
        assert [f["id"] for f in deep["features"]] == everything[2000:2010]
        assert deep["numberMatched"] == len(everything)
        assert parse_qs(urlsplit(next_link(deep)).query)["cursor"] == [str(everything[2009])]
        past = client.get(ITEMS, params={"cursor": 2**63 - 1, "limit": 50}).json()
        assert past["features"] == [] and next_link(past) is None, "past the last id: an empty page"
        back = next(lk["href"] for lk in past["links"] if lk["rel"] == "prev")
        assert [f["id"] for f in client.get(back).json()["features"]] == everything[-50:]
        both = client.get(ITEMS, params={"cursor": everything[5], "offset": 3})
        assert both.status_code == 400 and "cursor" in both.json()["description"]
        bbox = f"{LON},{LAT},{LON + 0.0005},{LAT + 0.0001}"
        boxed = client.get(ITEMS, params={"limit": 7, "bbox": bbox}).json()
        walked, url = [f["id"] for f in boxed["features"]], next_link(boxed)
        while url:
            page = client.get(url).json()
            walked += [f["id"] for f in page["features"]]
            url = next_link(page)
        assert walked and len(walked) == boxed["numberMatched"], "a filter stays on every next link"
