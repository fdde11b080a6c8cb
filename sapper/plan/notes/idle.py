"""Idle team-days and why: what an officer asks first when a team sits in the yard.

Between the plan's first day and its last, a team's days without work fall in two kinds:
waits between its tasks (what held the next task: survey of the land, a road, another
team within the safety distance or a demolition's danger area, its own block's search)
and days after its last task (nothing left its methods allow, or the rest went to teams
that finish it sooner). Days are working days.

``ready_idle`` checks the plan against the rule an officer holds it to: no team sits a
whole day in the yard while a task it may do is ready (every task before it done, no
team within its safety distance or a demolition's danger area, nobody on it yet).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from sapper.i18n import _
from sapper.plan.problem import TICKS_PER_DAY, Problem
from sapper.plan.scheduling.schedule import Schedule, Slot

WORTH_SAYING = 0.5  # idle days below this are rounding, not a reason


@dataclass(frozen=True)
class Idle:
    team: int  # index in problem.teams
    days: float
    reason: str


def idle_days(problem: Problem, schedule: Schedule) -> list[Idle]:
    """Per team, its idle working days over the plan's span and the reasons, largest first."""
    span = max((s.end for s in schedule.slots.values()), default=0)
    runs = schedule.by_team()
    holds = _holders(problem)
    out = []
    for team in range(len(problem.teams)):
        run = runs.get(team, [])
        waits: Counter[str] = Counter()
        clock = 0
        for slot in run:
            if slot.start > clock:
                waits[_why_wait(problem, schedule, slot, holds)] += slot.start - clock
            clock = max(clock, slot.end)
        parts = [(n, why) for why, n in waits.items()]
        if span > clock:
            parts.append((span - clock, _why_after(problem, schedule, team, clock)))
        parts = sorted(((n / TICKS_PER_DAY, why) for n, why in parts), reverse=True)
        days = sum(n for n, _ in parts)
        if days >= WORTH_SAYING:
            said = [_("{why} ({days} d)", why=why, days=format(n, ",.0f")) for n, why in parts if n >= WORTH_SAYING]
            reason = "; ".join(said) or parts[0][1]
            out.append(Idle(team, days, reason))
    return sorted(out, key=lambda i: (-i.days, i.team))


def ready_idle(problem: Problem, schedule: Schedule) -> dict[int, int]:
    """Per team (index), the whole working days it is idle while a task it may do is ready and waiting."""
    slots = schedule.slots
    span = -(-max((s.end for s in slots.values()), default=0) // TICKS_PER_DAY)
    if not span:
        return {}
    ready = _ready_ticks(problem, schedule)
    day_start = np.arange(span) * TICKS_PER_DAY
    waiting: dict[int, np.ndarray] = {}  # task -> days it is ready, unblocked and not started
    for s, slot in slots.items():
        days = (day_start >= ready[s]) & (day_start + TICKS_PER_DAY <= slot.start)
        if days.any():
            waiting[s] = days
    for i, j in problem.conflicts:  # a neighbour at work holds the task back
        for a, b in ((i, j), (j, i)):
            if a in waiting and b in slots:
                waiting[a][slots[b].start // TICKS_PER_DAY : -(-slots[b].end // TICKS_PER_DAY)] = False
    out = {}
    for team, run in schedule.by_team().items():
        idle = np.ones(span, dtype=bool)
        for slot in run:
            idle[slot.start // TICKS_PER_DAY : -(-slot.end // TICKS_PER_DAY)] = False
        could = np.zeros(span, dtype=bool)
        for s, days in waiting.items():
            if problem.option(s, team) is not None:
                could |= days
        if (idle & could).any():
            out[team] = int((idle & could).sum())
    return out


def _ready_ticks(problem: Problem, schedule: Schedule) -> dict[int, int]:
    """Per scheduled task, the tick every task it waits for (its survey or search, its road in) is done."""
    slots = schedule.slots
    ready = dict.fromkeys(slots, 0)
    for a, b in problem.sequence:
        if a in slots and b in ready:
            ready[b] = max(ready[b], slots[a].end)
    ends: dict[int, int] = defaultdict(int)
    for s, slot in slots.items():
        ends[problem.sectors[s].hazard_id] = max(ends[problem.sectors[s].hazard_id], slot.end)
    road_end: dict[int, int] = defaultdict(int)
    for road, quarter in problem.precedence:
        road_end[quarter] = max(road_end[quarter], ends.get(road, 0))
    for s in slots:
        ready[s] = max(ready[s], road_end.get(problem.sectors[s].hazard_id, 0))
    return ready


def _holders(problem: Problem) -> dict[int, list[tuple[int, str]]]:
    """Per sector, the sectors that may hold its start, each with the words for why."""
    out: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for a, b in problem.sequence:
        task = problem.sectors[a].task
        out[b].append(
            (a, _("waits for survey of the land") if task == "survey" else _("waits for the search of its block"))
        )
    for i, j in problem.conflicts:
        why = (
            _("waits outside a demolition's danger area") if (i, j) in problem.danger else _("waits for a team nearby")
        )
        out[i].append((j, why))
        out[j].append((i, why))
    members: dict[int, list[int]] = defaultdict(list)
    for s in problem.sectors:
        members[s.hazard_id].append(s.index)
    for road, quarter in problem.precedence:
        for s in members[quarter]:
            out[s] += [(r, _("waits for the road in to be cleared")) for r in members[road]]
    return out


def _why_wait(problem: Problem, schedule: Schedule, slot: Slot, holds: dict[int, list[tuple[int, str]]]) -> str:
    for other, why in holds.get(slot.sector, ()):
        held = schedule.slots.get(other)
        if held is not None and held.end == slot.start:
            return why
    return _("waits: no task it may do is free")


def _why_after(problem: Problem, schedule: Schedule, team: int, since: int) -> str:
    later = [s for s, slot in schedule.slots.items() if slot.end > since and problem.option(s, team) is not None]
    if not later:
        return _("nothing left its methods allow") + _forbidden_after(problem, schedule, team, since)
    if len(later) == 1:
        return _("a task it could do went to a team that finishes it sooner")
    return _("{n} tasks it could do went to teams that finish them sooner", n=format(len(later), ","))


def _forbidden_after(problem: Problem, schedule: Schedule, team: int, since: int) -> str:
    """Where the rules keep the team's methods off the work still going on: the officer's lever."""
    methods = problem.teams[team].methods
    why: dict[tuple[str, str], set[int]] = defaultdict(set)
    for s, slot in schedule.slots.items():
        sector = problem.sectors[s]
        if slot.end > since:
            for m in methods:
                if sector.task == "clearance" and m not in sector.decision.allowed:
                    # the contamination or site that struck it out, else the terrain that does not list it
                    cause = sector.decision.forbidden.get(m, sector.land_use.value).split(":")[0]
                    why[m.value, cause].add(sector.hazard_id)
    if not why:
        return ""
    (method, cause), hazards = max(why.items(), key=lambda kv: (len(kv[1]), kv[0]))
    named = ", ".join(f"H{h}" for h in sorted(hazards)[:4]) + (_(" and more") if len(hazards) > 4 else "")
    return _("; the rules keep {method} off {hazards} ({cause})", method=method, hazards=named, cause=cause)
