"""The work done by the snapshot: daily reports, each the sectors a team searched that day.

Published method: the site was filmed by quadcopter and split into 30 x 80 m sectors.
Each work line of ``data/palmyra.toml`` lets its teams take a hazard's sectors in order
(west to east, south to north) until each has searched its daily area; a robot skips the
sectors near monuments that forbid robots. All of this is the scenario's assumption.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from sapper.model import ActivityType, Method, ProtectedSite, ReleaseRoute
from sapper.model.enums import ROUTE_OF_ACTIVITY
from scenarios.palmyra import shapes
from scenarios.palmyra.areas import Area


@dataclass
class DayReport:
    team: str
    hazard: str  # Area key
    activity: ActivityType
    day: date
    line: int  # index of the work line: one activity per line
    shape: MultiPolygon  # metric
    sectors: int

    @property
    def route(self) -> ReleaseRoute:
        return ROUTE_OF_ACTIVITY[self.activity]


@dataclass
class WorkPlan:
    lines: list[dict[str, Any]]
    reports: list[DayReport] = field(default_factory=list)
    closed: set[str] = field(default_factory=set)  # hazards with no sector left

    def released(self, hazard: str, routes: Sequence[ReleaseRoute]) -> list[DayReport]:
        return [r for r in self.reports if r.hazard == hazard and r.route in routes]


def plan_work(
    fig: dict[str, Any], areas: dict[str, Area], sites: Sequence[ProtectedSite], robots: set[str]
) -> WorkPlan:
    """The daily reports of every work line; ``robots`` names the teams that are robots."""
    pub = fig["published"]
    plan = WorkPlan(lines=fig.get("work", []))
    queues: dict[str, list[MultiPolygon]] = {}
    no_robot = _no_robot_zone(sites)
    day, last = fig["scenario"]["work_starts"], fig["scenario"]["snapshot"]
    while day <= last:
        for index, line in enumerate(plan.lines):
            if not line["from"] <= day <= line["to"]:
                continue
            key = line["hazard"]
            if key not in areas:
                raise ValueError(f"work line {index + 1}: no hazard with key {key!r}")
            if key not in queues:
                queues[key] = shapes.cells(areas[key].shape, pub["sector_width_m"], pub["sector_length_m"])
            queue = queues[key]
            for team in line["teams"]:
                avoid = no_robot if team in robots else None
                taken = _take(queue, float(line["m2_per_day"]), avoid)
                if not taken:
                    continue
                plan.reports.append(
                    DayReport(
                        team=team,
                        hazard=key,
                        activity=ActivityType.parse(line["activity"]),
                        day=day,
                        line=index,
                        shape=shapes.polygonal(shapely.union_all(taken), speck_m2=0.0),
                        sectors=len(taken),
                    )
                )
            if not queue:
                plan.closed.add(key)
        day += timedelta(days=1)
    return plan


def _take(queue: list[MultiPolygon], quota: float, avoid: BaseGeometry | None) -> list[MultiPolygon]:
    """Sectors from the front of the queue until ``quota`` m² are searched (at least one)."""
    taken: list[MultiPolygon] = []
    done = 0.0
    k = 0
    while k < len(queue) and done < quota:
        if avoid is not None and queue[k].intersects(avoid):
            k += 1
            continue
        sector = queue.pop(k)
        taken.append(sector)
        done += sector.area
    return taken


def _no_robot_zone(sites: Sequence[ProtectedSite]) -> BaseGeometry:
    zones = [shapes.metric(s.geometry).buffer(s.buffer_m) for s in sites if Method.ROBOT in s.forbidden_methods]
    return shapely.union_all(zones) if zones else MultiPolygon()
