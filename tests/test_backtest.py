"""The backtest replays a register's history: the register as it stood on each past day (land
released later put back), the forecast made from it, scored against what happened; the same
seed gives the same backtest; and on the Palmyra scenario it is held to its targets."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box

from sapper import open_register
from sapper.model.enums import ActivityType, Contamination, HazardStatus, LandUse, Method, ReleaseRoute, TeamKind
from sapper.model.geometry import area_m2
from sapper.model.records import Hazard, Release, Report, Team
from sapper.plan.build import Inputs, Settings, make_plan
from sapper.plan.forecasting.backtest import Backtest, DayForecast, backtest, history_days, score, state_on
from sapper.plan.progress.in_hand import in_hand, keep_in_hand

FIRST = date(2016, 4, 2)
WEST, SOUTH, EAST, NORTH = 38.2700, 34.5500, 38.2760, 34.5520  # about 550 x 220 m of ruins
STRIP = 0.0003  # a team's day: a strip about 27 m wide


def ruins_register(days: int = 4) -> Inputs:
    """Two sections searching strips of one heritage hazard, each strip reported and released that day."""
    whole = box(WEST, SOUTH, EAST, NORTH)
    reports, releases, held = [], [], whole
    k = 0
    for d in range(days):
        for team in (1, 2):
            strip = box(WEST + k * STRIP, SOUTH, WEST + (k + 1) * STRIP, NORTH)
            k += 1
            day = FIRST + timedelta(days=d)
            reports.append(
                Report(id=k, activity_type=ActivityType.BAC, report_date=day, hazard_id=1, team_id=team, geometry=strip)
            )
            releases.append(
                Release(id=k, hazard_id=1, route=ReleaseRoute.CLEARED, released_on=day, geometry=strip, report_id=k)
            )
            held = held.difference(strip)
    hazard = Hazard(
        id=1,
        name="ruins",
        geometry=shapely.MultiPolygon([held]) if held.geom_type == "Polygon" else held,
        status=HazardStatus.IN_CLEARANCE,
        contamination=Contamination.MIXED,
        land_use=LandUse.HERITAGE,
        original_area_m2=area_m2(whole),
        reported_on=FIRST - timedelta(days=2),
    )
    teams = [
        Team(
            id=t,
            name=f"section {t}",
            kind=TeamKind.MANUAL,
            personnel=10,
            capabilities=(Method.MANUAL, Method.BAC),
            geometry=Point(WEST - 0.002, SOUTH - 0.002),
        )
        for t in (1, 2)
    ]
    return Inputs(hazards=[hazard], teams=teams, reports=reports, releases=releases)


def test_the_register_on_a_past_day_has_the_land_released_later_put_back() -> None:
    inputs = ruins_register()
    whole = area_m2(box(WEST, SOUTH, EAST, NORTH))
    then = state_on(inputs, FIRST + timedelta(days=1))
    assert [r.report_date for r in then.reports] == [FIRST] * 2 + [FIRST + timedelta(days=1)] * 2
    assert len(then.releases) == 4
    # today's polygon lost 8 strips; on the second evening only 4 were gone
    assert area_m2(then.hazards[0].geometry) == pytest.approx(whole * (1 - 4 * STRIP / (EAST - WEST)), rel=1e-3)
    before = state_on(inputs, FIRST - timedelta(days=1))
    assert area_m2(before.hazards[0].geometry) == pytest.approx(whole, rel=1e-6)
    assert before.hazards[0].status == HazardStatus.SUSPECTED and before.reports == []  # nothing worked yet


def test_scores_count_the_real_area_inside_the_band_and_the_p50_error() -> None:
    def day(actual: list[float], low: list[float], mid: list[float], high: list[float]) -> DayForecast:
        return DayForecast(FIRST, {10: np.array(low), 50: np.array(mid), 90: np.array(high)}, np.array(actual))

    days = [
        day([100, 90, 80], [100, 88, 70], [100, 92, 84], [100, 95, 90]),  # inside at 1 and 2
        day([90, 85], [90, 86], [90, 87], [90, 88]),  # faster than the band at 1
    ]
    one, two = score(days)
    assert (one.horizon, one.pairs, one.inside) == (1, 2, 1)
    assert one.p50_error == pytest.approx((2 / 90 + 2 / 85) / 2)
    assert (two.pairs, two.inside, two.p50_error) == (1, 1, pytest.approx(4 / 80))
    assert one.done_error == pytest.approx((abs(8 - 10) / 10 + abs(3 - 5) / 5) / 2)
    assert one.width == pytest.approx((12 / 5 + 4 / 2) / 2)  # P90 / P10 of the work done since the forecast


def test_a_backtest_replays_every_day_and_the_same_seed_gives_the_same_result() -> None:
    inputs = ruins_register()
    settings = Settings(start=FIRST, runs=200, seed=5, lanes=False, optimise=False)
    first = backtest(inputs, settings)
    assert history_days(inputs) == [FIRST + timedelta(days=d) for d in range(4)]
    assert [d.day for d in first.days] == history_days(inputs)[:-1]
    assert [(s.horizon, s.pairs) for s in first.scores] == [(1, 3), (2, 2), (3, 1)]
    # what happened: two strips a day less to work
    strip = area_m2(box(WEST, SOUTH, WEST + STRIP, NORTH))
    assert np.diff(first.days[0].actual) == pytest.approx([-2 * strip] * 3, rel=0.01)
    for d in first.days:
        assert np.all(d.bands[10] <= d.bands[50] + 1e-6) and np.all(d.bands[50] <= d.bands[90] + 1e-6)
        assert d.bands[50][0] == pytest.approx(d.actual[0])  # every forecast starts from the day's real area
    again = backtest(inputs, settings)
    for a, b in zip(first.days, again.days, strict=True):
        assert all(np.array_equal(a.bands[q], b.bands[q]) for q in (10, 50, 90))
        assert np.array_equal(a.actual, b.actual)
    assert [vars(s) for s in first.scores] == [vars(s) for s in again.scores]


@pytest.fixture(scope="module")
def palmyra_inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    from sapper.testing.palmyra import palmyra

    path = palmyra(str(tmp_path_factory.mktemp("palmyra") / "palmyra.gpkg"))
    with open_register(path, read_only=True) as reg:
        return Inputs(
            hazards=reg.list("hazard"),
            items=reg.list("item"),
            sites=reg.list("site"),
            teams=reg.list("team"),
            reports=reg.list("report"),
            releases=reg.list("release"),
        )


def palmyra_settings(seed: int) -> Settings:
    """The settings `sapper backtest` runs with by default (500 runs, seed 0, the recorded practice replayed)."""
    return Settings(start=FIRST, runs=500, seed=seed, lanes=False, optimise=False, accept_recorded_practice=True)


@pytest.fixture(scope="module")
def palmyra_backtest(palmyra_inputs: Inputs) -> Backtest:
    return backtest(palmyra_inputs, palmyra_settings(seed=0))


@pytest.mark.slow
def test_on_the_palmyra_scenario_the_p50_follows_the_register(palmyra_backtest: Backtest) -> None:
    three = palmyra_backtest.score(3)
    assert three is not None and three.p50_error < 0.25  # the target
    assert three.done_error < 0.25  # and on the work done since the forecast (37-41 % when the plan ignored it)
    assert palmyra_backtest.coverage >= 0.5  # 14 % when the plan sent the teams elsewhere


@pytest.mark.slow
def test_on_the_palmyra_scenario_the_band_holds_the_register(palmyra_backtest: Backtest) -> None:
    # 32 of 36 pairs (89 %); with 500 runs seeds 0-7 give 89-92 %, with 2,000 runs seeds 0 and 1 92 % (README,
    # "Reading a backtest"). Before a machine's crew stopped for the items it meets instead of digging each out,
    # and before the robots' range took Palmyra's published pace as its top, seeds 0-7 gave 61-81 %: the first two
    # days' forecasts, with no robot report yet, ended just outside their bands.
    assert palmyra_backtest.coverage >= 0.85


@pytest.mark.slow
def test_on_the_palmyra_scenario_the_band_holds_the_register_whatever_the_monte_carlo_draws(
    palmyra_inputs: Inputs,
) -> None:
    # seed 4 gave the worst figure of seeds 0-7 before (64 %): the band must not hang on the draws' luck
    assert backtest(palmyra_inputs, palmyra_settings(seed=4)).coverage >= 0.80


@pytest.mark.slow
def test_on_the_palmyra_scenario_from_the_second_day_on_the_band_holds_the_register(
    palmyra_backtest: Backtest,
) -> None:
    later = score(palmyra_backtest.days[1:])  # forecasts made with two days of reports or more
    inside, pairs = sum(s.inside for s in later), sum(s.pairs for s in later)
    assert inside / pairs >= 0.85  # 79 % when the teams' days were drawn independently (no day effect)
    early = palmyra_backtest.days[0].day_sigma
    assert early > palmyra_backtest.days[-1].day_sigma  # the first forecasts carry the prior's wide day effect


def test_a_forecast_from_a_past_day_keeps_the_work_in_hand_with_the_teams_working_it() -> None:
    inputs = ruins_register(days=2)
    inputs.teams = [
        *inputs.teams,
        Team(
            id=3,
            name="section 3",
            kind=TeamKind.MANUAL,
            personnel=10,
            capabilities=(Method.MANUAL, Method.BAC),
            geometry=Point(WEST - 0.002, SOUTH - 0.002),
        ),
    ]
    hands = in_hand(inputs.reports)
    assert {h: (hand.level, hand.teams) for h, hand in hands.items()} == {1: (2, {1, 2})}
    planned = make_plan(inputs, Settings(start=FIRST + timedelta(days=2), runs=20, lanes=False, optimise=False))
    kept = keep_in_hand(planned.problem, hands)

    def teams(problem) -> set[int]:
        return {problem.teams[o.team].team_id for opts in problem.options for o in opts}

    assert teams(planned.problem) == {1, 2, 3}  # planned freely, any section may take the ruins
    assert teams(kept) == {1, 2}  # the sections working them finish them
    assert all(k.score > p.score for k, p in zip(kept.sectors, planned.problem.sectors, strict=True))
