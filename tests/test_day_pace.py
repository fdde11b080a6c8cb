"""The day effect: a day all teams go slower or faster together. Its variance is recovered from
synthetic reports with a known one, its prior stands where the reports cannot tell, the plan's
time is warped through each run's days, and the forecast's band then holds the day-to-day swing
of the total that the reports show."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import numpy as np
import pytest
from shapely.geometry import box

from sapper.model.enums import ActivityType, Contamination, LandUse, Method, TeamKind
from sapper.model.records import Hazard, Report, Team
from sapper.plan.forecasting import day_pace
from sapper.plan.forecasting.day_pace import DayPace, estimate, through, warp
from sapper.plan.forecasting.forecast import forecast
from sapper.plan.forecasting.learning import TeamDay, apply_learned, learn
from sapper.plan.problem import WorkSector, WorkTeam, build_problem
from sapper.plan.rules.methods import decide, load_rules
from sapper.plan.rules.productivity import load_productivity
from sapper.plan.scheduling.greedy import greedy_schedule

RULES = load_rules()
PROD = load_productivity()
FIRST = date(2016, 4, 2)
KEY = (TeamKind.MANUAL, Method.BAC, LandUse.HERITAGE)


def synthetic_days(
    teams: int, days: int, day_sd: float, own_sd: float, seed: int = 1, missing: float = 0.0
) -> list[TeamDay]:
    """Team-days of log rate = team + day + own, with known spreads (a share of team-days missing)."""
    rng = np.random.default_rng(seed)
    team = rng.normal(np.log(800.0), 0.2, teams)
    day = rng.normal(0.0, day_sd, days)
    out = []
    for d in range(days):
        for t in range(teams):
            if rng.random() < missing:
                continue
            y = team[t] + day[d] + rng.normal(0.0, own_sd)
            out.append(TeamDay(t + 1, KEY, FIRST + timedelta(days=d), float(np.exp(y)), float(y), 1.0))
    return out


def test_the_day_effect_recovers_a_known_variance_from_the_reports() -> None:
    pace = estimate(synthetic_days(15, 200, day_sd=0.25, own_sd=0.15, missing=0.2))
    assert pace.days == 200 and pace.dof == pytest.approx(day_pace.PRIOR_DAYS + 199)
    assert pace.sigma == pytest.approx(0.25, rel=0.12)  # the prior (20 %, 4 days) barely pulls it
    assert np.sqrt(pace.own2) == pytest.approx(0.15, rel=0.05)
    still = estimate(synthetic_days(15, 200, day_sd=0.0, own_sd=0.15))
    assert still.sigma < 0.05  # no shared days in the reports: the prior's guess fades


def test_with_one_report_day_the_prior_stands_and_holds_all_of_the_past() -> None:
    pace = estimate(synthetic_days(10, 1, day_sd=0.3, own_sd=0.1))
    assert (pace.scale2, pace.dof) == (day_pace.PRIOR_SIGMA**2, day_pace.PRIOR_DAYS)
    assert pace.past_share == 1.0  # the learned rates are that one day: its effect is all in them
    # a week of reports: the past's mean effect is known better, older days weigh less (half-life)
    week = estimate(synthetic_days(10, 7, day_sd=0.3, own_sd=0.1), half_life_days=7.0)
    assert 1 / 7 < week.past_share < 1 / 3


def test_the_plan_time_is_warped_through_each_runs_days() -> None:
    steady, slow_then_fast = [1.0, 1.0, 1.0, 1.0], [0.5, 2.0, 1.0, 1.0]
    cum = np.cumsum([steady, slow_then_fast], axis=1)
    ends = np.array([[0.25, 0.25], [1.0, 1.0], [2.5, 2.5], [0.0, 0.0]])  # sectors x runs
    assert through(ends, cum) == pytest.approx(np.array([[0.25, 0.5], [1.0, 1.25], [2.5, 2.0], [0.0, 0.0]]))
    # drawn days have mean pace 1: over many runs a day of plan work takes a day on average
    pace = DayPace(scale2=0.09, dof=30.0, past_share=0.2)
    rng = np.random.default_rng(3)
    variance, offset = pace.draw_run(rng, 20_000)
    factors = pace.day_factors(rng, variance, offset, pace.past_share, 5)
    assert factors.mean() == pytest.approx(1.0, abs=0.01)
    assert np.log(factors).std() == pytest.approx(np.sqrt(0.09 * 30 / 28 * 1.2), rel=0.05)
    # a run is warped through as many days as it needs, however slow
    ends = np.full((3, 50), 40.0)
    warped = warp(ends, DayPace(scale2=0.5, dof=4.0, past_share=1.0), seed=4)
    assert np.all(np.isfinite(warped)) and warped.std() > 1.0


def sections(n: int) -> list[Team]:
    return [
        Team(id=t, name=f"section {t}", kind=TeamKind.MANUAL, personnel=10, capabilities=(Method.BAC,))
        for t in range(1, n + 1)
    ]


def reports_of(days: list[TeamDay]) -> list[Report]:
    return [
        Report(activity_type=ActivityType.BAC, report_date=d.on, hazard_id=1, team_id=d.team_id, area_m2=d.area_m2 * 10)
        for d in days
    ]


def ruins(teams: int, sectors_each: int):
    """A long field of 30 x 80 m heritage sectors, a row for each section, far enough apart to work at once."""
    hazard = Hazard(id=1, name="ruins", land_use=LandUse.HERITAGE, contamination=Contamination.MIXED)
    sectors = []
    for k in range(teams * sectors_each):
        t, j = divmod(k, sectors_each)
        geom = box(t * 1000.0, j * 100.0, t * 1000.0 + 30, j * 100.0 + 80)
        sector = WorkSector(k, 1, f"S{k}", geom, geom.area, 50.0, decide(hazard, geom, [], RULES), {}, 25.0)
        sector.land_use = LandUse.HERITAGE
        sectors.append(sector)
    crew = [
        WorkTeam(t, t + 1, f"section {t + 1}", TeamKind.MANUAL, (Method.BAC,), None, 10, 1.0, PROD.day(TeamKind.MANUAL))
        for t in range(teams)
    ]
    return hazard, build_problem(sectors, crew, PROD, {})


def test_the_forecast_band_holds_the_day_to_day_swing_of_the_total() -> None:
    teams, days = 12, 30
    reported = synthetic_days(teams, days, day_sd=0.3, own_sd=0.1, seed=7)
    totals = np.array([sum(d.area_m2 for d in reported if d.on == day) for day in sorted({d.on for d in reported})])
    real = np.percentile(totals, 90) / np.percentile(totals, 10)  # how much the teams' day totals swing
    hazard, problem = ruins(teams, 40)
    learned = learn(reports_of(reported), sections(teams), [hazard], PROD, RULES)
    assert learned.day_pace.sigma == pytest.approx(0.3, rel=0.35)  # 30 days: the estimate is near the truth
    problem = apply_learned(problem, learned)
    plan = greedy_schedule(problem)
    total = sum(s.area_m2 for s in problem.sectors)

    def day_one_swing(learned_with) -> float:
        fc = forecast(problem, plan, PROD, runs=2000, seed=3, learned=learned_with)
        done = {q: total - fc.remaining[q][1] for q in (10, 90)}
        return done[10] / done[90]  # P10 of the area left is the fast end: the most done

    with_days = day_one_swing(learned)
    assert 0.7 * real < with_days < 1.4 * real
    without = day_one_swing(dataclasses.replace(learned, day_pace=None))
    assert without < 1 + 0.4 * (real - 1)  # independent team draws average out: far too narrow
    assert day_one_swing(learned) == with_days  # the same seed gives the same forecast
