"""Benchmark: 10,000 Monte Carlo forecast runs over a 50-team x 2,000-sector plan.

The plan is the synthetic town of ``schedule_bench.py`` (seeded) scheduled by the list
schedule that seeds the optimiser. The forecast (numpy, vectorised over runs) is timed
for 10,000 runs; its peer is the plain way of writing it, one run at a time in Python
(same draws, same replay), timed on fewer runs and compared per run. Both answers are
printed side by side: their P50/P95 must agree.

    python bench/forecast_bench.py                  # 10,000 runs, peer on 100
    python bench/forecast_bench.py --runs 2000 --peer-runs 50 --teams 10 --sectors 300
    python bench/forecast_bench.py --palmyra        # 10,000 runs of the Palmyra plan (learned rates), best of 6
    python bench/forecast_bench.py --palmyra --no-day-pace   # the same without the day pace shared by all teams
    python bench/forecast_bench.py --backtest       # the whole Palmyra history: sapper backtest's work

With --palmyra the Palmyra scenario is built into a temporary GeoPackage and planned as
``sapper plan`` does (learned rates; its quick list schedule stands in for CP-SAT, the
forecast replays whichever plan it is given); the forecast of that plan is timed alone.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from schedule_bench import synthetic_problem

from sapper.plan.forecasting.forecast import forecast, sample_days
from sapper.plan.forecasting.precedence import predecessors
from sapper.plan.rules.productivity import load_productivity
from sapper.plan.scheduling.greedy import wspt_schedule


def one_run_at_a_time(problem, schedule, prod, runs: int, seed: int) -> np.ndarray:
    """The peer: for each run, walk the sectors in plan order with Python scalars."""
    order = sorted(schedule.slots, key=lambda s: (schedule.slots[s].start, schedule.slots[s].end, s))
    preds = predecessors(problem, schedule, order)
    days = sample_days(problem, schedule, prod, runs, seed)
    finish = np.empty(runs)
    for r in range(runs):
        end: dict[int, float] = {}
        for s in order:
            start = max((end[p] for p in preds.get(s, ())), default=0.0)
            end[s] = start + float(days[s][r])
        finish[r] = max(end.values())
    return finish


def palmyra_inputs(folder: str):
    """The Palmyra scenario's register, as the planner reads it."""
    from sapper import init_register
    from sapper.cli.plan import read_inputs
    from sapper.scenarios.palmyra.build import build

    with init_register(Path(folder) / "palmyra.gpkg", user="bench") as reg:
        build(reg)
        return read_inputs(reg)


def palmyra(runs: int, seed: int, day_pace: bool = True, repeat: int = 6) -> None:
    """Time the forecast of the Palmyra plan: wall and CPU seconds (the machine may be shared), best of ``repeat``."""
    import dataclasses
    import os

    from sapper.model.plan import first_plan_day
    from sapper.plan.build import Settings, make_plan

    with tempfile.TemporaryDirectory() as folder:
        inputs = palmyra_inputs(folder)
    settings = Settings(start=first_plan_day(inputs.worked_on), runs=100, lanes=False, optimise=False, seed=seed)
    result = make_plan(inputs, settings)
    problem, schedule, learned = result.problem, result.schedule, result.learned
    if not day_pace:
        learned = dataclasses.replace(learned, day_pace=None)
    prod = learned.productivity
    print(
        f"Palmyra plan: {len(problem.teams)} teams x {len(schedule.slots):,} planned sectors and tasks"
        f"{'' if day_pace else ' (no day pace)'}"
    )
    forecast(problem, schedule, prod, runs=runs, seed=seed, learned=learned)  # warm up
    walls, cpus = [], []
    for _ in range(repeat):
        began, cpu = time.perf_counter(), time.process_time()
        fc = forecast(problem, schedule, prod, runs=runs, seed=seed, learned=learned)
        walls.append(time.perf_counter() - began)
        cpus.append(time.process_time() - cpu)
    print(
        f"{runs:,} runs: best of {repeat} {min(walls):.2f} s wall (all: {', '.join(f'{t:.2f}' for t in walls)}), "
        f"{min(cpus):.2f} s CPU (all: {', '.join(f'{t:.2f}' for t in cpus)}); load average {os.getloadavg()[0]:.1f}; "
        f"P50 {fc.finish[50]:,.0f}, P95 {fc.finish[95]:,.0f} working days"
    )


