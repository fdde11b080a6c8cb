"""Survey before clearance: suspected land is surveyed (NTS, then TS) before any clearance, the
shares of land cancelled, reduced and cleared are learned from the register's releases, and
the forecast draws them."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
from shapely.geometry import Point, box

from sapper.model.enums import (
    ActivityType,
    Contamination,
    HazardClass,
    HazardStatus,
    LandUse,
    Method,
    ReleaseRoute,
    TeamKind,
)
from sapper.model.geometry import to_wgs84
from sapper.model.records import Hazard, Release, Report, Team
from sapper.plan.build import Inputs, Settings, make_plan
from sapper.plan.rules.methods import load_rules
from sapper.plan.rules.productivity import load_productivity
from sapper.plan.survey.rates import explain_rates, learn_survey_rates
from sapper.plan.survey.suspected import learn_outcomes, load_survey

EPSG = 32637  # UTM zone 37N (Palmyra)
X0, Y0 = 720_000.0, 3_830_000.0


def wgs(geom):
    return to_wgs84(geom, EPSG)


def suspected(hid: int, x: float, status=HazardStatus.SUSPECTED, cls=HazardClass.SHA) -> Hazard:
    shape = box(X0 + x, Y0, X0 + x + 200, Y0 + 100)
    return Hazard(
        id=hid,
        name=f"field {hid}",
        geometry=wgs(shape),
        hazard_class=cls,
        status=status,
        land_use=LandUse.OPEN_GROUND,
        original_area_m2=shape.area,
    )


def crew() -> list[Team]:
    base = wgs(Point(X0 - 50, Y0 - 50))
    return [
        Team(id=1, name="Survey team", kind=TeamKind.SURVEY, geometry=base, personnel=4),
        Team(id=2, name="Sapper section", kind=TeamKind.MANUAL, geometry=base, personnel=10),
        Team(id=3, name="Dog team", kind=TeamKind.DOG, geometry=base, personnel=3),
    ]


def plan(hazards, releases=(), teams=None, reports=(), **options):
    inputs = Inputs(hazards=hazards, teams=teams or crew(), releases=list(releases), reports=list(reports))
    settings = Settings(start=date(2016, 4, 11), time_limit_s=2.0, runs=300, lanes=False, **options)
    return make_plan(inputs, settings)


def test_suspected_land_is_surveyed_before_any_clearance():
    result = plan([suspected(1, 0), suspected(2, 1000, HazardStatus.CONFIRMED, HazardClass.CHA)])
    problem, slots = result.problem, result.schedule.slots
    tasks = {s.index: s for s in problem.sectors}
    survey = [s for s in tasks.values() if s.task == "survey"]
    assert survey and all(s.hazard_id == 1 for s in survey)  # confirmed land gets no survey
    nts = [s for s in survey if s.label.endswith("NTS")]
    assert len(nts) == 1 and slots[nts[0].index].method == Method.SURVEY
    assert all(s.decision.activity.value in ("nts", "ts") for s in survey)
    # no clearance of hazard 1 starts before the survey of its land has ended
    survey_end = max(slots[s.index].end for s in survey)
    first_ts_end = min(slots[s.index].end for s in survey if s is not nts[0])
    clear = [s for s in tasks.values() if s.hazard_id == 1 and s.task == "clearance"]
    assert min(slots[s.index].start for s in clear) >= first_ts_end
    assert min(slots[s.index].start for s in clear) >= slots[nts[0].index].end
    assert survey_end > 0
    # the land left to clear is the expected cleared share, and every square metre is accounted for
    shares = problem.survey.expected
    whole = 200 * 100
    assert abs(sum(s.area_m2 for s in tasks.values() if s.hazard_id == 1) - whole) < 1.0
    assert abs(sum(s.area_m2 for s in clear) - whole * shares[2]) < 1.0
    # the schedule's rows say survey and clearance apart
    kinds = {problem.sectors[w.sector].task for w in result.work}
    assert {"survey", "clearance"} <= kinds


def test_shares_learned_from_the_registers_releases():
    data = load_survey()
    prior = learn_outcomes([], [], data)
    assert np.allclose(prior.expected, data.prior) and prior.observed is None
    done = [suspected(h, h * 300, HazardStatus.RELEASED) for h in range(1, 6)]
    releases = [
        Release(hazard_id=h.id, route=ReleaseRoute.CANCELLED, released_on=date(2016, 4, 5), area_m2=20_000)
        for h in done
    ]
    learned = learn_outcomes(done, releases, data)
    assert learned.hazards == 5
    assert learned.expected[0] > prior.expected[0] + 0.2  # five fields all cancelled: far more is cancelled
    assert "register 100%/0%/0%" in learned.explain()
    # a surveyed field that released nothing found evidence: the register's shares say so too
    found = suspected(6, 1800)
    mixed = learn_outcomes([*done, found], releases, data, surveyed={6})
    assert mixed.hazards == 6 and mixed.expected[0] < learned.expected[0]
    assert abs(mixed.observed[0] - 5 / 6) < 1e-9
    assert "register 83%/" in mixed.explain()
    # confirmed land's releases say nothing about survey
    cha = [suspected(9, 3000, HazardStatus.RELEASED, HazardClass.CHA)]
    cleared = [Release(hazard_id=9, route=ReleaseRoute.CLEARED, released_on=date(2016, 4, 5), area_m2=20_000)]
    assert np.allclose(learn_outcomes(cha, cleared, data).expected, prior.expected)


def test_forecast_carries_the_survey_outcome_uncertainty():
    result = plan([suspected(1, 0)])
    fc = result.forecast
    # the cleared share is drawn per run: the finish spreads even though search rates hold the plan's pace
    assert fc.finish[95] > fc.finish[50]
    draws = result.problem.survey.draw(1000, np.random.default_rng(1))
    assert draws.shape == (1000, 3) and np.allclose(draws.sum(axis=1), 1.0)
    assert draws[:, 2].std() > 0.05


def test_without_a_survey_team_suspected_land_is_cleared_in_full():
    teams = [t for t in crew() if t.kind != TeamKind.SURVEY]
    result = plan([suspected(1, 0)], teams=teams)
    assert not [s for s in result.problem.sectors if s.task == "survey"]
    assert abs(sum(s.area_m2 for s in result.problem.sectors) - 200 * 100) < 1.0


def survey_reports(activity, m2_per_day: float, days: int, hazard_id: int = 5) -> list[Report]:
    """The survey team's reports: one a day of ``m2_per_day`` (no geometry: the area counts)."""
    return [
        Report(
            activity_type=activity, report_date=date(2016, 4, 1 + d), hazard_id=hazard_id, team_id=1, area_m2=m2_per_day
        )
        for d in range(days)
    ]


