"""A proven lower bound on the schedule's objective, cheap enough for any size.

Relax the problem: forget safety distances, roads first and which team may do what;
give every sector its shortest duration over the teams allowed on it, and let all
teams be identical machines. No real plan can do better than the best plan of this
relaxation, and for that one Eastman, Even and Isaacs (1964) proved
    sum w C >= (1/m) * sum w C_WSPT(single machine) + (m - 1)/(2m) * sum w p
where C_WSPT are the completion times on one machine in order of w/p (Smith's rule).
Each sector also finishes no earlier than its own duration: sum w p is a bound too.
"""

from __future__ import annotations

import numpy as np

from sapper.plan.problem import TICKS_PER_DAY, Problem


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


GROUP_LOG = float(np.log(1.05))
BUCKET_GROWTH = 0.15


def fluid_bound(problem: Problem, horizon_ticks: int, buckets: int = 50) -> float:
    """A tighter bound: teams of one kind pooled as a fluid, work spread over time buckets.

    Each team t gets a speed v_t (1 / its median duration); a sector s worked by a team
    of class c uses at least a_sc = min over that class of p_st * v_t of the class's
    capacity (sum of v_t per tick). An LP spreads every sector's work over classes and
    buckets (growing geometrically) within capacity; a sector whose work falls in bucket
    k is busy no earlier than the bucket's start, and finishes half its duration (at least the shortest in
    that class) after its mean busy time (Goemans et al.), so the LP's optimum is below
    every real plan's objective. Sectors of one hazard with areas within 5 % form one
    group that takes the least weight, work and duration of its members (still a
    relaxation), which keeps the LP small.
    """
    from ortools.linear_solver import pywraplp

    sectors = problem.workable
    if not sectors or horizon_ticks <= 0:
        return 0.0
    durations: dict[int, list[int]] = {}
    for s in sectors:
        for o in problem.options[s]:
            durations.setdefault(o.team, []).append(o.ticks)
    speed = {t: 1.0 / float(np.median(d)) for t, d in durations.items()}
    classes: dict[tuple, list[int]] = {}
    for t in durations:
        team = problem.teams[t]
        classes.setdefault((team.kind, team.methods), []).append(t)
    class_of = {t: c for c, members in enumerate(classes.values()) for t in members}
    capacity = [sum(speed[t] for t in members) for members in classes.values()]
    # buckets grow geometrically: fine early, where the heaviest sectors finish, coarse late
    growth = (1.0 + BUCKET_GROWTH) ** np.arange(buckets + 1) - 1.0
    edges = float(horizon_ticks) * growth / growth[-1]
    groups: dict[tuple[int, int], list[int]] = {}
    for s in sectors:  # near-identical sectors (one hazard, areas within 5 %) share variables
        key = (problem.sectors[s].hazard_id, int(np.floor(np.log(max(problem.sectors[s].area_m2, 1e-6)) / GROUP_LOG)))
        groups.setdefault(key, []).append(s)
    solver = pywraplp.Solver.CreateSolver("GLOP")
    use: list[list[tuple[float, object]]] = [[[] for _ in range(buckets)] for _ in capacity]  # type: ignore[misc]
    objective = solver.Objective()
    for members in groups.values():
        # the group takes the least weight, work and duration of its members: still a relaxation
        need: dict[int, float] = {}
        shortest: dict[int, int] = {}
        for s in members:
            for o in problem.options[s]:
                c = class_of[o.team]
                need[c] = min(need.get(c, np.inf), o.ticks * speed[o.team])
                shortest[c] = min(shortest.get(c, o.ticks), o.ticks)
        w = min(problem.weight(s) for s in members) / TICKS_PER_DAY
        n = float(len(members))
        row = solver.Constraint(n, n)
        for c, a in need.items():
            for k in range(buckets):
                y = solver.NumVar(0.0, n, "")
                row.SetCoefficient(y, 1.0)
                use[c][k].append((a, y))
                objective.SetCoefficient(y, w * (edges[k] + shortest[c] / 2.0))
    for c, cap in enumerate(capacity):
        for k in range(buckets):
            if use[c][k]:
                row = solver.Constraint(0.0, cap * (edges[k + 1] - edges[k]))
                for a, y in use[c][k]:
                    row.SetCoefficient(y, a)
    objective.SetMinimization()
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return 0.0
    return objective.Value()
