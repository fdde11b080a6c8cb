"""The lanes of every clearance sector a plan gives a team, in the team's lane width and asset profile.

Each sector's lanes depend on its own outline and team only, so a country's tens of thousands of
sectors are shared out to processes in chunks (about 1 ms a sector: a minute for 50,000 in one).
"""

from __future__ import annotations

from typing import Any

from shapely.geometry.base import BaseGeometry

from sapper.model.enums import Method
from sapper.plan.lanes import PROFILES, LanePlan, plan_lanes
from sapper.plan.lanes.shapes import long_axis_angle
from sapper.plan.parallel import run_parallel
from sapper.plan.problem import Problem
from sapper.plan.scheduling.schedule import Schedule

LANE_PROFILE = {Method.ROBOT: "uran-6", Method.MECHANICAL: "mv-4", Method.MANUAL: "manual"}
MIN_PARALLEL_SECTORS = 4_000  # assumption: below it, starting processes costs more than the lanes (a few s)

Job = tuple[int, BaseGeometry, tuple[float, float] | None, dict[str, Any]]


def plan_lanes_for(
    problem: Problem, schedule: Schedule, processes: int = 1, min_parallel: int = MIN_PARALLEL_SECTORS
) -> dict[int, LanePlan]:
    """Lanes by sector index; survey and EOD sectors have none."""
    jobs = [_job(problem, s, slot.team, slot.method) for s, slot in schedule.slots.items()]
    jobs = [job for job in jobs if job is not None]
    if processes <= 1 or len(jobs) < min_parallel:
        return dict(_lanes_of(jobs))
    size = -(-len(jobs) // (processes * 4))  # a few chunks a process, so a slow chunk does not hold the rest
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    return {s: plan for part in run_parallel(_lanes_of, chunks, processes) for s, plan in part}


def _job(problem: Problem, s: int, team_index: int, method: Method) -> Job | None:
    if problem.sectors[s].task != "clearance":
        return None  # survey and EOD teams work no lanes
    team = problem.teams[team_index]
    options: dict[str, Any] = {"lane_width": team.lane_width_m, "overlap": 0.0}
    profile = PROFILES.get(LANE_PROFILE.get(method, ""))
    if profile is not None:
        # the asset's pace and turn time, with the team's own lane width
        options = {**profile.options(), "lane_width": team.lane_width_m}
        options["overlap"] = profile.overlap if profile.overlap < team.lane_width_m else 0.0
    start = (team.base.x, team.base.y) if team.base is not None else None
    return s, problem.sectors[s].geometry, start, options


def _lanes_of(jobs: list[Job]) -> list[tuple[int, LanePlan]]:
    # lanes along the sector's long side: the fewest turns, without trying every direction
    return [
        (s, plan_lanes(geom, angle=long_axis_angle(geom), start=start, **options)) for s, geom, start, options in jobs
    ]
