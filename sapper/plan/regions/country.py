"""Plans of a whole country: regions planned apart, in parallel processes, and joined into one plan.

A region is a set of hazards with its own teams (a team belongs to one region). Regions
are separated so that no rule joins two of them: hazards closer than the largest safety
distance or demolition danger radius the rules hold (``reach_m``), or joined by a road
that leads to a quarter (``access_links``), always fall in the same region. Sectors lie
inside their hazard, so two sectors in different regions are never a safety or danger
pair and the joined plan keeps every rule a single plan keeps. Groups of hazards so
joined are cut into the regions asked for by recursive bisection, balanced by the area
still to work; each region gets a share of every kind of team in proportion to its work,
the teams nearest to it first.

Each region is planned by ``part.plan_part`` (sectors, problem, greedy plan, CP-SAT)
with a share of the CP-SAT time limit in proportion to its work, so the whole plan spends
the limit once, spread over the processes. The joined plan has one problem and one
schedule (indices renumbered region by region), checked again as a whole.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import shapely
from shapely import STRtree

from sapper.model.records import Hazard
from sapper.plan.parallel import run_parallel
from sapper.plan.problem import Problem, WorkTeam
from sapper.plan.regions.part import Data, Part, PartSettings, Planned, Step, plan_part
from sapper.plan.rules.safety import Safety
from sapper.plan.scheduling.schedule import Schedule, Slot, check, objective_of

MIN_REGION_LIMIT_S = 1.0  # CP-SAT time of the smallest region: below it, a window is hardly solved
# Assumption, from bench/national_plan_bench.py: a region of 5,000 sectors and its 50 teams is planned (greedy,
# CP-SAT windows, checks) in one to two minutes of one core; larger regions build team options faster than they help.
SECTORS_PER_REGION = 5_000


class RegionSettings(PartSettings, Protocol):
    regions: int  # 0: as many as the work needs (regions_for)
    processes: int


@dataclass(frozen=True)
class Region:
    hazards: list[int]  # hazard ids
    teams: list[int]  # indices into the crew
    area_m2: float  # still to work


def reach_m(safety: Safety) -> float:
    """The farthest two sectors may be apart and still be kept from being worked at once."""
    distances = [safety.default_m, *safety.by_contamination.values(), *safety.by_method.values()]
    if safety.keep_clear:
        distances += [safety.danger_radius(c) for c in safety.charges]
    return max(distances)


def linked_groups(hazards: dict[int, Hazard], reach: float, links: dict[int, list[int]]) -> list[list[int]]:
    """Hazards no rule lets apart: boxes grown by half the reach that touch, and roads with their quarters."""
    ids = sorted(hazards)
    boxes = shapely.envelope(np.array([hazards[h].geometry for h in ids], dtype=object))
    grown = shapely.buffer(boxes, reach / 2.0, cap_style="square", join_style="mitre")
    parts = shapely.get_parts(shapely.union_all(grown))
    hit, part = STRtree(parts).query(shapely.centroid(boxes), predicate="intersects")
    parent = list(range(len(parts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    of = dict(zip((ids[i] for i in hit.tolist()), part.tolist(), strict=True))
    for road, quarters in links.items():
        for other in quarters:
            if road in of and other in of:
                parent[root(of[road])] = root(of[other])
    groups: dict[int, list[int]] = defaultdict(list)
    for h in ids:
        groups[root(of[h])].append(h)
    return sorted(groups.values())


def bisect(groups: list[tuple[float, float, float, list[int]]], n: int) -> list[list[int]]:
    """Cut (x, y, weight, hazards) groups into ``n`` regions of about equal weight, across the longer side."""
    if n <= 1 or len(groups) <= 1:
        return [sorted(h for g in groups for h in g[3])]
    xs, ys = [g[0] for g in groups], [g[1] for g in groups]
    axis = 0 if max(xs) - min(xs) >= max(ys) - min(ys) else 1
    ordered = sorted(groups, key=lambda g: (g[axis], g[3][0]))
    left_n = n // 2
    target = sum(g[2] for g in ordered) * left_n / n
    weights = np.cumsum([g[2] for g in ordered[:-1]])
    cut = min(int(np.searchsorted(weights, target)) + 1, len(ordered) - 1)
    return bisect(ordered[:cut], left_n) + bisect(ordered[cut:], n - left_n)


def quotas(count: int, shares: Sequence[float]) -> list[int]:
    """``count`` teams of one kind shared out by work (largest remainder); one each first if there are enough."""
    first = 1 if count >= len(shares) else 0
    rest = count - first * len(shares)
    raw = [rest * s for s in shares]
    out = [first + int(r) for r in raw]
    by_remainder = sorted(range(len(shares)), key=lambda r: (-(raw[r] - int(raw[r])), r))
    for r in by_remainder[: count - sum(out)]:
        out[r] += 1
    return out


def assign_teams(crew: Sequence[WorkTeam], places: Sequence[Any], areas: Sequence[float]) -> list[list[int]]:
    """Each team to one region: per kind, in proportion to the region's work, nearest base first."""
    total = sum(areas) or 1.0
    shares = [a / total for a in areas]
    out: list[list[int]] = [[] for _ in places]
    by_kind: dict[str, list[WorkTeam]] = defaultdict(list)
    for t in crew:
        by_kind[t.kind.value].append(t)
    for kind in sorted(by_kind):
        teams = by_kind[kind]
        left = quotas(len(teams), shares)
        pairs = sorted(
            (float(shapely.distance(t.base, place)) if t.base is not None else 0.0, t.team_id, r, t.index)
            for t in teams
            for r, place in enumerate(places)
        )
        placed: set[int] = set()
        for _, _, r, index in pairs:
            if index not in placed and left[r] > 0:
                placed.add(index)
                left[r] -= 1
                out[r].append(index)
    return [sorted(teams) for teams in out]