def test_survey_rates_are_learned_from_the_survey_teams_reports():
    data, prod, rules = load_survey(), load_productivity(), load_rules()
    fast = survey_reports(ActivityType.NTS, 200_000, 6) + survey_reports(ActivityType.TS, 30_000, 4)
    learned = learn_survey_rates(fast, crew(), rules, data, prod)
    # the reports (20 ha of NTS, 3 ha of TS a day) pull the cited rates (5 and 1 ha) up, the prior holds them back
    assert data.nts.mode * 10_000 < learned.nts_learned.mean < 200_000
    assert data.ts[Method.SURVEY].mode * 10_000 < learned.ts_learned.mean < 30_000
    assert learned.nts_days(100_000) < data.nts_days(100_000) / 1.5
    assert learned.ts_days(Method.SURVEY, 100_000) < data.ts_days(Method.SURVEY, 100_000) / 1.3
    assert learned.ts_days(Method.DOG, 100_000) == data.ts_days(Method.DOG, 100_000)  # no dog TS reports
    assert "NTS prior 5 (2-8), reports 20.0 over 6 days" in explain_rates(learned)
    # another team's NTS reports (a dog team cannot survey) teach nothing
    other = [dataclasses.replace(r, team_id=3) for r in fast]
    assert learn_survey_rates(other, crew(), rules, data, prod).nts_learned is None


