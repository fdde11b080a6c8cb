"""When will it be finished? Monte Carlo over productivity and item encounters.

Each run keeps the plan's decisions (which team works which sector, in which order,
who waits for whom because of safety distances and roads) and draws how long the work
really takes:
- per run and rate, which figure holds here, the largest uncertainty, shared by every
  sector worked at that rate: for a rate learned from the reports (learning.py) a draw
  of its posterior, shared by the teams of one kind on one method and terrain; for a
  rate with no reports a draw from the cited range (data/productivity.toml);
- per sector, a spread around it (ground, rubble, vegetation): log-uniform with the
  spread's standard deviation (a uniform draw and an exponential: the cheapest draw with
  the right mean and spread), the sector sigma of productivity.toml, or for a learned
  rate the team-day spread of the reports;
- per sector, the time its items take where the rate is not learned (a learned rate is
  all in): a compound Poisson (items times their handling times), drawn as one Poisson
  count times a handling time with the compound's exact mean and variance.
Durations replay through the plan (a sector starts when its team, its neighbours within
the safety distance worked before it and its road are done), vectorised over runs; each
sector waits only for the predecessors no other predecessor already waits for (the
transitive reduction, the same ends with far fewer maxima).
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sapper.plan.learning import Learned
from sapper.plan.problem import TICKS_PER_DAY, Problem
from sapper.plan.productivity import Productivity
from sapper.plan.schedule import Schedule
from sapper.plan.series import area_left, work_left
from sapper.plan.survey import scale_surveyed

LEVELS = (50, 80, 90, 95)
BANDS = (10, 50, 90)
CHART_RUNS = 1000  # runs behind the burn-down's bands and the sector levels (spread over all runs by finish)
# The tail: hazards still open (P50) once the median run has this share of the area done.
# They are the work that keeps a plan open long after the map looks clear.
TAIL_AREA = 0.95
PERCENTILE = "inverted_cdf"  # a level is a value reached by at least that share of runs
DRAW_CHUNK = 1000  # runs drawn at a time (the draws of a chunk stay in cache)
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
    for first, then in problem.sequence:  # survey before clearance, clearance before disposal
        if first in rank and then in rank:
            preds[then].add(first)
    return {s: sorted(p) for s, p in preds.items()}


def reduced_predecessors(problem: Problem, schedule: Schedule, order: list[int]) -> list[np.ndarray]:
    return _reduced(problem, schedule, order)[0]


def _reduced(problem: Problem, schedule: Schedule, order: list[int]) -> tuple[list[np.ndarray], list[int]]:
    """Per position in ``order``, the positions of the predecessors that set its start.

    A predecessor that is itself an ancestor of another predecessor always ends before that
    one (durations are never negative), so it never sets the start: dropping it keeps every
    end the same. Ancestors are bit sets (Python integers), one pass in plan order.
    """
    pos = {s: i for i, s in enumerate(order)}
    full = _predecessors(problem, schedule, order)
    ancestors = [0] * len(order)
    out = []
    for i, s in enumerate(order):
        preds = [pos[p] for p in full.get(s, ()) if p in pos]
        seen = 0
        for p in preds:
            seen |= ancestors[p]
        keep = [p for p in preds if not (seen >> p) & 1]
        for p in preds:
            seen |= 1 << p
        ancestors[i] = seen
        out.append(np.array(sorted(keep), dtype=np.int64))
    return out, ancestors


def last_rows(rows: list[int], ancestors: list[int]) -> list[int]:
    """Of a hazard's rows, those no other of its rows waits for: only they can end it."""
    before = 0
    for r in rows:
        before |= ancestors[r]
    return [r for r in rows if not (before >> r) & 1]


