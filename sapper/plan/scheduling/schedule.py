"""A schedule (who works which sector, from when to when) and the rules every schedule keeps.

The objective is the one both the greedy and the CP-SAT plans are judged by: the sum over
sectors of their weight (hectares, doubled for every ``doubling_points`` of priority
score, see ``Problem.weight``) x the day the sector is finished, so releasing
high-priority land early lowers it. ``check`` lists every broken rule; a plan with
none is what the officer may hand out.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from sapper.model.enums import Method
from sapper.plan.problem import TICKS_PER_DAY, Problem, needs_demolition


@dataclass(frozen=True)
class Slot:
    sector: int
    team: int
    method: Method
    start: int  # ticks from the start of the plan
    end: int


@dataclass
class Schedule:
    slots: dict[int, Slot]  # by sector
    solver: str  # "greedy" or "cp-sat"
    status: str
    objective: float  # priority-weighted hectare-days (lower is better)
    bound: float | None = None  # the solver's proof that no plan goes below this
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def gap(self) -> float | None:
        if self.bound is None or self.objective <= 0:
            return None
        return max(0.0, (self.objective - self.bound) / self.objective)

    @property
    def makespan_days(self) -> float:
        return max((s.end for s in self.slots.values()), default=0) / TICKS_PER_DAY

    def by_team(self) -> dict[int, list[Slot]]:
        out: dict[int, list[Slot]] = defaultdict(list)
        for slot in sorted(self.slots.values(), key=lambda s: (s.start, s.sector)):
            out[slot.team].append(slot)
        return dict(out)


def objective_of(problem: Problem, slots: dict[int, Slot]) -> float:
    return sum(problem.weight(s) * slot.end / TICKS_PER_DAY for s, slot in slots.items())


def hazard_ends(slots: dict[int, Slot], problem: Problem) -> dict[int, int]:
    ends: dict[int, int] = {}
    for s, slot in slots.items():
        h = problem.sectors[s].hazard_id
        ends[h] = max(ends.get(h, 0), slot.end)
    return ends


def check(problem: Problem, schedule: Schedule) -> list[str]:
    """Every rule the schedule breaks, in words; empty when it is sound."""
    out: list[str] = []
    slots = schedule.slots
    for s in problem.workable:
        if s not in slots:
            out.append(f"sector {problem.sectors[s].label} is not scheduled")
    for s, slot in slots.items():
        sector = problem.sectors[s]
        option = problem.option(s, slot.team)
        team = problem.teams[slot.team].name
        if slot.method not in sector.decision.allowed:
            out.append(f"{team} works {sector.label} by {slot.method.value}, which its rules forbid")
        if option is None:
            out.append(f"{team} cannot work {sector.label}")
        elif slot.method != option.method or slot.end - slot.start != option.ticks:
            out.append(f"{team} on {sector.label}: {slot.end - slot.start} ticks by {slot.method.value}")
        if slot.start < 0:
            out.append(f"{sector.label} starts before the plan")
    for team, run in schedule.by_team().items():
        for a, b in itertools.pairwise(run):
            if b.start < a.end:
                out.append(f"{problem.teams[team].name} works {_label(problem, a)} and {_label(problem, b)} at once")
    for i, j in problem.conflicts:
        a, b = slots.get(i), slots.get(j)
        if a and b and a.start < b.end and b.start < a.end:
            out.append(f"{_label(problem, a)} and {_label(problem, b)} are worked at once {_why(problem, i, j)}")
    for i, j in problem.sequence:
        a, b = slots.get(i), slots.get(j)
        if a and b and b.start < a.end:
            out.append(f"{_label(problem, b)} starts before {_label(problem, a)} is finished")
    ends = hazard_ends(slots, problem)
    starts: dict[int, int] = {}
    for s, slot in slots.items():
        h = problem.sectors[s].hazard_id
        starts[h] = min(starts.get(h, slot.start), slot.start)
    for first, after in problem.precedence:
        if after in starts and starts[after] < ends.get(first, 0):
            out.append(f"hazard {after} starts before hazard {first}, its way in, is finished")
    return out


def _why(problem: Problem, i: int, j: int) -> str:
    if (i, j) not in problem.danger:
        return "within the safety distance"
    a, b = problem.sectors[i], problem.sectors[j]
    blast, other = (a, b) if needs_demolition(a) and (not needs_demolition(b) or a.danger_m >= b.danger_m) else (b, a)
    gap = float(blast.geometry.distance(other.geometry))
    return f"({other.label} is {gap:.0f} m from {blast.label}, in its {blast.danger_m:.0f} m demolition danger area)"


def _label(problem: Problem, slot: Slot) -> str:
    return problem.sectors[slot.sector].label
