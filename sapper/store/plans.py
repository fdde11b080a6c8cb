"""Plans in the register: write a plan bundle in one transaction, read plans back.

The planner hands over plain records (sapper.model.plan) in WGS 84; here they get their
plan number (the plan's version: 1, 2, 3 ... per register), who and when, and their
links by id. All of the plan or nothing is written.

Plan runs (plans asked for over the API, made in the background by any worker) are read here
from the register's job table, so that every server on the register sees the same runs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sapper.jobs.table import Job, JobTable
from sapper.model.plan import Plan, PlanBundle
from sapper.store.register import Register
from sapper.store.schema import layer
from sapper.store.sql import SqlBackend


def next_number(reg: Register) -> int:
    """The next plan's number; inside a transaction, which holds it until it ends (another server
    storing a plan at the same time waits, then takes the number after)."""
    reg.backend.hold("plan number")
    return int(reg.backend.maximum(layer("plan"), "number") or 0) + 1


def latest_plan(reg: Register) -> Plan | None:
    found = reg.list("plan", order_by="number")
    return found[-1] if found else None


def save_plan(reg: Register, bundle: PlanBundle) -> Plan:
    """Write the plan, its sectors, lanes, team-days, priorities and burn-down; returns the plan record."""
    with reg.transaction():
        plan = reg.add(
            dataclasses.replace(bundle.plan, number=next_number(reg), made_at=datetime.now(UTC), made_by=reg.user)
        )
        pid = plan.id
        sectors = reg.add_many([dataclasses.replace(s, plan_id=pid) for s in bundle.sectors])
        sid = [s.id for s in sectors]
        reg.add_many([dataclasses.replace(lane, plan_id=pid, sector_id=sid[i]) for i, lane in bundle.lanes])
        reg.add_many([dataclasses.replace(a, plan_id=pid, sector_id=sid[i]) for i, a in bundle.assignments])
        reg.add_many([dataclasses.replace(p, plan_id=pid) for p in bundle.priorities])
        reg.add_many([dataclasses.replace(d, plan_id=pid) for d in bundle.days])
    return plan


# --- plan runs -------------------------------------------------------------------------
# A plan asked for over the API is a background job (sapper.jobs) of kind "plan": its row in the
# register's job table is the run every server answers for, while any worker makes it.

PLAN_JOB = "plan"


@dataclass(frozen=True)
class PlanRun:
    """A plan job (queued, running, done, failed, cancelled) read as a plan run: its request; its plan when done."""

    job: Job

    @property
    def request(self) -> dict[str, Any]:
        return self.job.args.get("request", {})

    @property
    def summary(self) -> dict[str, Any] | None:
        return (self.job.result or {}).get("summary")

    @property
    def plan_id(self) -> int | None:
        return (self.job.result or {}).get("plan_id")

    @property
    def plan_number(self) -> int | None:
        return (self.job.result or {}).get("plan_number")


class PlanRuns:
    """The plan runs of a register: its plan jobs."""

    def __init__(self, backend: SqlBackend) -> None:
        self.jobs = JobTable(backend)

    def ensure(self) -> PlanRuns:
        self.jobs.ensure()
        return self

    def get(self, run_id: int) -> PlanRun | None:
        job = self.jobs.get(run_id)
        return None if job is None or job.kind != PLAN_JOB else PlanRun(job)

    def list(self, organisation: str) -> list[PlanRun]:
        """The runs of an organisation, oldest first."""
        return [PlanRun(job) for job in self.jobs.list(PLAN_JOB, organisation)]

    def latest_done(self, organisation: str) -> PlanRun | None:
        job = self.jobs.latest_done(PLAN_JOB, organisation)
        return None if job is None else PlanRun(job)
