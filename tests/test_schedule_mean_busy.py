"""The bound by mean busy times: below every proven optimum, and it sees what the bucketed LPs leave out."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box
from test_schedule_bounds import PROD, RULES, mixed_teams, mixed_town, ring_of_five, sector, two_teams

from sapper.model.enums import Contamination, ItemCategory, LandUse
from sapper.model.records import Hazard
from sapper.plan.problem import TICKS_PER_DAY, WorkSector, build_problem
from sapper.plan.rules.methods import decide
from sapper.plan.scheduling.bounds import fluid_bound, lower_bound, refined_bound
from sapper.plan.scheduling.clique_cuts import clique_bound
from sapper.plan.scheduling.cpsat import cpsat_schedule
from sapper.plan.scheduling.greedy import greedy_schedule
from sapper.plan.scheduling.mean_busy import mean_busy_bound
from sapper.plan.scheduling.schedule import check


def road_sector(index: int, geom, score: float) -> WorkSector:
    hazard = Hazard(id=index + 1, name=f"H{index + 1}", land_use=LandUse.ROAD, contamination=Contamination.UXO)
    decision = decide(hazard, geom, [], RULES, 0.0)
    return WorkSector(index, index + 1, f"H{index + 1}-1", geom, geom.area, score, decision, {}, 50.0, 0.0)


def test_a_road_that_goes_first_holds_back_the_quarter_behind_it_in_the_bound() -> None:
    # a long, low-priority road leads to a small, valuable quarter 2 km away: two teams, but the
    # quarter waits for the road, so the optimum is w_r p_r + w_q (p_r + p_q). The bucketed LPs
    # leave roads out and let both start at once; the mean busy times keep the order.
    road = road_sector(0, box(0, 0, 30, 400), score=30.0)
    quarter = sector(1, box(2000, 0, 2010, 40), items=0.0, danger_m=0.0, score=90.0)
    problem = build_problem([road, quarter], two_teams(), PROD, {1: [2]})
    assert problem.precedence == [(1, 2)] and problem.conflicts == []
    plan = cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=5)
    assert plan.status == "optimal"
    p_road = min(o.ticks for o in problem.options[0]) / TICKS_PER_DAY
    p_quarter = min(o.ticks for o in problem.options[1]) / TICKS_PER_DAY
    by_hand = problem.weight(0) * p_road + problem.weight(1) * (p_road + p_quarter)
    assert plan.objective == pytest.approx(by_hand, rel=1e-9)
    horizon = max(s.end for s in plan.slots.values())
    old = max(lower_bound(problem), refined_bound(problem, horizon, 10.0), clique_bound(problem, horizon))
    assert old < 0.5 * plan.objective  # the quarter as if it started at once
    assert mean_busy_bound(problem) == pytest.approx(plan.objective, rel=1e-9)
    assert plan.bound == pytest.approx(plan.objective, rel=1e-9) and plan.gap == pytest.approx(0.0, abs=1e-9)
    # in rolling windows (a large problem's way) CP-SAT proves nothing: the plan's bound is the relaxations' alone
    windowed = cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=5, window=1)
    assert "windows" in windowed.status and windowed.objective == pytest.approx(by_hand, rel=1e-9)
    assert windowed.bound == pytest.approx(by_hand, rel=1e-9)


def test_sectors_that_wait_for_a_survey_are_worked_one_at_a_time_from_its_end() -> None:
    # a survey far away, then three neighbouring sectors (within the safety distance of one another)
    # that wait for it: the optimum is one machine's from the survey's end, which the bound proves
    # whole (Queyranne's inequalities shifted by the earliest start of the set)
    survey = sector(0, box(3000, 0, 3030, 80), items=0.0, danger_m=0.0, score=90.0)
    row = [sector(i, box(i * 35, 0, i * 35 + 30, 80), items=0.0, danger_m=0.0, score=50 + 10 * i) for i in (1, 2, 3)]
    problem = build_problem([survey, *row], two_teams(), PROD, {}, sequence=[(0, 1), (0, 2), (0, 3)])
    assert problem.conflicts == [(1, 2), (1, 3), (2, 3)] and len(problem.sequence) == 3
    plan = cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=5)
    assert plan.status == "optimal" and check(problem, plan) == []
    assert min(plan.slots[s].start for s in (1, 2, 3)) >= plan.slots[0].end
    assert mean_busy_bound(problem) == pytest.approx(plan.objective, rel=1e-3)
    assert plan.gap is not None and plan.gap < 1e-3


def test_a_ring_of_five_neighbours_is_held_back_by_every_pair() -> None:
    # five small sectors on a pentagon, each within the safety distance of its two neighbours only,
    # three teams: at most two are worked at once, the optimum is 9 w p. One partition into cliques
    # lets the bucketed LP work three at once (at most 7 w p); Queyranne's inequality on every
    # conflicting pair (p M_i + p M_j >= 2 p^2) adds up to 7.5 w p
    problem = ring_of_five()
    assert len(problem.conflicts) == 5
    ticks = {o.ticks for s in problem.workable for o in problem.options[s]}
    wp = problem.weight(0) * ticks.pop() / TICKS_PER_DAY
    plan = cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=5)
    assert plan.status == "optimal" and plan.objective == pytest.approx(9 * wp, rel=1e-6)
    horizon = max(s.end for s in plan.slots.values())
    assert max(fluid_bound(problem, horizon), refined_bound(problem, horizon, 10.0)) <= 7 * wp * (1 + 1e-6)
    assert mean_busy_bound(problem) == pytest.approx(7.5 * wp, rel=1e-6)
    assert plan.bound is not None and plan.bound >= 7.5 * wp * (1 - 1e-6)


def random_town(seed: int) -> tuple[list[WorkSector], dict[int, list[int]]]:
    """Six sectors with blasts, danger areas, safety distances and a road that goes first."""
    rng = np.random.default_rng(seed)
    sectors = []
    for i in range(6):
        x, y = float(rng.uniform(0, 600)), float(rng.uniform(0, 300))
        w = float(rng.uniform(10, 30))
        items, danger, score = float(rng.integers(0, 2)), float(rng.uniform(50, 300)), float(rng.uniform(20, 80))
        sectors.append(sector(i, box(x, y, x + w, y + 80), items, danger, score))
    road, after = (int(k) + 1 for k in rng.choice(6, 2, replace=False))
    return sectors, {road: [after]}


@pytest.mark.parametrize("seed", range(6))
def test_the_bound_is_below_the_proven_optimum_with_roads_and_danger_areas(seed: int) -> None:
    sectors, roads = random_town(seed)
    problem = build_problem(sectors, two_teams(), PROD, roads)
    assert problem.precedence and problem.conflicts
    plan = cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=10)
    assert plan.status == "optimal"
    bound = mean_busy_bound(problem)
    assert 0.0 < bound <= plan.objective * (1 + 1e-9)
    assert plan.bound is not None and bound * (1 - 1e-9) <= plan.bound <= plan.objective * (1 + 1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_the_bound_is_below_the_proven_optimum_with_teams_of_mixed_kinds(seed: int) -> None:
    # a manual team, a robot and a dog team: sectors only some of them may work are bounded as that many machines
    problem = build_problem(mixed_town(seed, 7, 700.0), mixed_teams(), PROD, {})
    plan = cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=20)
    assert plan.status == "optimal"
    assert 0.0 < mean_busy_bound(problem) <= plan.objective * (1 + 1e-9)


def test_the_same_problem_gives_the_same_bound_and_too_little_time_proves_nothing() -> None:
    problem = build_problem(mixed_town(0, 60, 2000.0), mixed_teams(), PROD, {})
    assert any(problem.sectors[s].items.get(ItemCategory.UXO) for s in problem.workable)
    first = mean_busy_bound(problem, time_limit_s=5.0)
    assert first > lower_bound(problem)
    assert mean_busy_bound(problem, time_limit_s=5.0) == first
    assert mean_busy_bound(problem, time_limit_s=1e-4) in (0.0, first)


def test_the_officers_plan_waits_for_a_survey_in_a_hazard_of_lower_priority() -> None:
    # the survey's hazard scores below the three sectors that wait for it: the officer's plan takes
    # hazards by score, and must still hold the three back until the survey is done
    survey = sector(0, box(3000, 0, 3030, 80), items=0.0, danger_m=0.0, score=10.0)
    row = [sector(i, box(i * 35, 0, i * 35 + 30, 80), items=0.0, danger_m=0.0, score=50 + 10 * i) for i in (1, 2, 3)]
    problem = build_problem([survey, *row], two_teams(), PROD, {}, sequence=[(0, 1), (0, 2), (0, 3)])
    plan = greedy_schedule(problem)
    assert check(problem, plan) == []
    assert min(plan.slots[s].start for s in (1, 2, 3)) >= plan.slots[0].end
    assert check(problem, cpsat_schedule(problem, plan, time_limit_s=5)) == []
