"""A country's lanes are shared out to processes: the same lanes, sector by sector, as one process makes."""

from __future__ import annotations

import dataclasses

from test_plan_regions import settings, towns_register

from sapper.plan.build import make_plan
from sapper.plan.lanes.for_plan import plan_lanes_for


def test_lanes_made_in_two_processes_are_the_lanes_of_one() -> None:
    result = make_plan(towns_register(), dataclasses.replace(settings(), lanes=True))
    alone = plan_lanes_for(result.problem, result.schedule)
    assert alone, "the plan has clearance sectors with lanes"
    assert set(alone) == {s for s in result.schedule.slots if result.problem.sectors[s].task == "clearance"}
    shared = plan_lanes_for(result.problem, result.schedule, processes=2, min_parallel=1)
    assert list(shared) == list(alone), "the sectors come back in the plan's order"
    for s, plan in alone.items():
        assert [g.wkb for g in shared[s].lanes] == [g.wkb for g in plan.lanes], f"sector {s}: other lanes elsewhere"
        assert (shared[s].lane_length_m, shared[s].estimated_hours) == (plan.lane_length_m, plan.estimated_hours)
    assert list(result.lanes) == list(alone), "the plan's lanes are these"
