"""Poisson counts for many fixed rates at once, by Walker's alias method.

The forecast draws one Poisson count of items per sector and run, for the same few hundred
rates in every run. numpy's ``Generator.poisson`` spends about as many uniforms as the
rate per count; with each rate's distribution laid out once as an alias table, a count is
one uniform, one gather and one comparison (Walker 1977, ACM TOMS 3(3); Vose 1991, IEEE
TSE 17(9)). The tables hold every count up to where the tail left is below ``TAIL``; the
tail is given to the last count, so the distribution is Poisson to that precision.
"""

from __future__ import annotations

import math

import numpy as np

TAIL = 1e-15  # probability mass beyond the largest count a table holds


def _pmf(rate: float) -> np.ndarray:
    """P(k) for k = 0..K, K the first count past which less than TAIL is left (that tail added to P(K))."""
    top = int(rate + 12.0 * math.sqrt(rate) + 30.0)
    k = np.arange(top + 1)
    log_p = -rate + k * math.log(rate) - np.cumsum(np.log(np.maximum(k, 1)))
    p = np.exp(log_p)
    beyond = np.cumsum(p[::-1])[::-1] - p  # P(count > k), summed from the far tail: exact where it is small
    last = int(np.argmax(beyond < TAIL)) if beyond[-1] < TAIL else top
    p = p[: last + 1]
    p[-1] += beyond[last]
    return p / p.sum()


def _alias(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias table of ``p``: column i keeps i with probability keep[i], else gives alias[i]."""
    m = len(p)
    scaled = p * m
    keep = np.ones(m)
    alias = np.arange(m)
    small = [i for i in range(m) if scaled[i] < 1.0]
    large = [i for i in range(m) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        keep[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    return keep, alias  # what is left over keeps itself (keep 1): rounding only


class PoissonRows:
    """One Poisson rate per row; ``draw`` gives rows x runs counts."""

    def __init__(self, rates: np.ndarray):
        keeps, aliases, widths = [], [], []
        for rate in np.asarray(rates, dtype=float):
            keep, alias = _alias(_pmf(rate)) if rate > 0 else (np.ones(1), np.zeros(1, dtype=np.int64))
            keeps.append(keep)
            aliases.append(alias)
            widths.append(len(keep))
        self.rows = len(widths)
        self.width = np.array(widths, dtype=float)[:, None]  # columns of each row's table
        self.last = self.width.astype(np.int64) - 1
        self.start = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)[:, None]
        self.keep = np.concatenate(keeps) if keeps else np.ones(0)
        self.alias = np.concatenate(aliases).astype(np.int64) if aliases else np.zeros(0, dtype=np.int64)

    def draw(self, rng: np.random.Generator, runs: int) -> np.ndarray:
        """Counts, rows x runs (int64)."""
        u = rng.random((self.rows, runs))
        u *= self.width
        column = np.minimum(u.astype(np.int64), self.last)  # u < 1, yet u x width may round up to width
        u -= column  # the fraction left decides: the column itself or its alias
        at = column + self.start
        return np.where(u < self.keep[at], column, self.alias[at])
