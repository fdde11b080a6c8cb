"""The layers of a field package: their geometry and fields, shared by the package, its QGIS
project and the sync that reads the package back."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sapper.model.enums import (
    ActivityType,
    Contamination,
    HazardClass,
    HazardStatus,
    ItemCategory,
    ItemState,
    LandUse,
    Method,
    SiteKind,
    Vocabulary,
)


@dataclass(frozen=True)
class PackLayer:
    """A layer of the package: its geometry type and its fields (name -> 'str', 'int' or 'float')."""

    name: str
    kind: str  # the register's record kind it holds
    geometry_type: str
    fields: dict[str, str]
    editable: bool = False  # the team may change these features (they go back to the register)


# field -> its vocabulary, in every layer that has the field
VALUE_LISTS: dict[str, type[Vocabulary]] = {
    "hazard_class": HazardClass,
    "status": HazardStatus,
    "contamination": Contamination,
    "land_use": LandUse,
    "category": ItemCategory,
    "state": ItemState,
    "activity_type": ActivityType,
    "activity": ActivityType,
    "method": Method,
    "kind": SiteKind,
}
TRACKED = {"sapper_id": "int", "sapper_version": "int"}
LAYERS = [
    PackLayer(
        "hazards", "hazard", "MultiPolygon",
        {**TRACKED, "name": "str", "hazard_class": "str", "status": "str", "contamination": "str",
         "land_use": "str", "priority": "int", "evidence": "str", "reported_on": "str", "notes": "str"},
        editable=True,
    ),
    PackLayer(
        "plan_sectors", "plan_sector", "MultiPolygon",
        {"sapper_id": "int", "label": "str", "hazard_id": "int", "method": "str", "activity": "str",
         "start_on": "str", "end_on": "str"},
    ),
    PackLayer("plan_lanes", "plan_lane", "MultiLineString", {"sapper_id": "int", "sector_id": "int", "lanes": "int"}),
    PackLayer(
        "protected_sites", "site", "MultiPolygon",
        {"sapper_id": "int", "name": "str", "kind": "str", "buffer_m": "float", "notes": "str"},
    ),
    PackLayer("site_buffers", "site", "MultiPolygon", {"sapper_id": "int", "name": "str", "buffer_m": "float"}),
    PackLayer(
        "reports", "report", "MultiPolygon",
        {**TRACKED, "activity_type": "str", "report_date": "str", "hazard_id": "int", "activity_id": "int",
         "items_found": "int", "reported_by": "str", "notes": "str"},
        editable=True,
    ),
    PackLayer(
        "items", "item", "Point",
        {**TRACKED, "category": "str", "state": "str", "hazard_id": "int", "model": "str", "condition": "str",
         "depth_cm": "float", "found_on": "str", "notes": "str"},
        editable=True,
    ),
]  # fmt: skip
DTYPES = {"str": object, "int": np.int64, "float": np.float64}


def pack_layer(name: str) -> PackLayer:
    return next(lay for lay in LAYERS if lay.name == name)
