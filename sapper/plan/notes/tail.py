"""The tail of a plan in an officer's words: who is still working when most teams are done, and why.

The tail starts on the last day when at least a quarter of the teams (and at least two)
are at work; if it lasts a while, each team still working then is named with what it
does and where ("EOD team 2 empties the ammunition depot"), and the demolition danger
area that keeps the others away, if one does.
"""

from __future__ import annotations

import math
from collections import defaultdict

from sapper.i18n import N_, _
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


# What a team does on a hazard, as a whole sentence each so a translator can order its words.
DOING = {
    "survey": N_("{team} surveys {hazard} ({days} d)"),
    "depot": N_("{team} empties the ammunition depot of {hazard} ({days} d)"),
    "eod": N_("{team} disposes of the items found in {hazard} ({days} d)"),
    "clearance": N_("{team} searches {hazard} ({days} d)"),
}


def doing(problem: Problem, sector: int) -> str:
    """The key of DOING for a sector's task."""
    s = problem.sectors[sector]
    if s.task == "eod" and s.label.endswith("-depot"):
        return "depot"
    return s.task if s.task in DOING else "clearance"


def tail_words(problem: Problem, schedule: Schedule, calendar: Calendar, names: dict[int, str]) -> list[str]:
    """Lines for the plan's output: the tail and what fills it; empty if there is none."""
    start = tail_start(problem, schedule)
    if start is None:
        return []
    span = math.ceil(schedule.makespan_days)
    weeks = (span - start) / 6.0
    day = calendar.date_of(start)
    if weeks >= 1.5:
        head = _("the last {n} weeks (from {day}), few teams are still at work:", n=format(weeks, ".0f"), day=day)
    else:
        head = _("the last {n} working days (from {day}), few teams are still at work:", n=span - start, day=day)
    lines = [head]
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
        hazard_name = names.get(hazard) or _("hazard {id}", id=hazard)
        line = _(DOING[verb], team=problem.teams[team].name, hazard=hazard_name, days=format(days, ",.0f"))
        if (team, hazard) in danger:
            meters = format(danger[team, hazard], ",.0f")
            line += _("; no other team may work within its {m} m danger area meanwhile", m=meters)
        lines.append(f"  {line}")
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
