"""From ticks to the calendar: which team is where on which day, from when to when.

The schedule counts working days from the plan's first day; a team's day starts when it
leaves base (productivity.toml), its first hours go to the drive out and setting out,
and the sector work of the day follows. Rest days (weekdays with no work) are skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from sapper.model.enums import Method
from sapper.plan.problem import TICKS_PER_DAY, Problem
from sapper.plan.scheduling.schedule import Schedule


@dataclass(frozen=True)
class Calendar:
    start: date
    rest_weekdays: tuple[int, ...] = ()  # Monday = 0 ... Sunday = 6

    def date_of(self, day: int) -> date:
        """The date of working day ``day`` (0 = the first)."""
        rest = set(self.rest_weekdays)
        if len(rest) >= 7:
            raise ValueError("every weekday is a rest day: nobody would ever work")
        current = self.start
        while current.weekday() in rest:
            current += timedelta(days=1)
        weeks, left = divmod(day, 7 - len(rest))
        current += timedelta(weeks=weeks)
        while left > 0:
            current += timedelta(days=1)
            if current.weekday() not in rest:
                left -= 1
        return current

    def day_end(self, elapsed: int) -> date:
        """The date at whose end ``elapsed`` working days are done (0: the eve of the first day)."""
        return self.date_of(elapsed - 1) if elapsed > 0 else self.date_of(0) - timedelta(days=1)

    def finish_date(self, days: float) -> date:
        """The date on which work lasting ``days`` working days from the start is done."""
        return self.date_of(max(0, math.ceil(days - 1e-9) - 1))


@dataclass(frozen=True)
class DayWork:
    team: int
    sector: int
    day: int
    on: date
    start_h: float  # clock hours
    end_h: float
    method: Method

    @property
    def hours(self) -> float:
        return self.end_h - self.start_h


def clock(hours: float) -> str:
    minutes = round(hours * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def day_work(problem: Problem, schedule: Schedule, calendar: Calendar) -> list[DayWork]:
    """Every team-day of the schedule, in date and team order, with clock times.

    A team's day: leave base at its start hour, drive out and set out (half the day's
    overhead for its first sector), then its sectors one after the other.
    """
    pieces: dict[tuple[int, int], list[tuple[int, int, int, float, float]]] = {}
    for s, slot in schedule.slots.items():
        opt = problem.option(s, slot.team)
        assert opt is not None
        team = problem.teams[slot.team]
        offset = max(0.0, team.day.hours - opt.day_h) / 2.0
        for day in range(slot.start // TICKS_PER_DAY, (slot.end - 1) // TICKS_PER_DAY + 1):
            a = max(slot.start, day * TICKS_PER_DAY) - day * TICKS_PER_DAY
            b = min(slot.end, (day + 1) * TICKS_PER_DAY) - day * TICKS_PER_DAY
            pieces.setdefault((day, slot.team), []).append((a, b, s, opt.day_h, offset))
    out = []
    for (day, team_index), parts in sorted(pieces.items()):
        team = problem.teams[team_index]
        on = calendar.date_of(day)
        clock_at = None
        for a, b, s, day_h, offset in sorted(parts):
            start = team.day.start_h + offset + a / TICKS_PER_DAY * day_h
            if clock_at is not None:
                start = max(start, clock_at)  # the next sector follows on, never overlaps
            end = start + (b - a) / TICKS_PER_DAY * day_h
            clock_at = end
            out.append(DayWork(team_index, s, day, on, start, end, schedule.slots[s].method))
    return out
