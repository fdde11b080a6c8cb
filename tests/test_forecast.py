"""The Monte Carlo forecast: it replays the plan, its averages match the plan's expectations,
its percentiles and burn-down behave, and the calendar counts working days."""

from __future__ import annotations

import dataclasses
import itertools
import math
from datetime import date

import numpy as np
import pytest
from shapely.geometry import Point, box

from sapper.model.enums import Contamination, ItemCategory, LandUse, Method, TeamKind
from sapper.model.records import Hazard
from sapper.plan.forecasting.day_pace import DayPace, run_tables, warp, warp_columns, warp_runs
from sapper.plan.forecasting.forecast import CHART_RUNS, chart_runs, forecast, sample_days
from sapper.plan.forecasting.poisson import PoissonRows
from sapper.plan.forecasting.precedence import predecessors, reduced, replay, starts_of
from sapper.plan.forecasting.series import left_series, work_left
from sapper.plan.problem import TICKS_PER_DAY, WorkSector, WorkTeam, build_problem
from sapper.plan.rules.datafiles import Triangular
from sapper.plan.rules.methods import decide, load_rules
from sapper.plan.rules.productivity import load_productivity
from sapper.plan.scheduling.greedy import greedy_schedule
from sapper.plan.scheduling.timeline import Calendar, day_work

RULES = load_rules()
PROD = load_productivity()


def fixed(prod):
    """Every rate and handling time at its mode, no spread: nothing left to chance but items."""

    def flat(rate):
        return dataclasses.replace(rate, rate=Triangular(rate.rate.mode, rate.rate.mode, rate.rate.mode))

    return dataclasses.replace(
        prod,
        search={m: flat(r) for m, r in prod.search.items()},
        terrain={use: {m: flat(r) for m, r in rates.items()} for use, rates in prod.terrain.items()},
        sector_sigma=0.0,
        handling={c: Triangular(t.mode, t.mode, t.mode) for c, t in prod.handling.items()},
    )


def town(
    prod,
    items: float = 0.0,
    n: int = 6,
    teams: int = 2,
    safety_m: float = 50.0,
    per_hazard: int = 3,
    kind: TeamKind = TeamKind.MANUAL,
):
    """Sectors of hazards in a row (``per_hazard`` sectors each), worked by teams of one kind (manual)."""
    method = {TeamKind.MANUAL: Method.MANUAL, TeamKind.ROBOT: Method.ROBOT}[kind]
    hazard = Hazard(id=1, name="H1", land_use=LandUse.OPEN_GROUND, contamination=Contamination.UXO)
    sectors = []
    for i in range(n):
        geom = box(i * 40.0, 0, i * 40.0 + 30, 80)
        decision = decide(hazard, geom, [], RULES)
        sectors.append(
            WorkSector(
                i,
                1 + i // per_hazard,
                f"S{i}",
                geom,
                geom.area,
                60 - i,
                decision,
                {ItemCategory.UXO: items},
                safety_m=safety_m,
                land_use=hazard.land_use,
            )
        )
    crew = [WorkTeam(t, t + 1, f"T{t}", kind, (method,), Point(0, -100), 4, 1.0, prod.day(kind)) for t in range(teams)]
    problem = build_problem(sectors, crew, prod, {})
    return problem, greedy_schedule(problem)


def test_with_nothing_left_to_chance_the_forecast_replays_the_plan() -> None:
    prod = fixed(PROD)
    problem, plan = town(prod)
    assert problem.conflicts  # neighbours 10 m apart wait for each other
    fc = forecast(problem, plan, prod, runs=50, seed=1)
    # The replay keeps the plan's order; tick rounding can only make the plan a little longer.
    assert fc.finish[50] == pytest.approx(fc.finish[95])
    assert plan.makespan_days - 0.25 <= fc.finish[50] <= plan.makespan_days + 1e-9
    assert fc.planned[0] == pytest.approx(sum(s.area_m2 for s in problem.sectors))
    # the work still to do is the plan's: its team-days, going down by one a day per busy team
    busy = sum(slot.end - slot.start for slot in plan.slots.values()) / TICKS_PER_DAY
    assert fc.planned_work[0] == pytest.approx(busy) and fc.work[50][0] == pytest.approx(busy, rel=0.02)
    assert np.abs(fc.work[50] - fc.planned_work).max() < 0.25 * len(crew_of(plan)) + 1e-9


@pytest.mark.parametrize("kind", [TeamKind.MANUAL, TeamKind.ROBOT])
def test_a_sectors_mean_duration_is_the_plans_expected_duration(kind: TeamKind) -> None:
    problem, plan = town(PROD, items=6.0, n=1, teams=1, kind=kind)
    option = problem.option(0, plan.slots[0].team)
    days = sample_days(problem, plan, PROD, 40_000, seed=7)[0]
    # productivity draws from triangular rates and a lognormal spread, items are Poisson with
    # triangular handling times: on average they take what the plan expects
    assert days.mean() == pytest.approx(option.days, rel=0.02)
    assert days.std() > 0.05 * option.days


