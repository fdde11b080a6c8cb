"""A tighter LP bound: every maximal set of sectors in pairwise conflict works one at a time.

``bounds.fluid_bound`` holds one partition of the sectors into such sets (cliques of the
conflict graph) to one sector at a time per time bucket. A sector in conflict with several
groups of neighbours that do not conflict with one another sits in one set of the partition
only, and the LP lets its neighbours in the other groups work beside it. Here each sector's
work is spread over the buckets on its own (not by groups), and the maximal cliques grown
from every sector are added where the LP's solution breaks them, a few rounds of cuts
(each LP solved is a relaxation of every plan, so each optimum is a proof, and the rounds
only raise it). On the benchmark's 10 teams x 200 sectors this proves 599 where the
partition proves 500 at the same 10 buckets (515 at 40).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from sapper.plan.problem import TICKS_PER_DAY, Problem
from sapper.plan.scheduling.bounds import (
    BUCKET_GROWTH,
    _groups,
    _one_machine,
    _row,
    clique_covers,
    team_classes,
)

CUT_ROUNDS = 4  # rounds of maximal cliques added where the LP breaks them
# measured (bench/README.md): 200 sectors and 11,800 pairs end their cuts within 30 % of a 10 s limit; 2,000 sectors
# and 186,000 pairs prove less than the partition's finer LP within 30 % of a minute. Larger problems keep the time
# for CP-SAT.
MAX_SECTORS = 500
MAX_CONFLICTS = 50_000
CUTS_PER_BUCKET = 100  # most violated maximal cliques added per bucket and round


def worth_solving(problem: Problem) -> bool:
    """Whether ``clique_bound`` is likely to end within its share of a plan's time."""
    return len(problem.workable) <= MAX_SECTORS and len(problem.conflicts) <= MAX_CONFLICTS


def clique_bound(problem: Problem, horizon_ticks: int, buckets: int = 10, time_limit_s: float = 60.0) -> float:
    """This module's LP bound, in the objective's units; 0 if its first solve was cut short.

    Teams pooled by kind as in ``bounds.fluid_bound`` (each group of near-identical sectors
    of one clique uses its class's capacity), buckets growing geometrically up to the
    horizon and an open-ended last one, Queyranne's one-machine cuts on three clique covers.
    ``time_limit_s`` is GLOP's deterministic time, shared equally by the solves.
    """
    from ortools.linear_solver import pywraplp

    sectors = problem.workable
    if not sectors or horizon_ticks <= 0:
        return 0.0
    speed, class_of, capacity = team_classes(problem)
    covers = clique_covers(problem)
    sets = covers[0]
    groups = _groups(problem, sets, class_of, speed)
    # buckets grow geometrically: fine early, where the heaviest sectors finish, coarse late
    growth = (1.0 + BUCKET_GROWTH) ** np.arange(buckets + 1) - 1.0
    edges = [*(float(horizon_ticks) * growth / growth[-1]), np.inf]  # the last bucket has no end
    solver = pywraplp.Solver.CreateSolver("GLOP")
    spans = len(edges) - 1
    use: list[list[list[tuple[float, object]]]] = [[[] for _ in range(spans)] for _ in capacity]
    mean = {s: solver.NumVar(0.0, solver.infinity(), "") for s in sectors}  # mean busy time of each sector
    # share of each sector's work done in each bucket: its mean busy time is at least the buckets' starts
    share = {s: [solver.NumVar(0.0, 1.0, "") for _ in range(spans)] for s in sectors}
    objective = solver.Objective()
    for s in sectors:
        objective.SetCoefficient(mean[s], problem.weight(s) / TICKS_PER_DAY)
        whole = solver.Constraint(1.0, 1.0)
        starts = solver.Constraint(0.0, solver.infinity())
        starts.SetCoefficient(mean[s], 1.0)
        for b, x in enumerate(share[s]):
            whole.SetCoefficient(x, 1.0)
            starts.SetCoefficient(x, -float(edges[b]))
    for g in groups:
        links = [solver.Constraint(0.0, 0.0) for _ in range(spans)]  # the group's work by class = its members'
        for b, link in enumerate(links):
            for s in g.members:
                link.SetCoefficient(share[s][b], -1.0)
        for c, a in g.need.items():
            for b in range(spans):
                y = solver.NumVar(0.0, g.n, "")
                links[b].SetCoefficient(y, 1.0)
                if b < spans - 1:
                    use[c][b].append((a, y))
                objective.SetCoefficient(y, g.weight * g.shortest[c] / 2.0)
    for c, cap in enumerate(capacity):
        for b in range(spans - 1):
            _row(solver, use[c][b], cap * (edges[b + 1] - edges[b]))
    # every set of sectors in pairwise conflict works one at a time in each bucket: the partition
    shortest = {s: min(o.ticks for o in problem.options[s]) for s in sectors}
    lengths = np.diff(edges[:-1])
    for clique in sets:
        if len(clique) > 1:
            for b in range(spans - 1):
                _row(solver, [(float(shortest[s]), share[s][b]) for s in clique], lengths[b])
    # one-machine cuts on three clique covers: the one above, seeded backwards, and heaviest first
    for cover in covers:
        for clique in cover:
            if len(clique) > 1:
                _one_machine(solver, [(problem.weight(s) / shortest[s], float(shortest[s]), mean[s]) for s in clique])
    objective.SetMinimization()
    solves = 1 + CUT_ROUNDS
    value = 0.0
    for round_ in range(solves):
        # each solve gets an equal share of the time; one cut short ends the rounds
        limit = time_limit_s / solves
        solver.SetSolverSpecificParametersAsString(  # dual simplex: rows are added between solves
            f"use_dual_simplex: true max_deterministic_time: {max(0.05, limit):.3f}"
        )
        if solver.Solve() != pywraplp.Solver.OPTIMAL:
            break  # cut short: the last optimum stands
        value = objective.Value()
        if round_ == solves - 1:
            break
        if round_ == 0:
            pool = _CliquePool(problem, sectors, shortest)
        work = np.array([[x.solution_value() for x in share[s][:-1]] for s in sectors])
        added = pool.violated(work, lengths)
        if not added:
            break
        for k, b in added:
            _row(solver, [(float(shortest[s]), share[s][b]) for s in pool.cliques[k]], lengths[b])
    return value


