"""The words around records in a terminal: layer titles, kinds of record and field names, in the reader's language.

The values stay codes (``confirmed``, ``ap_mines``): they are what ``sapper list hazard status=confirmed``
and ``sapper update`` take. A field with no word here is shown by its name.
"""

from __future__ import annotations

from sapper.i18n import N_, translate
from sapper.store.schema import Layer

TITLES = {
    "hazards": N_("Hazard areas (SHA/CHA)"),
    "items": N_("Explosive ordnance items"),
    "protected_sites": N_("Protected sites"),
    "teams": N_("Teams and assets (home base)"),
    "activities": N_("Activities (tasks)"),
    "reports": N_("Daily progress reports"),
    "releases": N_("Land released (cancelled, reduced, cleared)"),
}

KINDS = {
    "hazard": N_("hazard"),
    "item": N_("item"),
    "site": N_("site"),
    "team": N_("team"),
    "activity": N_("activity"),
    "report": N_("report"),
    "release": N_("release"),
}

FIELDS = {
    "id": N_("id"),
    "name": N_("name"),
    "hazard_class": N_("class"),
    "status": N_("status"),
    "contamination": N_("contamination"),
    "land_use": N_("land use"),
    "priority": N_("priority"),
    "original_area_m2": N_("original m²"),
    "category": N_("category"),
    "state": N_("state"),
    "hazard_id": N_("hazard"),
    "team_id": N_("team"),
    "model": N_("model"),
    "found_on": N_("found on"),
    "kind": N_("kind"),
    "buffer_m": N_("buffer m"),
    "forbidden_methods": N_("forbidden methods"),
    "heritage_value": N_("heritage value"),
    "personnel": N_("personnel"),
    "lane_width_m": N_("lane width m"),
    "capabilities": N_("capabilities"),
    "organisation": N_("organisation"),
    "activity_type": N_("activity"),
    "start_on": N_("start"),
    "end_on": N_("end"),
    "report_date": N_("date"),
    "area_m2": N_("area m²"),
    "items_found": N_("items found"),
    "route": N_("route"),
    "released_on": N_("released on"),
    "depth_cm": N_("depth cm"),
    "version": N_("version"),
    "geometry": N_("geometry"),
    "notes": N_("notes"),
}


def layer_title(lay: Layer) -> str:
    return translate(TITLES.get(lay.name, lay.title))


def kind_word(lay: Layer) -> str:
    return translate(KINDS.get(lay.kind, lay.kind))


def field_word(name: str) -> str:
    return translate(FIELDS[name]) if name in FIELDS else name


def field_called(lay: Layer, word: str) -> str | None:
    """The field of ``lay`` shown under ``word`` (in English or the reader's language), if exactly one is."""
    names = [c.name for c in lay.columns if c.name in FIELDS and word.casefold() in _words(c.name)]
    return names[0] if len(names) == 1 else None


def _words(name: str) -> set[str]:
    return {FIELDS[name].casefold(), translate(FIELDS[name]).casefold()}
