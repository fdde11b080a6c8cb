"""Reads through a streaming replica: a real primary and a real hot standby (pg_basebackup -R) on 127.0.0.1.

The replica is made to lag for real by pausing its WAL replay: a user who wrote still reads their
write (from the primary), another user reads the replica's older view until replay resumes, and a
stopped replica leaves every read answered by the primary.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import psycopg
import pytest
from shapely.geometry import Point

from sapper import init_register, open_register
from sapper.model import Hazard, Item
from sapper.model.errors import SapperError
from sapper.server import create_app
from sapper.store import replica as replica_module
from sapper.store.async_reads import POOL_SIZE, AsyncReads
from sapper.store.reads import Read
from sapper.store.replica import Replica
from sapper.store.tile_cache import CACHE
from sapper.testing.postgis import _free_port
from sapper.testing.replication import ReplicatedCluster
from sapper.testing.server import LAT, LON, Served, served_demo, square
from sapper.testing.tiles import counted, tile_of

HAZARDS = "/ogc/collections/hazards/items"
SEEDED = {f"Hazard {i}" for i in range(5)}


@pytest.fixture(scope="module")
def cluster() -> Iterator[ReplicatedCluster]:
    with ReplicatedCluster() as started:
        yield started


@pytest.fixture(scope="module")
def urls(cluster: ReplicatedCluster) -> tuple[str, str]:
    return cluster.new_database()


@pytest.fixture(scope="module")
def api(cluster: ReplicatedCluster, urls: tuple[str, str]) -> Iterator[Served]:
    primary, replica = urls
    with served_demo(primary, read_replica=replica) as served:
        cluster.wait_for_replay()
        yield served


def names(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {f["properties"]["name"] for f in response.json()["features"]}


def hazards(client: Any, **headers: str) -> set[str]:
    return names(client.get(HAZARDS, params={"limit": 1000}, headers=headers))


def feature(name: str) -> dict[str, Any]:
    ring = [list(p) for p in square(LON + 0.05, LAT).exterior.coords]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": {"name": name}}


def add_on_primary(target: str, name: str) -> None:
    """Another user's write, straight into the primary."""
    with open_register(target, user="elsewhere") as reg:
        reg.add(Hazard(name=name, geometry=square(LON, LAT + 0.05), reported_on=date(2016, 5, 1), organisation="mac"))


def test_reads_are_answered_by_the_replica(cluster: ReplicatedCluster, api: Served) -> None:
    with api.client("viewer") as viewer:
        assert hazards(viewer) >= SEEDED
        cluster.pause_replay()
        try:
            add_on_primary(api.target, "Written elsewhere")
            assert "Written elsewhere" not in hazards(viewer)  # the replica answered: it has not replayed it
        finally:
            cluster.resume_replay()
        cluster.wait_for_replay()
        assert "Written elsewhere" in hazards(viewer)


def test_a_writer_reads_their_own_write_while_the_replica_lags(cluster: ReplicatedCluster, api: Served) -> None:
    cluster.pause_replay()
    try:
        with api.client("super") as writer, api.client("viewer") as other, api.client("viewer") as script:
            created = writer.post(HAZARDS, json=feature("Own write"))
            assert created.status_code == 201, created.text
            lsn = created.headers["sapper-wal-lsn"]
            assert writer.cookies.get("sapper_lsn") == lsn
            assert "Own write" in hazards(writer)  # from the primary: the replica is behind the cookie
            assert writer.get(created.headers["location"]).status_code == 200
            assert "Own write" not in hazards(other)  # another user reads the replica's older view
            assert "Own write" in hazards(script, **{"Sapper-Wal-Lsn": lsn})  # a client without cookies
            assert "Own write" not in hazards(script)
            assert "Own write" not in hazards(script, **{"Sapper-Wal-Lsn": "not/a position"})  # ignored, not a 500
    finally:
        cluster.resume_replay()
    cluster.wait_for_replay()
    with api.client("viewer") as other:
        assert "Own write" in hazards(other)


def test_the_replica_must_be_a_standby_of_the_register(cluster: ReplicatedCluster, urls: tuple[str, str]) -> None:
    primary, replica = urls
    with pytest.raises(SapperError, match="not a streaming replica"):
        create_app(primary, read_replica=primary)
    other_primary, other_replica = cluster.new_database()
    with pytest.raises(SapperError, match="holds no register"):
        create_app(primary, read_replica=other_replica)
    init_register(other_primary).close()
    cluster.wait_for_replay()
    with pytest.raises(SapperError, match="not a replica of the register's database"):
        create_app(primary, read_replica=other_replica)  # a standby of the cluster, but another database
    create_app(primary, read_replica=replica)  # its own standby is accepted


