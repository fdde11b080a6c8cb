"""Proven lower bounds on the schedule's objective, cheap enough for any size.

``lower_bound``: forget safety distances, danger areas, roads first and which team may
do what; give every sector its shortest duration and let all teams be identical
machines. For that relaxation Eastman, Even and Isaacs (1964) proved
    sum w C >= (1/m) * sum w C_WSPT(single machine) + (m - 1)/(2m) * sum w p
where C_WSPT are the completion times on one machine in order of w/p (Smith's rule).

``fluid_bound``: a linear programme that keeps who may do what (teams pooled by kind)
and, above all, the sectors that may never be worked at the same time: a set of
sectors that pairwise exclude each other (a clique of the conflict graph: neighbours
within the safety distance, sectors inside one another's demolition danger area) is
worked one after the other, like one machine. On the small cases of the tests and the
benchmark this is where most of the gap between the plans and the old bounds was. One
partition of the sectors into such sets is held here; ``clique_cuts`` holds every maximal one.

``makespan_bound``: floors under the makespan itself, to compare a plan's makespan like
with like (the objective's bound says nothing about the day the last sector ends).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from sapper.plan.problem import TICKS_PER_DAY, Problem, neighbours


def lower_bound(problem: Problem) -> float:
    """In the objective's units (priority-weighted hectare-days)."""
    sectors = problem.workable
    if not sectors:
        return 0.0
    p = np.array([min(o.ticks for o in problem.options[s]) for s in sectors], dtype=float) / TICKS_PER_DAY
    w = np.array([problem.weight(s) for s in sectors])
    m = len({o.team for s in sectors for o in problem.options[s]})
    order = np.argsort(-w / p, kind="stable")
    single = float(np.sum(w[order] * np.cumsum(p[order])))
    eei = single / m + (m - 1) / (2 * m) * float(np.sum(w * p))
    return max(eei, float(np.sum(w * p)))


def cliques(problem: Problem, order: list[int] | None = None) -> list[list[int]]:
    """A partition of the workable sectors into sets that pairwise conflict (greedy).

    Each set is worked one sector at a time in every sound plan. Seeds are taken in
    ``order`` (default: index order, hazard by hazard, sectors in grid order); each set
    grows by the earliest sector in that order that conflicts with all its members.
    """
    near = neighbours(problem)
    order = list(problem.workable) if order is None else order
    rank = {s: r for r, s in enumerate(order)}
    left = set(order)
    out = []
    for s in order:
        if s not in left:
            continue
        left.discard(s)
        group, candidates = [s], left.intersection(near.get(s, ()))
        while candidates:
            c = min(candidates, key=rank.__getitem__)
            group.append(c)
            left.discard(c)
            candidates.intersection_update(near.get(c, ()))
            candidates.discard(c)
        out.append(group)
    return out


@dataclass(frozen=True)
class MakespanBound:
    """Days before which no plan can finish, and why: compares a plan's makespan like with like."""

    serial_days: float  # the heaviest set of sectors never worked at once, worked one after the other
    kind_days: float  # the work only one kind of team may do, shared by that kind's teams
    kind: str  # that kind

    @property
    def days(self) -> float:
        return max(self.serial_days, self.kind_days)


def makespan_bound(problem: Problem) -> MakespanBound:
    """Two proven floors under the makespan, each with its shortest durations.

    A clique of the conflict graph is worked one sector at a time (three covers, the
    last seeded longest first); a sector only teams of one kind may work takes one of
    them at least its fastest time, and that kind's teams share all such work.
    """
    sectors = problem.workable
    if not sectors:
        return MakespanBound(0.0, 0.0, "")
    shortest = {s: min(o.ticks for o in problem.options[s]) for s in sectors}
    longest_first = sorted(sectors, key=lambda s: (-shortest[s], s))
    covers = (cliques(problem), cliques(problem, sectors[::-1]), cliques(problem, longest_first))
    serial = max(sum(shortest[s] for s in clique) for cover in covers for clique in cover)
    work: dict[str, float] = defaultdict(float)
    for s in sectors:
        kinds = {problem.teams[o.team].kind.value for o in problem.options[s]}
        if len(kinds) == 1:
            work[kinds.pop()] += shortest[s]
    count: dict[str, int] = defaultdict(int)
    for t in {o.team for s in sectors for o in problem.options[s]}:
        count[problem.teams[t].kind.value] += 1
    kind, share = max(((k, w / count[k]) for k, w in work.items()), key=lambda x: x[1], default=("", 0.0))
    return MakespanBound(serial / TICKS_PER_DAY, share / TICKS_PER_DAY, kind)


GROUP_LOG = float(np.log(1.05))
BUCKET_GROWTH = 0.15
MIN_BUCKETS = 10
MAX_BUCKETS = 40
REFINE_SHARES = (0.15, 0.4, 0.45)  # of the bound budget, per solve with twice the variables (the first is quick)


def fluid_bound(
    problem: Problem, horizon_ticks: int, buckets: int = 40, max_variables: int = 30_000, time_limit_s: float = 60.0
) -> float:
    """The LP bound of ``_fluid``, in the objective's units (0 if the LP was cut short)."""
    return _fluid(problem, horizon_ticks, buckets, max_variables).solve(time_limit_s)


