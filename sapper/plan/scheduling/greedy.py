"""List schedules: the plan an officer makes by hand, and a sharper one to start the optimiser.

The officer's plan (``greedy_schedule``): highest priority first, nearest team. Hazards
are taken by priority score (a hazard waits for the road that leads to it); each sector
goes to the team that can start on it soonest (the same day counts as equal), among
those one of the method the rules prefer there, and among those the nearest. It is the
benchmark the optimiser must beat.

The sharper plan (``wspt_schedule``): sectors by priority weight per day of work
(Smith's rule, the best order for one team), each to the team that finishes it first,
also in a gap of that team's plan left while it waited for a neighbour (backfilling:
danger areas leave many such gaps).

Both push a start back past any work in conflict (closer than the safety distance, or
inside a demolition's danger area, or the reverse), so both are sound.
"""

from __future__ import annotations

import bisect
import heapq
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from sapper.plan.problem import TICKS_PER_DAY, Option, Problem, neighbours
from sapper.plan.scheduling.schedule import Schedule, Slot, objective_of

PickKey = Callable[[Option, int], tuple]


class Spans:
    """Disjoint busy spans in time order, with the first gap of a given length found by bisection."""

    def __init__(self, spans: list[tuple[int, int]] | None = None, fill: int = 0) -> None:
        """``fill``: gaps shorter than this are held too (nothing that long fits in them: fewer hops)."""
        self.starts: list[int] = []
        self.ends: list[int] = []
        starts, ends, gap = self.starts, self.ends, max(1, fill)
        for a, b in sorted(spans or []):
            if ends and a < ends[-1] + gap:
                if b > ends[-1]:
                    ends[-1] = b
            else:
                starts.append(a)
                ends.append(b)

    def blocker(self, start: int, length: int) -> int | None:
        """The end of the span that overlaps [start, start + length), if one does."""
        i = bisect.bisect_right(self.ends, start)
        if i < len(self.starts) and self.starts[i] < start + length:
            return self.ends[i]
        return None

    def add(self, a: int, b: int) -> None:
        """Add a span that overlaps none held (a team's own work), joined to the spans it touches."""
        i = bisect.bisect_left(self.starts, a)
        if i < len(self.starts) and self.starts[i] == b:  # joins the next span
            self.starts[i] = a
        else:
            self.starts.insert(i, a)
            self.ends.insert(i, b)
        if i > 0 and self.ends[i - 1] == a:  # and the previous one
            self.ends[i - 1] = self.ends[i]
            del self.starts[i], self.ends[i]


def first_gap(held: list[Spans], start: int, length: int) -> int:
    """First start >= ``start`` free in every one of ``held``.

    Spans.blocker inlined, a blocked start walks on along the same spans (their ends rise, so
    the next blocker is the next span), and the search ends once every one of ``held`` in a row
    is free: list schedules spend most of their time here.
    """
    if not held:
        return start
    free, count = 0, len(held)
    while True:
        for spans in held:
            starts, ends = spans.starts, spans.ends
            i, n = bisect.bisect_right(ends, start), len(starts)
            if i < n and starts[i] < start + length:
                while i < n and starts[i] < start + length:
                    start, i = ends[i], i + 1
                free = 1  # free here now; the others are checked again
            else:
                free += 1
            if free >= count:
                return start


@dataclass
class Lookups:
    """What list schedules read from a problem and never change: built once for many schedules of one problem."""

    neighbours: dict[int, list[int]]  # sectors never worked at once with each
    preds: dict[int, list[int]]  # hazard -> roads it waits for
    after: dict[int, list[int]]  # road -> hazards waiting for it
    members: dict[int, list[int]]  # hazard -> its workable sectors
    before: dict[int, list[int]]  # sector -> sectors that end before it starts
    then: dict[int, list[int]]
    ticks: dict[int, list[int]]  # sector -> each option's duration, options in order


