"""The scheduling problem: sectors to work, teams, who may work what and how long it takes.

Built once from the planner's earlier steps (priorities, sectors, methods) and shared
by the greedy plan, the CP-SAT plan and the forecast, so all three answer exactly the
same question. Time runs in working days cut into ``TICKS_PER_DAY`` ticks; a team with a
shorter day (dogs) or a long drive from base gets through less of a sector per day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from sapper.model.enums import ItemCategory, LandUse, Method, TeamKind
from sapper.model.geometry import grown_boxes
from sapper.plan.rules.methods import Decision, method_for
from sapper.plan.rules.productivity import Productivity, WorkDay

if TYPE_CHECKING:
    from sapper.plan.survey.outlook import Outlook

TICKS_PER_DAY = 48  # a tick is 1/48 of a working day (10 minutes of an 8-hour day)


@dataclass
class WorkSector:
    index: int
    hazard_id: int
    label: str
    geometry: BaseGeometry  # metres
    area_m2: float  # still to work (after work already reported)
    score: float  # priority score of its hazard
    decision: Decision
    items: dict[ItemCategory, float] = field(default_factory=dict)  # expected items still in it
    safety_m: float = 25.0  # keep other teams this far while it is worked (IMAS 10.20)
    danger_m: float = 0.0  # demolition danger radius (UN SaferGuard)
    land_use: LandUse = LandUse.OTHER  # terrain: sets the search rate
    task: str = "clearance"  # the kind of work: "survey", "clearance" or "eod"
    effort_days: dict[Method, float] = field(default_factory=dict)  # team-days by method (survey and EOD tasks)
    search_m2: float | None = None  # area a search team covers, if not area_m2 (TS samples a share)
    release: str = ""  # surveyed land: "nts", "ts" or "clear" (what the survey outcome scales)
    demolitions: bool | None = None  # blasts while it is worked; None: if its items are destroyed in place
    value_m2: float | None = None  # land whose release waits for it, if not area_m2 (EOD disposal)


@dataclass
class WorkTeam:
    index: int
    team_id: int
    name: str
    kind: TeamKind
    methods: tuple[Method, ...]
    base: Point | None  # metres
    personnel: int
    lane_width_m: float
    day: WorkDay


@dataclass(frozen=True)
class Option:
    """One team able to work one sector: its method and how long it takes."""

    team: int
    method: Method
    search_h: float  # hours of searching at the most likely rate
    handling_h: float  # hours of dealing with the expected items (the team's crews in parallel)
    day_h: float  # hours of work per day once travel is taken off
    distance_m: float  # base to sector

    days: float = field(init=False, repr=False, compare=False)
    ticks: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Days and ticks computed once: the list schedules read them millions of times."""
        days = (self.search_h + self.handling_h) / self.day_h
        object.__setattr__(self, "days", days)
        object.__setattr__(self, "ticks", max(1, math.ceil(days * TICKS_PER_DAY - 1e-9)))


@dataclass
class Problem:
    sectors: list[WorkSector]
    teams: list[WorkTeam]
    options: list[list[Option]]  # per sector, fastest first
    conflicts: list[tuple[int, int]]  # sectors never worked at the same time (safety distance or danger area)
    precedence: list[tuple[int, int]]  # (hazard first, hazard after)
    unworkable: dict[int, str] = field(default_factory=dict)  # sector -> why no team may work it
    doubling_points: float = 10.0  # every this many points of priority score double a hectare's value
    danger: set[tuple[int, int]] = field(default_factory=set)  # the conflicts due to a demolition danger area
    sequence: list[tuple[int, int]] = field(default_factory=list)  # (sector, sector after it): survey, then clearance
    survey: Outlook | None = None  # shares of surveyed land cancelled, reduced, cleared

    @property
    def workable(self) -> list[int]:
        return [s.index for s in self.sectors if self.options[s.index]]

    def weight(self, sector: int) -> float:
        """What finishing this sector a day earlier is worth: hectares x 2^((score - 50) / doubling).

        Exponential in the score so priority leads: a faster method on low-priority land
        does not jump ahead of high-priority land (a hectare of score 50 weighs 1).
        """
        s = self.sectors[sector]
        area = s.area_m2 if s.value_m2 is None else s.value_m2
        return area / 10_000.0 * 2.0 ** ((s.score - 50.0) / self.doubling_points)

    def option(self, sector: int, team: int) -> Option | None:
        for opt in self.options[sector]:
            if opt.team == team:
                return opt
        return None

    def sectors_of(self, hazard_id: int) -> list[int]:
        return [s.index for s in self.sectors if s.hazard_id == hazard_id]


