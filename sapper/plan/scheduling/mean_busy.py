"""A lower bound from each sector's mean busy time: Queyranne's inequalities on every maximal clique.

For jobs that never overlap (one machine), Queyranne (1993) proved for every set S
    sum over S of p_j M_j >= (sum over S of p_j)^2 / 2,
M_j being job j's mean busy time (its start plus half its duration), and on m machines
the right-hand side is divided by m (Schulz 1996). Here:
- every maximal clique of the conflict graph (sectors in pairwise conflict, grown from
  every sector, ``clique_cuts.maximal_cliques``) is one machine;
- the sectors only a set T of teams may work share the teams of T, each counted at its
  speed on them (energy cuts, ``energy_cuts``: a team 30 times slower is a thirtieth of a
  machine), or as |T| machines as fast as the fastest where that proves more; all teams
  for all sectors;
- a road's hazard and a survey are finished before what waits for them starts: rows for
  the roads, and each sector's earliest start along them, which also shifts a set whose
  members all start after r to p(S) r + p(S)^2 / 2m.
A sector worked by a slower team than its fastest still holds its fastest duration in
the middle of its time (the same mean), so every plan is a point of this LP with the
shortest durations, and C_j = M_j + p_j / 2 is at least M_j + shortest / 2: the LP's
optimum is below every plan's objective.

The inequalities are added in rounds: first the prefixes of Smith's order of each set
(the single-machine optimum's), then, for the LP's own solution, the prefixes in order
of its mean busy times that it breaks (the most violated sets of Queyranne's polytope:
Goemans 1997). Each round's optimum is a proof; the rounds only raise it. No time
buckets, so the LP stays small where the bucketed LPs of ``bounds`` grow.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from ortools.linear_solver import pywraplp

from sapper.plan.problem import TICKS_PER_DAY, Problem
from sapper.plan.scheduling.clique_cuts import maximal_cliques
from sapper.plan.scheduling.energy_cuts import EnergySet, energy_pools

MAX_SECTORS = 5_000  # the maximal cliques hold an n x n table of conflicts (25 MB at 5,000 sectors)
MAX_PREFIX_ROWS = 60_000  # above this many members of cliques, a prefix every few members (the LP stays seconds)
CUTS_PER_SET = 5  # most violated prefixes added per set and round
FIRST_SHARE = 0.6  # of the time, for the first solve; the rounds of cuts share the rest


def mean_busy_bound(problem: Problem, time_limit_s: float = 20.0, rounds: int = 3) -> float:
    """The LP bound, in the objective's units; 0 if the first solve was cut short or the problem is too large.

    ``time_limit_s`` is GLOP's deterministic time, shared out in advance (0.6 for the
    first solve, the rest equally between the rounds), so the same problem gives the same
    bound at any load. A large LP (prefixes thinned out) keeps its first optimum: rounds
    on it do not end in time.
    """
    sectors = problem.workable
    if not sectors or len(sectors) > MAX_SECTORS:
        return 0.0
    lp = _MeanBusyLP(problem, sectors)
    rounds = rounds if lp.stride == 1 else 0
    value = 0.0
    for round_ in range(rounds + 1):
        share = FIRST_SHARE if round_ == 0 else (1.0 - FIRST_SHARE) / rounds
        lp.solver.SetSolverSpecificParametersAsString(
            f"use_dual_simplex: true max_deterministic_time: {max(0.05, share * time_limit_s):.3f}"
        )
        if lp.solver.Solve() != pywraplp.Solver.OPTIMAL:
            break  # cut short: the last optimum stands
        value = lp.value()
        if round_ == rounds or not lp.add_violated():
            break
    return value


class _MeanBusyLP:
    """Mean busy times (days) with Queyranne's inequalities on cliques and pools of teams."""

    def __init__(self, problem: Problem, sectors: list[int]) -> None:
        self.p = np.array([min(o.ticks for o in problem.options[s]) for s in sectors], dtype=float) / TICKS_PER_DAY
        self.w = np.array([problem.weight(s) for s in sectors])
        index = {s: k for k, s in enumerate(sectors)}
        cliques = [np.array([index[s] for s in c]) for c in _cliques(problem, sectors, self.p, self.w)]
        self.sets: list[EnergySet] = [(c, self.p[c], 1.0) for c in cliques]
        self.sets += energy_pools(problem, sectors, self.p, self.w)
        self.stride = max(1, -(-sum(len(m) for m, _, _ in self.sets) // MAX_PREFIX_ROWS))
        solver = pywraplp.Solver.CreateSolver("GLOP")
        self.solver = solver
        self.mean = [solver.NumVar(float(p) / 2.0, solver.infinity(), "") for p in self.p]  # starts >= 0
        self.objective = solver.Objective()
        for k, var in enumerate(self.mean):
            self.objective.SetCoefficient(var, float(self.w[k]))
        self.objective.SetMinimization()
        self.head = _ordered(problem, sectors, index, self.p, self.mean, solver)  # earliest starts
        for members, energy, capacity in self.sets:
            order = np.argsort(-self.w[members] / energy, kind="stable")
            self._prefixes(members[order], energy[order], capacity)

    def value(self) -> float:
        return self.objective.Value() + float(np.sum(self.w * self.p)) / 2.0

    def add_violated(self) -> int:
        """Add the prefixes (in order of the LP's mean busy times) that its solution breaks."""
        mean = np.array([v.solution_value() for v in self.mean])
        added = 0
        for members, energy, capacity in self.sets:
            by_mean = np.argsort(mean[members], kind="stable")
            order, used = members[by_mean], energy[by_mean]
            work = np.cumsum(used)
            held = np.cumsum(used * mean[order])
            need = work * (np.minimum.accumulate(self.head[order]) + work / (2.0 * capacity))
            broken = np.nonzero(need - held > 1e-7 * np.maximum(1.0, work * work))[0]
            for i in broken[np.argsort(held[broken] - need[broken], kind="stable")][:CUTS_PER_SET]:
                row = self.solver.Constraint(float(need[i]), self.solver.infinity())
                for k, e in zip(order[: i + 1], used[: i + 1], strict=True):
                    row.SetCoefficient(self.mean[k], float(e))
                added += 1
        return added

    def _prefixes(self, order: np.ndarray, energy: np.ndarray, capacity: float) -> None:
        """Prefixes of ``order`` every ``stride`` members and the whole, sparse: a running sum of a_j M_j."""
        solver, total, prefix, link, least = self.solver, 0.0, None, None, np.inf
        for n, (k, e) in enumerate(zip(order, energy, strict=True)):
            least = min(least, float(self.head[k]))
            if link is None:
                running = solver.NumVar(0.0, solver.infinity(), "")
                link = solver.Constraint(0.0, 0.0)
                link.SetCoefficient(running, 1.0)
                if prefix is not None:
                    link.SetCoefficient(prefix, -1.0)
            total += float(e)
            link.SetCoefficient(self.mean[k], -float(e))
            if (n + 1) % self.stride == 0 or n + 1 == len(order):
                running.SetLb(total * (least + total / (2.0 * capacity)))  # busy from the earliest start
                prefix, link = running, None


def _cliques(problem: Problem, sectors: list[int], p: np.ndarray, w: np.ndarray) -> list[list[int]]:
    """Maximal cliques grown from every sector toward the most connected, the longest, the first by Smith's rule."""
    degree: dict[int, float] = defaultdict(float)
    for i, j in problem.conflicts:
        degree[i] += 1.0
        degree[j] += 1.0
    keys = [{s: degree[s] for s in sectors}, {s: float(p[k]) for k, s in enumerate(sectors)}]
    keys.append({s: float(w[k] / p[k]) for k, s in enumerate(sectors)})
    return maximal_cliques(problem, keys)


def _ordered(problem: Problem, sectors: list[int], index: dict[int, int], p: np.ndarray, mean, solver) -> np.ndarray:
    """What waits starts after what it waits for ends: roads first (rows), survey before clearance (heads)."""
    members: dict[int, list[int]] = defaultdict(list)
    for s in sectors:
        members[problem.sectors[s].hazard_id].append(index[s])
    road_end = {}
    for first, then in sorted(set(problem.precedence)):
        if first not in road_end:
            road_end[first] = solver.NumVar(0.0, solver.infinity(), "")
            for k in members[first]:  # M + p/2 <= road's end
                row = solver.Constraint(-solver.infinity(), -float(p[k]) / 2.0)
                row.SetCoefficient(mean[k], 1.0)
                row.SetCoefficient(road_end[first], -1.0)
        for k in members[then]:  # M - p/2 >= road's end
            row = solver.Constraint(float(p[k]) / 2.0, solver.infinity())
            row.SetCoefficient(mean[k], 1.0)
            row.SetCoefficient(road_end[first], -1.0)
    heads = _heads(problem, index, p)
    for k, head in enumerate(heads):  # a sector starts after its survey's (and road's) chain ends
        mean[k].SetLb(float(head + p[k] / 2.0))
    return heads


def _heads(problem: Problem, index: dict[int, int], p: np.ndarray) -> np.ndarray:
    """Each sector's earliest start (shortest durations) along the survey-before-clearance pairs and the roads.

    Bounds on single variables, not rows: thousands of pairs as rows made the LP ten times slower
    (Palmyra: 41 s against 4 s) for a bound 7 % higher. A cycle (no plan at all) is left where it stops.
    """
    n = len(p)
    arcs: dict[int, list[tuple[int, float]]] = defaultdict(list)  # node -> (node after it, delay)
    for a, b in problem.sequence:
        if a in index and b in index:
            arcs[index[a]].append((index[b], float(p[index[a]])))
    members: dict[int, list[int]] = defaultdict(list)
    for s, k in index.items():
        members[problem.sectors[s].hazard_id].append(k)
    hazard_node: dict[int, int] = {}  # one node per road: its end
    for first, then in sorted(set(problem.precedence)):
        if first not in hazard_node:
            hazard_node[first] = n + len(hazard_node)
            arcs.update({k: [*arcs[k], (hazard_node[first], float(p[k]))] for k in members[first]})
        arcs[hazard_node[first]].extend((k, 0.0) for k in members[then])
    head = np.zeros(n + len(hazard_node))
    waiting = np.zeros(len(head), dtype=int)
    for after in arcs.values():
        for b, _ in after:
            waiting[b] += 1
    ready = [k for k in range(len(head)) if not waiting[k]]
    while ready:
        a = ready.pop()
        for b, delay in arcs[a]:
            head[b] = max(head[b], head[a] + delay)
            waiting[b] -= 1
            if not waiting[b]:
                ready.append(b)
    return head[:n]
