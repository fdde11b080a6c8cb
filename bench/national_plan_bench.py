"""Benchmark: plan a whole country, 500 teams x 50,000 sectors, in regions planned in parallel processes.

The country is synthetic and seeded (an assumption, not a survey): ``--regions`` towns, each
a problem built like bench/schedule_bench.py (hazards of 4-40 sectors of 30 x 80 m, land
uses, contamination, priority scores, demolition danger areas, road precedence, teams of
four search kinds at six bases) through the planner's own rules, with its share of the
teams. Towns lie far apart, so no safety pair or danger area joins two of them, as
``sapper.plan.regions.country`` makes sure of in a real register. Each town is built, planned by
the greedy rule and by CP-SAT (its share of ``--limit``, in deterministic time) and
checked in a worker process; ``regions.country.join`` makes one plan of them, checked again.

Prints each region's figures, then the joined plan (wall time, objective against the
greedy peer, makespan) and the peer in time: one region planned alone in one process,
timed first, times the number of regions (a single plan of the whole country would
build 25 million team options: not run). Run:

    python bench/national_plan_bench.py                                  # 500 x 50,000 in 10 regions, 2 processes
    python bench/national_plan_bench.py --teams 50 --sectors 2000 --regions 4 --limit 20
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

from schedule_bench import synthetic_problem

from sapper.plan.parallel import run_parallel
from sapper.plan.regions.country import join
from sapper.plan.regions.part import Planned
from sapper.plan.scheduling.cpsat import cpsat_schedule
from sapper.plan.scheduling.greedy import greedy_schedule
from sapper.plan.scheduling.schedule import check

HAZARDS_PER_TOWN = 1_000_000
TARGET_S = 600.0  # the target: a country planned in under 10 minutes on this machine


def plan_town(job: tuple[int, int, int, int, float, int]) -> tuple[Planned, float, float, float]:
    """Build, plan and check one town: (plan, seconds building, seconds in all, CPU seconds)."""
    town, teams, sectors, seed, limit, workers = job
    began, cpu = time.perf_counter(), time.process_time()
    problem = synthetic_problem(teams, sectors, seed)
    problem = dataclasses.replace(  # hazard ids of the country: each town's own thousands
        problem,
        sectors=[dataclasses.replace(s, hazard_id=s.hazard_id + town * HAZARDS_PER_TOWN) for s in problem.sectors],
        precedence=[(a + town * HAZARDS_PER_TOWN, b + town * HAZARDS_PER_TOWN) for a, b in problem.precedence],
    )
    built = time.perf_counter() - began
    greedy = greedy_schedule(problem)
    best = cpsat_schedule(problem, greedy, time_limit_s=limit, workers=workers, seed=seed)
    broken = check(problem, best)
    assert not broken, broken[:5]
    return Planned(problem, greedy, best), built, time.perf_counter() - began, time.process_time() - cpu


def shares(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if r < total % parts else 0) for r in range(parts)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teams", type=int, default=500)
    parser.add_argument("--sectors", type=int, default=50_000)
    parser.add_argument("--regions", type=int, default=10)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--limit", type=float, default=200.0, help="CP-SAT seconds for the whole country")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-peer", action="store_true", help="skip timing one region alone first")
    args = parser.parse_args()
    teams, sectors = shares(args.teams, args.regions), shares(args.sectors, args.regions)
    jobs = [
        (r, t, s, args.seed + r, args.limit * s / args.sectors, args.workers)
        for r, (t, s) in enumerate(zip(teams, sectors, strict=True))
    ]
    print(
        f"{args.teams} teams x {args.sectors:,} sectors in {args.regions} regions, {args.processes} processes, "
        f"CP-SAT {args.limit:.0f} s in all ({jobs[0][4]:.1f} s a region); {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    alone = None
    if not args.no_peer:
        began = time.perf_counter()
        plan_town(jobs[0])
        alone = time.perf_counter() - began
        print(f"peer: one region ({teams[0]} teams x {sectors[0]:,} sectors) alone in one process: {alone:.1f} s")
    began = time.perf_counter()
    done = run_parallel(plan_town, jobs, args.processes)
    planned = join([d[0] for d in done], time.perf_counter() - began, args.processes)
    broken = check(planned.problem, planned.schedule)
    wall = time.perf_counter() - began
    assert not broken, broken[:5]
    head = f"{'region':>6} {'teams':>6} {'sectors':>8} {'build s':>8} {'all s':>7} {'CPU s':>7}"
    print(f"\n{head} {'greedy':>12} {'plan':>12} solver")
    for r, (p, built, spent, cpu) in enumerate(done):
        print(
            f"{r + 1:>6} {len(p.problem.teams):>6} {len(p.problem.sectors):>8,} {built:8.1f} {spent:7.1f} {cpu:7.1f} "
            f"{p.greedy.objective:12,.0f} {p.schedule.objective:12,.0f} {p.schedule.solver}"
        )
    g, best = planned.greedy, planned.schedule
    gain = (g.objective - best.objective) / g.objective if g.objective else 0.0
    print(
        f"\njoined: {len(planned.problem.teams)} teams x {len(planned.problem.sectors):,} sectors, "
        f"{len(planned.problem.conflicts):,} pairs never worked at once, every rule checked: none broken"
    )
    print(f"objective {best.objective:,.0f} against greedy {g.objective:,.0f} ({gain:.1%} better)")
    print(f"makespan {best.makespan_days:,.1f} working days (greedy {g.makespan_days:,.1f})")
    print(
        f"wall time {wall:.1f} s for the country (target {TARGET_S:.0f} s: {'met' if wall < TARGET_S else 'missed'}); "
        f"sum of the regions' times {sum(d[2] for d in done):.1f} s; load average {os.getloadavg()[0]:.1f}"
    )
    cpu = sum(d[3] for d in done)
    print(f"regions CPU {cpu:.1f} s: {cpu / args.processes:.1f} s of wall time on {args.processes} free cores")
    if alone is not None:
        print(f"one region alone x {args.regions} regions, one after another: {alone * args.regions:.1f} s")


if __name__ == "__main__":
    main()
