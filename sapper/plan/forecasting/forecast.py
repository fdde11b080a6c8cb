"""When will it be finished? Monte Carlo over productivity and item encounters.

Each run keeps the plan's decisions (which team works which sector, in which order,
who waits for whom because of safety distances and roads) and draws how long the work
really takes:
- per run and rate, which figure holds here, the largest uncertainty, shared by every
  sector worked at that rate: for a rate learned from the reports (learning.py) a draw
  of its posterior, shared by the teams of one kind on one method and terrain; for a
  rate with no reports a draw from the cited range (rules/data/productivity.toml);
- per sector, a spread around it (ground, rubble, vegetation): log-uniform with the
  spread's standard deviation (a uniform draw and an exponential: the cheapest draw with
  the right mean and spread), the sector sigma of productivity.toml, or for a learned
  rate the team-day spread of the reports;
- per sector, the time its items take where the rate is not learned (a learned rate is
  all in): a compound Poisson (items times their handling times), drawn as one Poisson
  count (poisson.py) times a handling time with the compound's exact mean and variance.
Sectors that share every draw (the same rate factor, spread draw and survey outcome) form
a cell: the draws are worked out per cell, then each sector is its cell times its base.
Durations replay through the plan (precedence.py: a sector starts when its team, its
neighbours within the safety distance worked before it and its road are done), vectorised
over runs, each sector waiting only for the predecessors that can set its start.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sapper.plan.forecasting.day_pace import run_tables, warp_columns, warp_runs
from sapper.plan.forecasting.learning import Learned
from sapper.plan.forecasting.poisson import PoissonRows
from sapper.plan.forecasting.precedence import last_rows, reduced, replay, starts_of
from sapper.plan.forecasting.series import area_left, left_series, work_left
from sapper.plan.forecasting.threads import DRAWS, each, run_each, streams
from sapper.plan.problem import TICKS_PER_DAY, Problem
from sapper.plan.rules.productivity import Productivity
from sapper.plan.scheduling.schedule import Schedule
from sapper.plan.survey.suspected import scale_surveyed

LEVELS = (50, 80, 90, 95)
BANDS = (10, 50, 90)
CHART_RUNS = 1000  # runs behind the burn-down's bands and the sector levels (spread over all runs by finish)
# The tail: hazards still open (P50) once the median run has this share of the area done.
# They are the work that keeps a plan open long after the map looks clear.
TAIL_AREA = 0.95
PERCENTILE = "inverted_cdf"  # a level is a value reached by at least that share of runs
DRAW_CHUNK = 256  # runs drawn at a time, on a stream of their own: the draws of a chunk stay in cache
REPLAY_CHUNK = 10_000  # runs replayed at a time: the replay's numpy calls per sector are few, each on long rows
# Working days of every sector in every run: float32 halves the memory 10,000 runs x thousands of sectors
# pass through (draw, replay, the chart's runs), and its seven digits are far finer than the draws' spread
RUN_DTYPE = np.float32
SQRT3 = math.sqrt(3.0)
Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class Forecast:
    """Finish levels and the burn-down series, all from the same runs.

    Series are sampled at whole working days elapsed: index ``g`` is the state at the end of
    working day ``g - 1`` (index 0: before the first day). Percentiles are the value held by
    at least that share of runs (numpy's inverted CDF), for finish levels and series alike,
    so a series at level q reaches 0 on the very day the P-q finish names (also when the series
    come from a share of the runs: see chart_runs).
    """

    runs: int
    finish: dict[int, float]  # percentile -> working days to finish everything planned
    hazard_finish: dict[int, dict[int, float]]  # hazard -> percentile -> days
    sector_finish: dict[int, dict[int, float]]  # sector -> percentile -> days
    days: np.ndarray  # day grid 0..n of the burn-down
    remaining: dict[int, np.ndarray]  # percentile (10, 50, 90) -> area still to work per day, m2
    planned: np.ndarray  # the deterministic plan's area still to work per day, m2
    work: dict[int, np.ndarray] = field(default_factory=dict)  # percentile -> team-days still to work per day
    planned_work: np.ndarray = field(default_factory=lambda: np.zeros(1))  # the plan's team-days per day
    tail_hazards: list[int] = field(default_factory=list)  # open after TAIL_AREA of the area is done, last first
    tail_work: np.ndarray = field(default_factory=lambda: np.zeros(1))  # their team-days per day, median run
    tail_day: int | None = None  # the day index the median run has ended the sectors of TAIL_AREA of the area
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


class Sampler:
    """What each planned sector's duration is drawn from, fixed once; ``draw`` gives runs of it."""

    def __init__(
        self, problem: Problem, schedule: Schedule, prod: Productivity, order: list[int], learned: Learned | None = None
    ):
        base: list[float] = []  # expected days before the run's rate factor and the sector's spread
        half: list[float] = []  # half-width of the log-uniform spread: sigma * sqrt(3)
        keys: list[int] = []  # row of the run's rate factor
        spread_keys: list[int] = []  # row of the spread's draw
        self.factors: list[tuple] = []  # ("cited", Triangular) or ("learned", group index, sd)
        groups: dict = {}
        index: dict = {}
        item_rows, item_lam, item_days = [], [], []
        team_days: dict = {}  # the draws of the day-to-day spread: one per team-day for learned rates
        for row, s in enumerate(order):
            slot = schedule.slots[s]
            sector, team = problem.sectors[s], problem.teams[slot.team]
            opt = problem.option(s, slot.team)
            assert opt is not None
            learns = learned is not None and slot.method not in sector.effort_days  # as learning.apply_learned
            rate = learned.rate_for(team, slot.method, sector.land_use) if learns else None
            if rate is not None:  # all in: the option's days hold travel and items already
                group = groups.setdefault(rate.group, len(groups))
                key = ("learned", group, rate.mu_sd)
                base.append(opt.days)
                half.append(rate.day_sigma * SQRT3)
                # the reports' spread is of whole team-days: a team's sectors of one day share a draw
                day_key = ("day", slot.team, slot.start // TICKS_PER_DAY)
                spread_keys.append(team_days.setdefault(day_key, len(team_days)))
            else:
                # survey and EOD tasks have no search rate: their pace is fixed (survey/suspected.py draws their share)
                tri = prod.rate(slot.method, sector.land_use).rate if slot.method in prod.search else None
                key = ("cited", slot.method.value, sector.land_use.value, tri)
                base.append(opt.search_h / opt.day_h / (tri.mean_inverse if tri else 1.0))  # days at a factor of 1
                half.append(prod.sector_sigma * SQRT3)
                spread_keys.append(team_days.setdefault(("sector", row), len(team_days)))  # per sector
                mean, square = prod.handling_moments(sector.items, team.kind)
                if mean > 0:  # one Poisson count x one handling time: the compound's mean and variance
                    crews = prod.item_crews(team.personnel, team.kind)
                    item_rows.append(row)
                    item_lam.append(mean * mean / square)
                    item_days.append(square / mean / crews / opt.day_h)
            keys.append(index.setdefault(key, len(index)))
        self.base, self.half = np.array(base, dtype=float), np.array(half, dtype=float)
        self.key, self.spread_key = np.array(keys, dtype=np.int64), np.array(spread_keys, dtype=np.int64)
        self.spreads = len(team_days)
        self.factors = sorted(index, key=lambda k: index[k])
        self.groups = len(groups)
        # E[spread] = 1: for a learned rate the base is the time at the mean day rate (learning.days_per_unit),
        # and a day's work takes a day, slow or fast: over many days the time is the area over the mean rate
        norm = np.where(self.half > 0, self.half / np.sinh(np.maximum(self.half, 1e-12)), 1.0)
        self.scale = (self.base * norm).astype(RUN_DTYPE)[:, None]
        self.item_rows = np.array(item_rows, dtype=np.int64)
        self.item_lam = np.array(item_lam)
        self.item_days = np.array(item_days)
        self.items = PoissonRows(self.item_lam)
        self._cells(problem, order)

    def _cells(self, problem: Problem, order: list[int]) -> None:
        """Rows that share every draw (rate factor, spread draw and width, survey outcome) form a cell:
        the draws are worked out once per cell and run, and each row is its cell times its base."""
        self.problem = problem
        kinds: dict[str, int] = {}  # survey outcome the row scales with: its sector's release
        self.reps: list[int] = []  # a sector of each kind: scale_surveyed scales by release alone
        row_kind = np.empty(len(order), dtype=np.int64)
        for row, s in enumerate(order):
            release = problem.sectors[s].release
            if release not in kinds:
                kinds[release] = len(kinds)
                self.reps.append(s)
            row_kind[row] = kinds[release]
        pairs: dict = {}  # (rate factor, survey kind): the draws a cell shares with others
        pair = [pairs.setdefault(k, len(pairs)) for k in zip(self.key.tolist(), row_kind.tolist())]
        index: dict = {}
        self.cell = np.array(
            [index.setdefault(k, len(index)) for k in zip(self.spread_key.tolist(), self.half.tolist(), pair)],
            dtype=np.int64,
        )
        self.pair_key, self.pair_kind = (c.astype(np.int64) for c in _columns(pairs, 2))
        spread, half, cell_pair = _columns(index, 3)
        self.cell_spread, self.cell_pair = spread.astype(np.int64), cell_pair.astype(np.int64)
        self.cell_half = half.astype(np.float32)[:, None]
        self.cell_width = (2.0 * half).astype(np.float32)[:, None]
        self.item_kind = row_kind[self.item_rows]

    def factor_rows(self, rng: np.random.Generator, runs: int) -> np.ndarray:
        """Rate factors x runs: what a day of work takes in this run relative to the expected."""
        shared = rng.standard_normal((self.groups, runs))  # one draw per learned group and run
        out = np.empty((len(self.factors), runs))
        for i, key in enumerate(self.factors):
            if key[0] == "learned":
                sd = key[2]
                out[i] = np.exp(-sd * shared[key[1]] - sd * sd / 2.0)  # E = 1
            else:
                out[i] = 1.0 / key[3].sample(rng, runs) if key[3] is not None else 1.0
        return out

    def draw(self, seed: int, runs: int, drawn: Callable[[int], None] | None = None) -> np.ndarray:
        """Working days of each sector (rows in plan order) in each of ``runs`` runs, survey outcome included:
        DRAW_CHUNK runs at a time on the threads, each chunk on its own stream; ``drawn(runs so far)``
        after each chunk, in order."""
        days = np.empty((len(self.cell), runs), dtype=RUN_DTYPE)
        firsts = range(0, runs, DRAW_CHUNK)
        generators = streams(seed, DRAWS, len(firsts))

        def chunk(k: int) -> int:
            a = firsts[k]
            self.draw_into(generators[k], days[:, a : a + DRAW_CHUNK])  # the draws' temporaries stay in cache
            return min(a + DRAW_CHUNK, runs)

        for done in each(chunk, range(len(firsts))):
            if drawn:
                drawn(done)
        return days

    def draw_into(self, rng: np.random.Generator, out: np.ndarray) -> None:
        """Fill ``out`` (rows x runs, RUN_DTYPE, a view of a wider array is fine) with working days: a cell's
        draws times each row's base, plus items."""
        width = out.shape[1]
        factors = self.factor_rows(rng, width)
        uniform = rng.random((self.spreads, width), dtype=np.float32)
        counts = self.items.draw(rng, width) if len(self.item_rows) else None
        survey = scale_surveyed(np.ones((len(self.reps), width)), self.problem, self.reps, rng)
        spread = uniform[self.cell_spread]  # log-uniform: exp(half x (2u - 1)), in place
        spread *= self.cell_width
        spread -= self.cell_half
        np.exp(spread, out=spread)
        outcome = factors[self.pair_key]  # the run's rate factor and survey outcome of each pair
        outcome *= survey[self.pair_kind]
        cells = outcome.astype(RUN_DTYPE)[self.cell_pair]
        cells *= spread
        np.multiply(np.take(cells, self.cell, axis=0), self.scale, out=out)  # one pass over ``out``, often strided
        if counts is not None:
            out[self.item_rows] += counts * (self.item_days[:, None] * survey[self.item_kind])


def _columns(keys: dict, width: int) -> list[np.ndarray]:
    """The tuples keying ``keys``, column by column, in the order they were added."""
    table = np.array(list(keys), dtype=float).reshape(len(keys), width)
    return [table[:, i] for i in range(width)]


def plan_order(schedule: Schedule) -> list[int]:
    return sorted(schedule.slots, key=lambda s: (schedule.slots[s].start, schedule.slots[s].end, s))


def sample_days(
    problem: Problem,
    schedule: Schedule,
    prod: Productivity,
    runs: int,
    seed: int,
    learned: Learned | None = None,
) -> dict[int, np.ndarray]:
    """Working days each planned sector takes in each run: {sector: array(runs)}."""
    order = plan_order(schedule)
    days = Sampler(problem, schedule, prod, order, learned).draw(seed, runs)
    return {s: days[row] for row, s in enumerate(order)}


def forecast(
    problem: Problem,
    schedule: Schedule,
    prod: Productivity,
    runs: int = 1000,
    seed: int = 0,
    progress: Progress | None = None,
    learned: Learned | None = None,
) -> Forecast:
    began = time.perf_counter()
    order = plan_order(schedule)
    if not order:
        return Forecast(runs, dict.fromkeys(LEVELS, 0.0), {}, {}, np.zeros(1), {}, np.zeros(1))
    preds, ancestors = reduced(problem, schedule, order)
    sampler = Sampler(problem, schedule, prod, order, learned)
    hazard_rows: dict[int, list[int]] = defaultdict(list)
    for row, s in enumerate(order):
        hazard_rows[problem.sectors[s].hazard_id].append(row)
    hazards = list(hazard_rows)
    lasts = [np.array(last_rows(hazard_rows[h], ancestors), dtype=np.int64) for h in hazards]
    n = len(order)
    # every run's durations, then ends in place: rows in plan order
    ends = sampler.draw(seed, runs, (lambda done: progress(n * done // (2 * runs), n)) if progress else None)
    for a in range(0, runs, REPLAY_CHUNK):  # many runs at a time: a few numpy calls per sector
        replay(ends[:, a : a + REPLAY_CHUNK], preds)
        if progress:
            progress(n * (runs + min(a + REPLAY_CHUNK, runs)) // (2 * runs), n)
    area = np.array([problem.sectors[s].area_m2 for s in order])
    ends_of_hazard = np.vstack([ends[rows].max(axis=0) for rows in lasts]).astype(float)
    whole = ends_of_hazard.max(axis=0)  # each sector is in a hazard, and a hazard ends with its last rows
    pace = learned.day_pace if learned is not None else None
    if pace is not None:  # days all teams share: plan time to days elapsed, as day_pace.warp of every end
        # each run's days, WARP_CHUNK runs at a time (as many days as the slowest of them needs); the
        # warp is monotone in plan time, so warping the ends kept is warping every end
        days_done = run_tables(pace, seed, whole)
        ends_of_hazard = warp_runs(ends_of_hazard.T, days_done, np.arange(runs)).T
        whole = ends_of_hazard.max(axis=0)
    grid = np.arange(int(np.ceil(whole.max())) + 2)
    shown = chart_runs(whole, CHART_RUNS)  # the burn-down's bands and sector levels need no more runs than this
    if pace is not None:
        shown_ends = warp_columns(ends, days_done, shown)
    else:
        ascending = np.argsort(shown)
        shown_ends = np.empty((n, len(shown)))  # float64 from here: the series' day boundaries need the digits
        shown_ends[:, ascending] = ends[:, shown[ascending]]  # the columns in memory order: one sweep of ends
    del ends
    shown_starts = starts_of(shown_ends, preds)
    gradual = np.array([problem.sectors[s].task == "clearance" for s in order])
    area_runs, work_runs = left_series(shown_starts, shown_ends, area, len(grid), gradual)
    planned_end = np.array([schedule.slots[s].end / TICKS_PER_DAY for s in order])
    planned_start = np.array([schedule.slots[s].start / TICKS_PER_DAY for s in order])
    hazard_levels = _row_levels(ends_of_hazard)  # levels x hazards, by one partition
    hazard_finish = {h: dict(zip(LEVELS, hazard_levels[:, k].tolist(), strict=True)) for k, h in enumerate(hazards)}
    remaining = _bands(area_runs)
    # the tail: hazards open once the median run has ended the sectors holding TAIL_AREA of the area
    ended = np.percentile(area_left(shown_ends, area, len(grid)), 50, axis=0, method=PERCENTILE)
    tail, tail_day = _tail(ended, area.sum(), grid, hazard_finish)
    tail_rows = [r for h in tail for r in hazard_rows[h]]
    tail_left = work_left(shown_starts[tail_rows], shown_ends[tail_rows], len(grid))
    tail_work = np.percentile(tail_left, 50, axis=0, method=PERCENTILE)
    sector_levels = _row_levels(shown_ends, in_place=True)  # levels x sectors; the chart's ends are done with
    return Forecast(
        runs=runs,
        finish=_levels(whole),
        hazard_finish=hazard_finish,
        sector_finish={
            s: dict(zip(LEVELS, sector_levels[:, row].tolist(), strict=True)) for row, s in enumerate(order)
        },
        days=grid,
        remaining=remaining,
        planned=area_left(planned_end[:, None], area, len(grid), planned_start[:, None], gradual)[0],
        work=_bands(work_runs),
        planned_work=work_left(planned_start[:, None], planned_end[:, None], len(grid))[0],
        tail_hazards=tail,
        tail_day=tail_day,
        tail_work=tail_work,
        seconds=time.perf_counter() - began,
    )


def chart_runs(whole: np.ndarray, limit: int) -> np.ndarray:
    """At most ``limit`` runs for the burn-down, spread evenly over the runs ranked by finish, with
    the runs that set the P50 and P90 finish at the ranks that set them among the chosen: the
    chart's median and 90 % lines reach zero on the days the tables print, however many runs."""
    n = len(whole)
    if n <= limit:
        return np.arange(n)
    order = np.argsort(whole, kind="stable")
    rank = [0, *(math.ceil(q * limit / 100) - 1 for q in (50, 90)), limit - 1]  # inverted CDF ranks
    full = [0, *(math.ceil(q * n / 100) - 1 for q in (50, 90)), n - 1]
    return order[np.floor(np.interp(np.arange(limit), rank, full) + 0.5).astype(np.int64)]


def _bands(series: np.ndarray) -> dict[int, np.ndarray]:
    return dict(zip(BANDS, np.percentile(series, BANDS, axis=0, method=PERCENTILE), strict=True))


def _tail(
    median_area: np.ndarray, total: float, grid: np.ndarray, hazard_finish: dict[int, dict[int, float]]
) -> tuple[list[int], int]:
    """Hazards still open (P50) when the median run has TAIL_AREA of the area done, last first, and that day."""
    cleared = np.nonzero(median_area <= total * (1.0 - TAIL_AREA) + 1e-9)[0]
    at = int(cleared[0]) if len(cleared) else len(grid) - 1
    late = [h for h, levels in hazard_finish.items() if levels[50] > float(grid[at]) + 1e-9]
    return sorted(late, key=lambda h: (-hazard_finish[h][50], h)), at


def _row_levels(values: np.ndarray, in_place: bool = False) -> np.ndarray:
    """LEVELS x rows: each row's percentiles as np.percentile's inverted CDF gives them, by one partition
    (``in_place``: of ``values`` itself, whose rows are then reordered, sparing a copy)."""
    ranks = [-(-q * values.shape[1] // 100) - 1 for q in LEVELS]  # ceil(q n / 100) - 1, in integers
    if not in_place:
        values = values.copy()
    half = (len(values) + 1) // 2
    run_each(lambda rows: values[rows].partition(ranks, axis=1), [slice(0, half), slice(half, None)])
    return values[:, ranks].T


def _levels(values: np.ndarray) -> dict[int, float]:
    return {q: float(v) for q, v in zip(LEVELS, np.percentile(values, LEVELS, method=PERCENTILE), strict=True)}