def test_a_geopackage_has_no_replica(tmp_path: Path, urls: tuple[str, str]) -> None:
    gpkg = tmp_path / "register.gpkg"
    with pytest.raises(SapperError, match="needs a PostGIS register"):
        create_app(str(gpkg), read_replica=urls[1])
    cmd = [sys.executable, "-m", "sapper", "serve", str(gpkg), "--read-replica", urls[1]]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "needs a PostGIS register" in result.stderr and "Traceback" not in result.stderr


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def sapper_serve(primary: str, replica: str) -> Iterator[str]:
    """``sapper serve --read-replica`` as its own process, as a national register runs several."""
    port = _free_port()
    cmd = [sys.executable, "-m", "sapper", "serve", primary, "--port", str(port), "--read-replica", replica]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            assert proc.poll() is None and time.monotonic() < deadline, "sapper serve did not start"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_two_servers_behind_one_register_each_show_a_users_write(cluster: ReplicatedCluster, api: Served) -> None:
    """A user's write on one server is what they read on the other, though the replica lags (the cookie travels)."""
    primary, replica = api.target, cluster.replica.url(api.target.rsplit("/", 1)[1])
    with sapper_serve(primary, replica) as one, sapper_serve(primary, replica) as two:
        bearer = {"Authorization": f"Bearer {api.demo.tokens['super']}"}
        cluster.pause_replay()
        try:
            with httpx.Client(headers=bearer, timeout=30) as writer, httpx.Client(headers=bearer, timeout=30) as fresh:
                created = writer.post(f"{one}{HAZARDS}", json=feature("Written on one"))
                assert created.status_code == 201, created.text
                assert "Written on one" in names(writer.get(f"{two}{HAZARDS}", params={"limit": 1000}))
                assert "Written on one" not in names(fresh.get(f"{two}{HAZARDS}", params={"limit": 1000}))
        finally:
            cluster.resume_replay()
        cluster.wait_for_replay()
        with httpx.Client(headers=bearer, timeout=30) as fresh:
            assert "Written on one" in names(fresh.get(f"{one}{HAZARDS}", params={"limit": 1000}))


def test_a_tile_built_on_the_replica_is_kept_only_when_it_names_all_it_read(
    cluster: ReplicatedCluster, api: Served
) -> None:
    """Kept on the primary at the primary's version, once the replica has all of it; never while it lags."""
    tile = tile_of(LON, LAT, 8)
    marker = [{"geometry": "POINT (1 1)", "properties": {"count": 999}}]
    mark = mapbox_vector_tile.encode([{"name": "items", "features": marker}])
    with api.client("viewer") as viewer, psycopg.connect(api.target, autocommit=True) as primary:

        def kept() -> list[int]:
            if primary.execute(f"SELECT to_regclass('{CACHE}')").fetchone()[0] is None:
                return []
            return [row[0] for row in primary.execute(f"SELECT version FROM {CACHE} WHERE layer = 'items'")]

        def latest() -> int:
            return primary.execute("SELECT max(id) FROM audit_log").fetchone()[0]

        if kept():
            primary.execute(f"DELETE FROM {CACHE}")
        cluster.wait_for_replay()
        cluster.pause_replay()
        try:
            add_item_on_primary(api.target)
            lagging = counted(viewer, "items", tile)  # the replica answers: it has not replayed the item
            assert kept() == [], "the replica lags: its tile may lack a write, and is not kept"
        finally:
            cluster.resume_replay()
        cluster.wait_for_replay()
        with open_register(api.target, user="elsewhere") as other, other.transaction():
            other.add(Item(category="uxo", geometry=Point(LON + 0.02, LAT), organisation="mac"))
            assert counted(viewer, "items", tile) == lagging + 1
            assert kept() == [], "a write in flight on the primary may commit under a lower audit id"
        cluster.wait_for_replay()
        assert counted(viewer, "items", tile) == lagging + 2
        for _ in range(10):  # a build waits 0.1 s for the replica: on a loaded machine it may trail longer
            if kept():
                break
            cluster.wait_for_replay()
            assert counted(viewer, "items", tile) == lagging + 2
        assert kept() == [latest()], "kept at the primary's version"
        primary.execute(f"UPDATE {CACHE} SET data = %s", [mark])
        cluster.wait_for_replay()
        assert counted(viewer, "items", tile) == 999, "and the replica serves the kept one"
        primary.execute(f"DELETE FROM {CACHE}")


def test_a_write_committed_late_under_a_lower_audit_id_is_in_the_next_tile(
    cluster: ReplicatedCluster, api: Served
) -> None:
    """Audit ids commit out of order: a tile built on the replica between the two commits is not kept as current."""
    tile = tile_of(LON, LAT, 8)
    here = Point(LON + 0.03, LAT)
    cluster.wait_for_replay()
    with api.client("viewer") as viewer:
        before = counted(viewer, "items", tile)
        late = open_register(api.target, user="b")
        with late, open_register(api.target, user="a") as early, late.transaction():
            late.backend.execute("SELECT pg_current_xact_id()")  # its transaction id is the older one
            with early.transaction():
                early.add(Item(category="uxo", geometry=here, organisation="mac"))  # the lower audit id
                late.add(Item(category="uxo", geometry=here, organisation="mac"))
                late.backend.execute("COMMIT")  # the higher audit id commits first
                late.backend.execute("BEGIN")
                cluster.wait_for_replay()
                assert counted(viewer, "items", tile) == before + 1, "the replica has the higher id, not the lower"
        cluster.wait_for_replay()
        assert counted(viewer, "items", tile) == before + 2, (
            "the tile built between the commits was not kept as current"
        )


