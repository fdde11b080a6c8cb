"""Around each cluster of long sectors, whether the work near them goes before or after: a list-schedule search.

Why: a sector only slow teams may work (weeks of manual clearance with demolitions) keeps
every sector in its danger area closed while it is worked. Smith's rule sends the fast
work around it first everywhere alike, and the list schedule sits in a deep local optimum
that CP-SAT's time windows barely move (bench/README.md, Planner). Whether a danger area's
fast work should go before its long sectors or after depends on the area, so the search
decides it per cluster: the long sectors in pairwise conflict, connected, and the other
sectors in conflict with one of them. A move multiplies the Smith ratio of a cluster's
surroundings or of its members by 2 or 1/2; each move is tried with the whole list
schedule (the clusters interact through the teams and their neighbours) and kept only if
the plan's objective falls. The number of list schedules is the budget, so the same
problem gives the same plan at any load.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass

from sapper.plan.problem import Problem, neighbours
from sapper.plan.scheduling.greedy import lookups, wspt_schedule
from sapper.plan.scheduling.schedule import Schedule

LONG_FACTOR = 4.0  # a long sector's fastest option takes this many times the median one's (assumption, bench-tuned)
STEPS = (2.0, 0.5)  # a move doubles or halves a set's Smith ratios
UNITS_PER_SECOND = 800_000  # team options + conflict pairs list schedules go through per CPU s (measured 900,000)


@dataclass(frozen=True)
class Cluster:
    members: tuple[int, ...]  # long sectors, connected by conflicts
    around: tuple[int, ...]  # other sectors in conflict with a member


def long_clusters(problem: Problem) -> list[Cluster]:
    """Clusters of long sectors, the largest first (ties by their first sector)."""
    sectors = problem.workable
    if not sectors:
        return []
    fastest = {s: problem.options[s][0].ticks for s in sectors}
    cut = LONG_FACTOR * statistics.median(fastest.values())
    long = {s for s in sectors if fastest[s] > cut}
    near = neighbours(problem)
    out, seen = [], set()
    for first in sorted(long):
        if first in seen:
            continue
        members, todo = {first}, [first]
        while todo:
            for n in near.get(todo.pop(), ()):
                if n in long and n not in members:
                    members.add(n)
                    todo.append(n)
        seen |= members
        around = set().union(*(near.get(s, set()) for s in members)) - long
        out.append(Cluster(tuple(sorted(members)), tuple(sorted(around))))
    return sorted(out, key=lambda c: (-len(c.members), c.members[0]))


def evaluations_for(problem: Problem, seconds: float) -> int:
    """How many list schedules fit in ``seconds`` of CPU on this problem (deterministic: from its size)."""
    size = sum(len(o) for o in problem.options) + len(problem.conflicts)
    return int(seconds * UNITS_PER_SECOND / max(1, size))


def cluster_search(problem: Problem, evaluations: int) -> Schedule:
    """The best list schedule found in ``evaluations`` tries; the first is the plain Smith's rule one."""
    known = lookups(problem)
    best = wspt_schedule(problem, known=known)
    factors: dict[int, float] = {}
    clusters = long_clusters(problem)
    left, tried, kept = evaluations - 1, 1, 0
    improved = True
    while improved and left > 0 and clusters:
        improved = False
        for cluster in clusters:
            for group, step in _moves(cluster):
                if left <= 0:
                    break
                trial = dict(factors)
                for s in group:
                    trial[s] = trial.get(s, 1.0) * step
                plan = wspt_schedule(problem, factors=trial, known=known)
                left, tried = left - 1, tried + 1
                if plan.objective < best.objective - 1e-9:
                    best, factors, improved, kept = plan, trial, True, kept + 1
                    break  # one move kept: on to the next cluster
    best.notes.append(f"list schedule: {tried} tried around {len(clusters)} clusters of long sectors, {kept} kept")
    return best


def _moves(cluster: Cluster) -> Iterator[tuple[tuple[int, ...], float]]:
    """The surroundings first (earlier, then later), then the long sectors themselves."""
    for group in (cluster.around, cluster.members):
        if group:
            for step in STEPS:
                yield group, step
