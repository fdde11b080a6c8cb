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
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sapper.plan.problem import TICKS_PER_DAY, Problem
from sapper.plan.productivity import Productivity
from sapper.plan.schedule import Schedule

LEVELS = (50, 80, 90, 95)
CHART_RUNS = 2000
Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class Forecast:
    runs: int
    finish: dict[int, float]  # percentile -> working days to finish everything planned
    hazard_finish: dict[int, dict[int, float]]  # hazard -> percentile -> days
    sector_finish: dict[int, dict[int, float]]  # sector -> percentile -> days
    days: np.ndarray  # day grid 0..n of the burn-down
    remaining: dict[int, np.ndarray]  # percentile (10, 50, 90) -> area still to work per day, m2
    planned: np.ndarray  # the deterministic plan's area still to work per day, m2
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
    area = np.array([problem.sectors[s].area_m2 for s in order])
    hazard_rows: dict[int, list[int]] = defaultdict(list)
    for row, s in enumerate(order):
        hazard_rows[problem.sectors[s].hazard_id].append(row)
    whole = ends.max(axis=0)
    grid = np.arange(int(np.ceil(whole.max())) + 2)
    shown = min(runs, CHART_RUNS)  # the burn-down's bands need no more runs than this
    done = np.zeros((shown, len(grid)))
    day_index = np.minimum(np.ceil(ends[:, :shown]).astype(int), len(grid) - 1)
    for r in range(shown):
        done[r] = np.bincount(day_index[:, r], weights=area, minlength=len(grid))
    remaining = area.sum() - np.cumsum(done, axis=1)
    sector_levels = np.percentile(ends, LEVELS, axis=1)  # levels x sectors
    planned_end = np.array([schedule.slots[s].end / TICKS_PER_DAY for s in order])
    planned = np.array([area[planned_end > d].sum() for d in grid])
    return Forecast(
        runs=runs,
        finish=_levels(whole),
        hazard_finish={h: _levels(ends[rows].max(axis=0)) for h, rows in hazard_rows.items()},
        sector_finish={
            s: dict(zip(LEVELS, sector_levels[:, row].tolist(), strict=True)) for row, s in enumerate(order)
        },
        days=grid,
        remaining={q: np.percentile(remaining, q, axis=0) for q in (10, 50, 90)},
        planned=planned,
        seconds=time.perf_counter() - began,
    )


def _levels(values: np.ndarray) -> dict[int, float]:
    return {q: float(v) for q, v in zip(LEVELS, np.percentile(values, LEVELS), strict=True)}