def lookups(problem: Problem) -> Lookups:
    out = Lookups(defaultdict(list, neighbours(problem)), *(defaultdict(list) for _ in range(5)), {})
    for first, then in problem.precedence:
        out.preds[then].append(first)
        out.after[first].append(then)
    for s in problem.workable:
        out.members[problem.sectors[s].hazard_id].append(s)
        out.ticks[s] = [o.ticks for o in problem.options[s]]
    for a, b in problem.sequence:
        out.before[b].append(a)
        out.then[a].append(b)
    return out


class _Builder:
    """Places sectors one by one, keeping team, safety and road rules."""

    def __init__(self, problem: Problem, backfill: bool = False, known: Lookups | None = None) -> None:
        self.problem = problem
        self.backfill = backfill  # a team may take a sector in a gap of its own plan (else only after its last)
        self.free = [0] * len(problem.teams)
        self.team_spans = [Spans() for _ in problem.teams]
        known = known or lookups(problem)
        self.neighbours, self.preds, self.after = known.neighbours, known.preds, known.after
        self.members, self.before, self.then, self.ticks = known.members, known.before, known.then, known.ticks
        self.left = {h: len(m) for h, m in self.members.items()}
        self.hazard_end: dict[int, int] = {}
        self.slots: dict[int, Slot] = {}

    def place(self, s: int, key: PickKey, by_finish: bool = False) -> list[int]:
        """Schedule sector ``s``; returns the hazards this finished (now open to their quarters).

        ``by_finish``: ``key`` ranks by finishing tick first, so an option that cannot end
        before the best one found (options come fastest first) ends the search.
        """
        h = self.problem.sectors[s].hazard_id
        ready = max((self.hazard_end.get(p, 0) for p in self.preds[h]), default=0)
        ready = max([ready, *(self.slots[p].end for p in self.before[s] if p in self.slots)])
        durations = self.ticks[s]
        slots = self.slots
        busy = Spans([(slots[n].start, slots[n].end) for n in self.neighbours[s] if n in slots], min(durations))
        best = None
        for opt, ticks in zip(self.problem.options[s], durations, strict=True):
            if by_finish and best is not None and ready + ticks > best[0][0]:
                break  # this and every slower option end after the best
            if self.backfill:
                start = first_gap([busy, self.team_spans[opt.team]], ready, ticks)
            else:
                start = first_gap([busy], max(self.free[opt.team], ready), ticks)
            k = key(opt, start)
            if best is None or k < best[0]:
                best = (k, opt, start, ticks)
        assert best is not None
        _, opt, start, ticks = best
        self.slots[s] = Slot(s, opt.team, opt.method, start, start + ticks)
        self.free[opt.team] = max(self.free[opt.team], start + ticks)
        self.team_spans[opt.team].add(start, start + ticks)
        self.hazard_end[h] = max(self.hazard_end.get(h, 0), start + ticks)
        self.left[h] -= 1
        return [h] if self.left[h] == 0 else []

    def open_after(self, hazard: int, waiting: dict[int, set[int]]) -> Iterator[int]:
        for then in self.after[hazard]:
            waiting[then].discard(hazard)
            if not waiting[then]:
                yield then

    def schedule(self, name: str, began: float) -> Schedule:
        objective = objective_of(self.problem, self.slots)
        return Schedule(self.slots, name, "heuristic", objective, seconds=time.perf_counter() - began)


def greedy_schedule(problem: Problem) -> Schedule:
    """The officer's plan: highest priority first, nearest team."""
    began = time.perf_counter()
    b = _Builder(problem)
    score = {s.hazard_id: s.score for s in problem.sectors}
    # a sector that waits for another hazard's (a survey of it, say) makes its hazard wait, as for a road
    hazard_of = {s.index: s.hazard_id for s in problem.sectors}
    opens: dict[int, set[int]] = defaultdict(set)
    for first, then in problem.sequence:
        if hazard_of[first] != hazard_of[then]:
            opens[hazard_of[first]].add(hazard_of[then])
    waiting = {h: set(b.preds[h]) & set(b.members) for h in b.members}
    for first, hazards in opens.items():
        for then in hazards & set(b.members):
            waiting[then].add(first)
    ready = [(-score[h], h) for h, w in waiting.items() if not w]
    heapq.heapify(ready)
    done: set[int] = set()
    while ready or len(done) < len(b.members):
        if not ready:  # a cycle of roads: take the rest by score
            rest = [h for h in b.members if h not in done]
            ready = [(-score[h], h) for h in rest]
            heapq.heapify(ready)
            for h in rest:
                waiting[h] = set()
        _, h = heapq.heappop(ready)
        if h in done:
            continue
        done.add(h)
        for s in _in_sequence(b.members[h], b.before):
            b.place(s, _officer_key(problem.sectors[s].decision.allowed))
        for then in [*b.open_after(h, waiting), *_opened(h, opens, waiting)]:
            heapq.heappush(ready, (-score[then], then))
    return b.schedule("greedy", began)