def refined_bound(problem: Problem, horizon_ticks: int, time_limit_s: float) -> float:
    """``fluid_bound`` solved again with twice the time buckets, in a fixed budget; the best value.

    Every value is a proof, so the largest one stands. A solve cut short counts 0, and the
    next share goes on solving the same LP from where it stopped (GLOP keeps its basis), so
    a small budget's quick first share is not lost and no LP is built twice. The budget is
    GLOP's deterministic time, shared out in advance: the same bound every run.
    """
    best, variables = 0.0, 30_000
    covers = clique_covers(problem)  # the same for every LP
    lp = None
    for share in REFINE_SHARES:
        lp = lp or _fluid(problem, horizon_ticks, MAX_BUCKETS, variables, covers)
        value = lp.solve(share * time_limit_s)
        if value == 0.0:
            continue
        best = max(best, value)
        if lp.buckets >= MAX_BUCKETS:
            break
        variables, lp = variables * 2, None
    return best


def clique_covers(problem: Problem) -> tuple[list[list[int]], ...]:
    """Three covers of the sectors by cliques, for the one-machine cuts: ``cliques``'s partition, the one
    seeded backwards, and the one seeded heaviest first (weight over shortest duration)."""
    sectors = problem.workable
    shortest = {s: min(o.ticks for o in problem.options[s]) for s in sectors}
    heavy = sorted(sectors, key=lambda s: -problem.weight(s) / shortest[s])
    return cliques(problem), cliques(problem, sectors[::-1]), cliques(problem, heavy)


@dataclass
class _LP:
    """A bound's linear programme, built once and solved in parts of GLOP's deterministic time."""

    solver: Any  # pywraplp.Solver; None when there is nothing to bound
    buckets: int = 0

    def solve(self, time_limit_s: float) -> float:
        """The optimum, in the objective's units; 0 if this part of the time did not reach it. The
        next call goes on from where this one stopped (dual simplex: about twice as fast on these LPs)."""
        from ortools.linear_solver import pywraplp

        if self.solver is None:
            return 0.0
        self.solver.SetSolverSpecificParametersAsString(
            f"use_dual_simplex: true max_deterministic_time: {max(0.05, time_limit_s):.3f}"
        )
        if self.solver.Solve() != pywraplp.Solver.OPTIMAL:
            return 0.0
        return float(self.solver.Objective().Value())


