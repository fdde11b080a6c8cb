"""The proven bounds: valid below every optimum, and tight where the answer is known by hand."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Point, box

from sapper.model.enums import Contamination, ItemCategory, LandUse, Method, TeamKind
from sapper.model.records import Hazard
from sapper.plan.bounds import cliques, fluid_bound, lower_bound
from sapper.plan.cpsat import cpsat_schedule
from sapper.plan.greedy import greedy_schedule
from sapper.plan.methods import decide, load_rules
from sapper.plan.problem import TICKS_PER_DAY, WorkSector, WorkTeam, build_problem
from sapper.plan.productivity import load_productivity

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
    assert plan.gap is not None and plan.gap < 1e-6


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
    assert fluid_bound(problem, max(s.end for s in plan.slots.values())) <= plan.objective * (1 + 1e-9)
    assert lower_bound(problem) <= plan.objective * (1 + 1e-9)
