"""The day effect: a working day all teams go slower or faster together (heat, wind, dust, access).

The daily reports' log rates follow a two-way random-effects model

    y[t, d] = a[t] + delta[d] + e[t, d],   delta[d] ~ N(0, s2_day),   e[t, d] ~ N(0, s2_own)

(``a``: the team's rate on its method and terrain, learning.py; ``delta``: the day's shared
pace, ``e``: the team's own day). Without ``delta`` a forecast's draws are independent per
team and sector and average out over many of them, so its band is far narrower than the
day-to-day swing of the total.

Estimate. Team and day effects are fitted by least squares (alternating means, the additive
two-way fit of an unbalanced table); ``s2_own`` is the residual mean square and ``s2_day``
the ANOVA moment estimator: the variance of the fitted day effects less the share of
``s2_own`` each carries, floored at 0 (ANOVA estimation of variance components: Searle,
Casella & McCulloch, Variance Components, 1992). It has D - 1 degrees of freedom (D report days) and is pooled with a
scaled-inverse-chi-square prior (PRIOR_SIGMA weighing as PRIOR_DAYS days): the posterior
of a normal variance with a conjugate prior (Gelman et al., Bayesian Data Analysis, 3rd
ed., 2013, sec. 2.6). With few report days the prior dominates and the draws of
``s2_day`` are wide (a Student-t predictive): early forecasts are honestly uncertain.
Every report day counts alike here (no half-life): the rates drift, the size of a day's
swing is taken as stable. The rest of a rate's day-to-day variance is the team's own
(learning.learn_rates), so no part of it is drawn twice.

Forecast. Each run draws ``s2_day`` from that posterior, then

- one offset for the past: the learned rates are weighted means of the reported days, so
  they hold those days' mean day effect; with few days it is a large error shared by every
  team (its variance ``s2_day x sum w^2 / (sum w)^2``, w the reports' age weights; it is
  applied to all the work, also to work at cited rates, which holds no past day: a small
  overstatement while some kinds have no reports);
- one factor per future working day, exp(delta - offset) scaled to a mean of 1 (the learned
  rates are mean day rates, learning.LearnedRate.days_per_unit).

The plan's time is then warped through the run's days: by the end of calendar day k the
run has done sum(f[0..k]) days of plan work, so a sector ending at plan time T ends on the
day the cumulative sum reaches T (``run_days``: the days of all runs at once; ``through``:
one interpolation a run; ``warp``: both).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

from sapper.plan.forecasting.threads import DAYS, each, run_each, streams


class ReportedDay(Protocol):
    """One team's reported day (learning.TeamDay): whose, on what, when, and its log rate."""

    team_id: int
    key: Hashable
    on: date
    log_rate: float


# ASSUMPTION: a working day's pace shared by every team varies by about 20 % (log sd): about a
# third of the variance of the 35 % team-day spread of productivity.toml [learning] (heat, wind,
# dust storms, a late start or a closed road hold every team back the same day; GICHD, A Study
# of Manual Mine Clearance 2, 2005, on heat and dehydration cutting the deminers' working time).
PRIOR_SIGMA = 0.20
PRIOR_DAYS = 4.0  # ASSUMPTION: the guess weighs as much as 4 report days; the register's own days take over
WARP_CHUNK = 500  # runs warped at a time
LONG_INTERP = 1000  # values a run's interpolation takes, from which chunks of runs are warped on the threads
FIT_ROUNDS = 50  # alternating means of the two-way fit (converges to 1e-9 in a few for reports' tables)


@dataclass(frozen=True)
class DayPace:
    """The posterior of the day effect's variance (scaled inverse chi-square) and the past's share of it."""

    scale2: float  # s^2 of the scaled inverse chi-square
    dof: float  # nu: prior days + report days - 1
    past_share: float  # variance of the past days' mean effect held in the learned rates, per unit s2_day
    days: int = 0  # report days behind the estimate
    own2: float = 0.0  # the residual variance of a team's own day, for the record

    @property
    def sigma(self) -> float:
        """Posterior mean of the day effect's log sd (the square root of the mean variance)."""
        return math.sqrt(self.variance)

    @property
    def variance(self) -> float:
        """Posterior mean of s2_day (nu s^2 / (nu - 2)); s^2 itself where nu <= 2."""
        return self.scale2 * self.dof / (self.dof - 2.0) if self.dof > 2.0 else self.scale2

    def draw_run(self, rng: np.random.Generator, runs: int) -> tuple[np.ndarray, np.ndarray]:
        """Per run: the day effect's variance and the past days' offset (log pace)."""
        variance = self.dof * self.scale2 / rng.chisquare(self.dof, runs) if self.scale2 > 0 else np.zeros(runs)
        offset = rng.standard_normal(runs) * np.sqrt(variance * self.past_share)
        return variance, offset

    @staticmethod
    def day_factors(
        rng: np.random.Generator, variance: np.ndarray, offset: np.ndarray, past_share: float, days: int
    ) -> np.ndarray:
        """Runs x days of exp(delta - offset), each with mean 1 given the run's variance."""
        # float32: a day's factor needs no more digits, and the draws are the bulk of the warp's time
        log = rng.standard_normal((len(variance), days), dtype=np.float32)
        log *= np.sqrt(variance).astype(np.float32)[:, None]
        log -= (offset + variance * (1.0 + past_share) / 2.0).astype(np.float32)[:, None]
        return np.exp(log, out=log)


