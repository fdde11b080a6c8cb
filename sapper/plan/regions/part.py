"""One part of the register planned on its own: sectors, the problem, the greedy and optimised plans.

``make_plan`` runs it once for the whole register, or once per region in parallel
processes (country.py); either way the same rules build the same kind of problem and the
plan is checked against every one of them before it is handed back.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from shapely import STRtree

from sapper.model.enums import Contamination, ItemCategory, ItemState, Method
from sapper.model.records import Hazard, Item, ProtectedSite
from sapper.plan.forecasting.learning import Learned, apply_learned
from sapper.plan.problem import Problem, WorkSector, WorkTeam, build_problem
from sapper.plan.progress.in_hand import Hand, keep_in_hand
from sapper.plan.progress.worked import Remaining
from sapper.plan.rules.methods import Rules, decide, decide_all
from sapper.plan.rules.practice import accepted
from sapper.plan.rules.priority import Priority, Weights
from sapper.plan.rules.productivity import Productivity
from sapper.plan.rules.safety import Safety
from sapper.plan.scheduling.cpsat import cpsat_schedule
from sapper.plan.scheduling.greedy import greedy_schedule, wspt_schedule
from sapper.plan.scheduling.schedule import Schedule, check
from sapper.plan.sectors import Sector, split_into_sectors
from sapper.plan.survey.outlook import Outlook
from sapper.plan.survey.suspected import SurveyData
from sapper.plan.tasks import hazard_work, number

HANDLED = (ItemState.REMOVED, ItemState.DESTROYED_IN_PLACE)
MIN_SECTOR_M2 = 1.0
Step = Callable[[str], None]


class PartSettings(Protocol):
    """What planning a part reads of the plan's settings (build.Settings)."""

    sector_width_m: float
    sector_length_m: float
    time_limit_s: float
    workers: int
    candidates: int
    window: int
    seed: int
    optimise: bool
    work_in_hand_first: bool


@dataclass(frozen=True)
class Data:
    weights: Weights
    rules: Rules
    productivity: Productivity
    safety: Safety
    survey: SurveyData


def expected_items(
    hazard: Hazard, rem: Remaining, recorded: list[Item], prod: Productivity
) -> tuple[float, dict[ItemCategory, float]]:
    """Items not yet found still expected in the hazard, and their mix by category."""
    original = hazard.original_area_m2 or float(hazard.geometry.area)
    share = rem.area_m2 / original if original > 0 else 0.0
    if hazard.estimated_items or recorded:
        unknown = max(0, hazard.estimated_items - len(recorded)) * share
    else:
        unknown = prod.items_per_ha(hazard.contamination, hazard.land_use) * rem.area_m2 / 10_000.0
    if recorded:
        counts = Counter(i.category for i in recorded)
        mix = {c: n / len(recorded) for c, n in counts.items()}
    else:
        mix = prod.mix.get(hazard.contamination) or prod.mix.get(Contamination.UNKNOWN, {})
    return unknown, mix


def items_inside(sectors: Sequence[Sector], items: Sequence[Item]) -> list[list[int]]:
    """For each sector, the items (their positions in ``items``, in order) that lie in it or on its edge:
    one spatial index query for all sectors, not a test of every item against every sector."""
    found: list[list[int]] = [[] for _ in sectors]
    if not sectors or not items:
        return found
    tree = STRtree(np.array([i.geometry for i in items], dtype=object))
    where, which = tree.query(np.array([s.geometry for s in sectors], dtype=object), predicate="intersects")
    for s, k in sorted(zip(where.tolist(), which.tolist(), strict=True)):
        found[s].append(k)
    return found