class Sampler:
    """What each planned sector's duration is drawn from, fixed once; ``draw`` gives runs of it."""

    def __init__(
        self, problem: Problem, schedule: Schedule, prod: Productivity, order: list[int], learned: Learned | None = None
    ):
        n = len(order)
        self.base = np.zeros(n)  # expected days before the run's rate factor and the sector's spread
        self.half = np.zeros(n)  # half-width of the log-uniform spread: sigma * sqrt(3)
        self.key = np.zeros(n, dtype=np.int64)  # row of the run's rate factor
        self.factors: list[tuple] = []  # ("cited", Triangular) or ("learned", group index, sd)
        groups: dict = {}
        index: dict = {}
        item_rows, item_lam, item_days = [], [], []
        team_days: dict = {}  # the draws of the day-to-day spread: one per team-day for learned rates
        self.spread_key = np.zeros(n, dtype=np.int64)
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
                self.base[row] = opt.days
                self.half[row] = rate.day_sigma * SQRT3
                # the reports' spread is of whole team-days: a team's sectors of one day share a draw
                day_key = ("day", slot.team, slot.start // TICKS_PER_DAY)
                self.spread_key[row] = team_days.setdefault(day_key, len(team_days))
            else:
                # survey and EOD tasks have no search rate: their pace is fixed (survey.py draws their share)
                tri = prod.rate(slot.method, sector.land_use).rate if slot.method in prod.search else None
                key = ("cited", slot.method.value, sector.land_use.value, tri)
                self.base[row] = opt.search_h / opt.day_h / (tri.mean_inverse if tri else 1.0)  # days at a factor of 1
                self.half[row] = prod.sector_sigma * SQRT3
                self.spread_key[row] = team_days.setdefault(("sector", row), len(team_days))  # per sector
                mean, square = _handling_moments(sector.items, prod)
                if mean > 0:  # one Poisson count x one handling time: the compound's mean and variance
                    crews = prod.item_crews(team.personnel)
                    item_rows.append(row)
                    item_lam.append(mean * mean / square)
                    item_days.append(square / mean / crews / opt.day_h)
            self.key[row] = index.setdefault(key, len(index))
        self.spreads = len(team_days)
        self.factors = sorted(index, key=lambda k: index[k])
        self.groups = len(groups)
        # E[spread] = 1: for a learned rate the base is the time at the mean day rate (learning.days_per_unit),
        # and a day's work takes a day, slow or fast: over many days the time is the area over the mean rate
        norm = np.where(self.half > 0, self.half / np.sinh(np.maximum(self.half, 1e-12)), 1.0)
        self.scale = (self.base * norm)[:, None]
        self.half32 = self.half[:, None].astype(np.float32)
        self.item_rows = np.array(item_rows, dtype=np.int64)
        self.item_lam = np.array(item_lam)
        self.item_days = np.array(item_days)

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

    def draw(self, rng: np.random.Generator, runs: int) -> np.ndarray:
        """Working days of each sector (rows in plan order) in each of ``runs`` runs."""
        parts = []
        for a in range(0, runs, DRAW_CHUNK):
            width = min(DRAW_CHUNK, runs - a)
            factors = self.factor_rows(rng, width)
            spread = rng.random((self.spreads, width), dtype=np.float32)[self.spread_key]  # in place after this
            spread *= 2.0
            spread -= 1.0
            spread *= self.half32
            np.exp(spread, out=spread)
            days = factors[self.key]
            days *= self.scale
            days *= spread
            if len(self.item_rows):
                counts = rng.poisson(self.item_lam[:, None], (len(self.item_rows), width))
                days[self.item_rows] += counts * self.item_days[:, None]
            parts.append(days)
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def _handling_moments(items: dict, prod: Productivity) -> tuple[float, float]:
    """Sum over categories of expected count x E[h] and x E[h^2] (h: one item's handling hours)."""
    mean = square = 0.0
    for category, expected in items.items():
        handling = prod.handling.get(category)
        if handling is None or expected <= 0:
            continue
        mean += expected * handling.mean
        square += expected * (handling.sd**2 + handling.mean**2)
    return mean, square


def plan_order(schedule: Schedule) -> list[int]:
    return sorted(schedule.slots, key=lambda s: (schedule.slots[s].start, schedule.slots[s].end, s))


def sample_days(
    problem: Problem,
    schedule: Schedule,
    prod: Productivity,
    runs: int,
    rng: np.random.Generator,
    learned: Learned | None = None,
) -> dict[int, np.ndarray]:
    """Working days each planned sector takes in each run: {sector: array(runs)}."""
    order = plan_order(schedule)
    days = scale_surveyed(Sampler(problem, schedule, prod, order, learned).draw(rng, runs), problem, order, rng)
    return {s: days[row] for row, s in enumerate(order)}


def replay(days: np.ndarray, preds: list[np.ndarray]) -> np.ndarray:
    """Ends of every sector in every run, in place of ``days`` (rows in plan order)."""
    for i, p in enumerate(preds):
        if len(p) == 1:
            days[i] += days[p[0]]
        elif len(p) > 1:
            days[i] += days[p].max(axis=0)
    return days


def starts_of(ends: np.ndarray, preds: list[np.ndarray]) -> np.ndarray:
    starts = np.empty_like(ends)
    for i, p in enumerate(preds):
        if not len(p):
            starts[i] = 0.0
        elif len(p) == 1:
            starts[i] = ends[p[0]]
        elif len(p) > 1:
            starts[i] = ends[p].max(axis=0)
    return starts


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
    rng = np.random.default_rng(seed)
    order = plan_order(schedule)
    if not order:
        return Forecast(runs, dict.fromkeys(LEVELS, 0.0), {}, {}, np.zeros(1), {}, np.zeros(1))
    preds, ancestors = _reduced(problem, schedule, order)
    sampler = Sampler(problem, schedule, prod, order, learned)
    hazard_rows: dict[int, list[int]] = defaultdict(list)
    for row, s in enumerate(order):
        hazard_rows[problem.sectors[s].hazard_id].append(row)
    hazards = list(hazard_rows)
    lasts = [np.array(last_rows(hazard_rows[h], ancestors), dtype=np.int64) for h in hazards]
    chunks, hazard_ends = [], []
    for a in range(0, runs, DRAW_CHUNK):  # a chunk of runs at a time: its arrays stay small
        days = scale_surveyed(sampler.draw(rng, min(DRAW_CHUNK, runs - a)), problem, order, rng)
        chunks.append(replay(days, preds))
        hazard_ends.append(np.vstack([chunks[-1][rows].max(axis=0) for rows in lasts]))
        if progress:
            progress(len(order) * (a + days.shape[1]) // runs, len(order))
    area = np.array([problem.sectors[s].area_m2 for s in order])
    whole = np.concatenate([c.max(axis=0) for c in chunks])
    grid = np.arange(int(np.ceil(whole.max())) + 2)
    shown = chart_runs(whole, CHART_RUNS)  # the burn-down's bands and sector levels need no more runs than this
    shown_ends = np.empty((len(order), len(shown)))
    for k, c in enumerate(chunks):
        at = np.nonzero((shown >= k * DRAW_CHUNK) & (shown < k * DRAW_CHUNK + c.shape[1]))[0]
        shown_ends[:, at] = c[:, shown[at] - k * DRAW_CHUNK]
    shown_starts = starts_of(shown_ends, preds)
    gradual = np.array([problem.sectors[s].task == "clearance" for s in order])
    area_runs = area_left(shown_ends, area, len(grid), shown_starts, gradual)
    work_runs = work_left(shown_starts, shown_ends, len(grid))
    sector_levels = np.percentile(shown_ends, LEVELS, axis=1, method=PERCENTILE)  # levels x sectors
    planned_end = np.array([schedule.slots[s].end / TICKS_PER_DAY for s in order])
    planned_start = np.array([schedule.slots[s].start / TICKS_PER_DAY for s in order])
    ends_of_hazard = np.concatenate(hazard_ends, axis=1)
    hazard_finish = {h: _levels(ends_of_hazard[k]) for k, h in enumerate(hazards)}
    remaining = _bands(area_runs)
    # the tail: hazards open once the median run has ended the sectors holding TAIL_AREA of the area
    ended = np.percentile(area_left(shown_ends, area, len(grid)), 50, axis=0, method=PERCENTILE)
    tail, tail_day = _tail(ended, area.sum(), grid, hazard_finish)
    tail_rows = [r for h in tail for r in hazard_rows[h]]
    tail_left = work_left(shown_starts[tail_rows], shown_ends[tail_rows], len(grid))
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


def _levels(values: np.ndarray) -> dict[int, float]:
    return {q: float(v) for q, v in zip(LEVELS, np.percentile(values, LEVELS, method=PERCENTILE), strict=True)}