def test_a_machine_stops_for_the_items_it_meets_where_a_team_on_foot_deals_with_each() -> None:
    """A flail sets off or breaks up what it hits and goes on (IMAS 09.50): the same items cost a machine
    a stop each, one at a time whatever its crew, and a team on foot each item's handling time, its crews
    in parallel."""
    on_foot = town(PROD, items=6.0, n=1, teams=1)[0].options[0][0]
    machine = town(PROD, items=6.0, n=1, teams=1, kind=TeamKind.ROBOT)[0].options[0][0]
    assert PROD.item_crews(4, TeamKind.MANUAL) == 2 and PROD.item_crews(4, TeamKind.ROBOT) == 1
    assert on_foot.handling_h == pytest.approx(6.0 * PROD.handling[ItemCategory.UXO].mean / 2)
    assert PROD.machine_stop is not None
    assert machine.handling_h == pytest.approx(6.0 * PROD.machine_stop.mean)
    assert machine.handling_h < on_foot.handling_h
    # a figures file without [machine_stop] keeps the old reading: a machine's crew handles items as on foot
    legacy = dataclasses.replace(PROD, machine_stop=None)
    assert town(legacy, items=6.0, n=1, teams=1, kind=TeamKind.ROBOT)[0].options[0][0].handling_h == pytest.approx(
        on_foot.handling_h
    )


def test_percentiles_and_burn_down_behave() -> None:
    problem, plan = town(PROD, items=3.0)
    fc = forecast(problem, plan, PROD, runs=500, seed=3)
    levels = [fc.finish[q] for q in (50, 80, 90, 95)]
    assert levels == sorted(levels) and levels[0] > 0
    for hazard in fc.hazard_finish.values():
        assert hazard[95] <= fc.finish[95] + 1e-9
    total = sum(s.area_m2 for s in problem.sectors)
    for q in (10, 50, 90):
        curve = fc.remaining[q]
        assert curve[0] == pytest.approx(total) and curve[-1] == pytest.approx(0.0, abs=1e-6)
        assert np.all(np.diff(curve) <= 1e-6)  # area left only ever goes down
    assert np.all(fc.remaining[10] <= fc.remaining[90] + 1e-6)
    again = forecast(problem, plan, PROD, runs=500, seed=3)
    assert again.finish == fc.finish  # the same seed gives the same forecast


def crew_of(plan) -> set[int]:
    return {slot.team for slot in plan.slots.values()}


def test_work_left_counts_what_each_sector_has_still_to_do() -> None:
    rng = np.random.default_rng(5)
    starts = rng.uniform(0, 30, (40, 7))
    ends = starts + rng.uniform(0, 9, (40, 7))
    starts[0, 0], ends[0, 0] = 7.0, 12.0  # a sector ending on a whole day
    left = work_left(starts, ends, 45)
    for g in (0, 3, 12, 17, 39, 44):
        expected = np.clip(ends - g, 0, ends - starts).sum(axis=0)
        assert left[:, g] == pytest.approx(expected, abs=1e-9)
    assert np.all(left[:, -1] == 0.0) and np.all(np.diff(left, axis=1) <= 1e-9)


def test_both_series_at_once_are_each_series_worked_out_alone() -> None:
    """The forecast builds the area and work series from shared day bins: each must be what the
    direct sums give (searched land goes down evenly while worked, the rest when it ends)."""
    rng = np.random.default_rng(8)
    starts = rng.uniform(0, 30, (50, 6))
    ends = starts + rng.uniform(0, 9, (50, 6))
    starts[0, 0], ends[0, 0] = 7.0, 12.0  # a sector ending on a whole day
    area = rng.uniform(100, 900, 50)
    gradual = rng.random(50) < 0.8
    area_runs, work_runs = left_series(starts, ends, area, 45, gradual)
    for g in (0, 3, 12, 17, 39, 44):
        share = np.clip((ends - g) / (ends - starts), 0.0, 1.0)  # share of a searched sector still to do
        searched = (area[:, None] * share)[gradual].sum(axis=0)
        released_later = (area[:, None] * (np.ceil(ends) > g))[~gradual].sum(axis=0)
        assert area_runs[:, g] == pytest.approx(searched + released_later, abs=1e-6)
        assert work_runs[:, g] == pytest.approx(np.clip(ends - g, 0, ends - starts).sum(axis=0), abs=1e-9)
    assert np.array_equal(work_runs, work_left(starts, ends, 45))


@pytest.mark.parametrize("runs", [301, CHART_RUNS + 501])  # the chart's own runs, and a share of the runs
def test_work_series_reach_zero_on_the_finish_days(runs: int) -> None:
    problem, plan = town(PROD, items=3.0)
    fc = forecast(problem, plan, PROD, runs=runs, seed=4)
    for q in (50, 90):
        first = int(np.nonzero(fc.work[q] == 0)[0][0])
        assert first == int(np.ceil(fc.finish[q] - 1e-9))  # whole days elapsed when that share of runs is done
        assert int(np.nonzero(fc.remaining[q] == 0)[0][0]) <= first
    total = sum(s.area_m2 for s in problem.sectors)
    assert fc.remaining[50][0] == pytest.approx(total)


