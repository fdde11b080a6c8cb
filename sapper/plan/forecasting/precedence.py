"""Who waits for whom in a plan, and the replay of that order over many runs at once.

A sector starts when its team's previous sector, its neighbours within the safety distance
worked before it, its road and its survey are done. The forecast replays that order with
drawn durations; each sector waits only for the predecessors no other predecessor already
waits for (the transitive reduction: the same ends with far fewer maxima).
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np

from sapper.plan.problem import Problem
from sapper.plan.scheduling.schedule import Schedule


def edges(problem: Problem, schedule: Schedule, order: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Every (then, first) pair of positions in ``order``: ``then`` starts once ``first`` has ended.

    Team order, safety pairs (the one worked first goes first), roads before the quarters they
    serve, survey before clearance; pairs may repeat.
    """
    pos = np.full(len(problem.sectors), -1, dtype=np.int64)
    pos[order] = np.arange(len(order))
    team = np.array([schedule.slots[s].team for s in order], dtype=np.int64)
    by_team = np.lexsort((np.arange(len(order)), team))  # each team's sectors in plan order
    same = team[by_team[1:]] == team[by_team[:-1]]
    thens, firsts = [by_team[1:][same]], [by_team[:-1][same]]
    pairs = np.fromiter(itertools.chain.from_iterable(problem.conflicts), np.int64, 2 * len(problem.conflicts))
    i, j = pos[pairs[0::2]], pos[pairs[1::2]]
    both = (i >= 0) & (j >= 0)
    i, j = i[both], j[both]
    thens.append(np.maximum(i, j))
    firsts.append(np.minimum(i, j))
    members: dict[int, list[int]] = defaultdict(list)
    for row, s in enumerate(order):
        members[problem.sectors[s].hazard_id].append(row)
    for road, quarter in problem.precedence:
        thens.append(np.repeat(np.array(members[quarter], dtype=np.int64), len(members[road])))
        firsts.append(np.tile(np.array(members[road], dtype=np.int64), len(members[quarter])))
    if problem.sequence:  # survey before clearance, clearance before disposal
        first, then = pos[np.array(problem.sequence, dtype=np.int64).T]
        both = (first >= 0) & (then >= 0)
        thens.append(then[both])
        firsts.append(first[both])
    return np.concatenate(thens), np.concatenate(firsts)


def predecessors(problem: Problem, schedule: Schedule, order: list[int]) -> dict[int, list[int]]:
    """For each sector, the sectors that must end before it starts in this plan."""
    then, first = edges(problem, schedule, order)
    out: dict[int, set[int]] = defaultdict(set)
    for t, f in zip(then.tolist(), first.tolist(), strict=True):
        out[order[t]].add(order[f])
    return {s: sorted(p) for s, p in out.items()}


def reduced(problem: Problem, schedule: Schedule, order: list[int]) -> tuple[list[list[int]], list[int]]:
    """Per position in ``order``, the positions of the predecessors that set its start, and the
    ancestors of each position as a bit set (a Python integer).

    A predecessor that is itself an ancestor of another predecessor always ends before that
    one (durations are never negative), so it never sets the start: dropping it keeps every
    end the same. Of a sector's predecessors on one team only the last can set its start (the
    team's earlier ones are its ancestors); the rest are tested latest first, one pass in plan order.
    """
    if not order:
        return [], []
    then, first = edges(problem, schedule, order)
    team = np.array([schedule.slots[s].team for s in order], dtype=np.int64)
    keep = first != then
    then, first = then[keep], first[keep]
    m, teams = len(order), int(team.max()) + 1
    # each pair as one integer, sorted (a sort of numbers, no permutation to apply): per (sector, team of
    # the predecessor), the latest last
    pair = np.sort((then * teams + team[first]) * m + first)
    key, first = pair // m, pair % m
    latest = np.ones(len(key), dtype=bool)
    latest[:-1] = key[1:] != key[:-1]
    pair = np.sort(key[latest] // teams * m + (m - 1 - first[latest]))  # per sector, latest first
    then, first = pair // m, m - 1 - pair % m
    bounds = np.searchsorted(then, np.arange(len(order) + 1)).tolist()
    candidates = first.tolist()
    ancestors = [0] * len(order)
    out = []
    for i in range(len(order)):
        seen, kept = 0, []
        for p in candidates[bounds[i] : bounds[i + 1]]:
            if not (seen >> p) & 1:
                kept.append(p)
                seen |= ancestors[p] | (1 << p)
        ancestors[i] = seen
        kept.reverse()
        out.append(kept)
    return out, ancestors


def last_rows(rows: list[int], ancestors: list[int]) -> list[int]:
    """Of a hazard's rows, those no other of its rows waits for: only they can end it."""
    before = 0
    for r in rows:
        before |= ancestors[r]
    return [r for r in rows if not (before >> r) & 1]


def replay(days: np.ndarray, preds: list[list[int]]) -> np.ndarray:
    """Ends of every sector in every run, in place of ``days`` (rows in plan order, runs along rows)."""
    latest = np.empty(days.shape[1:], dtype=days.dtype)
    for i, p in enumerate(preds):
        if len(p) == 1:
            days[i] += days[p[0]]
        elif len(p) > 1:
            np.maximum(days[p[0]], days[p[1]], out=latest)
            for q in p[2:]:
                np.maximum(latest, days[q], out=latest)
            days[i] += latest
    return days


def starts_of(ends: np.ndarray, preds: list[list[int]]) -> np.ndarray:
    """Starts of every sector in every run, from their ends."""
    starts = np.zeros_like(ends)
    for i, p in enumerate(preds):
        if len(p) == 1:
            starts[i] = ends[p[0]]
        elif len(p) > 1:
            np.maximum(ends[p[0]], ends[p[1]], out=starts[i])
            for q in p[2:]:
                np.maximum(starts[i], ends[q], out=starts[i])
    return starts
