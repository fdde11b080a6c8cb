"""Plan records: what `sapper plan` writes back into the register. Plain dataclasses, no I/O.

A plan has a number (1, 2, 3 ... in the order plans were made: the plan's version),
its parameters and its headline figures; its sectors and lanes are map layers (so a GIS
shows them), its team-days and hazard priorities are tables. Every row names its plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from shapely.geometry.base import BaseGeometry

from sapper.model.enums import ActivityType, Method
from sapper.model.records import Record


def first_plan_day(worked_on: Iterable[date | None]) -> date:
    """The day after the latest report or release (today if none): re-planning starts from the
    work done, whoever asks for the plan (the CLI, the API or the web UI)."""
    days = [d for d in worked_on if d is not None]
    return max(days) + timedelta(days=1) if days else date.today()


@dataclass(kw_only=True)
class Plan(Record):
    number: int = 0  # the plan's version in this register: 1, 2, 3 ...
    made_at: datetime | None = None
    made_by: str = ""
    start_on: date | None = None
    parameters: str = ""  # JSON of the settings the plan was made with
    solver: str = ""  # cp-sat or greedy
    status: str = ""
    objective: float = 0.0  # priority-weighted hectare-days (lower is better)
    bound: float | None = None  # no plan can go below this
    gap: float | None = None
    greedy_objective: float = 0.0
    makespan_days: float = 0.0
    finish_p50: date | None = None
    finish_p80: date | None = None
    finish_p90: date | None = None
    finish_p95: date | None = None
    hazards: int = 0
    sectors: int = 0
    unworkable: int = 0  # sectors no team may work
    area_m2: float = 0.0
    notes: str = ""


@dataclass(kw_only=True)
class PlanSector(Record):
    plan_id: int
    hazard_id: int
    label: str
    geometry: BaseGeometry | None = None
    area_m2: float = 0.0  # still to work
    priority_score: float = 0.0
    priority_rank: int = 0
    allowed_methods: tuple[Method, ...] = ()
    method: Method | None = None  # the method of the team assigned
    disposal: Method | None = None
    activity: ActivityType | None = None
    team_id: int | None = None
    start_on: date | None = None
    end_on: date | None = None
    finish_p50: date | None = None
    finish_p80: date | None = None
    finish_p95: date | None = None
    expected_items: float = 0.0
    safety_m: float = 0.0
    danger_m: float = 0.0
    why: str = ""  # the method rules that applied, or why no team may work it


@dataclass(kw_only=True)
class PlanLane(Record):
    """The lanes of one sector in driving order (a MultiLineString), for the team assigned."""

    plan_id: int
    sector_id: int  # the plan sector record
    team_id: int | None = None
    geometry: BaseGeometry | None = None
    lanes: int = 0
    turns: int = 0
    length_m: float = 0.0
    lane_width_m: float = 0.0
    estimated_hours: float = 0.0


@dataclass(kw_only=True)
class PlanAssignment(Record):
    """One team on one sector on one day."""

    plan_id: int
    team_id: int
    sector_id: int
    hazard_id: int
    day: date
    day_index: int = 0
    start: str = ""  # HH:MM
    end: str = ""
    hours: float = 0.0
    method: Method | None = None


@dataclass(kw_only=True)
class PlanPriority(Record):
    """A hazard's priority in a plan, with its breakdown and forecast finish."""

    plan_id: int
    hazard_id: int
    rank: int
    score: float
    stake: float = 0.0
    danger: float = 0.0
    blockage: float = 0.0
    officer: float = 0.0
    explanation: str = ""
    sectors: int = 0
    area_m2: float = 0.0
    finish_p50: date | None = None
    finish_p80: date | None = None
    finish_p95: date | None = None


@dataclass(kw_only=True)
class PlanDay(Record):
    """The work and area a plan still has to do at the end of one working day: the burn-down.

    Kept with the plan so that whoever reads it later (the web UI, a report) shows the very
    forecast the plan was made with: the plan's line and the 10/50/90 % of its Monte Carlo runs.
    """

    plan_id: int
    day: date  # the date at whose end this holds (the first row: the eve of the plan)
    working_day: int  # working days elapsed
    planned_team_days: float = 0.0
    team_days_p10: float = 0.0
    team_days_p50: float = 0.0
    team_days_p90: float = 0.0
    planned_m2: float = 0.0
    m2_p10: float = 0.0
    m2_p50: float = 0.0
    m2_p90: float = 0.0


PLAN_RECORDS: tuple[type[Record], ...] = (Plan, PlanSector, PlanLane, PlanAssignment, PlanPriority, PlanDay)


@dataclass
class PlanBundle:
    """A plan and its rows before they are stored: links by position, not yet by id.

    ``lanes`` and ``assignments`` name their sector by its position in ``sectors``; the
    register fills in plan_id and sector_id when it writes them.
    """

    plan: Plan
    sectors: list[PlanSector]
    lanes: list[tuple[int, PlanLane]]
    assignments: list[tuple[int, PlanAssignment]]
    priorities: list[PlanPriority]
    days: list[PlanDay] = field(default_factory=list)
