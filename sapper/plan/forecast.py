"""When will it be finished? Monte Carlo over productivity and item encounters.

Each run keeps the plan's decisions (which team works which sector, in which order,
who waits for whom because of safety distances and roads) and draws how long the work
really takes:
- per run, method and terrain, one rate from the cited range (data/productivity.toml):
  which figure of the range holds here is the largest uncertainty, and it holds for
  every sector the method works on that terrain;
- per sector, a lognormal spread around it (ground, rubble, vegetation);
- per sector and item category, a Poisson number of items around the expected count,
  each costing a handling time drawn from the category's range.
Durations replay through the plan (a sector starts when its team, its neighbours within
the safety distance worked before it and its road are done), vectorised over runs.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sapper.plan.problem import TICKS_PER_DAY, Problem
from sapper.plan.productivity import Productivity
from sapper.plan.schedule import Schedule

LEVELS = (50, 80, 90, 95)
BANDS = (10, 50, 90)
CHART_RUNS = 2000
# The tail: hazards still open (P50) once the median run has this share of the area done.
# They are the work that keeps a plan open long after the map looks clear.
TAIL_AREA = 0.95
PERCENTILE = "inverted_cdf"  # a level is a value reached by at least that share of runs
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
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def _predecessors(problem: Problem, schedule: Schedule, order: list[int]) -> dict[int, list[int]]:
    """For each sector, the sectors that must end before it starts in this plan."""
    rank = {s: i for i, s in enumerate(order)}
    preds: dict[int, set[int]] = defaultdict(set)
    for run in schedule.by_team().values():
        for a, b in itertools.pairwise(run):
            preds[b.sector].add(a.sector)
    for i, j in problem.conflicts:
        if i in rank and j in rank:
            first, then = (i, j) if rank[i] < rank[j] else (j, i)
            preds[then].add(first)
    members: dict[int, list[int]] = defaultdict(list)
    for s in order:
        members[problem.sectors[s].hazard_id].append(s)
    for road, quarter in problem.precedence:
        for s in members[quarter]:
            preds[s].update(members[road])
    return {s: sorted(p) for s, p in preds.items()}


def sample_days(problem: Problem, schedule: Schedule, prod: Productivity, runs: int, rng: np.random.Generator):
    """Working days each planned sector takes in each run: {sector: array(runs)}."""
    keys = sorted({(slot.method, problem.sectors[s].land_use) for s, slot in schedule.slots.items()}, key=str)
    factor = {}
    for method, land_use in keys:
        rate = prod.rate(method, land_use).rate
        # search_h holds the expected time; scale it to this run's rate
        factor[method, land_use] = rate.sample(rng, runs) * rate.mean_inverse
    sigma = prod.sector_sigma
    out = {}
    for s, slot in schedule.slots.items():
        opt = problem.option(s, slot.team)
        assert opt is not None
        spread = rng.lognormal(0.0, sigma, runs) * np.exp(sigma**2 / 2.0) if sigma > 0 else 1.0  # E[1/spread] = 1
        hours = opt.search_h / (factor[slot.method, problem.sectors[s].land_use] * spread)
        crews = prod.item_crews(problem.teams[slot.team].personnel)
        for category, expected in problem.sectors[s].items.items():
            handling = prod.handling.get(category)
            if handling is None or expected <= 0:
                continue
            n = rng.poisson(expected, runs)
            noise = rng.standard_normal(runs) * np.sqrt(n) * handling.sd
            hours = hours + np.maximum(n * handling.mean + noise, 0.0) / crews
        out[s] = hours / opt.day_h
    return out


def forecast(
    problem: Problem,
    schedule: Schedule,
    prod: Productivity,
    runs: int = 1000,
    seed: int = 0,
    progress: Progress | None = None,
) -> Forecast:
    began = time.perf_counter()
    rng = np.random.default_rng(seed)
    order = sorted(schedule.slots, key=lambda s: (schedule.slots[s].start, schedule.slots[s].end, s))
    preds = _predecessors(problem, schedule, order)
    days = sample_days(problem, schedule, prod, runs, rng)
    end: dict[int, np.ndarray] = {}
    zero = np.zeros(runs)
    for i, s in enumerate(order):
        start = zero
        for p in preds.get(s, ()):
            start = np.maximum(start, end[p])
        end[s] = start + days[s]
        if progress and (i % 200 == 0 or i == len(order) - 1):
            progress(i + 1, len(order))
    if not order:
        return Forecast(runs, dict.fromkeys(LEVELS, 0.0), {}, {}, np.zeros(1), {}, np.zeros(1))
    ends = np.vstack([end[s] for s in order])  # sectors x runs
    starts = ends - np.vstack([days[s] for s in order])
    area = np.array([problem.sectors[s].area_m2 for s in order])
    hazard_rows: dict[int, list[int]] = defaultdict(list)
    for row, s in enumerate(order):
        hazard_rows[problem.sectors[s].hazard_id].append(row)
    whole = ends.max(axis=0)
    grid = np.arange(int(np.ceil(whole.max())) + 2)
    shown = chart_runs(whole, CHART_RUNS)  # the burn-down's bands need no more runs than this
    area_left = _area_left(ends[:, shown], area, len(grid))
    work_left = _work_left(starts[:, shown], ends[:, shown], len(grid))
    sector_levels = np.percentile(ends, LEVELS, axis=1, method=PERCENTILE)  # levels x sectors
    planned_end = np.array([schedule.slots[s].end / TICKS_PER_DAY for s in order])
    planned_start = np.array([schedule.slots[s].start / TICKS_PER_DAY for s in order])
    hazard_finish = {h: _levels(ends[rows].max(axis=0)) for h, rows in hazard_rows.items()}
    remaining = _bands(area_left)
    tail = _tail(remaining[50], area.sum(), grid, hazard_finish)
    tail_rows = [r for h in tail for r in hazard_rows[h]]
    tail_left = _work_left(starts[tail_rows][:, shown], ends[tail_rows][:, shown], len(grid))
    tail_work = np.percentile(tail_left, 50, axis=0, method=PERCENTILE)
    return Forecast(
        runs=runs,
        finish=_levels(whole),
        hazard_finish=hazard_finish,
        sector_finish={
            s: dict(zip(LEVELS, sector_levels[:, row].tolist(), strict=True)) for row, s in enumerate(order)
        },
        days=grid,
        remaining=remaining,
        planned=_area_left(planned_end[:, None], area, len(grid))[0],
        work=_bands(work_left),
        planned_work=_work_left(planned_start[:, None], planned_end[:, None], len(grid))[0],
        tail_hazards=tail,
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


def _area_left(ends: np.ndarray, area: np.ndarray, n: int) -> np.ndarray:
    """Runs x days: the area of the sectors not finished at each whole day elapsed."""
    runs = ends.shape[1]
    day = np.minimum(np.ceil(ends - 1e-9).astype(np.int64), n - 1)  # the day count at which a sector is done
    flat = (np.arange(runs)[None, :] * n + day).ravel()
    done = np.bincount(flat, weights=np.repeat(area, runs), minlength=runs * n).reshape(runs, n)
    after = np.cumsum(done[:, ::-1], axis=1)[:, ::-1]  # area finishing at day g or later
    return np.concatenate([after[:, 1:], np.zeros((runs, 1))], axis=1)  # ... strictly after g


def _work_left(starts: np.ndarray, ends: np.ndarray, n: int) -> np.ndarray:
    """Runs x days: working days of sector work not yet done at each whole day elapsed.

    A sector's work left at time g is clip(end - g, 0, end - start) = relu(end - g) - relu(start - g).
    """
    left = _relu_sums(ends, n) - _relu_sums(starts, n)
    left[left < 1e-9] = 0.0  # rounding at a sector ending on a whole day
    return left


def _relu_sums(points: np.ndarray, n: int) -> np.ndarray:
    """Runs x days: sum over sectors of max(point - g, 0) for g = 0..n-1, by two bincounts."""
    runs = points.shape[1]
    grid = np.arange(n)
    floor = np.minimum(np.floor(points).astype(np.int64), n - 1)
    flat = (np.arange(runs)[None, :] * n + floor).ravel()
    count = np.bincount(flat, minlength=runs * n).reshape(runs, n)
    total = np.bincount(flat, weights=points.ravel(), minlength=runs * n).reshape(runs, n)
    count = np.cumsum(count[:, ::-1], axis=1)[:, ::-1]  # points with floor >= g
    total = np.cumsum(total[:, ::-1], axis=1)[:, ::-1]
    return total - grid[None, :] * count


def _bands(series: np.ndarray) -> dict[int, np.ndarray]:
    return dict(zip(BANDS, np.percentile(series, BANDS, axis=0, method=PERCENTILE), strict=True))


def _tail(median_area: np.ndarray, total: float, grid: np.ndarray, hazard_finish: dict[int, dict[int, float]]):
    """Hazards still open (P50) when the median run has TAIL_AREA of the area done, last first."""
    cleared = np.nonzero(median_area <= total * (1.0 - TAIL_AREA) + 1e-9)[0]
    day = float(grid[cleared[0]]) if len(cleared) else float(grid[-1])
    late = [h for h, levels in hazard_finish.items() if levels[50] > day + 1e-9]
    return sorted(late, key=lambda h: (-hazard_finish[h][50], h))


def _levels(values: np.ndarray) -> dict[int, float]:
    return {q: float(v) for q, v in zip(LEVELS, np.percentile(values, LEVELS, method=PERCENTILE), strict=True)}
