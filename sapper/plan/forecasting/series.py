"""The burn-down series of a forecast: per run, what is still to do at each whole day elapsed.

Sectors' starts and ends are given as sectors x runs arrays of working days; each series
is built by a few bincounts over all runs at once, with no runs x sectors x days array.
"""

from __future__ import annotations

import numpy as np


def area_left(
    ends: np.ndarray, area: np.ndarray, n: int, starts: np.ndarray | None = None, gradual: np.ndarray | None = None
) -> np.ndarray:
    """Runs x days: the area still to work at each whole day elapsed.

    A survey or EOD task releases its land when it ends (a survey's cancellation, a depot
    emptied); a searched sector is worked strip by strip, as the daily reports record it,
    so its area goes down evenly from its start to its end (``gradual`` rows, given ``starts``).
    """
    runs = ends.shape[1]
    whole = np.ones(len(area), dtype=bool) if gradual is None or starts is None else ~gradual
    day = np.minimum(np.ceil(ends[whole] - 1e-9).astype(np.int64), n - 1)  # sectors x runs: the day each is done
    done = _by_run_and_day(day, np.broadcast_to(area[whole][:, None], day.shape), n)
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
    left = relu_sums(ends, n) - relu_sums(starts, n)
    left[left < 1e-9] = 0.0  # rounding at a sector ending on a whole day
    return left


def left_series(
    starts: np.ndarray, ends: np.ndarray, area: np.ndarray, n: int, gradual: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Runs x days: ``area_left`` (with starts) and ``work_left`` of the same runs, sharing their day bins.

    Both are sums of relu(end - g) - relu(start - g) terms, with weights one (work) or the area a
    day (searched land): each array's day bins are built once and serve both series.
    """
    at_end, at_start = _DayBins(ends, n), _DayBins(starts, n)
    work = at_end.relu_sums() - at_start.relu_sums()
    work[work < 1e-9] = 0.0  # rounding at a sector ending on a whole day
    per_day = np.where(gradual, area, 0.0)[:, None] / np.maximum(ends - starts, 1e-9)  # m2 a day while worked
    left = at_end.relu_sums(per_day) - at_start.relu_sums(per_day)
    if not gradual.all():
        left += area_left(ends[~gradual], area[~gradual], n)
    return np.maximum(left, 0.0), work


class _DayBins:
    """The whole day of each point of a sectors x runs array, as bins of a runs x days table."""

    def __init__(self, points: np.ndarray, n: int):
        self.points, self.n, self.runs = points, n, points.shape[1]
        floor = np.minimum(np.floor(points).astype(np.int64), n - 1)
        floor += (np.arange(self.runs, dtype=np.int64) * n)[None, :]
        self.bins = floor.ravel()

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
