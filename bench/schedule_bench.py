"""Benchmark: schedule 50 teams over 2,000 sectors; CP-SAT against the greedy plan.

The problem is synthetic and seeded (an assumption, not a survey): 2,000 sectors of
30 x 80 m in hazards spread over a 6 x 4 km town, with land uses, contamination and
priority scores drawn at random, and 50 teams of the five search kinds at six bases.
It goes through the planner's own steps (method rules, productivity, safety distances),
so the model is the one ``sapper plan`` solves.

Prints, side by side: the greedy plan (the peer), the list schedule by Smith's rule
that seeds the optimiser, and the optimised plan, with wall time, objective
(priority-weighted hectare-days), ratio to greedy and makespan; then the proven bound,
the gap and the gain over greedy, and the makespan against its own proven floor. Run:

    python bench/schedule_bench.py                 # 50 teams x 2,000 sectors, 50 s limit
    python bench/schedule_bench.py --teams 10 --sectors 200 --limit 10
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from shapely.geometry import Point, box

from sapper.model.enums import Contamination, LandUse, TeamKind
from sapper.model.records import Hazard, Team
from sapper.plan.methods import decide, load_rules, team_methods
from sapper.plan.problem import Problem, WorkSector, WorkTeam, build_problem
from sapper.plan.productivity import load_productivity
from sapper.plan.safety import load_safety
from sapper.plan.scheduling.bounds import makespan_bound
from sapper.plan.scheduling.cpsat import cpsat_schedule
from sapper.plan.scheduling.greedy import greedy_schedule, wspt_schedule
from sapper.plan.scheduling.schedule import check

LAND_USES = [LandUse.RESIDENTIAL, LandUse.OPEN_GROUND, LandUse.ROAD, LandUse.HERITAGE, LandUse.AGRICULTURE]
LAND_P = [0.45, 0.2, 0.1, 0.15, 0.1]
CONTAMINATION = [Contamination.UXO, Contamination.MIXED, Contamination.AP_MINES, Contamination.IED]
CONT_P = [0.4, 0.3, 0.2, 0.1]
KINDS = [TeamKind.MANUAL, TeamKind.DOG, TeamKind.ROBOT, TeamKind.MECHANICAL]
KIND_P = [0.6, 0.15, 0.15, 0.1]


def synthetic_problem(teams: int, sectors: int, seed: int = 1, danger: bool = True) -> Problem:
    """A seeded town: hazards of 4-40 sectors each, on a grid, with teams at six bases.

    Expected items follow the contamination's mix (productivity.toml); with ``danger``
    their demolition danger radius (safety.toml) is kept clear while a sector is worked.
    """
    rng = np.random.default_rng(seed)
    rules, prod, safety = load_rules(), load_productivity(), load_safety()
    work: list[WorkSector] = []
    hazard_id = 0
    links: dict[int, list[int]] = {}
    cols = int(np.ceil(np.sqrt(sectors * 3)))
    cells = rng.permutation(cols * cols)
    while len(work) < sectors:
        hazard_id += 1
        use = LAND_USES[rng.choice(len(LAND_USES), p=LAND_P)]
        hazard = Hazard(
            id=hazard_id,
            name=f"H{hazard_id}",
            land_use=use,
            contamination=CONTAMINATION[rng.choice(len(CONTAMINATION), p=CONT_P)],
        )
        score = float(rng.uniform(5, 60))
        mix = prod.mix[hazard.contamination]
        radius = safety.danger_radius_of(c for c, share in mix.items() if share > 0) if danger else 0.0
        n = min(int(rng.integers(4, 40)), sectors - len(work))
        anchor = int(cells[hazard_id % len(cells)])
        row0, col0 = divmod(anchor, cols)
        for k in range(n):
            r, c = row0 + k // 6, col0 + k % 6
            geom = box(c * 34.0, r * 84.0, c * 34.0 + 30.0, r * 84.0 + 80.0)
            decision = decide(hazard, geom, [], rules, radius)
            found = float(rng.poisson(3))
            work.append(
                WorkSector(
                    len(work),
                    hazard_id,
                    f"H{hazard_id}-{k + 1}",
                    geom,
                    geom.area,
                    score,
                    decision,
                    {c: found * share for c, share in mix.items()},
                    safety.working_distance(hazard.contamination, decision.allowed),
                    radius,
                )
            )
        if use == LandUse.ROAD and hazard_id > 1:
            links[hazard_id] = [int(rng.integers(1, hazard_id))]
    bases = [Point(rng.uniform(0, cols * 34.0), rng.uniform(0, cols * 84.0)) for _ in range(6)]
    crew = []
    for t in range(teams):
        kind = KINDS[rng.choice(len(KINDS), p=KIND_P)]
        team = Team(id=t + 1, name=f"{kind.value}-{t + 1}", kind=kind, personnel=int(rng.integers(2, 9)))
        crew.append(
            WorkTeam(
                t, t + 1, team.name, kind, team_methods(team, rules), bases[t % 6], team.personnel, 1.0, prod.day(kind)
            )
        )
    return build_problem(work, crew, prod, links)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--sectors", type=int, default=2000)
    parser.add_argument("--limit", type=float, default=50.0, help="CP-SAT time limit, seconds")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--window", type=int, default=60, help="sectors CP-SAT moves at once")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-danger", action="store_true", help="leave demolition danger areas out")
    args = parser.parse_args()

    began = time.perf_counter()
    problem = synthetic_problem(args.teams, args.sectors, args.seed, not args.no_danger)
    built = time.perf_counter() - began
    print(
        f"problem: {len(problem.teams)} teams x {len(problem.sectors)} sectors, "
        f"{sum(len(o) for o in problem.options)} team options, {len(problem.conflicts):,} pairs never worked at once "
        f"({len(problem.danger):,} of them for a demolition danger area), "
        f"{len(problem.precedence)} road precedences, {len(problem.unworkable)} sectors no team may work "
        f"(built in {built:.1f} s)"
    )
    greedy = greedy_schedule(problem)
    sharper = wspt_schedule(problem)
    best = cpsat_schedule(
        problem, greedy, time_limit_s=args.limit, workers=args.workers, window=args.window, seed=args.seed
    )
    for plan in (greedy, sharper, best):
        problems = check(problem, plan)
        assert not problems, problems[:5]
    print(f"{'plan':<22} {'wall s':>8} {'objective':>14} {'vs greedy':>10} {'makespan d':>11}")
    for label, plan in (("greedy (officer)", greedy), ("list, Smith's rule", sharper), (best.solver, best)):
        ratio = plan.objective / greedy.objective if greedy.objective else 1.0
        print(f"{label:<22} {plan.seconds:8.2f} {plan.objective:14,.0f} {ratio:10.3f} {plan.makespan_days:11.1f}")
    gain = (greedy.objective - best.objective) / greedy.objective if greedy.objective else 0.0
    gap = f"{best.gap:.1%}" if best.gap is not None else "-"
    print(f"bound {best.bound or 0:,.0f}, gap {gap}; status: {best.status}; {'; '.join(best.notes)}")
    # like with like: the makespan against floors proven for the makespan itself
    floor = makespan_bound(problem)
    print(
        f"makespan {best.makespan_days:,.1f} d against its bound {floor.days:,.1f} d "
        f"(gap {1 - floor.days / best.makespan_days:.1%}): heaviest set of sectors never worked at once "
        f"{floor.serial_days:,.1f} d, work only {floor.kind or '-'} teams may do per team {floor.kind_days:,.1f} d"
    )
    print(
        f"gain over greedy {gain:.1%}; wall time {best.seconds:.1f} s for {len(problem.teams)} teams x "
        f"{len(problem.sectors)} sectors"
    )


if __name__ == "__main__":
    main()
