"""The tail of a plan in an officer's words: who is still working when most teams are done, and why.

The tail starts on the last day when at least a quarter of the teams (and at least two)
are at work; if it lasts a while, each team still working then is named with what it
does and where ("EOD team 2 empties the ammunition depot"), and the demolition danger
area that keeps the others away, if one does.
"""

from __future__ import annotations

import math
from collections import defaultdict

from sapper.plan.problem import TICKS_PER_DAY, Problem, needs_demolition
from sapper.plan.scheduling.schedule import Schedule
from sapper.plan.scheduling.timeline import Calendar

WORTH_TELLING = 0.05  # a tail shorter than this share of the plan is not worth a word


def tail_start(problem: Problem, schedule: Schedule) -> int | None:
    """The working day the tail starts, or None if the teams finish together."""
    span = math.ceil(max((s.end for s in schedule.slots.values()), default=0) / TICKS_PER_DAY)
    if span == 0:
        return None
    busy: dict[int, set[int]] = defaultdict(set)
    for slot in schedule.slots.values():
        for day in range(slot.start // TICKS_PER_DAY, (slot.end - 1) // TICKS_PER_DAY + 1):
            busy[day].add(slot.team)
    crowd = max(2, math.ceil(len(problem.teams) / 4))
    full = [d for d in range(span) if len(busy[d]) >= crowd]
    start = full[-1] + 1 if full else 0
    return start if span - start >= max(1, WORTH_TELLING * span) else None


def doing(problem: Problem, sector: int) -> str:
    s = problem.sectors[sector]
    if s.task == "survey":
        return "surveys"
    if s.task == "eod":
        return "empties the ammunition depot of" if s.label.endswith("-depot") else "disposes of the items found in"
    return "searches"


def tail_words(problem: Problem, schedule: Schedule, calendar: Calendar, names: dict[int, str]) -> list[str]:
    """Lines for the plan's output: the tail and what fills it; empty if there is none."""
    start = tail_start(problem, schedule)
    if start is None:
        return []
    span = math.ceil(schedule.makespan_days)
    weeks = (span - start) / 6.0
    length = f"{weeks:.0f} weeks" if weeks >= 1.5 else f"{span - start} working days"
    lines = [f"the last {length} (from {calendar.date_of(start)}), few teams are still at work:"]
    work: dict[tuple[int, int, str], float] = defaultdict(float)
    danger: dict[tuple[int, int], float] = {}
    for s, slot in schedule.slots.items():
        if slot.end > start * TICKS_PER_DAY:
            sector = problem.sectors[s]
            key = (slot.team, sector.hazard_id, doing(problem, s))
            work[key] += (slot.end - max(slot.start, start * TICKS_PER_DAY)) / TICKS_PER_DAY
            if (slot.team, sector.hazard_id) not in danger and needs_demolition(sector):
                danger[slot.team, sector.hazard_id] = sector.danger_m
    for (team, hazard, verb), days in sorted(work.items(), key=lambda kv: -kv[1])[:4]:
        line = f"  {problem.teams[team].name} {verb} {names.get(hazard, f'hazard {hazard}')} ({days:,.0f} d)"
        if (team, hazard) in danger:
            line += f"; no other team may work within its {danger[team, hazard]:,.0f} m danger area meanwhile"
        lines.append(line)
    return lines


def longest_alone(problem: Problem, schedule: Schedule) -> tuple[int | None, int]:
    """The longest run of working days on which one team alone is at work (its index, days)."""
    busy: dict[int, set[int]] = defaultdict(set)
    for slot in schedule.slots.values():
        for day in range(slot.start // TICKS_PER_DAY, (slot.end - 1) // TICKS_PER_DAY + 1):
            busy[day].add(slot.team)
    best: tuple[int | None, int] = (None, 0)
    run_team, run = None, 0
    for day in range(math.ceil(schedule.makespan_days)):
        alone = next(iter(busy[day])) if len(busy[day]) == 1 else None
        run, run_team = (run + 1, alone) if alone is not None and alone == run_team else (int(alone is not None), alone)
        if run > best[1]:
            best = (run_team, run)
    return best
