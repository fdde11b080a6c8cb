"""Energy cuts for teams of unequal speed: the sets of sectors ``mean_busy`` bounds beside its cliques.

Give each team i a speed v_i > 0 (any positive numbers). A sector j worked by team i for
p_ij days at rate v_i uses energy v_i p_ij >= a_j := min over the teams able to work j of
v_i p_ij; the teams of a set T supply at most V = sum over T of v_i a day. Then for every
set S of sectors only teams of T may work, with M_j the mean busy times of any plan,

    sum over S of a_j M_j >= a(S) r + a(S)^2 / (2V),   r the earliest start in S.

Proof. Shrink each sector's busy interval about its middle to length a_j / v_i (at most
p_ij): the mean M_j stays, the energy is a_j, and the energy rate u(t) in use only falls,
so u(t) <= V. Then sum a_j M_j = integral of t u(t) dt over t >= r with integral u = a(S),
which is least when u = V from r on: a(S) r + a(S)^2 / (2V). With v_i = 1 this is
Queyranne's inequality on |T| parallel machines (the pools ``mean_busy`` held so far, as if
every team were as fast as the fastest); with speeds it counts a team 30 times slower as a
thirtieth of a team.

The speeds are each team's own on the pool's sectors (``relative_speeds``), one vector per
pool. A team faster than its median on some sectors leaves them little energy, so each pool
keeps whichever of its speeds and v_i = 1 proves more on its own (both are valid). Each pool
is a set of ``mean_busy`` (members, energies a_j, capacity V) whose subsets all give valid
inequalities, added for the prefixes in Smith's order and in the LP's.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from sapper.plan.problem import TICKS_PER_DAY, Problem

MAX_POOLS = 60  # sets of teams whose sectors are bounded as parallel machines
EnergySet = tuple[np.ndarray, np.ndarray, float]  # members (positions in ``sectors``), energies, capacity


def team_pools(problem: Problem, sectors: list[int]) -> list[tuple[frozenset[int], np.ndarray]]:
    """Sets T of teams with the sectors only teams of T may work (positions in ``sectors``).

    The sets are those some sector's options name (all teams among them); the largest
    ``MAX_POOLS`` by sectors held, in a fixed order, no two with the same sectors.
    """
    able: dict[frozenset[int], list[int]] = defaultdict(list)
    for k, s in enumerate(sectors):
        able[frozenset(o.team for o in problem.options[s])].append(k)
    every = frozenset(t for teams in able for t in teams)
    pools = []
    for teams in [*able, every]:
        members = sorted(k for other, ks in able.items() if other <= teams for k in ks)
        pools.append((len(members), sorted(teams), teams, np.array(members)))
    pools.sort(key=lambda x: (-x[0], x[1]))
    seen: set[tuple[int, ...]] = set()
    out = []
    for _, _, teams, members in pools:
        if tuple(members) not in seen and len(out) < MAX_POOLS:
            seen.add(tuple(members))
            out.append((teams, members))
    return out


def relative_speeds(problem: Problem, sectors: list[int], members: np.ndarray, p: np.ndarray) -> dict[int, float]:
    """Each team's speed on these sectors: 1 / the median of its duration over the fastest one's.

    Any positive speeds give valid cuts; these make a_j near p_j for every team that is
    typical on the set, so a slow team adds little capacity.
    """
    ratios: dict[int, list[float]] = defaultdict(list)
    for k in members:
        for o in problem.options[sectors[k]]:
            ratios[o.team].append(o.ticks / TICKS_PER_DAY / float(p[k]))
    return {t: 1.0 / float(np.median(r)) for t, r in sorted(ratios.items())}


def energies(problem: Problem, sectors: list[int], members: np.ndarray, speed: dict[int, float]) -> np.ndarray:
    """a_j = min over the teams able to work j of v_i p_ij (days x speed)."""
    return np.array(
        [min(speed[o.team] * o.ticks for o in problem.options[sectors[k]]) / TICKS_PER_DAY for k in members]
    )


def energy_pools(problem: Problem, sectors: list[int], p: np.ndarray, w: np.ndarray) -> list[EnergySet]:
    """Per pool of teams (``team_pools``): its sectors at the teams' speeds, or as equal machines where that
    bounds the pool alone higher (a team faster than its median on some sectors leaves them little energy)."""
    out: list[EnergySet] = []
    for teams, members in team_pools(problem, sectors):
        speed = relative_speeds(problem, sectors, members, p)
        timed = (members, energies(problem, sectors, members, speed), float(sum(speed.values())))
        equal = (members, p[members], float(len(teams)))
        out.append(max((timed, equal), key=lambda pool: alone(pool, p, w)))
    return out


def alone(pool: EnergySet, p: np.ndarray, w: np.ndarray) -> float:
    """What the pool's inequalities prove on their own: its sectors in Smith's order at the full capacity,
    each no earlier than half its duration (a score to choose between valid sets; not itself a bound used)."""
    members, energy, capacity = pool
    order = np.argsort(-w[members] / energy, kind="stable")
    mean = (np.cumsum(energy[order]) - energy[order] / 2.0) / capacity
    return float(np.sum(w[members][order] * np.maximum(mean, p[members][order] / 2.0)))
