"""A page that finds every connection to the register busy: 503 with Retry-After, soon, not a 500 a minute later.

Real PostGIS, a real server on 127.0.0.1: another session holds a lock on the items table, so the
pages already asked hold every connection of the server's pool while they wait for it.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from sapper.store import async_reads
from sapper.store.async_reads import POOL_SIZE
from sapper.testing.server import Served, served_demo

ITEMS = "/ogc/collections/items/items"
WAIT_S = 1.0


def test_a_page_that_finds_no_free_connection_answers_503_and_the_others_are_answered(
    pg_cluster: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(async_reads, "WAIT_SECONDS", WAIT_S)
    with served_demo(pg_cluster.new_database()) as api, api.client("viewer") as viewer:
        assert viewer.get(ITEMS, params={"limit": 5}).status_code == 200  # the pool is open
        locker = psycopg.connect(api.target)
        locker.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
        with ThreadPoolExecutor(POOL_SIZE) as pool:
            try:
                waiting = [pool.submit(_page, api) for _ in range(POOL_SIZE)]
                time.sleep(0.5)  # each holds a connection, waiting for the lock
                started = time.monotonic()
                with caplog.at_level(logging.WARNING, logger="sapper.server"):
                    refused = viewer.get(ITEMS, params={"limit": 5}, headers={"Accept-Language": "ru"})
                took = time.monotonic() - started
            finally:
                locker.rollback()
                locker.close()
            assert [w.result().status_code for w in waiting] == [200] * POOL_SIZE, "answered once the lock went"
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "5"
    assert "свободного соединения" in refused.json()["detail"], "in the reader's language"
    assert WAIT_S <= took < 2 * WAIT_S, "refused after one wait: not asked again as if the connection were lost"
    lines = [r.getMessage() for r in caplog.records if "found no connection" in r.getMessage()]
    assert len(lines) == 1 and "GET /ogc/collections/items/items" in lines[0]


def _page(api: Served) -> Any:
    with api.client("viewer") as client:
        return client.get(ITEMS, params={"limit": 5})
