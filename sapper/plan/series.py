"""The burn-down series of a forecast: per run, what is still to do at each whole day elapsed.

Sectors' starts and ends are given as sectors x runs arrays of working days; each series
is built by a few bincounts a run, with no runs x sectors x days array.
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
    day = np.minimum(np.ceil(ends[whole].T - 1e-9).astype(np.int64), n - 1)  # runs x sectors: the day each is done
    done = np.empty((runs, n))
    for r in range(runs):  # one small bincount a run: no runs x sectors weights to build
        done[r] = np.bincount(day[r], weights=area[whole], minlength=n)
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


def relu_sums(points: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Runs x days: sum over sectors of weight x max(point - g, 0) for g = 0..n-1, by two bincounts."""
    runs = points.shape[1]
    grid = np.arange(n)
    by_run = np.ascontiguousarray(points.T)
    w = np.ones_like(by_run) if weights is None else np.ascontiguousarray(np.broadcast_to(weights, points.shape).T)
    floor = np.minimum(np.floor(by_run).astype(np.int64), n - 1)
    count, total = np.empty((runs, n)), np.empty((runs, n))
    for r in range(runs):
        count[r] = np.bincount(floor[r], weights=w[r], minlength=n)
        total[r] = np.bincount(floor[r], weights=by_run[r] * w[r], minlength=n)
    count = np.cumsum(count[:, ::-1], axis=1)[:, ::-1]  # weights of points with floor >= g
    total = np.cumsum(total[:, ::-1], axis=1)[:, ::-1]
    return total - grid[None, :] * count