def make_sectors(
    hazards: dict[int, Hazard],
    remaining: dict[int, Remaining],
    priorities: dict[int, Priority],
    items: Sequence[Item],
    sites: Sequence[ProtectedSite],
    team_can: set[Method],
    data: Data,
    settings: PartSettings,
    outlook: Outlook,
    recorded: dict[int, set[Method]] | None = None,
    surveyed: frozenset[int] = frozenset(),
) -> tuple[list[WorkSector], list[tuple[int, int]]]:
    """Sectors of every open hazard, by priority, with their survey and EOD tasks (tasks.py),
    and the (before, after) pairs of those tasks."""
    recorded = recorded or {}
    by_hazard: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        if item.hazard_id is not None:
            by_hazard[item.hazard_id].append(item)
    out: list[WorkSector] = []
    pairs: list = []
    for hid in sorted(priorities, key=lambda h: priorities[h].rank):
        hazard, rem = hazards[hid], remaining[hid]
        if rem.area_m2 <= 0 or rem.geometry.is_empty:
            continue
        unknown, mix = expected_items(hazard, rem, by_hazard[hid], data.productivity)
        waiting = [i for i in by_hazard[hid] if i.state not in HANDLED and i.geometry is not None]
        danger = data.safety.danger_radius_of(c for c, share in mix.items() if share > 0)
        poly_area = float(rem.geometry.area)
        mine: list[WorkSector] = []
        sectors = [
            s
            for s in split_into_sectors(rem.geometry, settings.sector_width_m, settings.sector_length_m)
            if s.area_m2 >= MIN_SECTOR_M2  # smaller: a sliver left by the grid, nothing to plan
        ]
        decisions = decide_all(hazard, [s.geometry for s in sectors], sites, data.rules, danger)
        for sector, inside, decision in zip(sectors, items_inside(sectors, waiting), decisions, strict=True):
            share = sector.area_m2 / poly_area if poly_area else 0.0
            found = Counter(waiting[k].category for k in inside)
            expect = {c: unknown * share * m + found.get(c, 0) for c, m in mix.items()}
            for c, n in found.items():
                expect.setdefault(c, float(n))
            if recorded.get(hid):  # the officer accepts what the reports show for this land
                plain = decide(hazard, sector.geometry, (), data.rules, danger)
                decision = accepted(decision, recorded[hid], plain)
            usable = [m for m in decision.allowed if m in team_can]
            mine.append(
                WorkSector(
                    index=-1,
                    hazard_id=hid,
                    label=f"H{hid}-{sector.label}",
                    geometry=sector.geometry,
                    area_m2=sector.area_m2 * rem.factor,
                    score=priorities[hid].score,
                    decision=decision,
                    items=expect,
                    safety_m=data.safety.working_distance(hazard.contamination, usable),
                    danger_m=danger,
                    land_use=hazard.land_use,
                )
            )
        work, tied = hazard_work(hazard, mine, outlook, data.survey, team_can, hid in surveyed)
        out += work
        pairs += tied
    return out, number(out, pairs)


@dataclass
class Part:
    """The register's open work in one part: hazards, what is left of them, and the teams there.

    Records are metric; ``can`` is every method the whole register's teams offer, so a
    part's sectors and tasks are the ones a single plan of the register would make.
    """

    hazards: dict[int, Hazard]
    remaining: dict[int, Remaining]
    priorities: dict[int, Priority]
    items: list[Item]
    sites: list[ProtectedSite]
    crew: list[WorkTeam]
    can: set[Method]
    links: dict[int, list[int]]  # road -> hazards it leads to (priority.access_links)
    shares: Outlook
    learned: Learned
    recorded: dict[int, set[Method]] = field(default_factory=dict)
    surveyed: frozenset[int] = frozenset()
    hands: dict[int, Hand] = field(default_factory=dict)  # work in hand by team (progress/in_hand.py)


@dataclass
class Planned:
    problem: Problem
    greedy: Schedule
    schedule: Schedule


def plan_part(part: Part, data: Data, settings: PartSettings, step: Step | None = None) -> Planned:
    """Sectors, problem, greedy plan and optimised plan of one part; raises if the plan breaks a rule."""
    sectors, sequence = make_sectors(
        part.hazards,
        part.remaining,
        part.priorities,
        part.items,
        part.sites,
        part.can,
        data,
        settings,
        part.shares,
        part.recorded,
        part.surveyed,
    )
    problem = build_problem(
        sectors,
        part.crew,
        data.productivity,
        part.links,
        data.weights.doubling_points,
        data.safety.keep_clear,
        sequence,
        part.shares,
    )
    problem = apply_learned(problem, part.learned)  # where reports tell, their all-in rates time the work
    if settings.work_in_hand_first:
        problem = keep_in_hand(problem, part.hands)
    if step:
        step("greedy plan")
    greedy = greedy_schedule(problem)
    if step:
        step("optimised plan")
    best = (
        wspt_schedule(problem)
        if not settings.optimise
        else cpsat_schedule(
            problem,
            greedy,
            time_limit_s=settings.time_limit_s,
            workers=settings.workers,
            candidates=settings.candidates,
            window=settings.window,
            seed=settings.seed,
        )
    )
    broken = check(problem, best)
    if broken:  # never hand out a plan that breaks a rule
        raise AssertionError("the plan breaks its own rules: " + "; ".join(broken[:5]))
    return Planned(problem, greedy, best)
