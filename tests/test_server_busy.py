"""A served GeoPackage while another process holds its write lock (a big `sapper import`).

A real uvicorn server on 127.0.0.1 and a second Python process holding a write transaction
on the same file: writes answer 503 with Retry-After and a sentence once the (shortened)
busy wait runs out, reads go on answering 200, and the write goes through once the lock is
released. Both journal modes: the rollback journal and the write-ahead log (`sapper init --wal`).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sapper.store.gpkg import BUSY_ENV, GeoPackageBackend
from sapper.testing.server import LAT, LON, Served, served_demo

# Holds a write transaction on the register (as an import does) until told to let go.
HOLDER = """
import sqlite3, sys
from sapper.store.gpkg import register_functions
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
register_functions(conn)  # the R-tree triggers call them
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE teams SET notes = 'held by another process' WHERE id = 1")
print("holding", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
print("released", flush=True)
"""


@contextmanager
def write_lock_held(path: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def let_go(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "released"


@pytest.fixture(params=["delete", "wal"])
def served(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv(BUSY_ENV, "0.5")  # the server gives up on the lock after half a second
    path = tmp_path / "register.gpkg"
    with served_demo(str(path)) as api:
        if request.param == "wal":
            backend = GeoPackageBackend(path)
            assert backend.set_wal(True) == "wal"
            backend.close()
        yield api


def report(hazard: int) -> dict[str, object]:
    square = [[LON, LAT], [LON + 0.0003, LAT], [LON + 0.0003, LAT + 0.0003], [LON, LAT + 0.0003], [LON, LAT]]
    return {
        "report_date": "2016-04-05",
        "activity_type": "clearance",
        "hazard_id": hazard,
        "geometry": {"type": "Polygon", "coordinates": [square]},
    }


def test_a_write_waits_briefly_then_answers_503_and_reads_go_on(served: Served) -> None:
    hazard = served.demo.hazards[0]
    with served.client("leader") as leader:
        assert leader.get("/api/sitrep").status_code == 200  # its first call creates the plan-runs table
    with served.client("leader") as leader, write_lock_held(served.target) as holder:
        busy = leader.post("/api/reports", json=report(hazard))
        assert busy.status_code == 503, busy.text
        assert busy.headers["retry-after"].isdigit()
        assert "busy with another write (an import?)" in busy.json()["description"]
        assert leader.get("/ogc/collections/hazards/items").status_code == 200
        assert leader.get(f"/ogc/collections/hazards/items/{hazard}").status_code == 200
        assert leader.get("/api/sitrep").status_code == 200

        let_go(holder)
        done = leader.post("/api/reports", json=report(hazard))
        assert done.status_code == 201, done.text
        team = leader.get(f"/ogc/collections/teams/items/{served.demo.teams[0]}").json()
        assert team["properties"]["notes"] == "held by another process"
