"""Controlled vocabularies of the register.

Terms follow the International Mine Action Standards (IMAS 04.10 glossary,
07.11 land release, 09.10 clearance, 09.11 BAC, 09.30 EOD) and the IMSMA land
classes. Values are stored as their lower-case string so a GIS user reads them as is.
"""

from __future__ import annotations

from enum import Enum

from sapper.i18n import N_
from sapper.model.errors import Problem


class Vocabulary(str, Enum):
    """A string enum whose error on a bad value lists the allowed ones."""

    @classmethod
    def parse(cls, value: object) -> Vocabulary:
        if isinstance(value, cls):
            return value
        text = str(value).strip().lower().replace(" ", "_").replace("-", "_")
        try:
            return cls(text)
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            problem = N_("unknown {vocabulary} {value!r} (allowed: {allowed})")
            raise ValueError(Problem(problem, vocabulary=cls.label(), value=value, allowed=allowed)) from None

    @classmethod
    def label(cls) -> str:
        return "".join(" " + c.lower() if c.isupper() else c for c in cls.__name__).strip()

    def __str__(self) -> str:
        return self.value


class HazardClass(Vocabulary):
    """IMAS 07.11: suspected (indirect evidence) or confirmed (direct evidence)."""

    SHA = "sha"
    CHA = "cha"


class HazardStatus(Vocabulary):
    """Life cycle of a hazard area (IMSMA: Open, Worked on, Closed)."""

    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"
    IN_CLEARANCE = "in_clearance"
    SUSPENDED = "suspended"
    RELEASED = "released"


class Contamination(Vocabulary):
    AP_MINES = "ap_mines"
    AT_MINES = "at_mines"
    MIXED_MINES = "mixed_mines"
    IED = "ied"
    BOOBY_TRAPS = "booby_traps"
    UXO = "uxo"
    AXO = "axo"
    MIXED = "mixed"
    UNKNOWN = "unknown"


class LandUse(Vocabulary):
    RESIDENTIAL = "residential"
    HERITAGE = "heritage"
    ROAD = "road"
    WATER = "water"
    POWER = "power"
    HEALTH = "health"
    EDUCATION = "education"
    AGRICULTURE = "agriculture"
    AIRFIELD = "airfield"
    INDUSTRIAL = "industrial"
    OPEN_GROUND = "open_ground"
    OTHER = "other"


class ItemCategory(Vocabulary):
    """Explosive ordnance categories (IMAS 04.10; IED sub-types per IMAS 09.31)."""

    AP_MINE = "ap_mine"
    AT_MINE = "at_mine"
    IED_VICTIM_OPERATED = "ied_victim_operated"
    IED_COMMAND_OPERATED = "ied_command_operated"
    IED_TIME = "ied_time"
    BOOBY_TRAP = "booby_trap"
    UXO = "uxo"
    AXO = "axo"

    @property
    def is_ied(self) -> bool:
        return self.value.startswith("ied_")


class ItemState(Vocabulary):
    FOUND = "found"
    RENDERED_SAFE = "rendered_safe"
    REMOVED = "removed"
    DESTROYED_IN_PLACE = "destroyed_in_place"


class SiteKind(Vocabulary):
    HERITAGE_SITE = "heritage_site"
    MONUMENT = "monument"
    NECROPOLIS = "necropolis"
    HOSPITAL = "hospital"
    SCHOOL = "school"
    WATER = "water"
    POWER = "power"
    ROAD = "road"
    BAKERY = "bakery"
    RELIGIOUS = "religious"
    OTHER = "other"

    @property
    def is_heritage(self) -> bool:
        return self in (SiteKind.HERITAGE_SITE, SiteKind.MONUMENT, SiteKind.NECROPOLIS)


class Method(Vocabulary):
    """Ways of working that a protected site may forbid or a team may offer."""

    MANUAL = "manual"
    DOG = "dog"
    ROBOT = "robot"
    MECHANICAL = "mechanical"
    BAC = "bac"
    DESTRUCTION_IN_PLACE = "destruction_in_place"
    RENDER_SAFE_REMOVE = "render_safe_remove"
    SURVEY = "survey"


class TeamKind(Vocabulary):
    MANUAL = "manual"
    DOG = "dog"
    ROBOT = "robot"
    MECHANICAL = "mechanical"
    EOD = "eod"
    SURVEY = "survey"


class ActivityType(Vocabulary):
    """IMSMA activity types."""

    NTS = "nts"
    TS = "ts"
    CLEARANCE = "clearance"
    BAC = "bac"
    EOD_SPOT = "eod_spot"
    ROUTE_CLEARANCE = "route_clearance"
    INSPECTION = "inspection"


class ActivityStatus(Vocabulary):
    PLANNED = "planned"
    ONGOING = "ongoing"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ReleaseRoute(Vocabulary):
    """IMAS 07.11: the three ways land leaves the register."""

    CANCELLED = "cancelled"
    REDUCED = "reduced"
    CLEARED = "cleared"


# Which release route a field activity leads to (IMAS 07.11 sections 5-7).
ROUTE_OF_ACTIVITY: dict[ActivityType, ReleaseRoute] = {
    ActivityType.NTS: ReleaseRoute.CANCELLED,
    ActivityType.TS: ReleaseRoute.REDUCED,
    ActivityType.CLEARANCE: ReleaseRoute.CLEARED,
    ActivityType.BAC: ReleaseRoute.CLEARED,
    ActivityType.EOD_SPOT: ReleaseRoute.CLEARED,
    ActivityType.ROUTE_CLEARANCE: ReleaseRoute.CLEARED,
}
