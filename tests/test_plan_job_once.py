"""A plan asked for over the API is stored once, whatever happens to the worker making it.

The plan and its job's end are one commit: a worker whose job was given back to the queue (it
seemed dead) while it planned stores nothing, and the worker that took the job stores the plan.
Both backends, a real register, the real job table and the real plan job.
"""

from __future__ import annotations

import threading

import pytest

from sapper.jobs.runner import JobContext, execute
from sapper.jobs.table import JobTable, Lost
from sapper.server.plans import plan_job
from sapper.store import open_register
from sapper.testing.server import seeded

REQUEST = {"request": {"start": "2016-04-10", "time_limit_s": 1, "runs": 50}, "everyone": True, "time_limit_s": 1}


def _plans(target: str) -> int:
    with open_register(target) as reg:
        return reg.count("plan")


def test_a_worker_that_lost_its_job_stores_no_plan_and_the_new_holder_stores_one(target: str) -> None:
    seeded(target)
    with open_register(target) as reg:
        table = JobTable(reg.backend).ensure()
        queued = table.add("plan", "super", "mac", REQUEST)
        assert table.start(queued.id, "host:1")
        first = table.get(queued.id)
        # the first worker seems dead: its job goes back to the queue and a second worker takes it
        assert table.requeue(queued.id, "host:1", "its worker went silent") == "queued"
        assert table.start(queued.id, "host:2")
        second = table.get(queued.id)
        assert first is not None and second is not None

        with pytest.raises(Lost):
            plan_job(JobContext(reg, first))  # the first worker was only slow, and ends its plan now
        assert _plans(target) == 0, "a worker that no longer holds the job stored its plan"

        execute(reg, first, threading.Event())  # the runner leaves the job to its holder
        assert table.get(queued.id).status == "running"

        execute(reg, second, threading.Event())
        done = table.get(queued.id)
        assert done.status == "done", done.error
        assert _plans(target) == 1
        assert done.result["plan_number"] == 1
        # the job is done: no worker takes it again, so the plan cannot be made a second time
        assert not table.start(queued.id, "host:3", only_queued=True)