def team_options(sector: WorkSector, teams: Sequence[WorkTeam], prod: Productivity) -> list[Option]:
    """Every team whose methods the sector's rules allow, with its duration; fastest first.

    Survey and EOD tasks state their work in team-days per method (``effort_days``); a
    search method works ``search_m2`` (TS samples a share of the land) or the whole area.
    """
    out = []
    area = sector.area_m2 if sector.search_m2 is None else sector.search_m2
    item_hours: dict[TeamKind, float] = {}  # the sector's items, for a team of each kind (on foot or a machine)
    for team in teams:
        method = method_for(team.methods, sector.decision)
        if method is None or (method not in prod.search and method not in sector.effort_days):
            continue
        distance = float(shapely.distance(team.base, sector.geometry)) if team.base is not None else 0.0
        if method in sector.effort_days:
            search = sector.effort_days[method] * team.day.hours
        else:
            search = prod.search_hours(method, area, team.personnel, team.day.hours, sector.land_use)
        if team.kind not in item_hours:
            item_hours[team.kind] = prod.handling_moments(sector.items, team.kind)[0]
        handling = item_hours[team.kind] / prod.item_crews(team.personnel, team.kind)
        day_h = prod.work_hours_per_day(team.kind, distance)
        out.append(Option(team.index, method, search, handling, day_h, distance))
    return sorted(out, key=lambda o: (o.days, o.distance_m, o.team))


def why_unworkable(sector: WorkSector, teams: Sequence[WorkTeam]) -> str:
    allowed = ", ".join(m.value for m in sector.decision.allowed) or "no search method"
    have = sorted({m.value for t in teams for m in t.methods})
    forbidden = "; ".join(f"no {m.value}: {why}" for m, why in sector.decision.forbidden.items())
    text = f"allowed: {allowed}; teams offer: {', '.join(have) or 'nothing'}"
    return f"{text}; {forbidden}" if forbidden else text


PAD_M = 1e-3  # boxes grown this much more than the distance: a pair at a hair under it still meets the box


def find_conflicts(sectors: Sequence[WorkSector]) -> list[tuple[int, int]]:
    """Pairs of sectors closer than the larger of their safety distances (IMAS 10.20).

    Each sector's box, grown by its own distance, finds the sectors whose boxes meet it (a
    spatial index, all at once), so a pair closer than the larger of the two distances is found
    from that side; each pair's exact distance then decides (strictly closer). Boxes, not a
    distance predicate: the index answers quicker and the distance is computed once per pair.
    """
    if len(sectors) < 2:
        return []
    geoms = np.array([s.geometry for s in sectors], dtype=object)
    safety = np.array([s.safety_m for s in sectors], dtype=float)
    asks = np.flatnonzero(safety > 0)
    found, other = STRtree(geoms).query(grown_boxes(geoms[asks], safety[asks] + PAD_M))
    found = asks[found]
    n = len(sectors)
    left, right = np.minimum(found, other), np.maximum(found, other)
    pair = np.unique(left[left < right] * n + right[left < right])  # each pair once, in order
    left, right = pair // n, pair % n
    close = shapely.distance(geoms[left], geoms[right]) < np.maximum(safety[left], safety[right])
    return list(zip(left[close].tolist(), right[close].tolist(), strict=True))


