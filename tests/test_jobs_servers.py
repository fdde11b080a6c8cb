"""Several servers and workers on one register: jobs live in its database, not in a process.

Real processes on 127.0.0.1: ``sapper serve --no-worker`` twice and ``sapper worker`` on one real
PostGIS (procrastinate's queue); ``sapper serve`` alone on a GeoPackage. A worker is killed with
SIGKILL mid-plan and the plan is made again by the next one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sapper.jobs import JobTable
from sapper.store import open_register
from sapper.testing.postgis import Cluster
from sapper.testing.processes import Running, serve_process, worker_process
from sapper.testing.server import Demo, seeded

# a plan of some seconds on the demo register (CP-SAT 2 s, then the forecast): long enough to kill it mid-way
PLAN = {"start": "2016-04-10", "time_limit_s": 2, "runs": 100}
WAITING = ("queued", "running")


@pytest.fixture
def running() -> Iterator[list[Running]]:
    """Every process a test starts, stopped at its end whatever happened."""
    started: list[Running] = []
    yield started
    for proc in started:
        proc.stop()


def _client(url: str, demo: Demo, user: str = "super") -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {demo.tokens[user]}"}, timeout=30)


def _until_not(api: httpx.Client, path: str, statuses: tuple[str, ...], what: str) -> dict[str, Any]:
    """The job at ``path`` once its status is none of ``statuses``."""
    deadline = time.monotonic() + 90
    while (seen := api.get(path).json())["status"] in statuses:
        assert time.monotonic() < deadline, f"waited 90 s for {what}"
        time.sleep(0.1)
    return seen


def test_a_plan_asked_of_one_server_is_made_by_a_worker_and_seen_on_the_other_through_a_worker_kill(
    pg_cluster: Cluster, running: list[Running]
) -> None:
    target = pg_cluster.new_database()
    demo = seeded(target)
    a = serve_process(target, "--no-worker")
    b = serve_process(target, "--no-worker")
    running += [a, b]
    with _client(a.url, demo) as on_a, _client(b.url, demo) as on_b:
        posted = on_a.post("/api/plans", json=PLAN)
        assert posted.status_code == 202, posted.text
        plan_id = posted.json()["id"]
        time.sleep(1.5)  # servers that only queue leave it waiting
        assert on_b.get(f"/api/plans/{plan_id}").json()["status"] == "queued"

        first = worker_process(target)
        running.append(first)
        seen = _until_not(on_b, f"/api/plans/{plan_id}", ("queued",), "the worker to start the plan")
        assert seen["status"] == "running", seen
        assert _job(target, plan_id).worker.endswith(f":{first.pid}")
        first.kill()  # mid-plan: no chance to give the job back
        assert on_a.get(f"/api/plans/{plan_id}").json()["status"] == "running"  # nobody knows yet

        second = worker_process(target, "--stalled-after", "5")
        running.append(second)
        done = _until_not(on_b, f"/api/plans/{plan_id}", WAITING, "the next worker to make the plan again")
        assert done["status"] == "done", done["error"]
        assert done["attempts"] == 2 and done["summary"]["stored"]["number"] == done["plan_number"]
        assert _job(target, plan_id).worker.endswith(f":{second.pid}")
        assert on_a.get(f"/api/plans/{plan_id}").json() == done  # the same run on both servers
        assert on_a.get("/api/plans").json() == on_b.get("/api/plans").json()
        stored = on_b.get("/api/plans/stored").json()
        assert [p["number"] for p in stored] == [done["plan_number"]]  # the killed attempt stored nothing


def test_a_server_alone_makes_plans_and_queued_reports_on_a_geopackage(tmp_path: Any, running: list[Running]) -> None:
    target = str(tmp_path / "register.gpkg")
    demo = seeded(target)
    server = serve_process(target)
    running.append(server)
    with _client(server.url, demo) as api:
        posted = api.post("/api/plans", json={**PLAN, "time_limit_s": 1})
        assert posted.status_code == 202, posted.text
        asked = api.get("/api/reports/sitrep.pdf", params={"on": "2016-04-05", "async": 1})
        assert asked.status_code == 202, asked.text
        assert asked.headers["location"] == f"/api/jobs/{asked.json()['id']}"
        plan = _until_not(api, f"/api/plans/{posted.json()['id']}", WAITING, "the server to make the plan")
        assert plan["status"] == "done", plan["error"]
        report = _until_not(api, asked.headers["location"], WAITING, "the server to make the report")
        assert report["status"] == "done", report["error"]
        pdf = api.get(report["download"])
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-disposition"] == 'attachment; filename="sitrep-2016-04-05.pdf"'
        now = api.get("/api/reports/sitrep.pdf", params={"on": "2016-04-05"})  # the download at once still works
        assert now.status_code == 200 and now.content.startswith(b"%PDF")
        with _client(server.url, demo, "viewer") as other:  # a report job is its requester's alone
            assert other.get(asked.headers["location"]).status_code == 404
            assert other.get(report["download"]).status_code == 404


def _job(target: str, job_id: int) -> Any:
    with open_register(target) as reg:
        job = JobTable(reg.backend).get(job_id)
    assert job is not None
    return job