def _fluid(
    problem: Problem,
    horizon_ticks: int,
    buckets: int,
    max_variables: int,
    covers: tuple[list[list[int]], ...] | None = None,
) -> _LP:
    """Teams of one kind pooled as a fluid, sets of conflicting sectors as single machines.

    Each team t gets a speed v_t (1 / its median duration); a sector s worked by a team
    of class c uses at least a_sc = min over that class of p_st * v_t of the class's
    capacity (sum of v_t per tick). An LP spreads every sector's work over classes and
    time buckets (growing geometrically; the last one open-ended, so no plan is cut
    off) within each class's capacity and, per clique of the conflict graph, within the
    bucket's length. Each sector's mean busy time M_s is at least the start of the
    buckets its work falls in, and it finishes half its duration after it (Goemans et
    al.); on three clique covers, Queyranne's one-machine inequalities hold for the M_s.
    Every real plan is a point of this LP, so its optimum is below every plan's
    objective. Sectors of one clique with weights and shortest durations within 5 %
    share the bucket variables, taking the least weight, work and duration of the
    members (still a relaxation), which keeps the LP small.
    """
    from ortools.linear_solver import pywraplp

    sectors = problem.workable
    if not sectors or horizon_ticks <= 0:
        return _LP(None)
    speed, class_of, capacity = team_classes(problem)
    covers = clique_covers(problem) if covers is None else covers
    sets = covers[0]
    groups = _groups(problem, sets, class_of, speed)
    # buckets grow geometrically: fine early, where the heaviest sectors finish, coarse late;
    # fewer of them on a large problem, so the LP stays a few seconds' work
    buckets = max(MIN_BUCKETS, min(buckets, max_variables // max(1, sum(len(g.need) for g in groups))))
    growth = (1.0 + BUCKET_GROWTH) ** np.arange(buckets + 1) - 1.0
    edges = [*(float(horizon_ticks) * growth / growth[-1]), np.inf]  # the last bucket has no end
    solver = pywraplp.Solver.CreateSolver("GLOP")
    spans = len(edges) - 1
    use: list[list[list[tuple[float, object]]]] = [[[] for _ in range(spans)] for _ in capacity]
    serial: dict[int, list[list[tuple[float, object]]]] = {}  # clique -> bucket -> (shortest ticks, variable)
    mean = {s: solver.NumVar(0.0, solver.infinity(), "") for s in sectors}  # mean busy time of each sector
    objective = solver.Objective()
    for s in sectors:
        objective.SetCoefficient(mean[s], problem.weight(s) / TICKS_PER_DAY)
    for g in groups:
        row = solver.Constraint(g.n, g.n)
        starts = solver.Constraint(0.0, solver.infinity())  # members' mean busy times >= work x its bucket's start
        for s in g.members:
            starts.SetCoefficient(mean[s], 1.0)
        for c, a in g.need.items():
            for b in range(spans):
                y = solver.NumVar(0.0, g.n, "")
                row.SetCoefficient(y, 1.0)
                starts.SetCoefficient(y, -float(edges[b]))
                if b < spans - 1:
                    use[c][b].append((a, y))
                    serial.setdefault(g.clique, [[] for _ in range(spans)])[b].append((g.least, y))
                objective.SetCoefficient(y, g.weight * g.shortest[c] / 2.0)
    for c, cap in enumerate(capacity):
        for b in range(spans - 1):
            _row(solver, use[c][b], cap * (edges[b + 1] - edges[b]))
    for k, by_bucket in serial.items():
        if len(sets[k]) > 1:  # a single sector limits nothing
            for b in range(spans - 1):
                _row(solver, by_bucket[b], edges[b + 1] - edges[b])
    # one-machine cuts on three clique covers: the one above, seeded backwards, and heaviest first
    shortest = {s: min(o.ticks for o in problem.options[s]) for s in sectors}
    for cover in covers:
        for clique in cover:
            if len(clique) > 1:
                _one_machine(solver, [(problem.weight(s) / shortest[s], float(shortest[s]), mean[s]) for s in clique])
    objective.SetMinimization()
    return _LP(solver, buckets)


def team_classes(problem: Problem) -> tuple[dict[int, float], dict[int, int], list[float]]:
    """Teams pooled by kind and methods: each team's speed (1 / its median duration), its class,
    and each class's capacity (the sum of its teams' speeds, work per tick)."""
    durations: dict[int, list[int]] = {}
    for s in problem.workable:
        for o in problem.options[s]:
            durations.setdefault(o.team, []).append(o.ticks)
    speed = {t: 1.0 / float(np.median(d)) for t, d in durations.items()}
    classes: dict[tuple, list[int]] = {}
    for t in durations:
        team = problem.teams[t]
        classes.setdefault((team.kind, team.methods), []).append(t)
    class_of = {t: c for c, members in enumerate(classes.values()) for t in members}
    return speed, class_of, [sum(speed[t] for t in members) for members in classes.values()]


@dataclass
class _Group:
    """Near-identical sectors of one clique, taking the least weight, work and duration of its members."""

    clique: int
    members: list[int]
    n: float  # members
    weight: float  # per tick
    need: dict[int, float]  # team class -> share of the class's capacity one member uses, at least
    shortest: dict[int, int]  # team class -> shortest duration, ticks
    least: int  # shortest duration over all classes


def _groups(problem: Problem, sets: list[list[int]], class_of: dict[int, int], speed: dict[int, float]) -> list[_Group]:
    keyed: dict[tuple[int, int, int], list[int]] = {}
    for k, clique in enumerate(sets):
        for s in clique:  # one clique, weights and shortest durations within 5 %
            weight = int(np.floor(np.log(max(problem.weight(s), 1e-12)) / GROUP_LOG))
            ticks = int(np.floor(np.log(min(o.ticks for o in problem.options[s])) / GROUP_LOG))
            keyed.setdefault((k, weight, ticks), []).append(s)
    out = []
    for (k, _, _), members in keyed.items():
        need: dict[int, float] = {}
        shortest: dict[int, int] = {}
        for s in members:
            for o in problem.options[s]:
                c = class_of[o.team]
                need[c] = min(need.get(c, np.inf), o.ticks * speed[o.team])
                shortest[c] = min(shortest.get(c, o.ticks), o.ticks)
        weight = min(problem.weight(s) for s in members) / TICKS_PER_DAY
        out.append(_Group(k, members, float(len(members)), weight, need, shortest, min(shortest.values())))
    return out


def _one_machine(solver, jobs: list[tuple[float, float, object]]) -> None:
    """Queyranne's inequalities for one machine, on the prefixes of Smith's order.

    For any set S of jobs that never overlap, sum over S of p_j M_j >= (sum over S of p_j)^2 / 2
    (M_j: mean busy time), also with every p_j replaced by a shorter one; on Smith's
    prefixes they make the LP worth at least the best one-machine plan of the clique.
    """
    total, prefix = 0.0, None
    for _, p, mean in sorted(jobs, key=lambda j: -j[0]):
        total += p
        # running sum of p_j M_j over the prefix, one variable each: a sparse LP
        running = solver.NumVar(total * total / 2.0, solver.infinity(), "")
        link = solver.Constraint(0.0, 0.0)
        link.SetCoefficient(running, 1.0)
        link.SetCoefficient(mean, -p)
        if prefix is not None:
            link.SetCoefficient(prefix, -1.0)
        prefix = running


def _row(solver, terms: list[tuple[float, object]], limit: float) -> None:
    if terms:
        row = solver.Constraint(0.0, limit)
        for a, y in terms:
            row.SetCoefficient(y, a)
