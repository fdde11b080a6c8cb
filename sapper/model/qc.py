"""Quality management records (IMAS 09.20): post-clearance inspection plans, their samples,
and quality assurance visits. Plain dataclasses, no I/O.

A QC plan inspects one lot of cleared land (the cleared releases of one hazard, or of one team
on it) by a random sample of grid cells; the seed it was drawn with is kept, so the same draw
can be made again. One failed sample fails the lot (zero-acceptance sampling) and reopens it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shapely.geometry.base import BaseGeometry

from sapper.model.enums import Vocabulary
from sapper.model.records import Record


class QcResult(Vocabulary):
    """The state of a sample, and of a plan: pending until inspected, then passed or failed."""

    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


class QaResult(Vocabulary):
    """What a quality assurance visit concluded about the work it saw (IMAS 07.12 accreditation/monitoring)."""

    SATISFACTORY = "satisfactory"
    CORRECTIVE_ACTION = "corrective_action"
    STOP_WORK = "stop_work"


@dataclass(kw_only=True)
class QcPlan(Record):
    """A post-clearance inspection plan for one lot of cleared land."""

    hazard_id: int
    team_id: int | None = None  # the lot holds only this team's cleared releases; None: all of them
    made_on: date | None = None
    made_by: str = ""
    confidence: float = 0.95  # chance of finding a defect if the lot's defect rate is at the limit
    defect_rate: float = 0.05  # the limit: the fraction of defective cells a lot may not reach
    cell_m: float = 10.0  # side of the square sample units, in metres
    lot_cells: int = 0  # sample units in the lot (N)
    lot_m2: float = 0.0
    sample_size: int = 0  # sample units to inspect (n)
    seed: int = 0  # the random draw is made again from this
    release_ids: str = ""  # the cleared releases of the lot, comma-separated
    status: QcResult = QcResult.PENDING
    reopened_m2: float = 0.0  # land put back into the hazard when the lot failed
    reason: str = ""  # why the lot failed
    notes: str = ""


@dataclass(kw_only=True)
class QcSample(Record):
    """One sample unit to inspect, and what its inspection found."""

    plan_id: int
    hazard_id: int
    label: str
    geometry: BaseGeometry | None = None
    area_m2: float = 0.0
    result: QcResult = QcResult.PENDING
    inspected_on: date | None = None
    inspector: str = ""
    items_found: int = 0
    notes: str = ""


@dataclass(kw_only=True)
class QaVisit(Record):
    """A quality assurance visit to a site or team at work."""

    visited_on: date
    hazard_id: int | None = None
    team_id: int | None = None
    visitor: str = ""
    result: QaResult = QaResult.SATISFACTORY
    findings: str = ""


QC_RECORDS: tuple[type[Record], ...] = (QcPlan, QcSample, QaVisit)
