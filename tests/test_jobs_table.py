"""The register's job table on both backends: taking jobs, giving back the jobs of dead workers, results.

Worker names are host:pid as the workers write them: a pid that has exited stands for a worker
killed on this machine, another host's name for a worker elsewhere.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from sapper.jobs.table import KEEP_OUTPUT_DAYS, MAX_ATTEMPTS, STALE_S, TABLE, Busy, JobTable, this_worker
from sapper.store import init_register
from sapper.testing.postgis import Cluster

ASK = {"request": {"start": "2016-04-10"}}


def _dead_worker() -> str:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return f"{socket.gethostname()}:{int(gone.stdout)}"


def test_workers_take_each_job_once_oldest_first_and_busy_counts_only_waiting_jobs(target: str) -> None:
    with init_register(target) as reg:
        jobs = JobTable(reg.backend).ensure()
        first = jobs.add("plan", "super", "mac", ASK, limit=2)
        second = jobs.add("plan", "super", "mac", ASK, limit=2)
        jobs.add("report", "super", "mac", {}, limit=2)  # another kind: its own count
        with pytest.raises(Busy, match="2 plans are queued or running"):
            jobs.add("plan", "super", "mac", ASK, limit=2, what="plans")

        taken = jobs.claim("here:1")
        assert taken is not None and taken.id == first.id and taken.status == "running"
        assert taken.worker == "here:1" and taken.attempts == 1 and taken.started_at is not None
        other = jobs.claim("there:2")
        assert other is not None and other.id == second.id
        assert not jobs.start(first.id, "there:2", only_queued=True)  # taken already

        jobs.step(first.id, "forecast 40%")
        jobs.finish(first.id, "done", result={"plan_number": 1}, output=b"%PDF-1.7 bytes")
        done = jobs.get(first.id)
        assert done is not None and done.status == "done" and done.step == "forecast 40%"
        assert done.result == {"plan_number": 1} and jobs.output(first.id) == b"%PDF-1.7 bytes"
        assert jobs.output(second.id) is None
        assert not jobs.start(first.id, "here:1")  # a job that ended is never made again
        assert jobs.add("plan", "super", "mac", ASK, limit=2).status == "queued"  # one of two waits now
        assert [j.id for j in jobs.list("plan", "mac")][:2] == [first.id, second.id]
        assert jobs.list("plan", "ngo") == []
        latest = jobs.latest_done("plan", "mac")
        assert latest is not None and latest.id == first.id

        assert jobs.forget_outputs() == 0  # a PDF made today stays to download
        week_ago = (datetime.now(UTC) - timedelta(days=KEEP_OUTPUT_DAYS, hours=1)).isoformat()
        ph = reg.backend.ph
        reg.backend.execute(f"UPDATE {TABLE} SET finished_at = {ph} WHERE id = {ph}", [week_ago, first.id])
        assert jobs.forget_outputs() == 1 and jobs.output(first.id) is None
        assert jobs.get(first.id).result == {"plan_number": 1}  # type: ignore[union-attr]  # the row stays


def test_jobs_of_dead_workers_go_back_to_the_queue_and_fail_after_too_many_deaths(target: str) -> None:
    """Given back when their process is gone from this host or silent longer than STALE_S elsewhere."""
    with init_register(target) as reg:
        jobs = JobTable(reg.backend).ensure()
        killed = jobs.add("plan", "super", "mac", ASK)
        remote_alive = jobs.add("plan", "super", "mac", ASK)
        remote_silent = jobs.add("plan", "super", "mac", ASK)
        mine = jobs.add("plan", "super", "mac", ASK)
        dead = _dead_worker()
        assert jobs.start(killed.id, dead)
        assert jobs.start(remote_alive.id, "field-laptop:4242")
        assert jobs.start(remote_silent.id, "field-laptop:4243")
        assert jobs.start(mine.id, this_worker())
        long_ago = (datetime.now(UTC) - timedelta(seconds=STALE_S + 5)).isoformat()
        ph = reg.backend.ph
        reg.backend.execute(f"UPDATE {TABLE} SET heartbeat_at = {ph} WHERE id = {ph}", [long_ago, remote_silent.id])

        assert jobs.sweep() == 2
        status = {j.id: (j.status, j.worker) for j in jobs.list("plan", "mac")}
        assert status == {
            killed.id: ("queued", ""),
            remote_alive.id: ("running", "field-laptop:4242"),
            remote_silent.id: ("queued", ""),
            mine.id: ("running", this_worker()),
        }
        again = jobs.get(killed.id)
        assert again is not None and again.step.startswith("waiting again") and again.error is None

        for attempt in range(2, MAX_ATTEMPTS + 1):  # it keeps killing its workers: given up at last
            assert jobs.start(killed.id, dead, only_queued=True)
            jobs.sweep()
            assert jobs.get(killed.id).attempts == attempt  # type: ignore[union-attr]
        ended = jobs.get(killed.id)
        assert ended is not None and ended.status == "failed" and ended.finished_at is not None
        assert f"stopped before it was done {MAX_ATTEMPTS} times" in (ended.error or "")

        assert jobs.release(this_worker(), "the process making it stopped") == 1  # a worker stopping
        assert jobs.get(mine.id).status == "queued"  # type: ignore[union-attr]
        assert jobs.requeue(mine.id, this_worker(), "again") is None  # not running there any more


def test_the_job_table_is_not_a_layer_gis_tools_see(tmp_path: Path) -> None:
    path = str(tmp_path / "register.gpkg")
    with init_register(path) as reg:
        JobTable(reg.backend).ensure().add("plan", "super", "mac", ASK)
    listing = subprocess.run(["ogrinfo", "-ro", "-q", path], capture_output=True, text=True)
    assert listing.returncode == 0, listing.stderr
    assert "hazards" in listing.stdout and TABLE not in listing.stdout


def test_the_queue_schema_is_applied_once_however_often_it_is_asked_for(pg_cluster: Cluster) -> None:
    from sapper.jobs.postgres import ensure_schema

    url = pg_cluster.new_database()
    ensure_schema(url)
    ensure_schema(url)  # a second server on the same register
    with psycopg.connect(url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'procrastinate%'")}
    assert {"procrastinate_jobs", "procrastinate_workers"} <= tables
