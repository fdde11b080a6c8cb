"""Bulk inserts overlap the client's checks with the server's writing, and lose no guarantee.

On PostGIS a batch's COPY is sent by a writer thread while the next batch is checked; any
other use of the connection waits for it and raises its error. These tests hold the COPY
back with a table lock taken on another connection (so it is certainly still under way),
kill the connection in the middle of it, make the server alone refuse a row, and check that
a bad record of a later batch, a write error or a lost connection each leave the register
exactly as it was, and that readers see nothing before the commit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import psycopg
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import Point

from sapper import Register, init_register
from sapper.formats.importer import BATCH_ROWS, BadRows, import_file
from sapper.model import Item, ProtectedSite
from sapper.store import is_postgres
from sapper.store.dberrors import explain
from sapper.testing.peek import table_state

LON, LAT = 38.27, 34.55
ROWS = 75_000  # two batches of the importer
BAD = 69_999  # the 70,000th record: in the second batch, checked while the first is written
TEMPLE = Point(LON - 0.01, LAT - 0.01)
HOLD_SECONDS = 20  # a lock held back longer than this means the code waited for its COPY


def items_file(path: Path, n: int = ROWS, blasted: int | None = None) -> Path:
    """``n`` items spread over a few km; item ``blasted`` destroyed in place next to the temple."""
    rng = np.random.default_rng(11)
    x, y = LON + rng.random(n) * 0.05, LAT + rng.random(n) * 0.03
    states = np.full(n, "found", dtype=object)
    if blasted is not None:
        x[blasted], y[blasted], states[blasted] = TEMPLE.x + 0.0002, TEMPLE.y, "destroyed_in_place"
    pyogrio.raw.write(
        str(path),
        shapely.to_wkb(shapely.points(x, y)),
        [np.full(n, "uxo", dtype=object), states, np.asarray([f"key-{i}" for i in range(n)], dtype=object)],
        ["category", "state", "source_key"],
        driver="GPKG",
        geometry_type="Point",
        crs="EPSG:4326",
        layer="items",
    )
    return path


def items(keys: list[str]) -> list[Item]:
    return [Item(category="uxo", geometry=Point(LON + i * 1e-6, LAT), source_key=key) for i, key in enumerate(keys)]


def state(target: str) -> tuple[int, int, int]:
    return table_state(target, "items")


def with_temple(target: str) -> Register:
    reg = init_register(target, user="tester")
    site = ProtectedSite(
        name="Temple",
        kind="monument",
        geometry=TEMPLE.buffer(0.0005),
        buffer_m=100,
        forbidden_methods=("destruction_in_place",),
    )
    reg.add(site)
    reg.add_many(items(["held-1", "held-2"]))
    return reg


@contextmanager
def items_locked(url: str) -> Iterator[threading.Event]:
    """The items table locked against writes by another connection; set the event to let them
    through (it is set anyway after HOLD_SECONDS, so that code waiting for the write ends)."""
    other = psycopg.connect(url)
    other.execute("LOCK TABLE items IN EXCLUSIVE MODE")
    release = threading.Event()
    unlock = threading.Thread(target=lambda: (release.wait(HOLD_SECONDS), release.set(), other.rollback()))
    unlock.start()
    try:
        yield release
    finally:
        release.set()
        unlock.join()
        other.close()


def copy_waiting(url: str, pid: int, seconds: float = 10) -> bool:
    """Whether the backend ``pid`` is (or, within ``seconds``, gets) into a COPY waiting for a lock."""
    sql = "SELECT wait_event_type, query FROM pg_stat_activity WHERE pid = %s"
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(int(seconds * 20)):
            row = conn.execute(sql, [pid]).fetchone()
            if row is not None and row[0] == "Lock" and row[1].startswith("COPY"):
                return True
            time.sleep(0.05)
    return False


def test_a_bad_record_in_a_later_batch_leaves_the_register_as_it_was(target: str, tmp_path: Path) -> None:
    assert BATCH_ROWS <= BAD < ROWS
    path = items_file(tmp_path / "items.gpkg", blasted=BAD)
    with with_temple(target) as reg:
        before = state(target)
        message = r"^feature 70000: item 'key-69999': destruction in place is forbidden within 100 m of Temple"
        with pytest.raises(BadRows, match=message) as raised:
            import_file(reg, path, "items")
        assert len(raised.value.problems) == 1
        assert state(target) == before
        assert reg.count("item") == 2  # the connection goes on: nothing of the import is left
    with init_register(target) as reg:
        done = import_file(reg, items_file(tmp_path / "good.gpkg", n=1_500), "items")
        assert done.added == 1_500 and state(target)[0] == 1_502


def test_readers_see_the_register_as_before_until_the_commit(pg_cluster, tmp_path: Path) -> None:
    # PostGIS only: a GeoPackage import holds SQLite's write lock, and readers wait for its end.
    target = pg_cluster.new_database()
    path = items_file(tmp_path / "items.gpkg")
    seen: list[tuple[int, int, int]] = []
    with with_temple(target) as reg:
        before = state(target)

        def progress(what: str, done: int, total: int) -> None:
            if what == "adding" and done:  # a batch is written (or being written): another reader looks
                seen.append(state(target))

        result = import_file(reg, path, "items", progress=progress)
    assert result.added == ROWS
    assert seen == [before]
    count, entries, last = state(target)
    assert (count, entries, last) == (before[0] + ROWS, before[1] + 2, before[2] + ROWS)  # an entry per batch


def test_a_bulk_insert_goes_on_while_its_rows_are_still_being_written(pg_cluster) -> None:
    url = pg_cluster.new_database()
    with init_register(url, user="tester") as reg:
        with items_locked(url) as release, reg.transaction():
            first = reg.add_many(items([f"a{i}" for i in range(5_000)]))
            # It returned while the table was still locked: its COPY waits on the server (its audit
            # entry and savepoint queued behind it) and the caller goes on with the next batch.
            assert not release.is_set()
            assert copy_waiting(url, reg.backend.conn.info.backend_pid)
            assert state(url) == (0, 0, 0)
            release.set()
            second = reg.add_many(items([f"b{i}" for i in range(5_000)]))  # its ids wait for the first COPY
        assert [r.id for r in first + second] == list(range(1, 10_001))
        assert state(url) == (10_000, 2, 10_000)
        assert [e.action for e in reg.history("item", 9_999)] == ["insert"]


@pytest.mark.parametrize("last", [False, True], ids=["batch-after", "last-batch"])
def test_a_write_only_the_server_refuses_rolls_everything_back(target: str, last: bool) -> None:
    # The clash (a key already held) is only seen by the database's unique index, while it writes; in
    # the last batch, nothing but the commit comes after it (which must not end as a quiet rollback).
    with with_temple(target) as reg:
        before = state(target)
        with pytest.raises(Exception) as raised, reg.transaction():
            reg.add_many(items([f"a{i}" for i in range(5_000)]))
            reg.add_many(items([f"b{i}" if i != 1234 else "held-2" for i in range(5_000)]))
            if not last:
                reg.add_many(items([f"c{i}" for i in range(5_000)]))
        assert type(raised.value).__name__ in ("UniqueViolation", "IntegrityError")
        assert "held-2" in str(raised.value) or "source_key" in str(raised.value)
        if is_postgres(target):
            assert "held-2" in (explain(raised.value, "the register") or "")
        assert state(target) == before
        assert len(reg.add_many(items(["after"]))) == 1  # the register goes on
    assert state(target)[0] == before[0] + 1


def test_a_connection_killed_in_the_middle_of_a_copy_is_reported_and_nothing_is_kept(pg_cluster, tmp_path) -> None:
    url = pg_cluster.new_database()
    path = items_file(tmp_path / "items.gpkg")
    killed: list[bool] = []
    with with_temple(url) as reg:
        before = state(url)
        pid = reg.backend.conn.info.backend_pid

        def kill(what: str, done: int, total: int) -> None:
            if what == "adding" and done and not killed:
                killed.append(copy_waiting(url, pid))  # the first batch's COPY, still held back
                with psycopg.connect(url, autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", [pid])

        with items_locked(url) as release:
            with pytest.raises(psycopg.OperationalError):
                import_file(reg, path, "items", progress=kill)
            assert not release.is_set()  # reported at once, not after the lock was let go
    assert killed == [True]
    assert state(url) == before


def test_a_table_loaded_in_bulk_has_fresh_statistics_when_the_import_commits(pg_cluster, tmp_path: Path) -> None:
    # Without them the planner takes a freshly loaded table for a handful of rows until autovacuum
    # comes by, and plans a window of it as if it were one.
    target = pg_cluster.new_database()
    sql = "SELECT reltuples FROM pg_class WHERE oid = 'items'::regclass"
    with init_register(target) as reg:
        import_file(reg, items_file(tmp_path / "few.gpkg", n=5_000), "items")
    with psycopg.connect(target) as conn:
        few = conn.execute(sql).fetchone()[0]
    assert few <= 0  # a small import leaves statistics to autovacuum (never analysed: -1)
    with init_register(target) as reg:
        done = import_file(reg, items_file(tmp_path / "many.gpkg", n=25_000), "items")  # the same 5,000 keys, and more
        assert (done.added, reg.count("item")) == (20_000, 25_000)
    with psycopg.connect(target) as conn:
        assert conn.execute(sql).fetchone()[0] == pytest.approx(25_000, rel=0.02)