def needs_demolition(sector: WorkSector) -> bool:
    """A blast may come while the sector is worked: its items are destroyed where found (or its
    task says so: an EOD team's demolitions; searchers who leave their items to EOD teams never)."""
    if sector.danger_m <= 0:
        return False
    if sector.demolitions is not None:
        return sector.demolitions
    return sector.decision.disposal == Method.DESTRUCTION_IN_PLACE and any(n > 0 for n in sector.items.values())


def find_danger_pairs(sectors: Sequence[WorkSector]) -> list[tuple[int, int]]:
    """Pairs (i < j) where one sector needs demolitions and the other lies inside their danger area.

    Destruction in place is the usual disposal (IMAS 09.30) and an item that may not be
    moved (an IED, IMAS 09.31; a fuzed shell) is destroyed where it is found, so the
    planner keeps the danger area clear while the sector is worked: no other team works
    a sector that reaches closer than the danger radius to it (IMAS 10.20: everyone not
    taking part stays outside the danger area of a demolition). A blast may come
    anywhere in the sector, so the area is the sector grown by the radius. Only pairs
    within a radius of a sector that needs demolitions are built (spatial index).
    """
    where = np.array([i for i, s in enumerate(sectors) if needs_demolition(s)], dtype=int)
    if not len(where) or len(sectors) < 2:
        return []
    geoms = np.array([s.geometry for s in sectors], dtype=object)
    radius = np.array([sectors[i].danger_m for i in where])
    hit, other = STRtree(geoms).query(grown_boxes(geoms[where], radius + PAD_M))  # boxes, then the exact distance
    source = where[hit]
    keep = source != other
    source, other, reach = source[keep], other[keep], radius[hit][keep]
    inside = shapely.distance(geoms[source], geoms[other]) < reach
    pairs = {(min(a, b), max(a, b)) for a, b in zip(source[inside].tolist(), other[inside].tolist(), strict=True)}
    return sorted(pairs)


def build_problem(
    sectors: list[WorkSector],
    teams: list[WorkTeam],
    prod: Productivity,
    hazard_links: dict[int, list[int]],
    doubling_points: float = 10.0,
    keep_clear: bool = True,
    sequence: Sequence[tuple[int, int]] = (),
    survey: Outlook | None = None,
) -> Problem:
    """Options, conflicts and precedence for sectors and teams (indices must be 0..n-1).

    ``keep_clear``: demolition danger areas bind the schedule (safety.toml).
    ``sequence``: (sector, sector after it) pairs; those with an unworkable end are dropped.
    """
    options = [team_options(s, teams, prod) for s in sectors]
    unworkable = {s.index: why_unworkable(s, teams) for s in sectors if not options[s.index]}
    workable_hazards = {s.hazard_id for s in sectors if options[s.index]}
    precedence = [
        (road, other)
        for road, reached in hazard_links.items()
        for other in reached
        if road in workable_hazards and other in workable_hazards
    ]
    workable = [s for s in sectors if options[s.index]]
    back = np.array([s.index for s in workable], dtype=int)
    danger = {(int(back[i]), int(back[j])) for i, j in find_danger_pairs(workable)} if keep_clear else set()
    inside = [s for s in workable if s.release != "nts"]  # NTS works from outside: no spacing in the hazard
    inner = np.array([s.index for s in inside], dtype=int)
    safety = {(int(inner[i]), int(inner[j])) for i, j in find_conflicts(inside)}
    conflicts = sorted(safety | danger)
    ordered = sorted({(a, b) for a, b in sequence if options[a] and options[b]})
    return Problem(
        sectors, teams, options, conflicts, sorted(precedence), unworkable, doubling_points, danger, ordered, survey
    )


def neighbours(problem: Problem) -> dict[int, list[int]]:
    """Sectors never worked at the same time as each sector (safety distance or danger area), in the
    order of ``problem.conflicts``; a sector with none has no entry."""
    out: dict[int, list[int]] = {}
    for i, j in problem.conflicts:
        out.setdefault(i, []).append(j)
        out.setdefault(j, []).append(i)
    return out