def _opened(hazard: int, opens: dict[int, set[int]], waiting: dict[int, set[int]]) -> Iterator[int]:
    for then in sorted(opens.get(hazard, ())):
        if then in waiting and hazard in waiting[then]:
            waiting[then].discard(hazard)
            if not waiting[then]:
                yield then


def _in_sequence(members: list[int], before: dict[int, list[int]]) -> list[int]:
    """A hazard's sectors in their order (index order), each after those of the hazard it waits for."""
    mine, out, placed = set(members), [], set()

    def take(s: int, path: frozenset[int]) -> None:
        if s in placed or s in path:  # placed already, or a cycle (the schedule's check names it)
            return
        for first in before.get(s, ()):
            if first in mine:
                take(first, path | {s})
        placed.add(s)
        out.append(s)

    for s in members:
        take(s, frozenset())
    return out


def _officer_key(prefer: tuple) -> PickKey:
    """Soonest day, then the method the rules prefer, then the nearest team."""
    return lambda opt, start: (start // TICKS_PER_DAY, prefer.index(opt.method), opt.distance_m, opt.team)


def wspt_schedule(
    problem: Problem,
    jitter: float = 0.0,
    seed: int = 0,
    factors: dict[int, float] | None = None,
    known: Lookups | None = None,
) -> Schedule:
    """Sectors by weight per day of work, each to the team that finishes it first.

    ``jitter`` > 0 shakes each sector's ratio by up to that share (seeded): another
    order of near-equal sectors, for a search that tries several. ``factors`` multiply
    some sectors' ratios (``clusters``: the work around a long sector before or after it);
    ``known``: the problem's lookups, when many schedules of it are made.
    """
    began = time.perf_counter()
    b = _Builder(problem, backfill=True, known=known)
    waiting = {h: set(b.preds[h]) & set(b.members) for h in b.members}
    rng = np.random.default_rng(seed)
    shake = 1.0 + jitter * rng.uniform(-1.0, 1.0, len(problem.sectors)) if jitter > 0 else np.ones(len(problem.sectors))
    factors = factors or {}
    workable = problem.workable
    ratios = {s: -problem.weight(s) / min(b.ticks[s]) * float(shake[s]) * factors.get(s, 1.0) for s in workable}
    ratio = ratios.__getitem__

    blocked = {s: len(b.before[s]) for s in workable}  # sectors still to place before it (sequence)
    opened = {h for h, w in waiting.items() if not w}
    ready = [(ratio(s), s) for h in opened for s in b.members[h] if not blocked[s]]
    heapq.heapify(ready)
    placed: set[int] = set()
    while len(placed) < len(workable):
        if not ready:  # a cycle of roads: open every hazard
            opened.update(b.members)
            ready = [(ratio(s), s) for s in workable if s not in placed and not blocked[s]]
            heapq.heapify(ready)
        _, s = heapq.heappop(ready)
        if s in placed:
            continue
        placed.add(s)
        for h in b.place(s, lambda opt, start: (start + opt.ticks, opt.distance_m, opt.team), by_finish=True):
            for then in b.open_after(h, waiting):
                opened.add(then)
                for t in b.members[then]:
                    if not blocked[t]:
                        heapq.heappush(ready, (ratio(t), t))
        for t in b.then[s]:
            blocked[t] -= 1
            if not blocked[t] and problem.sectors[t].hazard_id in opened:
                heapq.heappush(ready, (ratio(t), t))
    return b.schedule("wspt", began)
