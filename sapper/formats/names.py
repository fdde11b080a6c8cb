"""Short field names for Shapefiles, whose dBASE tables allow 10 characters per name.

GDAL would cut names itself ("clearance_depth_cm" -> "clearance_"), which collides
and reads badly, so sapper writes these names instead and reads them back to the
full names when it imports a Shapefile. Names of 10 characters or fewer are kept.
"""

from __future__ import annotations

from sapper.store.schema import LAYERS

SHAPEFILE_NAMES: dict[str, str] = {
    "organisation": "org",
    "hazard_class": "haz_class",
    "contamination": "contamin",
    "blocks_access": "blocks_acc",
    "estimated_items": "est_items",
    "clearance_depth_cm": "clr_dep_cm",
    "original_area_m2": "orig_m2",
    "reported_on": "reported",
    "forbidden_methods": "forbidden",
    "heritage_value": "heritage",
    "lane_width_m": "lane_w_m",
    "capabilities": "capabilit",
    "activity_type": "act_type",
    "report_date": "rep_date",
    "activity_id": "act_id",
    "items_found": "items_fnd",
    "reported_by": "rep_by",
    "released_on": "released",
    "activity_key": "act_key",
}
MAX_LENGTH = 10


def short_name(name: str) -> str:
    """The Shapefile name of a field; a field added later without an entry is cut to 10."""
    return SHAPEFILE_NAMES.get(name, name[:MAX_LENGTH])


def full_names() -> dict[str, str]:
    """Short name -> field name, for every field of every layer whose name is too long."""
    out: dict[str, str] = {}
    for lay in LAYERS:
        for col in lay.columns:
            if len(col.name) > MAX_LENGTH:
                out[short_name(col.name)] = col.name
    return out
