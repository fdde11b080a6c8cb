"""The optimised plan: OR-Tools CP-SAT, started from the best list plan, in rolling windows.

Model of one window (a set of sectors free to move; all others stay where they are):
- each free sector has one start and end and one optional interval per candidate team
  (the ``candidates`` fastest teams its rules allow, plus its current team); exactly one
  is chosen, so a team never works what its rules forbid;
- one NoOverlap per team, holding the fixed work of that team too;
- sectors never worked at the same time (closer than the safety distance, IMAS 10.20;
  inside a demolition's danger area, ``problem.find_danger_pairs``): a two-interval
  NoOverlap per pair of free sectors, and per free sector one NoOverlap with the
  fixed work it conflicts with, merged into disjoint spans (a danger area holds
  hundreds of sectors: one constraint, not hundreds);
- a road's hazard ends before the quarters it leads to begin;
- objective: minimise sum of sector weight (Problem.weight) x finishing tick (integers, scaled).

A small problem is one window: CP-SAT sees it whole and its bound is global. A large one
(50 teams x 2,000 sectors would spend most of a minute in presolve on two cores) is swept
in windows of ``window`` sectors taken in the current plan's time order, half a window at
a time, each solved for a share of the time limit: the rolling-horizon decomposition.
The first plan is the better of the greedy plan and the list schedule (Smith's rule,
earliest finish, backfilling), the latter searched around clusters of long sectors
(``clusters``: the work near them before or after, half of CP-SAT's time); each window
starts from the current plan (AddHint), and a window's plan is taken only if it is
better, so the result is never worse than greedy.
The global bound is the larger of CP-SAT's (whole problem only) and the relaxations of
``sapper.plan.scheduling.bounds`` (the LP gets at most ``BOUND_SHARE`` of the time),
``mean_busy`` (``MEAN_BUSY_SHARE``: Queyranne's inequalities on every maximal clique, with
roads first) and ``clique_cuts`` (``CLIQUE_SHARE``, on problems where it ends in time).

Same input, same plan: every budget is deterministic time (CP-SAT's and GLOP's own work
counters), never the wall clock, and CP-SAT interleaves its workers in a fixed order
(``interleave_search``) with a fixed seed, so a plan does not depend on the machine's
load. ``time_limit_s`` is turned into deterministic time at ``DETERMINISTIC_PER_SECOND``
(measured on two cores: bench/schedule_bench.py); ``sequence`` pairs (survey before
clearance, clearance before disposal) hold like the road precedence.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

from ortools.sat.python import cp_model

from sapper.plan.problem import TICKS_PER_DAY, Option, Problem, neighbours
from sapper.plan.scheduling.bounds import lower_bound, refined_bound
from sapper.plan.scheduling.clique_cuts import clique_bound, worth_solving
from sapper.plan.scheduling.clusters import cluster_search, evaluations_for
from sapper.plan.scheduling.mean_busy import mean_busy_bound
from sapper.plan.scheduling.schedule import Schedule, Slot, objective_of

WEIGHT_SCALE = 10_000  # the heaviest sector weighs this much in the integer objective
BOUND_SHARE = 0.15  # at most this share of the time goes to the bound's LP
MEAN_BUSY_SHARE = 0.25  # and this to the LP of mean busy times (0.4 for the two, as before: CP-SAT keeps its time)
CLIQUE_SHARE = 0.3  # and this share to the LP with maximal cliques (clique_cuts)
DETERMINISTIC_PER_SECOND = 0.25  # deterministic time per second of the limit: CP-SAT on these models, two cores
LP_PER_SECOND = 2.0  # GLOP deterministic time per second of the limit, for the bound LP (~0.5 s of wall time)
LEAST_WINDOW = 0.2  # deterministic time below which a window is not worth solving
SEARCH_SHARE = 0.75  # of the time CP-SAT would have, to list schedules around clusters of long sectors (clusters)


@dataclass
class Window:
    model: cp_model.CpModel
    start: dict[int, cp_model.IntVar]
    end: dict[int, cp_model.IntVar]
    picks: dict[int, list[tuple[cp_model.IntVar | None, Option]]]


def cpsat_schedule(
    problem: Problem,
    hint: Schedule,
    time_limit_s: float = 20.0,
    workers: int = 8,
    candidates: int = 8,
    window: int = 60,
    seed: int = 0,
    log: bool = False,
) -> Schedule:
    began = time.perf_counter()
    sectors = problem.workable
    if not sectors:
        return Schedule({}, "cp-sat", "nothing to plan", 0.0, 0.0)
    weights = {s: problem.weight(s) for s in sectors}
    scale = WEIGHT_SCALE / max(max(weights.values()), 1e-9)
    left = 1.0 - BOUND_SHARE - MEAN_BUSY_SHARE - (CLIQUE_SHARE if worth_solving(problem) else 0.0)
    searched = cluster_search(problem, evaluations_for(problem, SEARCH_SHARE * left * time_limit_s))
    first = min(hint, searched, key=lambda p: p.objective)
    current = dict(first.slots)
    horizon = max(s.end for s in current.values())
    busy = mean_busy_bound(problem, MEAN_BUSY_SHARE * time_limit_s * LP_PER_SECOND)
    fluid = BOUND_SHARE + (MEAN_BUSY_SHARE if busy == 0.0 else 0.0)  # too large or cut short: its time to the fluid LP
    relaxed = max(lower_bound(problem), busy, refined_bound(problem, horizon, fluid * time_limit_s * LP_PER_SECOND))
    cliques = CLIQUE_SHARE if worth_solving(problem) else 0.0
    if cliques:
        relaxed = max(relaxed, clique_bound(problem, horizon, time_limit_s=cliques * time_limit_s * LP_PER_SECOND))
    budget = (1.0 - SEARCH_SHARE) * left * time_limit_s * DETERMINISTIC_PER_SECOND
    near = neighbours(problem)
    if len(sectors) <= window:
        status, solver_bound, slots, _ = _solve(
            problem, set(sectors), current, scale, candidates, near, max(LEAST_WINDOW, budget), workers, seed, log, True
        )
        current.update(slots)
        bound = max(relaxed, solver_bound / scale / TICKS_PER_DAY if solver_bound is not None else 0.0)
        return _result(problem, current, first, status, bound, began, searched.notes)
    passes, improved, step, spent = 0, 0, max(1, window // 2), 0.0
    while budget - spent >= LEAST_WINDOW:
        passes += 1
        order = sorted(sectors, key=lambda s: (current[s].start, s))
        offset = 0 if passes % 2 else step // 2
        groups = [order[max(0, i) : i + window] for i in range(-offset, len(order) - step, step)] or [order]
        gained = 0
        for i, group in enumerate(groups):
            left = budget - spent
            if left < LEAST_WINDOW:
                break
            before = sum(weights[s] * current[s].end for s in group)
            share = max(LEAST_WINDOW, left / (len(groups) - i))
            _, _, slots, used = _solve(problem, set(group), current, scale, candidates, near, share, workers, seed, log)
            spent += max(used, LEAST_WINDOW / 10)  # a window solved at once still counts: the loop ends
            if slots and sum(weights[s] * slots[s].end for s in group) < before - 1e-9:
                current.update(slots)
                gained += 1
        improved += gained
        if not gained:
            break
    status = f"{passes} pass{'' if passes == 1 else 'es'} of windows, {improved} improved"
    schedule = _result(problem, current, first, status, relaxed, began, searched.notes)
    schedule.notes.append(f"CP-SAT in rolling windows of {window} sectors; bound from relaxations")
    return schedule


def _result(
    problem: Problem,
    slots: dict[int, Slot],
    first: Schedule,
    status: str,
    bound: float,
    began: float,
    notes: list[str],
) -> Schedule:
    """CP-SAT's plan if it improved on the first plan; else the first plan, said so."""
    objective = objective_of(problem, slots)
    seconds = time.perf_counter() - began
    if objective >= first.objective - 1e-9:
        note = f"CP-SAT found nothing better than the {first.solver} plan ({status})"
        return Schedule(
            dict(first.slots),
            first.solver,
            status,
            first.objective,
            min(bound, first.objective),
            seconds,
            [*notes, note],
        )
    return Schedule(slots, "cp-sat", status, objective, min(bound, objective), seconds, list(notes))


