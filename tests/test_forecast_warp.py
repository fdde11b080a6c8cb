"""The day pace's warp as the forecast applies it: one np.interp a run on the run's own days, and the
chart's runs warped a run at a time give the very figures of warping every end of every run."""

from __future__ import annotations

import numpy as np
import pytest
from test_forecast import town as forecast_town

from sapper.plan.forecasting import series, threads
from sapper.plan.forecasting.day_pace import (
    WARP_CHUNK,
    DayPace,
    run_days,
    run_progress,
    run_tables,
    through,
    through_by_run,
    warp_columns,
    warp_runs,
)
from sapper.plan.forecasting.forecast import CHART_RUNS, LEVELS, PERCENTILE, Sampler, chart_runs, forecast, plan_order
from sapper.plan.forecasting.learning import Learned
from sapper.plan.forecasting.precedence import reduced, replay
from sapper.plan.rules.methods import load_rules
from sapper.plan.rules.productivity import load_productivity

RULES = load_rules()
PROD = load_productivity()


def test_run_progress_is_run_days_after_a_zero_and_through_by_run_is_np_interp_on_it() -> None:
    rng = np.random.default_rng(11)
    pace = DayPace(scale2=0.5, dof=4.0, past_share=0.3)  # wide: some runs need days drawn on
    ends = rng.uniform(0.0, 30.0, (40, 9))  # runs x values
    progress = run_progress(pace, np.random.default_rng(2), ends.max(axis=1))
    days = run_days(pace, np.random.default_rng(2), ends.max(axis=1))  # the same draws
    assert np.array_equal(progress[:, 0], np.zeros(40)) and np.array_equal(progress[:, 1:], days)
    assert np.all(progress[:, -1] >= ends.max(axis=1))  # every run has the days it needs
    ends[:, 0] = progress[np.arange(40), rng.integers(0, progress.shape[1], 40)]  # on a day's end exactly
    ends[:, 1] = 0.0
    ends[:, 2] = progress[:, -1] + 3.0  # past the last day drawn: the last day
    out = np.full(ends.shape, np.nan)
    assert through_by_run(ends, progress, out=out) is out
    day = np.arange(progress.shape[1], dtype=float)
    for r in range(40):
        assert np.array_equal(out[r], np.interp(ends[r], progress[r], day))
    assert np.array_equal(out[:, 2], np.full(40, day[-1]))
    assert np.array_equal(through(ends.T, days), out.T)  # sectors x runs: the same warp
    single = ends.astype(np.float32)  # the chart's ends come as float32: warped as their float64 values
    assert np.array_equal(through_by_run(single, progress), through_by_run(single.astype(float), progress))
    placed = through_by_run(ends, progress, out=np.empty(ends.shape), rows=list(range(39, -1, -1)))
    assert np.array_equal(placed[::-1], out)  # run r written into row rows[r]