def split_regions(part: Part, n: int, reach: float) -> list[Region]:
    """At most ``n`` regions of the part's hazards (fewer when fewer groups stand apart), with their teams."""
    groups = []
    for hazard_ids in linked_groups(part.hazards, reach, part.links):
        centre = shapely.centroid(shapely.union_all([shapely.envelope(part.hazards[h].geometry) for h in hazard_ids]))
        area = sum(part.remaining[h].area_m2 for h in hazard_ids if h in part.remaining)
        groups.append((centre.x, centre.y, max(area, 1.0), hazard_ids))
    cut = bisect(groups, n)
    places = [shapely.union_all([shapely.envelope(part.hazards[h].geometry) for h in ids]) for ids in cut]
    areas = [sum(part.remaining[h].area_m2 for h in ids if h in part.remaining) for ids in cut]
    teams = assign_teams(part.crew, places, areas)
    return [Region(ids, t, a) for ids, t, a in zip(cut, teams, areas, strict=True)]


def region_part(part: Part, region: Region) -> Part:
    """The part's records that belong to one region; its teams numbered from 0."""
    ids = set(region.hazards)
    return dataclasses.replace(
        part,
        hazards={h: part.hazards[h] for h in region.hazards},
        remaining={h: r for h, r in part.remaining.items() if h in ids},
        priorities={h: p for h, p in part.priorities.items() if h in ids},
        items=[i for i in part.items if i.hazard_id in ids],
        crew=[dataclasses.replace(part.crew[t], index=k) for k, t in enumerate(region.teams)],
        links={road: quarters for road, quarters in part.links.items() if road in ids},
        recorded={h: m for h, m in part.recorded.items() if h in ids},
    )


def scarce_kinds(crew: Sequence[WorkTeam], regions: int) -> list[str]:
    """Kinds of team too few to give one to every region."""
    count: dict[str, int] = defaultdict(int)
    for t in crew:
        count[t.kind.value] += 1
    return sorted(kind for kind, n in count.items() if n < regions)


def _plan_region(job: tuple[Part, Data, PartSettings]) -> Planned:
    return plan_part(*job)


def regions_for(part: Part, settings: RegionSettings) -> int:
    """How many regions a register's work needs: one per ``SECTORS_PER_REGION`` sectors still to work."""
    sector_m2 = settings.sector_width_m * settings.sector_length_m
    sectors = sum(r.area_m2 for r in part.remaining.values()) / sector_m2
    return max(1, math.ceil(sectors / SECTORS_PER_REGION))


