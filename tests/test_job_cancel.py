"""A queued or running job can be cancelled, and a cancelled plan is never stored.

Both backends: the real job table and plan job on a real register, and the jobs API of a real
server on 127.0.0.1 (started without a worker, so a plan waits in the queue to be cancelled).
"""

from __future__ import annotations

import threading

from sapper.jobs.runner import execute
from sapper.jobs.table import JobTable
from sapper.store import open_register
from sapper.testing.server import seeded, served_demo

REQUEST = {"request": {"start": "2016-04-10", "time_limit_s": 1, "runs": 50}, "everyone": True, "time_limit_s": 1}


def test_a_plan_cancelled_while_it_runs_stops_at_its_next_step_and_stores_nothing(target: str) -> None:
    seeded(target)
    with open_register(target) as reg:
        table = JobTable(reg.backend).ensure()
        queued = table.add("plan", "super", "mac", REQUEST)
        assert table.start(queued.id, "host:1")
        running = table.get(queued.id)
        assert table.cancel(queued.id, "super")
        execute(reg, running, threading.Event())  # the worker goes on until its next step, then stops
        ended = table.get(queued.id)
        assert ended.status == "cancelled" and ended.step == "cancelled by super"
        assert reg.count("plan") == 0
        assert not table.cancel(queued.id, "super"), "a job that ended cannot be cancelled again"


def test_the_jobs_api_cancels_for_the_requester_or_a_supervisor_only(target: str) -> None:
    with served_demo(target, worker=False) as served, served.client("super") as boss:
        posted = boss.post("/api/plans", json={"start": "2016-04-10", "time_limit_s": 1, "runs": 50})
        assert posted.status_code == 202, posted.text
        run_id = posted.json()["id"]
        with served.client("leader") as leader:
            refused = leader.post(f"/api/jobs/{run_id}/cancel")
            assert refused.status_code == 403, refused.text
            assert "super" in refused.json()["detail"]
        with served.client("viewer") as viewer:
            assert viewer.post(f"/api/jobs/{run_id}/cancel").status_code == 403
        with served.client("ngo") as other:  # another organisation's supervisor does not see the run
            assert other.post(f"/api/jobs/{run_id}/cancel").status_code == 404

        cancelled = boss.post(f"/api/jobs/{run_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        again = boss.post(f"/api/jobs/{run_id}/cancel")
        assert again.status_code == 409 and "cancelled" in again.json()["detail"]
        assert boss.get(f"/api/plans/{run_id}").json()["status"] == "cancelled"
    with open_register(target) as reg:
        assert JobTable(reg.backend).claim("host:9") is None, "a worker took a cancelled job"
        assert reg.count("plan") == 0