def add_item_on_primary(target: str) -> None:
    with open_register(target, user="elsewhere") as reg:
        reg.add(Item(category="uxo", geometry=Point(LON + 0.01, LAT), organisation="mac"))


def read_behind(replica_url: str, *waves: float) -> tuple[AsyncReads, AsyncReads | None, AsyncReads | None]:
    """Each wave fills the replica's pool with reads of that many seconds (queued after the wave before),
    then a read that must ask the replay position waits behind them all. The replica's reads, where that
    read went (None: the primary), and where the next read goes once they are done."""

    async def scenario() -> tuple[AsyncReads, AsyncReads | None, AsyncReads | None]:
        replica = Replica(replica_url)
        reads = await replica.reads()
        assert reads is not None
        try:
            under_way = []
            for seconds in waves:
                sleep = Read(f"SELECT pg_sleep({seconds})", [], lambda rows: None)
                under_way += [asyncio.create_task(reads.run(sleep)) for _ in range(POOL_SIZE)]
                await asyncio.sleep(0.02)
            behind = await replica.reads(needed_lsn=2**62)
            await asyncio.gather(*under_way)
            return reads, behind, await replica.reads()
        finally:
            await reads.close()

    return asyncio.run(scenario())


def test_a_replica_busy_answering_is_not_taken_for_lost(
    urls: tuple[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A read that waits longer than the replica's wait for a connection, while the replica answers
    others, goes to the primary alone: the replica keeps its readers (it is busy, not lost)."""
    monkeypatch.setattr(replica_module, "CONNECT_SECONDS", 1)
    with caplog.at_level(logging.INFO, logger="sapper.replica"):
        # short reads answered at 0.4 s, long ones following them to 1.9 s; the read behind waits 0.04-1.04 s
        reads, behind, after = read_behind(urls[1], 0.4, 1.5)
    assert behind is None, "the read that could not wait must go to the primary"
    assert after is reads, "a busy replica must keep answering the reads after"
    assert "busy" in caplog.text and "reads go to the primary for" not in caplog.text
    assert len(caplog.records) == 1, "one line of the log for the read that went to the primary"


def test_a_replica_that_answers_nothing_while_a_read_waits_is_taken_out(
    urls: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads under way are no sign of life (on a host that vanished they wait for TCP to give up):
    a read that waited in vain while none was answered takes the replica out, as a lost one."""
    monkeypatch.setattr(replica_module, "CONNECT_SECONDS", 1)
    _, behind, after = read_behind(urls[1], 1.5)  # the read behind times out at 1.02 s, before any answer
    assert behind is None and after is None, "the replica must be out for RETRY_SECONDS"


def test_a_query_the_live_replica_refuses_keeps_it_in_use(
    cluster: ReplicatedCluster, api: Served, urls: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """An error the replica answers with (here a write refused by the standby) is no lost replica:
    that read goes to the primary, the next ones to the replica, and the log says so once."""
    cluster.wait_for_replay()  # the register the served app made
    replica = Replica(urls[1])
    try:
        reg = replica.register()
        assert reg is not None
        with pytest.raises(psycopg.Error) as refused:
            reg.backend.execute("CREATE TABLE refused_on_a_standby (id integer)")
        with caplog.at_level(logging.INFO, logger="sapper.replica"):
            replica.failed(refused.value, read="GET /ogc/collections/hazards/items")
        assert replica.register() is reg, "a replica that answered must keep its readers"
        assert [r.levelname for r in caplog.records] == ["WARNING"], caplog.text
        assert "GET /ogc/collections/hazards/items failed on read replica" in caplog.text
        assert "read-only" in caplog.text, "the line gives the replica's own answer"
    finally:
        replica.close_all()


def test_reads_go_to_the_primary_when_the_replica_stops(
    cluster: ReplicatedCluster, api: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """Last in this module: the replica stays stopped."""
    cluster.wait_for_replay()
    with api.client("viewer") as viewer, api.client("super") as writer:
        for _ in range(4):  # connections to the replica open in several server threads
            assert hazards(viewer) >= SEEDED
        cluster.stop_replica()
        with caplog.at_level(logging.WARNING):
            for _ in range(4):
                assert hazards(viewer) >= SEEDED
            created = writer.post(HAZARDS, json=feature("After the replica stopped"))
            assert created.status_code == 201, created.text
            assert "After the replica stopped" in hazards(writer)
        failures = [r.getMessage() for r in caplog.records if "read replica" in r.getMessage()]
        assert len(failures) == 1, f"one line for the lost replica, not a second from the middleware: {failures}"
        assert "reads go to the primary for 10 s, starting with GET /" in failures[0], failures