def plan_in_regions(part: Part, data: Data, settings: RegionSettings, step: Step | None = None) -> Planned:
    """Plan ``settings.regions`` regions (0: as many as the work needs) in ``settings.processes`` processes."""
    wanted = settings.regions or regions_for(part, settings)
    regions = [r for r in split_regions(part, wanted, reach_m(data.safety)) if r.hazards]
    if len(regions) <= 1:
        return plan_part(part, data, settings, step)
    if step:
        step("optimised plan")
    total = sum(r.area_m2 for r in regions) or 1.0
    jobs = []
    for r in regions:
        limit = max(MIN_REGION_LIMIT_S, settings.time_limit_s * r.area_m2 / total)
        jobs.append((region_part(part, r), data, dataclasses.replace(settings, time_limit_s=limit)))
    began = time.perf_counter()
    planned = run_parallel(_plan_region, jobs, settings.processes)
    joined = join(planned, time.perf_counter() - began, settings.processes)
    short = scarce_kinds(part.crew, len(regions))
    if short:
        joined.schedule.notes.append(
            f"fewer teams than regions of kind {', '.join(short)}: regions without one leave the work "
            "only such a team may do unplanned (plan fewer regions)"
        )
    broken = check(joined.problem, joined.schedule)
    if broken:  # never hand out a plan that breaks a rule
        raise AssertionError("the joined plan breaks its own rules: " + "; ".join(broken[:5]))
    return joined


def join_problems(problems: Sequence[Problem]) -> tuple[Problem, list[int], list[int]]:
    """One problem of many, sectors and teams renumbered in order; with each one's sector and team offsets."""
    sectors, teams, options, conflicts, danger, sequence = [], [], [], [], set(), []
    precedence: set[tuple[int, int]] = set()
    unworkable: dict[int, str] = {}
    sector_at, team_at = [], []
    seen: set[int] = set()
    for p in problems:
        hazards = {s.hazard_id for s in p.sectors}
        if hazards & seen:
            raise ValueError(f"hazards {sorted(hazards & seen)[:5]} are in two regions: a plan cannot join them")
        seen |= hazards
        s0, t0 = len(sectors), len(teams)
        sector_at.append(s0)
        team_at.append(t0)
        sectors += [dataclasses.replace(s, index=s.index + s0) for s in p.sectors]
        teams += [dataclasses.replace(t, index=t.index + t0) for t in p.teams]
        options += [[dataclasses.replace(o, team=o.team + t0) for o in opts] for opts in p.options]
        conflicts += [(i + s0, j + s0) for i, j in p.conflicts]
        danger |= {(i + s0, j + s0) for i, j in p.danger}
        sequence += [(i + s0, j + s0) for i, j in p.sequence]
        precedence.update(p.precedence)
        unworkable.update({s + s0: f"in its region: {why}" for s, why in p.unworkable.items()})
    first = problems[0]
    problem = Problem(
        sectors, teams, options, conflicts, sorted(precedence), unworkable, first.doubling_points, danger, sequence
    )
    problem.survey = first.survey
    return problem, sector_at, team_at


def join_schedules(
    problem: Problem, schedules: Sequence[Schedule], sector_at: list[int], team_at: list[int], seconds: float
) -> Schedule:
    """The regions' schedules as one: the best solver's name, every status and note, the bounds summed."""
    slots: dict[int, Slot] = {}
    for schedule, s0, t0 in zip(schedules, sector_at, team_at, strict=True):
        for s, slot in schedule.slots.items():
            slots[s + s0] = dataclasses.replace(slot, sector=s + s0, team=slot.team + t0)
    solvers = sorted({s.solver for s in schedules})
    solver = "cp-sat" if "cp-sat" in solvers else solvers[0]
    status = f"{len(schedules)} regions: " + "; ".join(s.status for s in schedules)
    bounds = [s.bound for s in schedules]
    bound = sum(b for b in bounds if b is not None) if all(b is not None for b in bounds) else None
    notes = list(dict.fromkeys(n for s in schedules for n in s.notes))
    return Schedule(slots, solver, status, objective_of(problem, slots), bound, seconds, notes)


def join(planned: Sequence[Planned], seconds: float, processes: int) -> Planned:
    """One plan of the regions' plans."""
    problem, sector_at, team_at = join_problems([p.problem for p in planned])
    greedy_seconds = sum(p.greedy.seconds for p in planned)
    greedy = join_schedules(problem, [p.greedy for p in planned], sector_at, team_at, greedy_seconds)
    best = join_schedules(problem, [p.schedule for p in planned], sector_at, team_at, seconds)
    best.notes.append(
        f"{len(planned)} regions planned apart in {processes} processes and joined; "
        "a team works in one region; the bound is the sum of the regions' bounds"
    )
    return Planned(problem, greedy, best)