def estimate(days: Sequence[ReportedDay], half_life_days: float = 7.0) -> DayPace:
    """The day effect's posterior from the team-days (each: team, key, date, log rate)."""
    cells: dict[tuple, dict[date, float]] = defaultdict(dict)
    for d in days:
        cells[d.team_id, d.key][d.on] = d.log_rate
    dates = sorted({d.on for d in days})
    past = past_share(dates, half_life_days)
    if len(dates) < 2:
        return DayPace(PRIOR_SIGMA**2, PRIOR_DAYS, past, len(dates))
    rows = list(cells)
    col = {day: j for j, day in enumerate(dates)}
    table = np.full((len(rows), len(dates)), np.nan)
    for i, row in enumerate(rows):
        for day, y in cells[row].items():
            table[i, col[day]] = y
    day_effect, own2, counts = two_way_fit(table)
    seen = counts > 0
    n_days = int(seen.sum())
    freedom = n_days - 1
    # the fitted day effects spread by s2_day plus the noise of their own means (balanced-table moment estimator)
    moment = float(np.sum(day_effect[seen] ** 2)) / max(freedom, 1) - own2 * float(np.mean(1.0 / counts[seen]))
    moment = max(moment, 0.0)
    dof = PRIOR_DAYS + freedom
    scale2 = (PRIOR_DAYS * PRIOR_SIGMA**2 + freedom * moment) / dof
    return DayPace(scale2, dof, past, n_days, own2)


