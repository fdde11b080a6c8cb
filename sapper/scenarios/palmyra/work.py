"""The work done by the snapshot: daily reports, each the sectors a team searched that day.

Published method: the site was filmed by quadcopter and split into 30 x 80 m sectors.
Each work line of ``data/palmyra.toml`` lets its teams take a hazard's sectors in order
(west to east, south to north) until each has searched its daily area; a robot skips the
sectors near monuments that forbid robots. A line may name several hazards: a team whose
hazard has no sector left for it goes on to the next one the same day (nobody idles
while work remains). Its daily area may change day by day (a list: the first days'
areas, the last one from then on): teams start slower and speed up. A survey line with
``release = false`` looks over its hazard and finds evidence: the land stays hazardous.
All of this is the scenario's assumption.
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
from sapper.scenarios.palmyra import shapes
from sapper.scenarios.palmyra.areas import Area


@dataclass
class DayReport:
    team: str
    hazard: str  # Area key
    activity: ActivityType
    day: date
    line: int  # index of the work line: one activity per line
    shape: MultiPolygon  # metric
    sectors: int
    releases: bool = True  # the report's land is released by its activity's route

    @property
    def route(self) -> ReleaseRoute:
        return ROUTE_OF_ACTIVITY[self.activity]


@dataclass
class WorkPlan:
    lines: list[dict[str, Any]]
    reports: list[DayReport] = field(default_factory=list)
    closed: set[str] = field(default_factory=set)  # hazards with no sector left

    def released(self, hazard: str, routes: Sequence[ReleaseRoute]) -> list[DayReport]:
        return [r for r in self.reports if r.hazard == hazard and r.releases and r.route in routes]


def plan_work(
    fig: dict[str, Any], areas: dict[str, Area], sites: Sequence[ProtectedSite], robots: set[str]
) -> WorkPlan:
    """The daily reports of every work line; ``robots`` names the teams that are robots."""
    pub = fig["published"]
    plan = WorkPlan(lines=fig.get("work", []))
    queues: dict[str, list[MultiPolygon]] = {}
    no_robot = _no_robot_zone(sites)
    day, last = fig["scenario"]["work_starts"], fig["scenario"]["snapshot"]

    def queue_of(key: str, index: int) -> list[MultiPolygon]:
        if key not in areas:
            raise ValueError(f"work line {index + 1}: no hazard with key {key!r}")
        if key not in queues:
            queues[key] = shapes.cells(areas[key].shape, pub["sector_width_m"], pub["sector_length_m"])
        return queues[key]

    while day <= last:
        for index, line in enumerate(plan.lines):
            if not line["from"] <= day <= line["to"]:
                continue
            keys = line["hazard"] if isinstance(line["hazard"], list) else [line["hazard"]]
            activity = ActivityType.parse(line["activity"])
            if not line.get("release", True):  # looked over, evidence found: nothing taken, nothing released
                shape = shapes.polygonal(shapely.union_all(queue_of(keys[0], index)), speck_m2=0.0)
                for team in line["teams"]:
                    plan.reports.append(DayReport(team, keys[0], activity, day, index, shape, 0, releases=False))
                continue
            quota = _quota(line["m2_per_day"], (day - line["from"]).days)
            for team in line["teams"]:
                avoid = no_robot if team in robots else None
                left = quota
                for key in keys:
                    queue = queue_of(key, index)
                    taken = _take(queue, left, avoid, first=left == quota)
                    if not queue:
                        plan.closed.add(key)
                    if not taken:
                        continue
                    shape = shapes.polygonal(shapely.union_all(taken), speck_m2=0.0)
                    plan.reports.append(DayReport(team, key, activity, day, index, shape, len(taken)))
                    left -= sum(t.area for t in taken)
                    if left <= 0:
                        break
        day += timedelta(days=1)
    return plan


def _quota(m2_per_day: float | list[float], day_of_line: int) -> float:
    """The day's area: one figure, or one per day of the line (the last one from then on)."""
    if isinstance(m2_per_day, list):
        return float(m2_per_day[min(day_of_line, len(m2_per_day) - 1)])
    return float(m2_per_day)


def _take(
    queue: list[MultiPolygon], quota: float, avoid: BaseGeometry | None, first: bool = True
) -> list[MultiPolygon]:
    """Sectors from the front of the queue, the daily area rounded to whole sectors (at least one
    if this is the team's ``first`` hazard of the day)."""
    taken: list[MultiPolygon] = []
    done = 0.0
    k = 0
    while k < len(queue) and ((first and not taken) or done + queue[k].area / 2.0 <= quota):
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
