"""Boustrophedon cells: group scan-line pieces into runs driven back and forth, then order the runs.

A cell is a stack of pieces on consecutive lines where each piece overlaps exactly one
piece on the next line and that one overlaps only it: a machine can sweep the stack in
one zigzag with short turns at the ends. Where an obstacle splits the lines (or they
join again) a new cell starts (the boustrophedon cellular decomposition of Choset and
Pignon 1997, on discrete lines).

The cells are then visited greedily: from where the machine stands, go to the nearest
cell corner it can start from (bottom or top lane, left or right end).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sapper.plan.lanes.scan import Segments


@dataclass(frozen=True, slots=True)
class Cells:
    """Segment indices grouped by cell: ``members[start[c]:start[c + 1]]`` bottom to top."""

    members: np.ndarray
    start: np.ndarray

    def __len__(self) -> int:
        return len(self.start) - 1


def cells(segments: Segments, part_of_line: np.ndarray) -> Cells:
    """Split the segments (sorted by line, then x) into cells."""
    n = len(segments)
    if n == 0:
        return Cells(np.empty(0, dtype=np.int64), np.zeros(1, dtype=np.int64))
    link = _links(segments, part_of_line)
    if np.all(np.diff(segments.line) > 0):  # one piece a line: cells are runs, no two interleave
        first = np.flatnonzero(link < 0)
        return Cells(np.arange(n), np.append(first, n))
    # Follow the links down to the bottom piece of each stack (pointer jumping).
    root = np.where(link >= 0, link, np.arange(n))
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    members = np.argsort(root, kind="stable")
    first = np.flatnonzero(np.diff(root[members])) + 1
    return Cells(members, np.concatenate(([0], first, [n])))


def _links(segments: Segments, part_of_line: np.ndarray) -> np.ndarray:
    """For each piece, the piece below it continues into it one to one (-1 where a cell starts)."""
    line, x0, x1 = segments.line, segments.x0, segments.x1
    n = len(segments)
    bounds = np.flatnonzero(np.diff(line)) + 1
    g_start = np.concatenate(([0], bounds))
    g_end = np.concatenate((bounds, [n]))
    g_line = line[g_start]
    g_count = g_end - g_start
    link = np.full(n, -1, dtype=np.int64)
    # Pairs of consecutive lines of one polygon part.
    pair = (np.diff(g_line) == 1) & (part_of_line[g_line[:-1]] == part_of_line[g_line[1:]])
    lower = np.flatnonzero(pair)
    simple = lower[(g_count[lower] == 1) & (g_count[lower + 1] == 1)]
    i, j = g_start[simple], g_start[simple + 1]
    touching = (x0[i] < x1[j]) & (x0[j] < x1[i])
    link[j[touching]] = i[touching]
    for g in lower[(g_count[lower] > 1) | (g_count[lower + 1] > 1)].tolist():
        _link_pair(range(g_start[g], g_end[g]), range(g_start[g + 1], g_end[g + 1]), x0, x1, link)
    return link


def _link_pair(prev: range, cur: range, x0: np.ndarray, x1: np.ndarray, link: np.ndarray) -> None:
    """Link pieces of two consecutive lines that overlap one to one (two sorted interval lists)."""
    up = dict.fromkeys(cur, 0)
    down = dict.fromkeys(prev, 0)
    partner: dict[int, int] = {}
    i, j = prev.start, cur.start
    while i < prev.stop and j < cur.stop:
        if x0[i] < x1[j] and x0[j] < x1[i]:
            up[j] += 1
            down[i] += 1
            partner[j] = i
        if x1[i] < x1[j]:
            i += 1
        else:
            j += 1
    for j, i in partner.items():
        if up[j] == 1 and down[i] == 1:
            link[j] = i


def drive_order(
    found: Cells, segments: Segments, ys: np.ndarray, start: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Segments in driving order and whether each is driven towards +x, visiting cells nearest first."""
    if len(found) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
    y = ys[segments.line]
    bottom = found.members[found.start[:-1]]
    top = found.members[found.start[1:] - 1]
    count = np.diff(found.start)
    # Entry corners of each cell, in the order (upward, rightward) = TT, TF, FT, FF.
    options = [(True, True), (True, False), (False, True), (False, False)]
    entry_x = np.stack([segments.x0[bottom], segments.x1[bottom], segments.x0[top], segments.x1[top]], axis=1)
    entry_y = np.stack([y[bottom], y[bottom], y[top], y[top]], axis=1)
    here = np.asarray(start if start is not None else (entry_x[0, 0], entry_y[0, 0]), dtype=float)
    done = np.zeros(len(found), dtype=bool)
    seqs, dirs = [], []
    for _ in range(len(found)):
        dist = np.hypot(entry_x - here[0], entry_y - here[1])
        dist[done] = np.inf
        c, o = divmod(int(np.argmin(dist)), 4)
        upward, rightward = options[o]
        done[c] = True
        seq = found.members[found.start[c] : found.start[c + 1]]
        seq = seq if upward else seq[::-1]
        direction = (np.arange(count[c]) % 2 == 0) == rightward
        seqs.append(seq)
        dirs.append(direction)
        last = seq[-1]
        here = np.array([segments.x1[last] if direction[-1] else segments.x0[last], y[last]])
    return np.concatenate(seqs), np.concatenate(dirs)