def _solve(
    problem: Problem,
    free: set[int],
    current: dict[int, Slot],
    scale: float,
    candidates: int,
    near: dict[int, list[int]],
    budget: float,
    workers: int,
    seed: int,
    log: bool,
    whole: bool = False,
) -> tuple[str, float | None, dict[int, Slot], float]:
    """Solve one window within ``budget`` deterministic time; also returns the time it used.

    Interleaved, CP-SAT checks the budget only between batches of tasks, and each task of a batch may
    spend what was left when the batch began: its default batch of three tasks per worker may spend 24
    times the budget (3 teams x 42 sectors of bench/schedule_bench.py's town, budget 0.2: 1.27
    deterministic s, 2-7 s of wall time on two busy cores). A problem solved ``whole`` runs its tasks
    one at a time, which bounds that to twice the budget (0.30, about 1 s): a short time limit is kept,
    and CP-SAT searches less past it. Windows keep the default: a large plan (Palmyra's, the bench's
    200 sectors) is the one it always was."""
    win = _build(problem, free, current, scale, candidates, near)
    solver = cp_model.CpSolver()
    solver.parameters.max_deterministic_time = float(budget)
    solver.parameters.num_workers = max(8, int(workers))  # DESIGN: >= 8 even on two cores
    solver.parameters.interleave_search = True  # workers take turns in a fixed order: the same search every run
    if whole:
        solver.parameters.interleave_batch_size = 1
    solver.parameters.random_seed = int(seed)
    solver.parameters.log_search_progress = log
    status = solver.solve(win.model)
    name = solver.status_name(status).lower()
    used = float(solver.deterministic_time)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return name, None, {}, used
    slots = {}
    for s in free:
        o = next(o for x, o in win.picks[s] if x is None or solver.boolean_value(x))
        slots[s] = Slot(s, o.team, o.method, solver.value(win.start[s]), solver.value(win.end[s]))
    return name, solver.best_objective_bound, slots, used


