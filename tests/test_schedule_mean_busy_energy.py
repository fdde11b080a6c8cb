"""Energy cuts: teams counted at their speed bound the schedule higher, and never above a proven optimum."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Point, box

from sapper.model.enums import Contamination, LandUse, Method, TeamKind
from sapper.model.records import Hazard
from sapper.plan.problem import Option, Problem, WorkSector, WorkTeam
from sapper.plan.rules.methods import decide, load_rules
from sapper.plan.rules.productivity import load_productivity
from sapper.plan.scheduling import mean_busy
from sapper.plan.scheduling.cpsat import cpsat_schedule
from sapper.plan.scheduling.energy_cuts import energy_pools, relative_speeds, team_pools
from sapper.plan.scheduling.greedy import greedy_schedule
from sapper.plan.scheduling.schedule import check
from sapper.plan.scheduling.synthetic import synthetic_problem

RULES, PROD = load_rules(), load_productivity()


def equal_pools(problem: Problem, sectors: list[int], p: np.ndarray, w: np.ndarray) -> list:
    """The pools as they were: |T| machines, each as fast as the fastest team on every sector."""
    return [(members, p[members], float(len(teams))) for teams, members in team_pools(problem, sectors)]


def robot_and_manual_team(days: list[tuple[float, float]]) -> Problem:
    """Sectors 5 km apart (no conflicts), one hectare of score 50 each (weight 1), a robot and a
    manual team: sector k takes the robot days[k][0] and the manual team days[k][1] working days."""
    sectors, options = [], []
    for k, (robot, manual) in enumerate(days):
        geom = box(k * 5000.0, 0.0, k * 5000.0 + 100.0, 100.0)
        hazard = Hazard(id=k + 1, name=f"H{k + 1}", land_use=LandUse.RESIDENTIAL, contamination=Contamination.UXO)
        decision = decide(hazard, geom, [], RULES, 0.0)
        assert {Method.ROBOT, Method.MANUAL} <= set(decision.allowed)
        sectors.append(WorkSector(k, k + 1, f"H{k + 1}-1", geom, 10_000.0, 50.0, decision, {}, 25.0, 0.0))
        # 8 hours of search in an 8-hour day: exactly one day per 8 hours, no rounding to ticks
        options.append(
            [Option(0, Method.ROBOT, 8.0 * robot, 0.0, 8.0, 0.0), Option(1, Method.MANUAL, 8.0 * manual, 0.0, 8.0, 0.0)]
        )
    teams = [
        WorkTeam(0, 1, "robot", TeamKind.ROBOT, (Method.ROBOT,), Point(0, 0), 4, 1.0, PROD.day(TeamKind.ROBOT)),
        WorkTeam(1, 2, "manual", TeamKind.MANUAL, (Method.MANUAL,), Point(0, 0), 4, 1.0, PROD.day(TeamKind.MANUAL)),
    ]
    return Problem(sectors, teams, options, [], [])


def test_a_team_ten_times_slower_counts_as_a_tenth_of_a_team(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two sectors, each 1 day for the robot and 10 for the manual team. The optimum sends both to
    # the robot: finishes 1 + 2 = 3 (the manual team on one of them finishes it at 10).
    # As two machines as fast as the robot (the pools before) the bound is 2: M1 + M2 >= 2^2 / (2 x 2) = 1,
    # plus half of each duration. At speeds 1 and 1/10 (medians of 1 and 10 times the fastest) each
    # sector's energy is min(1 x 1, 0.1 x 10) = 1 against a capacity of 1.1 a day:
    # M1 + M2 >= 2^2 / (2 x 1.1) = 20/11, so the bound is 20/11 + 1 = 31/11 = 2.818.
    problem = robot_and_manual_team([(1.0, 10.0), (1.0, 10.0)])
    speed = relative_speeds(problem, problem.workable, np.arange(2), np.array([1.0, 1.0]))
    assert speed == pytest.approx({0: 1.0, 1: 0.1})
    plan = cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=5)
    assert plan.status == "optimal" and check(problem, plan) == []
    assert plan.objective == pytest.approx(3.0, rel=1e-9)
    assert mean_busy.mean_busy_bound(problem) == pytest.approx(31.0 / 11.0, rel=1e-9)
    monkeypatch.setattr(mean_busy, "energy_pools", equal_pools)
    assert mean_busy.mean_busy_bound(problem) == pytest.approx(2.0, rel=1e-9)


def test_energies_use_each_sectors_cheapest_team_at_its_speed() -> None:
    # a sector the manual team works as fast as the robot has energy min(1 x 2, 0.1 x 2) = 0.2:
    # any team may take it, so only its cheapest energy is sure. On their own these inequalities prove
    # more than two machines as fast as the robot (Smith's order: 1 + 0.636 + 1.545 = 3.18 mean busy
    # days against 0.5 + 0.75 + 1.5 = 2.75), so the pool is bounded at the teams' speeds
    problem = robot_and_manual_team([(1.0, 10.0), (1.0, 10.0), (2.0, 2.0)])
    p = np.array([1.0, 1.0, 2.0])
    [(members, energy, capacity)] = energy_pools(problem, problem.workable, p, np.ones(3))
    # speeds: the robot's ratios 1, 1, 1 (median 1); the manual team's 10, 10, 1 (median 10)
    assert list(members) == [0, 1, 2] and capacity == pytest.approx(1.1)
    assert list(energy) == pytest.approx([1.0, 1.0, 0.2])


def test_a_pool_stays_equal_machines_where_the_speeds_would_prove_less() -> None:
    # the manual team is as fast as the robot on three sectors and ten times slower on four: its median
    # speed 0.1 leaves those three an energy of 0.1 each. On their own the speeds prove 9.86 mean busy
    # days in Smith's order (0.5 x 3 + 0.727 + 1.636 + 2.545 + 3.455), two equal machines 12.5
    # (0.5 + 0.75 + 1.25 + ... + 3.25): the pool keeps the equal machines
    problem = robot_and_manual_team([(1.0, 1.0)] * 3 + [(1.0, 10.0)] * 4)
    p = np.ones(7)
    [(_, energy, capacity)] = energy_pools(problem, problem.workable, p, np.ones(7))
    assert capacity == 2.0 and list(energy) == [1.0] * 7


# small towns of the benchmark that CP-SAT solves whole to a proven optimum within seconds
PROVEN = [(3, 6, 2, True), (3, 6, 3, False), (3, 6, 4, False), (3, 8, 1, False), (3, 8, 2, False), (4, 8, 2, False)]
RAISED = {(3, 8, 1, False), (3, 8, 2, False), (4, 8, 2, False)}  # where the speeds prove more (measured)


@pytest.mark.parametrize(("teams", "sectors", "seed", "danger"), PROVEN)
def test_the_energy_bound_lies_between_the_old_bound_and_the_proven_optimum(
    monkeypatch: pytest.MonkeyPatch, teams: int, sectors: int, seed: int, danger: bool
) -> None:
    problem = synthetic_problem(teams, sectors, seed, danger)
    plan = cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=60, window=100)
    assert plan.status == "optimal" and check(problem, plan) == []
    bound = mean_busy.mean_busy_bound(problem)
    monkeypatch.setattr(mean_busy, "energy_pools", equal_pools)
    old = mean_busy.mean_busy_bound(problem)
    assert 0.0 < old * (1 - 1e-9) <= bound <= plan.objective * (1 + 1e-9)
    if (teams, sectors, seed, danger) in RAISED:
        assert bound > old * 1.05
