"""Idle team-days and why: what an officer asks first when a team sits in the yard.

Between the plan's first day and its last, a team's days without work fall in two kinds:
waits between its tasks (what held the next task: survey of the land, a road, another
team within the safety distance or a demolition's danger area, its own block's search)
and days after its last task (nothing left its methods allow, or the rest went to teams
that finish it sooner). Days are working days.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from sapper.plan.problem import TICKS_PER_DAY, Problem
from sapper.plan.schedule import Schedule, Slot

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
            reason = "; ".join(f"{why} ({n:,.0f} d)" for n, why in parts if n >= WORTH_SAYING) or parts[0][1]
            out.append(Idle(team, days, reason))
    return sorted(out, key=lambda i: (-i.days, i.team))


def _holders(problem: Problem) -> dict[int, list[tuple[int, str]]]:
    """Per sector, the sectors that may hold its start, each with the words for why."""
    out: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for a, b in problem.sequence:
        task = problem.sectors[a].task
        out[b].append((a, "waits for survey of the land" if task == "survey" else "waits for the search of its block"))
    for i, j in problem.conflicts:
        why = "waits outside a demolition's danger area" if (i, j) in problem.danger else "waits for a team nearby"
        out[i].append((j, why))
        out[j].append((i, why))
    members: dict[int, list[int]] = defaultdict(list)
    for s in problem.sectors:
        members[s.hazard_id].append(s.index)
    for road, quarter in problem.precedence:
        for s in members[quarter]:
            out[s] += [(r, "waits for the road in to be cleared") for r in members[road]]
    return out


def _why_wait(problem: Problem, schedule: Schedule, slot: Slot, holds: dict[int, list[tuple[int, str]]]) -> str:
    for other, why in holds.get(slot.sector, ()):
        held = schedule.slots.get(other)
        if held is not None and held.end == slot.start:
            return why
    return "waits: no task it may do is free"


def _why_after(problem: Problem, schedule: Schedule, team: int, since: int) -> str:
    later = [s for s, slot in schedule.slots.items() if slot.end > since and problem.option(s, team) is not None]
    if not later:
        return "nothing left its methods allow"
    return f"{len(later):,} tasks it could do went to teams that finish them sooner"
