"""Labels of the vocabulary codes a reader sees: the codes stay in the data, only the words change.

In English a label is the code with spaces (what the documents and pages always showed); the
catalogues give the Arabic and Russian words.

Terms follow IMAS 04.10 (glossary) and IMAS 07.11 (land release) in English; see the catalogues'
headers for the status of their Arabic and Russian translations.
"""

from __future__ import annotations

from enum import Enum

from sapper.i18n import N_, translate
from sapper.model.enums import (
    ActivityType,
    Contamination,
    HazardClass,
    HazardStatus,
    ItemCategory,
    ItemState,
    LandUse,
    ReleaseRoute,
    SiteKind,
)

LABELS: dict[str, str] = {
    # release routes (IMAS 07.11)
    "cancelled": N_("cancelled"),
    "reduced": N_("reduced"),
    "cleared": N_("cleared"),
    # hazard classes and statuses
    "sha": N_("sha"),
    "cha": N_("cha"),
    "suspected": N_("suspected"),
    "confirmed": N_("confirmed"),
    "in_clearance": N_("in clearance"),
    "suspended": N_("suspended"),
    "released": N_("released"),
    # contamination
    "ap_mines": N_("ap mines"),
    "at_mines": N_("at mines"),
    "mixed_mines": N_("mixed mines"),
    "ied": N_("ied"),
    "booby_traps": N_("booby traps"),
    "uxo": N_("uxo"),
    "axo": N_("axo"),
    "mixed": N_("mixed"),
    "unknown": N_("unknown"),
    # land use
    "residential": N_("residential"),
    "heritage": N_("heritage"),
    "road": N_("road"),
    "water": N_("water"),
    "power": N_("power"),
    "health": N_("health"),
    "education": N_("education"),
    "agriculture": N_("agriculture"),
    "airfield": N_("airfield"),
    "industrial": N_("industrial"),
    "open_ground": N_("open ground"),
    "other": N_("other"),
    # protected sites (the others share a land use's word: road, water, power, other)
    "heritage_site": N_("heritage site"),
    "monument": N_("monument"),
    "necropolis": N_("necropolis"),
    "hospital": N_("hospital"),
    "school": N_("school"),
    "bakery": N_("bakery"),
    "religious": N_("religious"),
    # explosive ordnance categories and states
    "ap_mine": N_("ap mine"),
    "at_mine": N_("at mine"),
    "ied_victim_operated": N_("ied victim operated"),
    "ied_command_operated": N_("ied command operated"),
    "ied_time": N_("ied time"),
    "booby_trap": N_("booby trap"),
    "found": N_("found"),
    "rendered_safe": N_("rendered safe"),
    "removed": N_("removed"),
    "destroyed_in_place": N_("destroyed in place"),
    # activities (IMSMA)
    "nts": N_("nts"),
    "ts": N_("ts"),
    "clearance": N_("clearance"),
    "bac": N_("bac"),
    "eod_spot": N_("eod spot"),
    "route_clearance": N_("route clearance"),
    "inspection": N_("inspection"),
    # quality control results (IMAS 09.20)
    "passed": N_("passed"),
    "failed": N_("failed"),
    "pending": N_("pending"),
    # account roles (shown next to the user's name in the page header)
    "viewer": N_("viewer"),
    "field_team": N_("field team"),
    "supervisor": N_("supervisor"),
    "admin": N_("admin"),
    "register_admin": N_("register admin"),
}

LABELLED: tuple[type[Enum], ...] = (
    ReleaseRoute,
    HazardClass,
    HazardStatus,
    Contamination,
    LandUse,
    ItemCategory,
    ItemState,
    ActivityType,
    SiteKind,
)


def label(code: object, language: str | None = None) -> str:
    """A code as words in the reader's language; an unknown code as itself with spaces."""
    if code is None or code == "":
        return "–"
    text = str(code.value if isinstance(code, Enum) else code)
    return translate(LABELS.get(text, text.replace("_", " ")), language)
