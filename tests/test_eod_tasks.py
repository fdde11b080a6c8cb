"""Every team's real work: EOD teams empty depots and dispose of items as their own tasks, a
demolition's danger area binds only while it is fired, idle team-days are told with a
reason, and methods the reports show where the rules forbid them are listed (and may be
accepted)."""

from __future__ import annotations

from datetime import date

from shapely.geometry import Point, box

from sapper.model.enums import ActivityType, Contamination, HazardClass, HazardStatus, LandUse, Method, TeamKind
from sapper.model.geometry import to_wgs84
from sapper.model.records import Hazard, Report, Team
from sapper.plan.build import Inputs, Settings, make_plan
from sapper.plan.notes.idle import idle_days
from sapper.plan.notes.tail import longest_alone, tail_words
from sapper.plan.problem import needs_demolition

EPSG = 32637
X0, Y0 = 720_000.0, 3_830_000.0


def wgs(geom):
    return to_wgs84(geom, EPSG)


def hazard(hid, x, contamination, use=LandUse.OPEN_GROUND, items=0, w=200.0, h=100.0) -> Hazard:
    shape = box(X0 + x, Y0, X0 + x + w, Y0 + h)
    return Hazard(
        id=hid,
        name=f"hazard {hid}",
        geometry=wgs(shape),
        hazard_class=HazardClass.CHA,
        status=HazardStatus.CONFIRMED,
        contamination=contamination,
        land_use=use,
        estimated_items=items,
        original_area_m2=shape.area,
    )


def team(tid, name, kind, **kw) -> Team:
    return Team(id=tid, name=name, kind=kind, geometry=wgs(Point(X0 - 100, Y0 - 100)), **kw)


EOD = team(
    1, "EOD team 1", TeamKind.EOD, personnel=4, capabilities=(Method.RENDER_SAFE_REMOVE, Method.DESTRUCTION_IN_PLACE)
)
SAPPERS = team(2, "Sapper section 1", TeamKind.MANUAL, personnel=10, capabilities=(Method.MANUAL, Method.BAC))


def plan(hazards, teams, reports=(), **options):
    inputs = Inputs(hazards=hazards, teams=teams, reports=list(reports))
    return make_plan(inputs, Settings(start=date(2016, 4, 11), time_limit_s=2.0, runs=200, lanes=False, **options))


def test_a_depot_is_bulk_removal_by_eod_teams():
    depot = hazard(1, 0, Contamination.AXO, LandUse.INDUSTRIAL, items=3000, w=100.0)  # 1 ha, 3,000 items
    result = plan([depot], [EOD, SAPPERS])
    tasks = [s for s in result.problem.sectors if s.hazard_id == 1]
    assert tasks and all(s.task == "eod" and not s.items for s in tasks)
    assert {result.problem.teams[slot.team].team_id for slot in result.schedule.slots.values()} == {1}
    # paced in items per team-day (data/survey.toml: 150), not item by item
    busy = sum(slot.end - slot.start for slot in result.schedule.slots.values()) / 48
    assert 15 <= busy <= 30


def test_eod_disposal_tasks_and_danger_only_while_a_demolition_is_fired():
    field = hazard(1, 0, Contamination.UXO, items=60)
    result = plan([field], [EOD, SAPPERS])
    problem = result.problem
    search = [s for s in problem.sectors if s.task == "clearance"]
    disposal = [s for s in problem.sectors if s.task == "eod"]
    assert search and disposal
    assert not any(needs_demolition(s) for s in search)  # searchers leave their items to the EOD team
    assert all(needs_demolition(s) for s in disposal)
    assert problem.danger and all(
        problem.sectors[i].task == "eod" or problem.sectors[j].task == "eod" for i, j in problem.danger
    )
    slots = result.schedule.slots
    assert all(problem.teams[slots[s.index].team].team_id == EOD.id for s in disposal)
    for a, b in problem.sequence:  # a block's disposal follows its search
        assert slots[b].start >= slots[a].end
    # the disposal share of the items' handling goes to the EOD team, the rest stays with the searchers
    total = sum(sum(s.items.values()) for s in problem.sectors)
    assert abs(total - 60) < 1e-6 and sum(sum(s.items.values()) for s in disposal) < total / 2


def test_idle_team_days_are_told_with_a_reason():
    road = hazard(1, 0, Contamination.UXO, LandUse.ROAD, items=0)
    robot = team(3, "Robot", TeamKind.ROBOT, personnel=3)
    dog = team(4, "Dog team", TeamKind.DOG, personnel=3)
    result = plan([road], [SAPPERS, robot, dog])
    idle = {result.problem.teams[i.team].name: i for i in idle_days(result.problem, result.schedule)}
    assert "Dog team" in idle and "nothing left its methods allow" in idle["Dog team"].reason  # dogs: no road work
    assert idle["Dog team"].days >= result.schedule.makespan_days - 1


def test_methods_the_reports_show_where_the_rules_forbid_them():
    road = hazard(1, 0, Contamination.MIXED, LandUse.ROAD)
    dog = team(4, "Dog team", TeamKind.DOG, personnel=3)
    reports = [
        Report(
            activity_type=ActivityType.ROUTE_CLEARANCE,
            report_date=date(2016, 4, d),
            hazard_id=1,
            team_id=4,
            area_m2=800,
        )
        for d in (2, 3, 4)
    ]
    ruled = plan([road], [SAPPERS, dog], reports)
    assert [(m.hazard_id, m.method, m.reports) for m in ruled.mismatches] == [(1, Method.DOG, 3)]
    assert "rules forbid" in ruled.mismatches[0].explain()
    assert all(ruled.problem.teams[s.team].team_id != 4 for s in ruled.schedule.slots.values())
    accepted = plan([road], [SAPPERS, dog], reports, accept_recorded_practice=True)
    dog_index = next(t.index for t in accepted.problem.teams if t.team_id == 4)
    assert any(o.team == dog_index for opts in accepted.problem.options for o in opts)  # the dogs may work the road
    assert not any(o.team == dog_index for opts in ruled.problem.options for o in opts)


def test_the_tail_is_told_in_an_officers_words():
    depot = hazard(1, 0, Contamination.AXO, LandUse.INDUSTRIAL, items=3000, w=100.0)
    field = hazard(2, 1000, Contamination.UXO, items=0, w=40.0, h=25.0)  # a few days for the sappers
    result = plan([depot, field], [EOD, SAPPERS])
    names = {h: hz.name for h, hz in result.hazards.items()}
    lines = tail_words(result.problem, result.schedule, result.calendar, names)
    assert lines[0].startswith("the last ") and "few teams are still at work" in lines[0]
    assert any("EOD team 1 empties the ammunition depot of hazard 1" in line for line in lines[1:])
    team, days = longest_alone(result.problem, result.schedule)
    assert result.problem.teams[team].name == "EOD team 1" and days >= 10
