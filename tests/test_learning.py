"""Rates learned from the daily reports behave as a Bayesian update should: no reports leave the
cited prior, many consistent days lead to the rate the reports show, recent days weigh more,
items per hectare follow the gamma-Poisson update, and a learned rate is applied all in."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import numpy as np
import pytest
from shapely.geometry import Point, box

from sapper.model.enums import ActivityType, Contamination, ItemCategory, LandUse, Method, TeamKind
from sapper.model.records import Hazard, Report, Team
from sapper.plan.forecasting.forecast import forecast
from sapper.plan.forecasting.learning import apply_learned, learn, log_moments
from sapper.plan.problem import WorkSector, WorkTeam, build_problem
from sapper.plan.rules.methods import decide, load_rules
from sapper.plan.rules.productivity import load_productivity
from sapper.plan.scheduling.greedy import greedy_schedule

RULES = load_rules()
PROD = load_productivity()
DAY = date(2016, 4, 2)
KEY = (TeamKind.MANUAL, Method.BAC, LandUse.HERITAGE)
RUINS = Hazard(id=1, name="ruins", land_use=LandUse.HERITAGE, contamination=Contamination.MIXED)


def sections(n: int = 2) -> list[Team]:
    return [
        Team(id=t, name=f"section {t}", kind=TeamKind.MANUAL, personnel=10, capabilities=(Method.MANUAL, Method.BAC))
        for t in range(1, n + 1)
    ]


def days_of(per_person: list[float], team: int = 1, first: date = DAY, items: int = 0) -> list[Report]:
    """One BAC report a day for the team, at these m² per person-day (sections of 10)."""
    return [
        Report(
            activity_type=ActivityType.BAC,
            report_date=first + timedelta(days=k),
            hazard_id=1,
            team_id=team,
            area_m2=rate * 10,
            items_found=items,
        )
        for k, rate in enumerate(per_person)
    ]


def learned_from(reports: list[Report], teams: list[Team] | None = None):
    return learn(reports, teams or sections(), [RUINS], PROD, RULES)


def test_with_no_reports_the_prior_stands() -> None:
    learned = learned_from([])
    assert learned.rates == {} and learned.team_rates == {}
    team = WorkTeam(0, 1, "section 1", TeamKind.MANUAL, (Method.BAC,), None, 10, 1.0, PROD.day(TeamKind.MANUAL))
    assert learned.rate_for(team, Method.BAC, LandUse.HERITAGE) is None  # the plan keeps the cited figures
    assert learned.productivity.items_per_ha(Contamination.MIXED, LandUse.HERITAGE) == PROD.default_items_per_ha


def test_many_consistent_days_lead_to_the_observed_rate_even_beyond_the_cited_range() -> None:
    # 1,500 m² per person-day: above the cited maximum of 1,200 for BAC
    rate = learned_from(days_of([1500.0] * 30) + days_of([1500.0] * 30, team=2)).rates[KEY]
    assert rate.days == 60 and rate.observed == pytest.approx(1500.0)
    assert rate.mean == pytest.approx(1500.0, rel=0.05)
    assert rate.level(-1.28) < 1500.0 * 1.02 < rate.level(1.28) * 1.05


def test_one_day_moves_the_prior_part_of_the_way_and_leaves_it_uncertain() -> None:
    prior_median = np.exp(log_moments(PROD.rate(Method.BAC, LandUse.HERITAGE).rate)[0])
    own = (1, Method.BAC, LandUse.HERITAGE)  # the team's own rate: its days are all the evidence
    one = learned_from(days_of([1500.0])).team_rates[own]
    many = learned_from(days_of([1500.0] * 20)).team_rates[own]
    assert prior_median < one.mean < many.mean
    width = lambda r: r.level(1.28) / r.level(-1.28)  # noqa: E731
    assert width(one) > 1.5 * width(many)


def test_single_days_show_no_day_to_day_spread_so_the_prior_guess_stands() -> None:
    # six sections, one day each: their differences are between teams, not from day to day
    reports = [r for t, rate in enumerate((500, 600, 700, 800, 900, 1000), 1) for r in days_of([rate], team=t)]
    rate = learned_from(reports, sections(6)).rates[KEY]
    assert rate.day_variance == pytest.approx(PROD.learning.day_sigma**2)  # was shrunk to 40 % by six empty days
    assert rate.shared_sigma == pytest.approx(min(rate.day_variance, learned_from(reports).day_pace.variance) ** 0.5)
    # two days each: one degree of freedom a team, and the reports' spread counts
    steady = [r for t in range(1, 7) for r in days_of([800.0, 800.0], team=t)]
    assert learned_from(steady, sections(6)).rates[KEY].day_variance < 0.5 * PROD.learning.day_sigma**2


def test_recent_days_weigh_more_than_old_ones() -> None:
    slow_then_fast = learned_from(days_of([500.0] * 10 + [1000.0] * 10)).rates[KEY]
    fast_then_slow = learned_from(days_of([1000.0] * 10 + [500.0] * 10)).rates[KEY]
    middle = np.sqrt(500.0 * 1000.0)  # what equal weights would give (geometric mean)
    assert slow_then_fast.mean > middle * 1.1
    assert fast_then_slow.mean < middle * 0.95
    # the half-life sets how fast: a very long one weighs all days nearly alike
    slow = dataclasses.replace(PROD, learning=dataclasses.replace(PROD.learning, half_life_days=1e6))
    even = learn(days_of([500.0] * 10 + [1000.0] * 10), sections(), [RUINS], slow, RULES).rates[KEY]
    assert abs(np.log(even.mean / middle)) < abs(np.log(slow_then_fast.mean / middle))


def test_a_team_gets_its_own_rate_and_a_team_without_reports_its_kinds() -> None:
    reports = days_of([1200.0] * 15, team=1) + days_of([600.0] * 15, team=2)
    learned = learned_from(reports, sections(3))
    day = PROD.day(TeamKind.MANUAL)
    team = {t: WorkTeam(t - 1, t, f"s{t}", TeamKind.MANUAL, (Method.BAC,), None, 10, 1.0, day) for t in (1, 2, 3)}
    fast, slow, new = (learned.rate_for(team[t], Method.BAC, LandUse.HERITAGE) for t in (1, 2, 3))
    assert fast.mean > new.mean > slow.mean
    assert new.mu_sd > learned.rates[KEY].mu_sd  # a team with no reports may differ from its kind


def test_items_per_hectare_are_a_gamma_poisson_update() -> None:
    reports = days_of([1000.0] * 2, items=100)  # 200 items in 2 ha
    learned = learned_from(reports)
    a, b = learned.density[Contamination.MIXED, LandUse.HERITAGE]
    b0 = PROD.learning.items_prior_ha
    assert (a, b) == pytest.approx((PROD.default_items_per_ha * b0 + 200, b0 + 2.0))
    assert learned.productivity.items_per_ha(Contamination.MIXED, LandUse.HERITAGE) == pytest.approx(a / b)
    assert learned.productivity.items_per_ha(Contamination.UXO, LandUse.ROAD) == PROD.default_items_per_ha


def ruins_problem(distance_m: float, items: float):
    """One 2,400 m² heritage sector, one section based ``distance_m`` away, ``items`` UXO expected."""
    geom = box(0, 0, 30, 80)
    sector = WorkSector(
        0, 1, "S0", geom, geom.area, 50.0, decide(RUINS, geom, [], RULES), {ItemCategory.UXO: items}, 25.0
    )
    sector.land_use = LandUse.HERITAGE
    team = WorkTeam(
        0, 1, "section 1", TeamKind.MANUAL, (Method.BAC,), Point(-distance_m, 0), 10, 1.0, PROD.day(TeamKind.MANUAL)
    )
    return build_problem([sector], [team], PROD, {})


def test_a_learned_rate_is_all_in_no_travel_or_items_added_again() -> None:
    learned = learned_from(days_of([1000.0] * 20))
    near, far = ruins_problem(0.0, 0.0), ruins_problem(20_000.0, 40.0)
    assert far.options[0][0].days > near.options[0][0].days  # the cited model adds the drive and the items
    near_l, far_l = apply_learned(near, learned), apply_learned(far, learned)
    a, b = near_l.options[0][0], far_l.options[0][0]
    assert b.handling_h == 0.0 and b.days == pytest.approx(a.days)  # the reports' days held both already
    rate = learned.rate_for(near.teams[0], Method.BAC, LandUse.HERITAGE)
    assert a.days == pytest.approx(2400.0 / 10 * rate.days_per_unit)


def test_the_forecast_draws_from_the_posterior_around_the_plans_expectation() -> None:
    learned = learned_from(days_of([1000.0] * 5))
    problem = apply_learned(ruins_problem(500.0, 5.0), learned)
    plan = greedy_schedule(problem)
    fc = forecast(problem, plan, PROD, runs=4000, seed=2, learned=learned)
    expected = problem.options[0][0].days
    assert fc.finish[50] < expected < fc.finish[95]
    again = forecast(problem, plan, PROD, runs=4000, seed=2, learned=learned)
    assert again.finish == fc.finish and again.hazard_finish == fc.hazard_finish  # same seed, same forecast