def backtest_palmyra(runs: int, seed: int) -> None:
    from sapper.plan.build import Settings
    from sapper.plan.forecasting.backtest import backtest, history_days

    with tempfile.TemporaryDirectory() as folder:
        inputs = palmyra_inputs(folder)
    days = history_days(inputs)
    began = time.perf_counter()
    settings = Settings(
        start=days[0], runs=runs, seed=seed, lanes=False, optimise=False, accept_recorded_practice=True
    )  # as sapper backtest: the recorded practice replayed
    result = backtest(inputs, settings)
    took = time.perf_counter() - began
    three = result.score(3)
    print(
        f"backtest of {len(result.days)} days ({days[0]} to {days[-1]}), {runs:,} runs a day: {took:.0f} s; "
        f"{result.coverage:.0%} of (day, horizon) pairs inside P10-P90, "
        f"P50 error at 3 days {three.p50_error if three else float('nan'):.1%} "
        f"({three.done_error if three else float('nan'):.0%} on the work done)"
    )
    for s in result.scores:
        print(
            f"  {s.horizon} days ahead: {s.pairs} forecasts, {s.coverage:.0%} inside, P50 error {s.p50_error:.1%}, "
            f"on the work done {s.done_error:.0%}, work P90/P10 {s.width:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--sectors", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--peer-runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--palmyra", action="store_true", help="time the forecast of the Palmyra plan")
    parser.add_argument("--backtest", action="store_true", help="time the backtest of the Palmyra history")
    parser.add_argument("--no-day-pace", action="store_true", help="with --palmyra: leave out the shared day pace")
    parser.add_argument("--repeat", type=int, default=6, help="with --palmyra: timed forecasts, the best is printed")
    args = parser.parse_args()
    if args.palmyra:
        palmyra(args.runs, args.seed, day_pace=not args.no_day_pace, repeat=args.repeat)
        return
    if args.backtest:
        backtest_palmyra(500, args.seed)
        return

    problem = synthetic_problem(args.teams, args.sectors, args.seed)
    schedule = wspt_schedule(problem)
    prod = load_productivity()
    items = sum(sum(s.items.values()) for s in problem.sectors)
    print(
        f"plan: {len(problem.teams)} teams x {len(problem.sectors)} sectors, {len(problem.conflicts)} safety pairs, "
        f"{items:,.0f} items expected, planned makespan {schedule.makespan_days:,.1f} working days"
    )
    began = time.perf_counter()
    fc = forecast(problem, schedule, prod, runs=args.runs, seed=args.seed)
    ours = time.perf_counter() - began
    began = time.perf_counter()
    peer = one_run_at_a_time(problem, schedule, prod, args.peer_runs, args.seed)
    theirs = time.perf_counter() - began
    print(f"{'forecast':<24} {'runs':>7} {'wall s':>8} {'ms/run':>8} {'P50 d':>8} {'P95 d':>8}")
    print(
        f"{'vectorised (sapper)':<24} {args.runs:7,} {ours:8.2f} {1000 * ours / args.runs:8.3f} "
        f"{fc.finish[50]:8.1f} {fc.finish[95]:8.1f}"
    )
    p50, p95 = np.percentile(peer, [50, 95])
    print(
        f"{'one run at a time':<24} {args.peer_runs:7,} {theirs:8.2f} {1000 * theirs / args.peer_runs:8.3f} "
        f"{p50:8.1f} {p95:8.1f}"
    )
    print(
        f"per run the vectorised forecast is {theirs / args.peer_runs / (ours / args.runs):.0f}x faster; "
        f"{args.runs:,} runs took {ours:.1f} s (including the burn-down and per-hazard percentiles)"
    )


if __name__ == "__main__":
    main()