class _CliquePool:
    """Maximal cliques grown from every sector, checked against an LP's work per bucket."""

    def __init__(self, problem: Problem, sectors: list[int], shortest: dict[int, int]) -> None:
        degree: dict[int, float] = defaultdict(float)
        for i, j in problem.conflicts:
            degree[i] += 1.0
            degree[j] += 1.0
        # grown toward the most connected sectors, the longest, and the first by Smith's rule
        ranks = [{s: degree[s] for s in sectors}, {s: float(shortest[s]) for s in sectors}]
        ranks.append({s: problem.weight(s) / shortest[s] for s in sectors})
        self.cliques = maximal_cliques(problem, ranks)
        position = {s: k for k, s in enumerate(sectors)}
        self.flat = np.array([position[s] for c in self.cliques for s in c], dtype=int)
        self.ticks = np.array([float(shortest[s]) for c in self.cliques for s in c])
        self.starts = np.cumsum([0] + [len(c) for c in self.cliques[:-1]])
        self.taken: set[tuple[int, int]] = set()

    def violated(self, work: np.ndarray, lengths: np.ndarray) -> list[tuple[int, int]]:
        """(clique, bucket) pairs whose sectors' work exceeds the bucket's length, worst first."""
        if not self.cliques:
            return []
        load = np.add.reduceat(work[self.flat] * self.ticks[:, None], self.starts, axis=0)
        excess = load / lengths[None, :] - 1.0
        out = []
        for b in range(len(lengths)):
            worst = np.argsort(-excess[:, b], kind="stable")[:CUTS_PER_BUCKET]
            out += [(int(k), b) for k in worst if excess[k, b] > 1e-6 and (int(k), b) not in self.taken]
        self.taken.update(out)
        return out


def maximal_cliques(problem: Problem, keys: list[dict[int, float]]) -> list[list[int]]:
    """Maximal cliques grown from every workable sector, once per ranking in ``keys``; no repeats.

    A partition gives each sector one set; here every sector seeds its own, grown by the
    candidate that ranks highest (a larger key first, then the lower index), so a sector
    in conflict with several groups of neighbours is held back by each of them.
    Deterministic: the same problem gives the same sets, in the same order.
    """
    sectors = problem.workable
    index = {s: k for k, s in enumerate(sectors)}
    adjacent = np.zeros((len(sectors), len(sectors)), dtype=bool)
    for i, j in problem.conflicts:
        if i in index and j in index:
            adjacent[index[i], index[j]] = adjacent[index[j], index[i]] = True
    seen: set[frozenset[int]] = set()
    out: list[list[int]] = []
    for key in keys:
        # relabel by rank (best first) and hold each neighbourhood as the bits of an integer:
        # the best candidate left is then the lowest bit set
        by_rank = np.asarray(sorted(range(len(sectors)), key=lambda k: (-key[sectors[k]], k)))
        ranked = adjacent[np.ix_(by_rank, by_rank)]
        bits = [int.from_bytes(np.packbits(row, bitorder="little").tobytes(), "little") for row in ranked]
        for seed in range(len(sectors)):
            members, candidates = [seed], bits[seed]
            while candidates:
                pick = (candidates & -candidates).bit_length() - 1
                members.append(pick)
                candidates &= bits[pick]
            if len(members) > 1:
                found = frozenset(int(by_rank[k]) for k in members)
                if found not in seen:
                    seen.add(found)
                    out.append(sorted(sectors[k] for k in found))
    return out
