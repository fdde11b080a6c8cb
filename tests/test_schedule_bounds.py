"""The proven bounds: valid below every optimum, and tight where the answer is known by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import Point, box

from sapper.model.enums import Contamination, ItemCategory, LandUse, Method, TeamKind
from sapper.model.records import Hazard
from sapper.plan.problem import TICKS_PER_DAY, Problem, WorkSector, WorkTeam, build_problem
from sapper.plan.rules.methods import decide, load_rules
from sapper.plan.rules.productivity import load_productivity
from sapper.plan.scheduling.bounds import (
    MAX_BUCKETS,
    _fluid,
    cliques,
    fluid_bound,
    lower_bound,
    makespan_bound,
    refined_bound,
)
from sapper.plan.scheduling.clique_cuts import clique_bound, maximal_cliques
from sapper.plan.scheduling.cpsat import cpsat_schedule
from sapper.plan.scheduling.greedy import greedy_schedule, wspt_schedule

RULES, PROD = load_rules(), load_productivity()


def sector(index: int, geom, items: float, danger_m: float = 200.0, score: float = 50.0) -> WorkSector:
    hazard = Hazard(id=index + 1, name=f"H{index + 1}", land_use=LandUse.OPEN_GROUND, contamination=Contamination.UXO)
    decision = decide(hazard, geom, [], RULES, danger_m)
    items_by = {ItemCategory.UXO: items} if items else {}
    return WorkSector(index, index + 1, f"H{index + 1}-1", geom, geom.area, score, decision, items_by, 50.0, danger_m)


def two_teams() -> list[WorkTeam]:
    day = PROD.day(TeamKind.MANUAL)
    return [
        WorkTeam(i, i + 1, f"m{i}", TeamKind.MANUAL, (Method.MANUAL,), Point(0, -50), 2, 1.0, day) for i in range(2)
    ]


def ring_of_five() -> Problem:
    """Five small sectors on a pentagon, each within the safety distance of its two neighbours only
    (a 5-cycle of conflicts), and three manual teams: at most two sectors are worked at once."""
    corners = [(46 * math.cos(2 * math.pi * k / 5), 46 * math.sin(2 * math.pi * k / 5)) for k in range(5)]
    ring = [sector(i, box(x - 5, y - 5, x + 5, y + 5), items=0.0) for i, (x, y) in enumerate(corners)]
    day = PROD.day(TeamKind.MANUAL)
    teams = [WorkTeam(i, i + 1, f"m{i}", TeamKind.MANUAL, (Method.MANUAL,), Point(0, 0), 2, 1.0, day) for i in range(3)]
    return build_problem(ring, teams, PROD, {})


def test_sectors_that_exclude_each_other_are_bounded_as_one_machine() -> None:
    # three equal sectors 5 m apart (50 m safety distance): one at a time whatever the teams, so the
    # optimum is one machine's, w * p * (1 + 2 + 3); the relaxation to identical teams sees 5/8 of it
    row = [sector(i, box(i * 35, 0, i * 35 + 30, 80), items=0.0) for i in range(3)]
    problem = build_problem(row, two_teams(), PROD, {})
    assert problem.conflicts == [(0, 1), (0, 2), (1, 2)] and cliques(problem) == [[0, 1, 2]]
    p = min(o.ticks for o in problem.options[0]) / TICKS_PER_DAY  # the three differ by a few minutes' drive
    plan = cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=5)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(problem.weight(0) * p * 6, rel=1e-3)
    optimum = plan.objective
    bound = fluid_bound(problem, max(s.end for s in plan.slots.values()))
    assert optimum * (1 - 1e-3) <= bound <= optimum * (1 + 1e-9)
    assert lower_bound(problem) == pytest.approx(optimum * 5 / 8, rel=1e-3)  # two identical machines: 3.75 w p
    assert makespan_bound(problem).serial_days == pytest.approx(plan.makespan_days, rel=1e-9)  # one after another
    assert plan.gap is not None and plan.gap < 1e-6


def test_a_sector_between_two_groups_of_neighbours_is_held_back_by_both() -> None:
    # five small sectors on a pentagon, each within the safety distance of its two neighbours
    # only (a 5-cycle of conflicts), three teams: at most two are worked at once, so the
    # optimum is w p (1 + 1 + 2 + 2 + 3). The partition into cliques {0, 1}, {2, 3}, {4} lets
    # the LP work 0, 2 and 4 together (7 w p); the maximal cliques grown from 1 and 4 do not
    problem = ring_of_five()
    assert problem.conflicts == [(0, 1), (0, 4), (1, 2), (2, 3), (3, 4)]
    assert cliques(problem) == [[0, 1], [2, 3], [4]]
    assert sorted(maximal_cliques(problem, [dict.fromkeys(range(5), 1.0)])) == [[0, 1], [0, 4], [1, 2], [2, 3]]
    p = {o.ticks for s in problem.workable for o in problem.options[s]}
    assert len(p) == 1  # the same duration whichever team (all start from the centre)
    wp = problem.weight(0) * p.pop() / TICKS_PER_DAY
    plan = cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=5)
    assert plan.status == "optimal" and plan.objective == pytest.approx(9 * wp, rel=1e-6)
    horizon = max(s.end for s in plan.slots.values())
    partition = max(fluid_bound(problem, horizon), refined_bound(problem, horizon, 10.0))
    assert partition <= 7 * wp * (1 + 1e-6)
    tighter = clique_bound(problem, horizon, buckets=10)
    assert 7.3 * wp <= tighter <= plan.objective * (1 + 1e-9)
    assert plan.bound is not None and plan.bound >= tighter * (1 - 1e-9)  # the plan carries the better proof


@pytest.mark.parametrize("seed", range(4))
def test_the_bound_is_below_the_proven_optimum(seed: int) -> None:
    # small towns with blasts, danger areas and safety distances, solved to optimality by CP-SAT
    rng = np.random.default_rng(seed)
    sectors = []
    for i in range(6):
        x, y = float(rng.uniform(0, 600)), float(rng.uniform(0, 300))
        w = float(rng.uniform(10, 30))
        items, danger, score = float(rng.integers(0, 2)), float(rng.uniform(50, 300)), float(rng.uniform(20, 80))
        sectors.append(sector(i, box(x, y, x + w, y + 80), items, danger, score))
    problem = build_problem(sectors, two_teams(), PROD, {})
    plan = cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=10)
    assert plan.status == "optimal"
    horizon = max(s.end for s in plan.slots.values())
    assert fluid_bound(problem, horizon) <= plan.objective * (1 + 1e-9)
    assert lower_bound(problem) <= plan.objective * (1 + 1e-9)
    # the LP with maximal cliques: below the optimum, never below the partition's LP on the same buckets
    tighter = clique_bound(problem, horizon, buckets=10)
    assert fluid_bound(problem, horizon, buckets=10) * (1 - 1e-6) <= tighter <= plan.objective * (1 + 1e-9)


def mixed_town(seed: int, count: int, spread: float) -> list[WorkSector]:
    """Sectors some of which only a manual team may work (IED in houses), the rest robots and dogs too."""
    rng = np.random.default_rng(seed)
    kinds = [
        (LandUse.RESIDENTIAL, Contamination.UXO),  # manual or robot
        (LandUse.RESIDENTIAL, Contamination.IED),  # manual only
        (LandUse.OPEN_GROUND, Contamination.UXO),  # any search method
    ]
    out = []
    for i in range(count):
        use, contamination = kinds[int(rng.integers(0, len(kinds)))]
        x, y = float(rng.uniform(0, spread)), float(rng.uniform(0, spread / 2))
        geom = box(x, y, x + 30, y + 80)
        hazard = Hazard(id=i + 1, name=f"H{i + 1}", land_use=use, contamination=contamination)
        danger = float(rng.uniform(50, 300))
        decision = decide(hazard, geom, [], RULES, danger)
        items = {ItemCategory.UXO: float(rng.integers(0, 3))}
        score = float(rng.uniform(20, 80))
        out.append(WorkSector(i, i + 1, f"H{i + 1}-1", geom, geom.area, score, decision, items, 50.0, danger))
    return out


def mixed_teams() -> list[WorkTeam]:
    """One manual team, one robot, one dog team: the same sector takes them days apart."""
    kinds = [(TeamKind.MANUAL, (Method.MANUAL,)), (TeamKind.ROBOT, (Method.ROBOT,)), (TeamKind.DOG, (Method.DOG,))]
    return [
        WorkTeam(i, i + 1, kind.value, kind, methods, Point(0, -50), 4, 1.0, PROD.day(kind))
        for i, (kind, methods) in enumerate(kinds)
    ]


@pytest.mark.parametrize("seed", range(3))
def test_bounds_and_plans_sit_either_side_of_the_proven_optimum_with_teams_of_mixed_kinds(seed: int) -> None:
    # manual-only sectors take a manual team days, the others a robot hours: the team each goes to matters
    problem = build_problem(mixed_town(seed, 7, 700.0), mixed_teams(), PROD, {})
    assert len({len(problem.options[s]) for s in problem.workable}) > 1  # some sectors have fewer teams
    plan = cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=20)
    assert plan.status == "optimal"
    optimum = plan.objective
    horizon = max(s.end for s in plan.slots.values())
    bounds = [lower_bound(problem), fluid_bound(problem, horizon), refined_bound(problem, horizon, 10.0)]
    bounds.append(clique_bound(problem, horizon, buckets=10))
    assert bounds[-1] >= fluid_bound(problem, horizon, buckets=10) * (1 - 1e-6)
    assert max(bounds) > 0.0
    assert all(b <= optimum * (1 + 1e-9) for b in bounds), (bounds, optimum)
    assert plan.bound is not None and plan.bound <= optimum * (1 + 1e-9)
    floor = makespan_bound(problem)
    assert floor.days > 0.0
    for heuristic in (greedy_schedule(problem), wspt_schedule(problem), plan):
        assert heuristic.objective >= max(bounds) * (1 - 1e-9)
        assert heuristic.makespan_days >= floor.days - 1e-9


def test_a_small_budget_still_proves_more_than_the_simple_bound() -> None:
    # the budget is shared out in advance; when the first (smallest) share cuts the LP short,
    # its time goes to the next solve instead of giving up with the simple bound
    problem = build_problem(mixed_town(0, 60, 2000.0), mixed_teams(), PROD, {})
    horizon = max(s.end for s in wspt_schedule(problem).slots.values())
    budget = next(
        t
        for t in (0.4, 0.6, 0.8, 1.2, 1.6, 2.4, 3.2, 4.8, 6.4)
        if fluid_bound(problem, horizon, time_limit_s=0.15 * t) == 0.0
        and fluid_bound(problem, horizon, time_limit_s=0.55 * t) > 0.0
    )
    assert refined_bound(problem, horizon, budget) == pytest.approx(fluid_bound(problem, horizon), rel=1e-9)
    assert refined_bound(problem, horizon, budget) > lower_bound(problem)


def test_a_solve_cut_short_goes_on_where_it_stopped() -> None:
    # refined_bound gives each share of its budget to the same LP in turn: a share too short to solve it
    # alone finishes it after the share before, so a small budget's first share is not lost (an LP solved
    # from the start at each call would fail the second time as it did the first)
    problem = build_problem(mixed_town(0, 60, 2000.0), mixed_teams(), PROD, {})
    horizon = max(s.end for s in wspt_schedule(problem).slots.values())
    optimum = fluid_bound(problem, horizon)
    for part in (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28):
        lp = _fluid(problem, horizon, MAX_BUCKETS, 30_000)
        if lp.solve(part) > 0.0:
            break  # solved from the start in one part: too late to see it go on
        if (value := lp.solve(part)) > 0.0:
            assert value == pytest.approx(optimum, rel=1e-9)
            return
    pytest.fail("no part of the time too short alone that a second one of the same length finished")
