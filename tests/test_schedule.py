"""Schedules on small cases with known answers: the greedy plan, CP-SAT, and the rules both keep."""

from __future__ import annotations

import dataclasses
import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from sapper.model.enums import Contamination, LandUse, Method, SiteKind, TeamKind
from sapper.model.records import Hazard, ProtectedSite
from sapper.plan.problem import TICKS_PER_DAY, WorkSector, WorkTeam, build_problem
from sapper.plan.rules.datafiles import Triangular
from sapper.plan.rules.methods import decide, load_rules
from sapper.plan.rules.productivity import SearchRate, load_productivity
from sapper.plan.rules.safety import load_safety
from sapper.plan.scheduling.cpsat import cpsat_schedule
from sapper.plan.scheduling.greedy import greedy_schedule, wspt_schedule
from sapper.plan.scheduling.schedule import check, objective_of
from sapper.plan.sectors import split_into_sectors

RULES, SAFETY = load_rules(), load_safety()
BASE = load_productivity()
# A deminer clears exactly 20 m2 a day here (no spread), so durations are known by hand.
PROD = dataclasses.replace(
    BASE,
    search={**BASE.search, Method.MANUAL: SearchRate("m2_per_person_day", Triangular(20, 20, 20), "test")},
    terrain={},
    sector_sigma=0.0,
)


def sectors_of(geoms, hazard_id=1, score=50.0, use=LandUse.OPEN_GROUND, sites=(), start=0):
    hazard = Hazard(id=hazard_id, name=f"H{hazard_id}", land_use=use, contamination=Contamination.UXO)
    out = []
    for i, geom in enumerate(geoms):
        decision = decide(hazard, geom, list(sites), RULES)
        safety = SAFETY.working_distance(hazard.contamination, [m for m in decision.allowed if m == Method.MANUAL])
        out.append(
            WorkSector(
                start + i,
                hazard_id,
                f"H{hazard_id}-{i + 1}",
                geom,
                geom.area,
                score,
                decision,
                safety_m=safety,
                land_use=use,
            )
        )
    return out


def teams(n, kind=TeamKind.MANUAL, methods=(Method.MANUAL,), base=Point(0, 0), personnel=2):
    return [
        WorkTeam(i, i + 1, f"{kind.value} {i + 1}", kind, methods, base, personnel, 1.0, PROD.day(kind))
        for i in range(n)
    ]


def test_a_rectangle_of_two_sectors_for_one_pair_of_deminers() -> None:
    parts = split_into_sectors(box(0, 0, 60, 80), width=30, length=80)
    assert sorted(round(p.area_m2) for p in parts) == [2400, 2400]
    base = Point(30, 40)  # on the line between the two sectors: no drive to either
    problem = build_problem(sectors_of([p.geometry for p in parts]), teams(1, base=base), PROD, {})
    # 2,400 m2 / (2 deminers x 20 m2) = 60 standard days = 420 h; a 7 h day less 0.5 h setting out
    # leaves 6.5 h: 64.6 days = 3,102 ticks of 1/48 day
    ticks = math.ceil(420 / 6.5 * TICKS_PER_DAY)
    assert [o.ticks for o in problem.options[0]] == [ticks]
    for plan in (greedy_schedule(problem), cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=2)):
        assert check(problem, plan) == []
        assert plan.makespan_days == pytest.approx(2 * ticks / TICKS_PER_DAY)


def test_two_teams_keep_their_distance() -> None:
    close = sectors_of([box(0, 0, 30, 80), box(40, 0, 70, 80)])  # 10 m apart, 50 m needed for UXO
    far = sectors_of([box(0, 0, 30, 80), box(400, 0, 430, 80)])
    for case, waits in ((close, True), (far, False)):
        problem = build_problem(case, teams(2), PROD, {})
        assert bool(problem.conflicts) is waits
        one = problem.options[0][0].ticks
        for plan in (greedy_schedule(problem), cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=2)):
            assert check(problem, plan) == []
            a, b = plan.slots[0], plan.slots[1]
            overlap = a.start < b.end and b.start < a.end
            assert overlap is not waits
            assert plan.makespan_days * TICKS_PER_DAY >= (2 * one if waits else one) - 1


def test_no_team_is_given_work_its_rules_forbid() -> None:
    temple = ProtectedSite(name="Temple", kind=SiteKind.MONUMENT, geometry=Point(15, 100), buffer_m=50)
    inside = sectors_of([box(0, 0, 30, 80)], use=LandUse.RESIDENTIAL, sites=[temple])
    outside = sectors_of([box(500, 0, 530, 80)], hazard_id=2, use=LandUse.RESIDENTIAL, start=1)
    robots = teams(1, TeamKind.ROBOT, (Method.ROBOT,))
    problem = build_problem(inside + outside, robots, PROD, {})
    assert 0 in problem.unworkable and "no robot" in problem.unworkable[0] and "Temple" in problem.unworkable[0]
    for plan in (greedy_schedule(problem), cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=1)):
        assert set(plan.slots) == {1} and plan.slots[1].method == Method.ROBOT
        assert check(problem, plan) == []


