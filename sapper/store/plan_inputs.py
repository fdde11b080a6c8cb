"""What a plan is made from, as one organisation sees the register, and whom the stored plan belongs to.

A plan for an organisation is made from its own hazards and teams (every write links only to its
writer's own records) and all it may see of what bears on them. A stored plan carries totals
(hectares, hazards, the burn-down, finish dates) that no filter of its rows can take back, so a
plan made from any restricted record is restricted itself: seen by its organisation (for a plan of
the whole register, the empty one: those who see every organisation's records) and no one else.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sapper.model.plan import PlanBundle
from sapper.store import query
from sapper.store.query import Filter
from sapper.store.register import Register
from sapper.store.schema import layer

KINDS = {"hazards": "hazard", "items": "item", "sites": "site", "teams": "team", "reports": "report"}
OWNED = {"hazards", "teams"}  # what a plan's rows name: the planner's own organisation's only


def plan_inputs(reg: Register, organisation: str | None) -> dict[str, list[Any]]:
    """The records of each kind the planner takes (``Inputs`` fields), for ``organisation`` (None: all)."""
    out = {}
    for name, kind in (*KINDS.items(), ("releases", "release")):
        records = reg.list(kind)
        if organisation is not None:
            seen = query.ids(reg.backend, layer(kind), Filter(organisation=organisation))
            records = [r for r in records if r.id in seen and (name not in OWNED or r.organisation == organisation)]
        out[name] = records
    return out


def uses_restricted(inputs: dict[str, list[Any]]) -> bool:
    return any(r.restricted for records in inputs.values() for r in records)


def owned(plan_rows: PlanBundle, organisation: str, restricted: bool) -> PlanBundle:
    """Every row of the plan belongs to ``organisation``, restricted if any record it was made from is:
    its sectors and totals would otherwise show restricted hazards to everyone."""

    def own(record: Any) -> Any:
        return dataclasses.replace(record, organisation=organisation, restricted=restricted)

    return dataclasses.replace(
        plan_rows,
        plan=own(plan_rows.plan),
        sectors=[own(s) for s in plan_rows.sectors],
        lanes=[(i, own(lane)) for i, lane in plan_rows.lanes],
        assignments=[(i, own(a)) for i, a in plan_rows.assignments],
        priorities=[own(p) for p in plan_rows.priorities],
        days=[own(d) for d in plan_rows.days],
    )