def test_the_charts_runs_spread_over_all_runs() -> None:
    whole = np.random.default_rng(9).lognormal(3.0, 0.5, 10_007)
    chosen = chart_runs(whole, 2000)
    assert len(set(chosen.tolist())) == 2000
    for q in (50, 90):  # the chosen runs' levels are the levels of all runs
        assert np.percentile(whole[chosen], q, method="inverted_cdf") == np.percentile(whole, q, method="inverted_cdf")
    for q in (10, 25, 75, 95):  # and the rest of the spread is kept
        assert np.percentile(whole[chosen], q) == pytest.approx(np.percentile(whole, q), rel=0.01)


def test_the_calendar_skips_rest_days_and_team_days_follow_on() -> None:
    cal = Calendar(date(2016, 4, 1), rest_weekdays=(4,))  # Fridays off; 1 April 2016 was a Friday
    assert cal.date_of(0) == date(2016, 4, 2)
    assert cal.date_of(6) == date(2016, 4, 9)  # the Friday 8 April is skipped
    assert cal.finish_date(6.2) == date(2016, 4, 9)
    problem, plan = town(fixed(PROD))
    work = day_work(problem, plan, Calendar(date(2016, 4, 11)))
    assert sum(w.hours for w in work) > 0
    by_team_day: dict[tuple[int, int], list] = {}
    for w in work:
        by_team_day.setdefault((w.team, w.day), []).append(w)
    for pieces in by_team_day.values():
        pieces.sort(key=lambda w: w.start_h)
        assert all(a.end_h <= b.start_h + 1e-9 for a, b in itertools.pairwise(pieces))
        day = problem.teams[pieces[0].team].day
        assert pieces[0].start_h >= day.start_h and pieces[-1].end_h <= day.start_h + day.hours + 1e-6
    for s, slot in plan.slots.items():  # the team-days add up to the sector's working days
        days = sum(w.end_h - w.start_h for w in work if w.sector == s) / problem.option(s, slot.team).day_h
        assert days == pytest.approx((slot.end - slot.start) / TICKS_PER_DAY)


def test_the_replay_over_the_reduced_order_ends_every_sector_as_waiting_for_all_its_predecessors() -> None:
    problem, plan = town(PROD, items=3.0, n=9, teams=3, safety_m=100.0)
    order = sorted(plan.slots, key=lambda s: (plan.slots[s].start, plan.slots[s].end, s))
    full = predecessors(problem, plan, order)
    preds, _ = reduced(problem, plan, order)
    assert sum(map(len, preds)) < sum(map(len, full.values()))  # team order and safety pairs overlap: some dropped
    days = np.random.default_rng(2).exponential(1.0, (len(order), 64))
    ends = replay(days.copy(), preds)
    for run in range(days.shape[1]):  # one run at a time, every predecessor waited for
        end: dict[int, float] = {}
        for row, s in enumerate(order):
            end[s] = max((end[p] for p in full.get(s, ())), default=0.0) + days[row, run]
        assert ends[:, run] == pytest.approx([end[s] for s in order], rel=1e-12)
    starts = starts_of(ends, preds)
    assert np.all(starts <= ends) and np.allclose(ends - starts, days)


def test_item_counts_are_poisson() -> None:
    rates = np.array([0.05, 0.8, 3.3, 12.0, 60.0])
    counts = PoissonRows(rates).draw(np.random.default_rng(6), 200_000)
    assert counts.mean(axis=1) == pytest.approx(rates, rel=0.02)
    assert counts.var(axis=1) == pytest.approx(rates, rel=0.03)
    for rate, row in zip(rates, counts, strict=True):  # each count as often as the Poisson law says
        k = np.arange(row.max() + 1)
        law = np.exp(-rate + k * np.log(rate) - np.array([math.lgamma(x + 1) for x in k]))
        seen = np.bincount(row, minlength=len(k)) / len(row)
        often = law > 1e-3
        assert seen[often] == pytest.approx(law[often], rel=0.1, abs=2e-3)


def test_warping_the_ends_kept_is_warping_every_end() -> None:
    """The day pace's warp is monotone in plan time: the forecast warps only hazards' ends and the chart's runs."""
    rng = np.random.default_rng(8)
    ends = rng.uniform(0.0, 60.0, (30, 700))
    pace = DayPace(scale2=0.04, dof=8.0, past_share=0.2)
    every = warp(ends.copy(), pace, seed=5)
    days = run_tables(pace, 5, ends.max(axis=0))  # the same draws as warp's
    kept = warp_runs(ends.max(axis=0)[:, None], days, np.arange(700))[:, 0]
    assert kept == pytest.approx(every.max(axis=0), rel=1e-9)
    some = rng.choice(700, 90, replace=False)
    assert warp_columns(ends, days, some) == pytest.approx(every[:, some], rel=1e-9)
