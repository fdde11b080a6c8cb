"""The records of the register: plain dataclasses, no I/O.

Geometries are shapely objects in WGS 84 lon/lat (EPSG:4326). Every record has an
``id`` given by the register and a ``version`` bumped on each update, so a writer
that read an old version can be refused instead of overwriting (lost updates).
``source_key`` identifies a record imported from another system, so importing the
same file twice updates instead of duplicating. ``organisation`` owns the record;
a ``restricted`` record is shown only to that organisation's users.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shapely.geometry.base import BaseGeometry

from sapper.model.enums import (
    ActivityStatus,
    ActivityType,
    Contamination,
    HazardClass,
    HazardStatus,
    ItemCategory,
    ItemState,
    LandUse,
    Method,
    ReleaseRoute,
    SiteKind,
    TeamKind,
)


@dataclass(kw_only=True)
class Record:
    id: int | None = None
    version: int = 0
    source_key: str | None = None
    organisation: str = ""
    restricted: bool = False  # visible only to users of ``organisation``


@dataclass(kw_only=True)
class Hazard(Record):
    """A suspected or confirmed hazardous area; ``geometry`` is what is still hazardous."""

    name: str
    geometry: BaseGeometry | None = None
    hazard_class: HazardClass = HazardClass.SHA
    status: HazardStatus = HazardStatus.SUSPECTED
    contamination: Contamination = Contamination.UNKNOWN
    evidence: str = ""
    land_use: LandUse = LandUse.OTHER
    priority: int = 3
    blocks_access: bool = False
    estimated_items: int = 0
    clearance_depth_cm: int | None = None
    original_area_m2: float = 0.0
    reported_on: date | None = None
    notes: str = ""


@dataclass(kw_only=True)
class Item(Record):
    """One explosive ordnance item found (GICHD minimum data: position, model, condition, depth)."""

    category: ItemCategory
    geometry: BaseGeometry | None = None
    state: ItemState = ItemState.FOUND
    hazard_id: int | None = None
    team_id: int | None = None
    model: str = ""
    condition: str = ""
    depth_cm: float | None = None
    weight_kg: float | None = None
    found_on: date | None = None
    notes: str = ""


@dataclass(kw_only=True)
class ProtectedSite(Record):
    """A place to protect: heritage or civilian. Methods listed in ``forbidden_methods``
    may not be used within ``buffer_m`` of it."""

    name: str
    kind: SiteKind
    geometry: BaseGeometry | None = None
    buffer_m: float = 0.0
    forbidden_methods: tuple[Method, ...] = ()
    heritage_value: int = 0
    source: str = ""
    notes: str = ""


@dataclass(kw_only=True)
class Team(Record):
    """A team or asset; ``geometry`` is its home base."""

    name: str
    kind: TeamKind
    geometry: BaseGeometry | None = None
    personnel: int = 1
    lane_width_m: float = 1.0
    capabilities: tuple[Method, ...] = ()
    active: bool = True
    notes: str = ""


@dataclass(kw_only=True)
class Activity(Record):
    """A task given to a team on a hazard (IMSMA activity)."""

    activity_type: ActivityType
    hazard_id: int | None = None
    team_id: int | None = None
    status: ActivityStatus = ActivityStatus.PLANNED
    start_on: date | None = None
    end_on: date | None = None
    donor: str | None = None  # who funds the task; the monthly report gives each donor's figures
    notes: str = ""


@dataclass(kw_only=True)
class Report(Record):
    """A daily progress report: the area a team worked that day and what it found."""

    activity_type: ActivityType
    report_date: date
    hazard_id: int | None = None
    team_id: int | None = None
    activity_id: int | None = None
    geometry: BaseGeometry | None = None
    area_m2: float = 0.0
    items_found: int = 0
    reported_by: str = ""
    notes: str = ""


@dataclass(kw_only=True)
class Release(Record):
    """One piece of land released from a hazard (IMAS 07.11), with its perimeter."""

    hazard_id: int
    route: ReleaseRoute
    released_on: date
    geometry: BaseGeometry | None = None
    area_m2: float = 0.0
    team_id: int | None = None
    report_id: int | None = None
    depth_cm: int | None = None
    notes: str = ""


RECORD_TYPES: tuple[type[Record], ...] = (
    Hazard,
    Item,
    ProtectedSite,
    Team,
    Activity,
    Report,
    Release,
)

__all__ = [
    "RECORD_TYPES",
    "Activity",
    "Hazard",
    "Item",
    "ProtectedSite",
    "Record",
    "Release",
    "Report",
    "Team",
]