def _build(
    problem: Problem,
    free: set[int],
    current: dict[int, Slot],
    scale: float,
    candidates: int,
    near: dict[int, list[int]],
) -> Window:
    model = cp_model.CpModel()
    horizon = int(max(s.end for s in current.values()) * 1.5) + TICKS_PER_DAY
    first, last = 0, horizon
    if len(free) < len(current):  # a window: its sectors move within their time span and half as much around it
        lo, hi = min(current[s].start for s in free), max(current[s].end for s in free)
        first, last = max(0, lo - (hi - lo) // 2), hi + (hi - lo) // 2
    start, end, size, whole = {}, {}, {}, {}
    picks: dict[int, list[tuple[cp_model.IntVar | None, Option]]] = {}
    per_team: dict[int, list[cp_model.IntervalVar]] = defaultdict(list)
    for s in sorted(free):
        slot = current[s]
        opts = list(problem.options[s][:candidates])
        if all(o.team != slot.team for o in opts):
            opts.append(next(o for o in problem.options[s] if o.team == slot.team))
        lo, hi = min(o.ticks for o in opts), max(o.ticks for o in opts)
        start[s] = model.new_int_var(first, max(first, last - lo), f"start{s}")
        end[s] = model.new_int_var(first + lo, max(first + lo, last), f"end{s}")
        size[s] = model.new_int_var(lo, hi, f"size{s}")
        whole[s] = model.new_interval_var(start[s], size[s], end[s], f"sector{s}")
        model.add_hint(start[s], slot.start)
        model.add_hint(end[s], slot.end)
        model.add_hint(size[s], slot.end - slot.start)
        if len(opts) == 1:
            model.add(size[s] == opts[0].ticks)
            per_team[opts[0].team].append(whole[s])
            picks[s] = [(None, opts[0])]
            continue
        picks[s] = []
        for o in opts:
            x = model.new_bool_var(f"x{s}_{o.team}")
            per_team[o.team].append(model.new_optional_fixed_size_interval_var(start[s], o.ticks, x, f"i{s}_{o.team}"))
            model.add(size[s] == o.ticks).only_enforce_if(x)
            model.add_hint(x, o.team == slot.team)
            picks[s].append((x, o))
        model.add_exactly_one(x for x, _ in picks[s])

    zones: dict[tuple[int, int], cp_model.IntervalVar] = {}

    def fixed(a: int, b: int) -> cp_model.IntervalVar:
        if (a, b) not in zones:
            zones[a, b] = model.new_fixed_size_interval_var(a, b - a, f"fixed{a}_{b}")
        return zones[a, b]

    def reach(s: int) -> bool:  # fixed work the window's sectors could reach
        return current[s].end > first and current[s].start < last

    for s, slot in current.items():
        if s not in free and slot.team in per_team and reach(s):
            per_team[slot.team].append(fixed(slot.start, slot.end))
    for intervals in per_team.values():
        if len(intervals) > 1:
            model.add_no_overlap(intervals)
    for s in sorted(free):
        # fixed work in conflict (safety distance, danger area) as disjoint blocked spans: one NoOverlap
        spans = _merge([(current[n].start, current[n].end) for n in near.get(s, ()) if n not in free and reach(n)])
        if spans:
            model.add_no_overlap([whole[s], *(fixed(a, b) for a, b in spans)])
        for n in near.get(s, ()):
            if n in free and n > s:
                model.add_no_overlap([whole[s], whole[n]])
    _precedence(model, problem, free, current, start, end, horizon)
    for a, b in problem.sequence:  # survey before clearance, clearance before disposal
        if a in free or b in free:
            model.add((end[a] if a in free else current[a].end) <= (start[b] if b in free else current[b].start))
    model.minimize(sum(max(1, round(problem.weight(s) * scale)) * end[s] for s in free))
    return Window(model, start, end, picks)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of time spans as disjoint spans, in order."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _precedence(model, problem: Problem, free: set[int], current: dict[int, Slot], start, end, horizon) -> None:
    """Every sector of a hazard starts after the road that leads to it is finished."""
    members: dict[int, list[int]] = defaultdict(list)
    for s in current:
        members[problem.sectors[s].hazard_id].append(s)
    road_end: dict[int, cp_model.IntVar] = {}
    for first, then in problem.precedence:
        road, quarter = members[first], members[then]
        if not any(s in free for s in road + quarter):
            continue
        if first not in road_end:
            road_end[first] = model.new_int_var(0, horizon, f"road{first}")
            model.add_hint(road_end[first], max(current[s].end for s in road))
            for s in road:
                model.add((end[s] if s in free else current[s].end) <= road_end[first])
        for s in quarter:
            model.add((start[s] if s in free else current[s].start) >= road_end[first])
