"""Seconds from asking for a background job to a worker starting it, and to it being done, on both queues.

The job is a real one: the daily situation report PDF of the demo register, queued as ``?async=1`` would.
One worker in this process (a thread, as in ``sapper serve``): on a GeoPackage it polls the job table
every 0.5 s; on PostGIS procrastinate hears of the job at once (LISTEN/NOTIFY). The peer is the same
PDF made at once, in the asking thread, as the synchronous download does.
Run: python bench/jobs_bench.py [--jobs 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from typing import Any

from sapper.jobs import JobQueue, JobTable, WorkerThread
from sapper.report.pdf import letterhead
from sapper.server.documents import document
from sapper.store import open_register
from sapper.testing.postgis import Cluster
from sapper.testing.server import seed

ARGS = {
    "document": "sitrep",
    "params": {"on": "2016-04-05", "plan": None},
    "seen": "mac",
    "head": ["mac", "super"],
    "language": "en",
}


def measure(target: str, jobs: int) -> dict[str, Any]:
    seed(target)
    queue = JobQueue(target)
    worker = WorkerThread(target).start()
    started, done = [], []
    try:
        with open_register(target) as reg:
            table = JobTable(reg.backend).ensure()
            for _ in range(jobs):
                asked = time.monotonic()
                job = queue.submit(reg.backend, "report", "super", "mac", ARGS)
                while (seen := table.get(job.id)) is not None and seen.status == "queued":
                    time.sleep(0.01)
                started.append(time.monotonic() - asked)
                while (seen := table.get(job.id)) is not None and seen.status == "running":
                    time.sleep(0.01)
                assert seen is not None and seen.status == "done", seen
                done.append(time.monotonic() - asked)
            at_once = time.monotonic()
            document(reg, "sitrep", ARGS["params"], "mac", letterhead("mac", None, "super"))
            direct = time.monotonic() - at_once
    finally:
        worker.stop()
        queue.close()
    return {"started": started, "done": done, "direct": direct}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10)
    options = parser.parse_args()
    cluster = Cluster().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            targets = {"GeoPackage": f"{tmp}/register.gpkg", "PostGIS": cluster.new_database()}
            print(f"{'queue':<11} {'jobs':>4} {'to start p50':>13} {'max':>6} {'to done p50':>12} {'at once':>8}")
            for name, target in targets.items():
                got = measure(target, options.jobs)
                print(
                    f"{name:<11} {options.jobs:>4} {statistics.median(got['started']):>12.3f}s "
                    f"{max(got['started']):>5.2f}s {statistics.median(got['done']):>11.2f}s {got['direct']:>7.2f}s"
                )
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