def test_a_road_is_finished_before_the_quarter_it_leads_to() -> None:
    road = sectors_of([box(0, 0, 30, 80)], hazard_id=1, score=40.0, use=LandUse.ROAD)
    quarter = sectors_of([box(500, 0, 530, 80), box(600, 0, 630, 80)], hazard_id=2, score=90.0, start=1)
    problem = build_problem(road + quarter, teams(2), PROD, {1: [2]})
    assert problem.precedence == [(1, 2)]
    for plan in (
        greedy_schedule(problem),
        wspt_schedule(problem),
        cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=2),
    ):
        assert check(problem, plan) == []
        assert min(plan.slots[1].start, plan.slots[2].start) >= plan.slots[0].end


def best_by_enumeration(problem) -> float:
    """The true optimum of a tiny problem with no conflicts: every split of sectors between teams,
    each team in Smith's order (optimal for one machine)."""
    best = math.inf
    sectors = problem.workable
    for owners in itertools.product(range(len(problem.teams)), repeat=len(sectors)):
        total = 0.0
        for team in range(len(problem.teams)):
            mine = [s for s, o in zip(sectors, owners, strict=True) if o == team]
            mine.sort(key=lambda s: -problem.weight(s) / problem.option(s, team).ticks)
            clock = 0
            for s in mine:
                clock += problem.option(s, team).ticks
                total += problem.weight(s) * clock / TICKS_PER_DAY
        best = min(best, total)
    return best


def test_cp_sat_finds_the_optimum_of_a_small_case_and_proves_it() -> None:
    geoms = [box(i * 500, 0, i * 500 + w, 80) for i, w in enumerate((30, 10, 20, 25, 5))]
    sectors = [s for i, g in enumerate(geoms) for s in sectors_of([g], hazard_id=i + 1, score=30 + 15 * i, start=i)]
    problem = build_problem(
        sectors, [*teams(2), dataclasses.replace(teams(1, personnel=6)[0], index=2, team_id=3)], PROD, {}
    )
    assert not problem.conflicts
    greedy = greedy_schedule(problem)
    plan = cpsat_schedule(problem, greedy, time_limit_s=10)
    assert check(problem, plan) == []
    optimum = best_by_enumeration(problem)
    assert plan.objective == pytest.approx(optimum, rel=1e-9)
    assert plan.objective <= greedy.objective + 1e-9
    assert plan.bound is not None and plan.bound <= plan.objective + 1e-6 and plan.gap < 1e-3


@settings(max_examples=8, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 2), st.integers(5, 30), st.floats(10, 90)), min_size=1, max_size=7
    ),
    st.integers(1, 3),
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=3),
)
def test_every_plan_keeps_every_rule(cells, n_teams, roads) -> None:
    seen, sectors = set(), []
    for col, row, width, score in cells:
        if (col, row) in seen:
            continue
        seen.add((col, row))
        geom = box(col * 40.0, row * 90.0, col * 40.0 + width, row * 90.0 + 80)
        sectors += sectors_of([geom], hazard_id=len(sectors) + 1, score=score, start=len(sectors))
    ids = [s.hazard_id for s in sectors]
    links: dict[int, list[int]] = {}
    for a, b in roads:
        first, then = ids[a % len(ids)], ids[b % len(ids)]
        if first < then:  # roads lead forward only: no cycles
            links.setdefault(first, []).append(then)
    problem = build_problem(sectors, teams(n_teams), PROD, links)
    greedy = greedy_schedule(problem)
    best = cpsat_schedule(problem, greedy, time_limit_s=0.5)
    for plan in (greedy, wspt_schedule(problem), best):
        assert check(problem, plan) == []
        assert plan.objective == pytest.approx(objective_of(problem, plan.slots))
    assert best.objective <= greedy.objective + 1e-9
    assert best.bound is not None and best.bound <= best.objective + 1e-6


def test_a_problem_solved_whole_keeps_its_deterministic_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """CP-SAT checks its budget only between batches of tasks, each task may spend what was left: solved
    whole, one task a batch, it stops within twice the budget (batches of three tasks per worker spent
    over six times it here, 1.27 for 0.2, seconds of wall time a short --time-limit did not ask for)."""
    from sapper.plan.scheduling import cpsat
    from sapper.plan.scheduling.synthetic import synthetic_problem

    solved: list[tuple[float, float]] = []  # (budget, deterministic time used), from the real solver

    def solve(*args, **kwargs):
        answer = real(*args, **kwargs)
        solved.append((args[6], answer[3]))
        return answer

    real = cpsat._solve
    monkeypatch.setattr(cpsat, "_solve", solve)
    problem = synthetic_problem(3, 42, 1, True)  # bench/schedule_bench.py's town, small enough to solve whole
    plan = cpsat_schedule(problem, greedy_schedule(problem), time_limit_s=1)
    assert check(problem, plan) == []
    ((budget, used),) = solved
    assert used <= 2 * budget, (budget, used)