def two_way_fit(table: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Least-squares day effects (mean 0 over the days) of a rows x days table with gaps (NaN),
    the residual mean square and the rows reported each day."""
    have = ~np.isnan(table)
    y = np.where(have, table, 0.0)
    per_row, per_day = have.sum(axis=1), have.sum(axis=0)
    day = np.zeros(table.shape[1])
    row = np.zeros(table.shape[0])
    for _ in range(FIT_ROUNDS):
        row = ((y - day[None, :]) * have).sum(axis=1) / np.maximum(per_row, 1)
        new = ((y - row[:, None]) * have).sum(axis=0) / np.maximum(per_day, 1)
        new -= new[per_day > 0].mean()
        if np.max(np.abs(new - day)) < 1e-12:
            day = new
            break
        day = new
    residual = (y - row[:, None] - day[None, :]) * have
    used = int(have.sum()) - int((per_row > 0).sum()) - int((per_day > 0).sum()) + 1
    own2 = float((residual**2).sum()) / used if used > 0 else 0.0
    return day, own2, per_day


def past_share(dates: Sequence[date], half_life_days: float) -> float:
    """Variance of the age-weighted mean of the report days' effects, per unit of s2_day: sum w^2 / (sum w)^2."""
    if not dates:
        return 0.0
    newest = max(dates)
    w = np.array([0.5 ** ((newest - d).days / half_life_days) for d in dates])
    return float((w**2).sum() / w.sum() ** 2)


def warp(ends: np.ndarray, pace: DayPace, seed: int) -> np.ndarray:
    """Sectors x runs of plan time (working days at the learned pace) to working days elapsed, in
    place, through each run's own days (draws per run: the variance, the past offset, a factor a day),
    those of ``run_tables``."""
    if ends.size == 0:
        return ends
    ends[:] = warp_runs(ends.T, run_tables(pace, seed, ends.max(axis=0)), np.arange(ends.shape[1])).T
    return ends


def run_tables(pace: DayPace, seed: int, need: np.ndarray) -> list[np.ndarray]:
    """``run_progress`` of WARP_CHUNK runs at a time (``need``: per run), each chunk drawn on its own
    stream, on the threads: the tables ``warp_runs`` reads."""
    firsts = range(0, len(need), WARP_CHUNK)
    generators = streams(seed, DAYS, len(firsts))
    return list(
        each(lambda k: run_progress(pace, generators[k], need[firsts[k] : firsts[k] + WARP_CHUNK]), range(len(firsts)))
    )


def run_days(pace: DayPace, rng: np.random.Generator, need: np.ndarray) -> np.ndarray:
    """Runs x days: the plan time each run has done by the end of each of its days, up to ``need``
    (per run). The warp is monotone in plan time, so a caller may warp only the ends it keeps."""
    return run_progress(pace, rng, need)[:, 1:]


def run_progress(pace: DayPace, rng: np.random.Generator, need: np.ndarray) -> np.ndarray:
    """Runs x days + 1: ``run_days`` after a column of zeros (nothing done before the first day), the
    table ``through_by_run`` reads, the same draws."""
    variance, offset = pace.draw_run(rng, len(need))
    factors = pace.day_factors(rng, variance, offset, pace.past_share, math.ceil(float(need.max())) + 1)
    progress = np.zeros((len(need), factors.shape[1] + 1))
    np.cumsum(factors.astype(float), axis=1, out=progress[:, 1:])  # cast first: a cumsum casting as it goes is slow
    parts, days = [progress], factors.shape[1]
    while np.any(parts[-1][:, -1] < need):  # slow runs need more days: draw them on, joined once at the end
        more = pace.day_factors(rng, variance, offset, pace.past_share, max(8, days // 2))
        parts.append(parts[-1][:, -1:] + np.cumsum(more.astype(float), axis=1))
        days += more.shape[1]
    return np.concatenate(parts, axis=1) if len(parts) > 1 else progress


def through(ends: np.ndarray, cum: np.ndarray) -> np.ndarray:
    """Invert each run's progress: the time t at which it has done ``ends`` (sectors x runs) of plan time.

    Progress is piecewise linear, cum[k - 1] at the end of day k - 1: t = interp(T, progress, day),
    one np.interp a run (on its own short table: no shift of runs that would cost precision)."""
    progress = np.zeros((cum.shape[0], cum.shape[1] + 1))
    progress[:, 1:] = cum
    return through_by_run(ends.T, progress).T


def through_by_run(
    by_run: np.ndarray, progress: np.ndarray, out: np.ndarray | None = None, rows: Sequence[int] | None = None
) -> np.ndarray:
    """``through`` of runs x values, into ``out`` (float64, runs x values; run r into row ``rows[r]``), given
    each run's ``run_progress`` table: one np.interp a run, on its own row."""
    out = np.empty(by_run.shape) if out is None else out
    day = np.arange(progress.shape[1], dtype=float)
    for r, row in enumerate(range(len(progress)) if rows is None else rows):
        out[row] = np.interp(by_run[r], progress[r], day)
    return out


def warp_runs(
    by_run: np.ndarray,
    days_done: list[np.ndarray],
    runs: np.ndarray,
    out: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """``runs`` (ascending) x values of plan time to days elapsed through each run's days (``days_done``:
    run_progress of WARP_CHUNK runs at a time), float64 into ``out`` (run k into row ``rows[k]``),
    a chunk of runs at a time as warp does."""
    out = np.empty(by_run.shape) if out is None else out
    rows = np.arange(len(runs)) if rows is None else rows
    chunk = runs // WARP_CHUNK
    bounds = np.searchsorted(chunk, np.arange(len(days_done) + 1)).tolist()  # each chunk's runs in one piece

    def warp_chunk(k: int) -> None:
        a, b = bounds[k], bounds[k + 1]
        table = days_done[k]  # all its runs (ascending, so in order), or some
        table = table if b - a == len(table) else table[runs[a:b] - k * WARP_CHUNK]
        through_by_run(by_run[a:b], table, out=out, rows=rows[a:b].tolist())

    chunks = [k for k in range(len(days_done)) if bounds[k] < bounds[k + 1]]
    # on the threads only where each interpolation is long: short ones are mostly Python's steps, which wait
    if by_run.shape[1] >= LONG_INTERP:
        run_each(warp_chunk, chunks)
    else:
        for k in chunks:
            warp_chunk(k)
    return out


def warp_columns(ends: np.ndarray, days_done: list[np.ndarray], shown: np.ndarray) -> np.ndarray:
    """Rows x ``shown`` runs of ``ends``, warped (float64, the columns in the order of ``shown``).

    The columns are taken in memory order (one sweep of ends) and warped a run at a time into the
    place of each in ``shown`` (by finish), in which each row is nearly sorted: its levels' partition
    is quicker so."""
    ascending = np.argsort(shown)
    runs = shown[ascending]
    warped = np.empty((len(shown), ends.shape[0]))  # runs x rows: a run's row in one piece
    warp_runs(np.take(ends, runs, axis=1).T, days_done, runs, out=warped, rows=ascending)
    return np.ascontiguousarray(warped.T)
