"""Plans in the register: write a plan bundle in one transaction, read plans back.

The planner hands over plain records (sapper.model.plan) in WGS 84; here they get their
plan number (the plan's version: 1, 2, 3 ... per register), who and when, and their
links by id. All of the plan or nothing is written.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sapper.model.plan import Plan, PlanBundle
from sapper.store.register import Register
from sapper.store.schema import layer


def next_number(reg: Register) -> int:
    return int(reg.backend.maximum(layer("plan"), "number") or 0) + 1


def latest_plan(reg: Register) -> Plan | None:
    found = reg.list("plan", order_by="number")
    return found[-1] if found else None


def save_plan(reg: Register, bundle: PlanBundle) -> Plan:
    """Write the plan, its sectors, lanes, team-days and priorities; returns the plan record."""
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
    return plan
