"""Pages made on the event loop (PostGIS) read as the same pages made in a worker thread.

The OGC items page is written once, as the reads it needs (``sapper.store.reads``). On a
GeoPackage a worker thread runs them on its own connection; on PostGIS the event loop sends
them through a pool of async connections, so the page does not wait for a thread at all.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from shapely.geometry import Point

from sapper.model.records import Item
from sapper.server import ogc
from sapper.server.app import THREADS
from sapper.server.context import PAGE_THREADS
from sapper.store import init_register
from sapper.store.async_reads import AsyncReads
from sapper.store.query import Filter, count_read, cursor_before_read, select_counted_read, select_read
from sapper.store.reads import Read, drive
from sapper.store.schema import layer
from sapper.testing.server import LAT, LON, served_demo

ITEMS = "/ogc/collections/items/items"


def _only_postgis(target: str) -> None:
    if not target.startswith("postgresql"):
        pytest.skip("a GeoPackage's pages are made in worker threads (sqlite3 reads block)")


def _steps(reads: list[Read[Any]]) -> Any:
    """Steps that ask each read in turn and return every answer."""
    answers = []
    for read in reads:
        answers.append((yield read))
    return answers


def test_each_read_answers_the_same_from_a_thread_and_from_the_event_loop(target: str) -> None:
    _only_postgis(target)
    reg = init_register(target, user="seed")
    try:
        reg.add_many([Item(category="uxo", geometry=Point(LON + 0.001 * i, LAT)) for i in range(30)])
        lay = layer("item")
        window = Filter(bbox=(LON - 0.001, LAT - 0.001, LON + 0.0105, LAT + 0.001))
        reads_of = [
            lambda b: select_counted_read(b, lay, window, limit=5, offset=2),
            lambda b: select_read(b, lay, Filter(), limit=7, after=10),
            lambda b: count_read(b, lay, window),
            lambda b: cursor_before_read(b, lay, Filter(), 20, 5),
        ]
        in_thread = drive(_steps([make(reg.backend) for make in reads_of]), reg.backend)

        async def on_loop() -> Any:
            reads = AsyncReads(target)
            try:
                return await reads.drive(_steps([make(reads.dialect) for make in reads_of]))
            finally:
                await reads.close()

        assert asyncio.run(on_loop()) == in_thread
    finally:
        reg.close()
    rows, matched = in_thread[0]
    assert matched == 11 and len(rows) == 5  # items 0-10 in the window; the page skips two
    assert [r[0] for r in in_thread[1][0]] == list(range(11, 18))
    assert in_thread[2] == 11 and in_thread[3] == 14


def test_an_items_page_on_postgis_is_answered_while_every_worker_thread_is_busy(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server whose worker threads are all taken (slow reports, say) still serves the map's pages."""
    _only_postgis(target)
    inside, release = threading.Semaphore(0), threading.Event()
    one_collection = ogc.one_collection

    def held(request: Any, lay: Any) -> Any:
        inside.release()
        release.wait(timeout=60)
        return one_collection(request, lay)

    monkeypatch.setattr(ogc, "one_collection", held)
    with served_demo(target) as api, api.client("viewer") as viewer, ThreadPoolExecutor(THREADS) as pool:
        assert viewer.get(ITEMS, params={"limit": 1}).status_code == 200  # the viewer's token is checked once
        try:
            busy = [pool.submit(viewer.get, "/ogc/collections/hazards") for _ in range(THREADS)]
            for _ in range(THREADS):
                assert inside.acquire(timeout=30), "the server did not take every request into a worker thread"
            page = viewer.get(ITEMS, params={"limit": 10}, timeout=10)
            assert page.status_code == 200 and page.json()["numberReturned"] > 0
            assert not any(b.done() for b in busy)  # every worker thread was still held
        finally:
            release.set()
        assert all(b.result().status_code == 200 for b in busy)


def test_a_page_is_answered_after_the_database_ended_the_servers_connections(target: str) -> None:
    """As after a restart of PostgreSQL, or an operator's pg_terminate_backend: one slow page, no error."""
    _only_postgis(target)
    with served_demo(target) as api, api.client("viewer") as viewer:
        before = viewer.get(ITEMS, params={"limit": 5})
        assert before.status_code == 200
        with psycopg.connect(target, autocommit=True) as admin:
            sql = (
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert admin.execute(sql).fetchone()[0] >= 1
        after = viewer.get(ITEMS, params={"limit": 5})
        assert after.status_code == 200, after.text
        assert [f["id"] for f in after.json()["features"]] == [f["id"] for f in before.json()["features"]]


def test_a_geopackages_pages_are_made_two_at_a_time_and_hold_no_other_request(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More page threads only take turns at the interpreter (bench/README.md); the others wait."""
    if target.startswith("postgresql"):
        pytest.skip("PostGIS pages are made on the event loop")
    lock, now, most = threading.Lock(), [0], [0]
    made = ogc._items_in_thread

    def counted(request: Any, lay: Any) -> Any:
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        try:
            time.sleep(0.5)
            return made(request, lay)
        finally:
            with lock:
                now[0] -= 1

    monkeypatch.setattr(ogc, "_items_in_thread", counted)
    with served_demo(target) as api, api.client("viewer") as viewer, ThreadPoolExecutor(8) as pool:
        assert viewer.get(ITEMS, params={"limit": 1}).status_code == 200  # the viewer's token is checked once
        pages = [pool.submit(viewer.get, ITEMS, params={"limit": 5}) for _ in range(8)]
        time.sleep(0.1)
        assert viewer.get("/ogc/collections/hazards").status_code == 200
        assert not all(p.done() for p in pages)  # answered while pages still waited for their turn
        assert [p.result().status_code for p in pages] == [200] * 8
    assert most[0] == PAGE_THREADS
