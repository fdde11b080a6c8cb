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

from sapper.plan.scheduling.bounds import makespan_bound
from sapper.plan.scheduling.cpsat import cpsat_schedule
from sapper.plan.scheduling.greedy import greedy_schedule, wspt_schedule
from sapper.plan.scheduling.schedule import check
from sapper.plan.scheduling.synthetic import synthetic_problem

__all__ = ["synthetic_problem"]  # the other benches build the same town


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
    only = (
        f"work only {floor.kind} teams may do per team {floor.kind_days:,.1f} d"
        if floor.kind
        else "no work that only one kind of team may do"
    )
    print(
        f"makespan {best.makespan_days:,.1f} d against its bound {floor.days:,.1f} d "
        f"(gap {1 - floor.days / best.makespan_days:.1%}): heaviest set of sectors never worked at once "
        f"{floor.serial_days:,.1f} d, {only}"
    )
    print(
        f"gain over greedy {gain:.1%}; wall time {best.seconds:.1f} s for {len(problem.teams)} teams x "
        f"{len(problem.sectors)} sectors"
    )


if __name__ == "__main__":
    main()
