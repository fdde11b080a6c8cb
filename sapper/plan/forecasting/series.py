"""The burn-down series of a forecast: per run, what is still to do at each whole day elapsed.

Sectors' starts and ends are given as sectors x runs arrays of working days; each series
is built by a few bincounts, with no runs x sectors x days array. A run's series is its own:
they are worked out RUN_BLOCK runs at a time, on the threads, so that a block's arrays and day
bins stay in cache through the passes over them (the same figures as all runs at once).
"""

from __future__ import annotations

import numpy as np

from sapper.plan.forecasting.threads import each

RUN_BLOCK = 32  # runs at a time: 32 runs x 4,000 sectors x 8 bytes is 1 MB (the L2 cache holds 2 MB here)


def _blocks(runs: int) -> list[slice]:
    return [slice(r, r + RUN_BLOCK) for r in range(0, runs, RUN_BLOCK)]


def area_left(
    ends: np.ndarray, area: np.ndarray, n: int, starts: np.ndarray | None = None, gradual: np.ndarray | None = None
) -> np.ndarray:
    """Runs x days: the area still to work at each whole day elapsed.

    A survey or EOD task releases its land when it ends (a survey's cancellation, a depot
    emptied); a searched sector is worked strip by strip, as the daily reports record it,
    so its area goes down evenly from its start to its end (``gradual`` rows, given ``starts``).
    """
    runs = ends.shape[1]
    if runs > RUN_BLOCK:
        parts = each(
            lambda b: area_left(ends[:, b], area, n, None if starts is None else starts[:, b], gradual), _blocks(runs)
        )
        return np.vstack(list(parts))
    whole = np.ones(len(area), dtype=bool) if gradual is None or starts is None else ~gradual
    day = ends - 1e-9 if whole.all() else ends[whole] - 1e-9  # sectors x runs: the day each is done
    np.ceil(day, out=day)
    np.minimum(day, n - 1, out=day)
    done = _by_run_and_day(day.astype(np.int64), np.broadcast_to(area[whole][:, None], day.shape), n)
    after = np.cumsum(done[:, ::-1], axis=1)[:, ::-1]  # area finishing at day g or later
    left = np.concatenate([after[:, 1:], np.zeros((runs, 1))], axis=1)  # ... strictly after g
    if whole.all():
        return left
    assert starts is not None
    begin, end = starts[~whole], ends[~whole]
    span = np.maximum(end - begin, 1e-9)
    per_day = area[~whole][:, None] / span  # m2 a day while the sector is worked
    # area left at g: per_day x (relu(end - g) - relu(start - g))
    return np.maximum(left + relu_sums(end, n, per_day) - relu_sums(begin, n, per_day), 0.0)


def work_left(starts: np.ndarray, ends: np.ndarray, n: int) -> np.ndarray:
    """Runs x days: working days of sector work not yet done at each whole day elapsed.

    A sector's work left at time g is clip(end - g, 0, end - start) = relu(end - g) - relu(start - g).
    """
    if ends.shape[1] > RUN_BLOCK:
        return np.vstack(list(each(lambda b: work_left(starts[:, b], ends[:, b], n), _blocks(ends.shape[1]))))
    left = _DayBins(ends, n).relu_sums() - _DayBins(starts, n).relu_sums()
    left[left < 1e-9] = 0.0  # rounding at a sector ending on a whole day
    return left


def left_series(
    starts: np.ndarray, ends: np.ndarray, area: np.ndarray, n: int, gradual: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Runs x days: ``area_left`` (with starts) and ``work_left`` of the same runs, sharing their day bins.

    Both are sums of relu(end - g) - relu(start - g) terms, with weights one (work) or the area a
    day (searched land): each array's day bins are built once and serve both series.
    """
    if ends.shape[1] > RUN_BLOCK:
        parts = list(each(lambda b: left_series(starts[:, b], ends[:, b], area, n, gradual), _blocks(ends.shape[1])))
        return np.vstack([left for left, _ in parts]), np.vstack([work for _, work in parts])
    at_end, at_start = _DayBins(ends, n), _DayBins(starts, n)
    work = at_end.relu_sums() - at_start.relu_sums()
    work[work < 1e-9] = 0.0  # rounding at a sector ending on a whole day
    per_day = ends - starts  # m2 a day while worked: the area over the days worked, in place
    np.maximum(per_day, 1e-9, out=per_day)
    np.divide(np.where(gradual, area, 0.0)[:, None], per_day, out=per_day)
    left = at_end.relu_sums(per_day) - at_start.relu_sums(per_day)
    if not gradual.all():
        left += area_left(ends[~gradual], area[~gradual], n)
    return np.maximum(left, 0.0), work


class _DayBins:
    """The whole day of each point of a sectors x runs array, as bins of a runs x days table."""

    def __init__(self, points: np.ndarray, n: int):
        self.points, self.n, self.runs = points, n, points.shape[1]
        floor = np.floor(points, dtype=float)  # whole numbers, exact in float64: one temporary, cast once
        np.minimum(floor, n - 1, out=floor)
        floor += (np.arange(self.runs) * float(n))[None, :]
        self.bins = floor.astype(np.int64).ravel()

    def relu_sums(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Runs x days: sum over points of weight x max(point - g, 0) for g = 0..n-1."""
        size = self.runs * self.n
        weighted = self.points if weights is None else self.points * weights
        count = np.bincount(self.bins, None if weights is None else weights.ravel(), minlength=size)
        total = np.bincount(self.bins, weighted.ravel(), minlength=size)
        count = np.cumsum(count.reshape(self.runs, self.n)[:, ::-1], axis=1)[:, ::-1]  # points with floor >= g
        total = np.cumsum(total.reshape(self.runs, self.n)[:, ::-1], axis=1)[:, ::-1]
        return total - np.arange(self.n)[None, :] * count


def relu_sums(points: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Runs x days: sum over sectors of weight x max(point - g, 0) for g = 0..n-1, by two bincounts."""
    grid = np.arange(n)
    floor = np.minimum(np.floor(points).astype(np.int64), n - 1)
    w = None if weights is None else np.broadcast_to(weights, points.shape)
    count = _by_run_and_day(floor, w, n)
    total = _by_run_and_day(floor, points if w is None else points * w, n)
    count = np.cumsum(count[:, ::-1], axis=1)[:, ::-1]  # weights of points with floor >= g
    total = np.cumsum(total[:, ::-1], axis=1)[:, ::-1]
    return total - grid[None, :] * count


def _by_run_and_day(day: np.ndarray, weights: np.ndarray | None, n: int) -> np.ndarray:
    """Runs x days: the sum of the weights (or the count) of each run's points on each day (sectors x runs in),
    by one bincount."""
    runs = day.shape[1]
    bins = day + (np.arange(runs, dtype=np.int64) * n)[None, :]  # run r's days at r * n ...
    flat = None if weights is None else np.ravel(weights)
    return np.bincount(bins.ravel(), weights=flat, minlength=runs * n).reshape(runs, n).astype(float, copy=False)
