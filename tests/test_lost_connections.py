"""A served PostGIS register after the database ended every connection (a restart, an operator).

Each worker thread finds its ended connection only when it next reads. Reads are asked again
on a new connection, so users see no error; the threads open their connections anew.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from sapper.testing.server import served_demo

TERMINATE = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def _end_every_connection(target: str) -> int:
    with psycopg.connect(target, autocommit=True) as admin:
        return int(admin.execute(TERMINATE).fetchone()[0])


def test_reads_are_answered_after_the_database_ended_every_connection(target: str) -> None:
    if not target.startswith("postgresql"):
        pytest.skip("a GeoPackage has no connections to lose")
    with served_demo(target) as api, api.client("viewer") as viewer, ThreadPoolExecutor(8) as pool:
        hazard = viewer.get("/ogc/collections/hazards/items", params={"limit": 1}).json()["features"][0]["id"]
        path = f"/ogc/collections/hazards/items/{hazard}"  # a page made in a worker thread

        def status(_: int) -> int:
            return viewer.get(path).status_code

        assert set(pool.map(status, range(48))) == {200}  # several worker threads hold a connection
        assert _end_every_connection(target) >= 2
        answers = list(pool.map(status, range(48)))
        assert answers == [200] * 48