def test_the_plan_times_survey_at_the_learned_rate():
    hazards = [suspected(1, 0), suspected(5, 3000, HazardStatus.RELEASED)]
    reports = survey_reports(ActivityType.NTS, 200_000, 6)
    cited = plan(hazards)
    learned = plan(hazards, reports=reports)

    def nts_days(result):
        (nts,) = [s for s in result.problem.sectors if s.label.endswith("-NTS")]
        return nts.effort_days[Method.SURVEY]

    assert nts_days(learned) < nts_days(cited) / 1.5
    assert "reports 20.0 over 6 days" in learned.problem.survey.explain()


def confirmed(hid: int, x: float, contamination: Contamination, width: float = 200.0) -> Hazard:
    shape = box(X0 + x, Y0, X0 + x + width, Y0 + 100)
    return Hazard(
        id=hid,
        name=f"confirmed {hid}",
        geometry=wgs(shape),
        hazard_class=HazardClass.CHA,
        status=HazardStatus.IN_CLEARANCE,
        land_use=LandUse.OPEN_GROUND,
        contamination=contamination,
        original_area_m2=shape.area,
    )


def test_confirmed_land_that_survey_reduced_in_the_register_gets_technical_survey():
    # hazard 1: mixed contamination, half of it reduced by technical survey; hazard 2: the same, never surveyed
    half, rest = box(X0, Y0, X0 + 200, Y0 + 100), box(X0 + 200, Y0, X0 + 400, Y0 + 100)
    worked = dataclasses.replace(confirmed(1, 0, Contamination.MIXED, 400), geometry=wgs(rest))  # the polygon shrank
    hazards = [worked, confirmed(2, 1000, Contamination.MIXED, 400)]
    reduced = Release(
        hazard_id=1, route=ReleaseRoute.REDUCED, released_on=date(2016, 4, 5), area_m2=half.area, geometry=wgs(half)
    )
    result = plan(hazards, releases=[reduced])
    problem, slots = result.problem, result.schedule.slots
    survey = [s for s in problem.sectors if s.task == "survey"]
    assert survey and all(s.hazard_id == 1 and s.decision.activity == ActivityType.TS for s in survey)
    assert slots[survey[0].index].method in (Method.SURVEY, Method.DOG)
    # the reduced share is learned from the register: all of the surveyed half was reduced
    reduction = problem.survey.confirmed
    assert reduction.reduced == {1} and abs(reduction.hazards - 0.5) < 0.01
    assert abs(reduction.expected[0] - (2 * 0.5 + 0.5) / 2.5) < 1e-9  # the prior (worth 2) and half a hazard
    assert "register 100%/0% over 0.5 hazards" in problem.survey.explain()
    # the half left is accounted for: reduced by the TS, the rest cleared after it
    clear = [s for s in problem.sectors if s.hazard_id == 1 and s.task == "clearance"]
    assert abs(sum(s.area_m2 for s in clear) - 20_000 * reduction.expected[1]) < 1.0
    assert abs(sum(s.area_m2 for s in problem.sectors if s.hazard_id == 1) - 20_000) < 1.0
    assert min(slots[s.index].start for s in clear) >= min(slots[s.index].end for s in survey)
    # the forecast carries the reduced share's uncertainty: the clearance of hazard 1 spreads with it
    draws = reduction.draw(1000, np.random.default_rng(1))
    assert draws[:, 1].std() > 0.05


def test_large_battle_area_is_surveyed_but_mines_and_small_areas_are_cleared_in_full():
    runway = confirmed(1, 0, Contamination.UXO, 600)  # 6 ha of unexploded ordnance only
    small = confirmed(2, 1000, Contamination.UXO, 200)  # 2 ha
    mines = confirmed(3, 2000, Contamination.MIXED_MINES, 600)
    result = plan([runway, small, mines])
    surveyed = {s.hazard_id for s in result.problem.sectors if s.task == "survey"}
    assert surveyed == {1}
    assert "no reductions of confirmed land yet" in result.problem.survey.explain()