def test_warp_columns_warps_each_chosen_run_through_its_own_days_in_the_order_chosen() -> None:
    rng = np.random.default_rng(6)
    pace = DayPace(scale2=0.04, dof=8.0, past_share=0.2)
    ends = rng.uniform(0.0, 50.0, (12, 1300)).astype(np.float32)  # rows x runs, as the replay leaves them
    need = ends.max(axis=0).astype(float)
    days = [run_progress(pace, rng, need[a : a + WARP_CHUNK]) for a in range(0, 1300, WARP_CHUNK)]
    shown = rng.choice(1300, 70, replace=False)  # in no order: the chart's are by finish
    warped = warp_columns(ends, days, shown)
    for k, run in enumerate(shown.tolist()):
        table = days[run // WARP_CHUNK][run % WARP_CHUNK]
        assert np.array_equal(warped[:, k], np.interp(ends[:, run], table, np.arange(len(table), dtype=float)))
    every = warp_runs(ends.T, days, np.arange(1300)).T  # every run, in order
    assert np.array_equal(every[:, shown], warped)


def test_the_series_of_runs_worked_out_a_block_at_a_time_are_those_of_all_runs_at_once(monkeypatch) -> None:
    rng = np.random.default_rng(4)
    starts = np.sort(rng.uniform(0.0, 40.0, (30, 3 * series.RUN_BLOCK + 5)), axis=0)
    ends = starts + rng.exponential(2.0, starts.shape)
    area, gradual = rng.uniform(100.0, 900.0, 30), rng.random(30) < 0.8
    blocks = (
        series.left_series(starts, ends, area, 60, gradual),
        series.area_left(ends, area, 60),
        series.work_left(starts, ends, 60),
    )
    monkeypatch.setattr(series, "RUN_BLOCK", 10**9)  # all runs at once
    at_once = (
        series.left_series(starts, ends, area, 60, gradual),
        series.area_left(ends, area, 60),
        series.work_left(starts, ends, 60),
    )
    assert all(np.array_equal(a, b) for a, b in zip(blocks[0], at_once[0], strict=True))
    assert np.array_equal(blocks[1], at_once[1]) and np.array_equal(blocks[2], at_once[2])


def town(n: int = 24, teams: int = 3):
    """Sectors of three hazards in a row, worked by manual teams; items to find in each."""
    return forecast_town(PROD, items=2.0, n=n, teams=teams, per_hazard=8)


@pytest.mark.parametrize("runs", [777, 1203])
def test_the_forecasts_levels_with_a_day_pace_are_those_of_every_end_warped(runs: int) -> None:
    """The forecast warps only the hazards' ends and the chart's runs, a run's row at a time: its finish,
    hazard and sector levels are those of warping every sector's end in every run."""
    problem, plan = town()
    learned = Learned(day_pace=DayPace(scale2=0.04, dof=8.0, past_share=0.2))
    fc = forecast(problem, plan, PROD, runs=runs, seed=5, learned=learned)
    # the forecast's own steps, done the plain way: every end of every run warped
    order = plan_order(plan)
    ends = replay(Sampler(problem, plan, PROD, order, learned).draw(5, runs), reduced(problem, plan, order)[0])
    need = ends.max(axis=0).astype(float)
    days = [table[:, 1:] for table in run_tables(learned.day_pace, 5, need)]  # each chunk's days, its own draws
    warped = np.hstack(
        [
            through(ends[:, a : a + WARP_CHUNK].astype(float), d)
            for a, d in zip(range(0, runs, WARP_CHUNK), days, strict=True)
        ]
    )
    whole = warped.max(axis=0)

    def levels(values: np.ndarray, axis: int | None = None) -> np.ndarray:
        return np.percentile(values, LEVELS, axis=axis, method=PERCENTILE)

    assert [fc.finish[q] for q in LEVELS] == levels(whole).tolist()
    for h in {s.hazard_id for s in problem.sectors}:
        rows = [row for row, s in enumerate(order) if problem.sectors[s].hazard_id == h]
        assert [fc.hazard_finish[h][q] for q in LEVELS] == levels(warped[rows].max(axis=0)).tolist()
    shown = warped[:, chart_runs(whole, CHART_RUNS)]
    expected = levels(shown, axis=1)
    for row, s in enumerate(order):
        assert [fc.sector_finish[s][q] for q in LEVELS] == expected[:, row].tolist()


def test_the_same_seed_gives_the_same_forecast_on_any_number_of_threads(monkeypatch) -> None:
    """Each chunk of runs draws on a stream of its own, whichever thread takes it and whenever it ends."""
    problem, plan = town(n=40, teams=4)
    learned = Learned(day_pace=DayPace(scale2=0.04, dof=8.0, past_share=0.2))
    made = []
    for count in (1, 2, 4):
        monkeypatch.setattr(threads, "THREADS", count)
        made.append(forecast(problem, plan, PROD, runs=1500, seed=9, learned=learned))
    one = made[0]
    assert len({fc.finish[50] for fc in made}) == 1  # and not a forecast that ignores the draws:
    assert one.finish[50] < one.finish[95]
    for fc in made[1:]:
        assert (fc.finish, fc.hazard_finish, fc.sector_finish) == (one.finish, one.hazard_finish, one.sector_finish)
        assert all(np.array_equal(fc.remaining[q], one.remaining[q]) for q in one.remaining)
        assert all(np.array_equal(fc.work[q], one.work[q]) for q in one.work)
