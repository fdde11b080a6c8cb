"""Demolition danger areas in the schedule: known answers for every planner, and the checker that catches a breach."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest
from shapely.geometry import Point, box

from sapper.model.enums import Contamination, ItemCategory, LandUse, Method, SiteKind, TeamKind
from sapper.model.records import Hazard, ProtectedSite
from sapper.plan.problem import WorkSector, WorkTeam, build_problem, find_danger_pairs, needs_demolition
from sapper.plan.rules.datafiles import Triangular
from sapper.plan.rules.methods import decide, load_rules
from sapper.plan.rules.productivity import SearchRate, load_productivity
from sapper.plan.rules.safety import load_safety
from sapper.plan.scheduling.cpsat import cpsat_schedule
from sapper.plan.scheduling.greedy import greedy_schedule, wspt_schedule
from sapper.plan.scheduling.schedule import Schedule, Slot, check

RULES, SAFETY = load_rules(), load_safety()
BASE = load_productivity()
PROD = dataclasses.replace(
    BASE,
    search={**BASE.search, Method.MANUAL: SearchRate("m2_per_person_day", Triangular(20, 20, 20), "test")},
    terrain={},
    sector_sigma=0.0,
)
SAFETY_FILE = Path(__file__).resolve().parents[1] / "sapper" / "plan" / "rules" / "data" / "safety.toml"
R = 200.0  # danger radius of the demolition sector, metres; the safety distance (50 m) is far below R / 2


def sector(index: int, geom, items: float, danger_m: float = R, sites=()) -> WorkSector:
    hazard = Hazard(id=index + 1, name=f"H{index + 1}", land_use=LandUse.OPEN_GROUND, contamination=Contamination.UXO)
    decision = decide(hazard, geom, list(sites), RULES, danger_m)
    return WorkSector(
        index,
        index + 1,
        f"H{index + 1}-1",
        geom,
        geom.area,
        50.0,
        decision,
        {ItemCategory.UXO: items} if items else {},
        safety_m=SAFETY.working_distance(hazard.contamination, [Method.MANUAL]),
        danger_m=danger_m if items else 0.0,
        land_use=LandUse.OPEN_GROUND,
    )


def two_teams() -> list[WorkTeam]:
    return [
        WorkTeam(
            i,
            i + 1,
            f"manual {i + 1}",
            TeamKind.MANUAL,
            (Method.MANUAL,),
            Point(0, -50),
            2,
            1.0,
            PROD.day(TeamKind.MANUAL),
        )
        for i in range(2)
    ]


def plans(problem):
    greedy = greedy_schedule(problem)
    return [greedy, wspt_schedule(problem), cpsat_schedule(problem, greedy, time_limit_s=2)]


@pytest.mark.parametrize(("gap", "apart"), [(R / 2, True), (2 * R, False)])
def test_nothing_is_worked_inside_a_demolition_danger_area(gap: float, apart: bool) -> None:
    blast = sector(0, box(0, 0, 30, 80), items=2.0)
    other = sector(1, box(30 + gap, 0, 60 + gap, 80), items=0.0)  # no items: no danger area of its own
    assert needs_demolition(blast) and not needs_demolition(other)
    problem = build_problem([blast, other], two_teams(), PROD, {})
    assert problem.danger == ({(0, 1)} if apart else set())
    assert problem.conflicts == ([(0, 1)] if apart else [])
    one = max(o.ticks for s in (0, 1) for o in problem.options[s])
    for plan in plans(problem):
        assert check(problem, plan) == [], plan.solver
        a, b = plan.slots[0], plan.slots[1]
        overlap = a.start < b.end and b.start < a.end
        assert overlap is not apart, plan.solver
        # two teams: side by side when allowed (one sector's time), one after the other when not
        if apart:
            assert plan.makespan_days * 48 >= (b.end - b.start) + (a.end - a.start)
        else:
            assert plan.makespan_days * 48 <= one


def test_the_checker_names_a_breach_of_the_danger_area() -> None:
    blast = sector(0, box(0, 0, 30, 80), items=1.0)
    other = sector(1, box(130, 0, 160, 80), items=0.0)
    problem = build_problem([blast, other], two_teams(), PROD, {})
    slots = {s: Slot(s, s, Method.MANUAL, 0, problem.option(s, s).ticks) for s in (0, 1)}
    broken = check(problem, Schedule(slots, "by hand", "test", 0.0))
    assert broken == ["H1-1 and H2-1 are worked at once (H2-1 is 100 m from H1-1, in its 200 m demolition danger area)"]


def test_no_danger_area_where_items_are_rendered_safe_and_removed() -> None:
    # a monument within the danger radius forbids the blast (methods.toml): items are removed, nobody stands off
    temple = ProtectedSite(name="Temple", kind=SiteKind.MONUMENT, geometry=Point(15, 250), buffer_m=20)
    blast = sector(0, box(0, 0, 30, 80), items=2.0, sites=[temple])
    assert blast.decision.disposal == Method.RENDER_SAFE_REMOVE and not needs_demolition(blast)
    other = sector(1, box(130, 0, 160, 80), items=0.0)
    problem = build_problem([blast, other], two_teams(), PROD, {})
    assert problem.danger == set()
    for plan in plans(problem):
        assert check(problem, plan) == []
        assert plan.slots[0].start < plan.slots[1].end and plan.slots[1].start < plan.slots[0].end


def test_danger_pairs_are_exactly_the_sectors_within_the_radius() -> None:
    # a row of sectors at growing gaps, some needing demolitions with their own radii: compare with every pair
    xs = [0, 45, 140, 260, 420, 700, 760, 1100]
    radii = [200.0, 0.0, 120.0, 0.0, 300.0, 0.0, 50.0, 0.0]
    row = [
        sector(i, box(x, 0, x + 30, 80), items=1.0 if r else 0.0, danger_m=r) for i, (x, r) in enumerate(zip(xs, radii))
    ]
    expected = set()
    for a, b in itertools.combinations(row, 2):
        gap = a.geometry.distance(b.geometry)
        if any(needs_demolition(s) and gap < s.danger_m for s in (a, b)):
            expected.add((a.index, b.index))
    assert set(find_danger_pairs(row)) == expected
    assert (0, 2) in expected and (4, 6) not in expected  # 310 m from a 300 m area; 3 m less would be in


def test_danger_areas_can_be_left_to_a_daily_firing_window(tmp_path) -> None:
    # safety.toml keep_clear = false: demolitions fired after every team has withdrawn; no pairs, side by side
    text = (SAFETY_FILE.read_text()).replace("keep_clear = true", "keep_clear = false")
    (tmp_path / "safety.toml").write_text(text)
    assert load_safety(tmp_path / "safety.toml").keep_clear is False and SAFETY.keep_clear is True
    blast = sector(0, box(0, 0, 30, 80), items=2.0)
    other = sector(1, box(130, 0, 160, 80), items=0.0)
    problem = build_problem([blast, other], two_teams(), PROD, {}, keep_clear=False)
    assert problem.danger == set() and problem.conflicts == []
    plan = wspt_schedule(problem)
    assert check(problem, plan) == [] and plan.slots[0].start == plan.slots[1].start == 0


def test_the_list_schedule_fills_a_gap_a_team_left_while_it_waited() -> None:
    # one team blasts; the other waits for it next door, and meanwhile works a small sector far away (backfilling)
    blast = dataclasses.replace(sector(0, box(0, 0, 30, 80), items=2.0), score=90.0)
    near = dataclasses.replace(sector(1, box(130, 0, 145, 80), items=0.0), score=70.0)  # half the work
    far = dataclasses.replace(sector(2, box(1000, 0, 1015, 80), items=0.0), score=10.0)
    second = dataclasses.replace(two_teams()[1], base=Point(200, -50))  # nearer the near sector: it takes that one
    problem = build_problem([blast, near, far], [two_teams()[0], second], PROD, {})
    plan = wspt_schedule(problem)
    assert check(problem, plan) == []
    first, waits, filler = plan.slots[0], plan.slots[1], plan.slots[2]
    assert waits.team != first.team and waits.start == first.end  # the near sector waits for the blast sector
    assert filler.team == waits.team and filler.start == 0 and filler.end <= waits.start  # done in the wait
