"""Two identical imports racing on PostGIS: one stores the records, the other says why it did not.

Both real `sapper import` processes look the records up (none there yet), then wait at their
first insert behind a table lock this test holds; released together, one commits and the
other meets the database's unique source_key. It must say, in one sentence, that another
import of the same records ran at the same time and that the register is unchanged by it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from sapper import init_register, open_register
from sapper.testing.postgis import Cluster

LON, LAT = 38.27, 34.55
ROWS = 50
ENV = {"COLUMNS": "400", "PATH": "/usr/bin:/bin"}  # one line per message


def finds(path: Path) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"category": "uxo", "model": f"find {i}"},
            "geometry": {"type": "Point", "coordinates": [LON + i * 1e-4, LAT]},
        }
        for i in range(ROWS)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def waiting_for_locks(conn: psycopg.Connection, count: int, procs: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 60
    sql = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    while conn.execute(sql).fetchone()[0] < count:
        for proc in procs:
            if proc.poll() is not None:
                pytest.fail(f"an import ended before it reached its insert: {proc.communicate()}")
        if time.monotonic() > deadline:
            pytest.fail("the imports never reached their insert")
        time.sleep(0.05)


def test_the_import_that_loses_the_race_says_so(pg_cluster: Cluster, tmp_path: Path) -> None:
    url = pg_cluster.new_database()
    init_register(url, user="qa").close()
    source = finds(tmp_path / "finds.geojson")
    locker = psycopg.connect(url, autocommit=True)
    watcher = psycopg.connect(url, autocommit=True)
    try:
        locker.execute("BEGIN")
        locker.execute("LOCK TABLE items IN SHARE MODE")  # reads go on, inserts wait
        command = [sys.executable, "-m", "sapper", "-u", "qa", "import", url, str(source), "--layer", "items"]
        procs = [
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
            for _ in range(2)
        ]
        waiting_for_locks(watcher, 2, procs)
        locker.execute("ROLLBACK")
        results = [(*proc.communicate(timeout=120), proc.returncode) for proc in procs]
    finally:
        locker.close()
    codes = sorted(code for _out, _err, code in results)
    assert codes == [0, 1], results
    said = next(err for _out, err, code in results if code == 1)
    assert "Traceback" not in said, said
    assert "is unchanged by this import: another import of the same records ran at the same time" in said
    assert "source_key" in said and "items" in said
    assert watcher.execute("SELECT count(*) FROM items").fetchone()[0] == ROWS
    stored = [int(r[0]) for r in watcher.execute("SELECT id FROM items").fetchall()]
    watcher.close()
    with open_register(url) as reg:  # each record inserted once, by the import that won
        assert all([(e.action, e.user) for e in reg.history("item", i)] == [("insert", "qa")] for i in stored)
