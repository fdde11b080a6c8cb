"""Work already done: what is left to plan on each hazard after the daily reports.

A hazard's polygon already shrinks when land is released (IMAS 07.11). Land worked but
not yet released (a progress report waiting for QA and release) must not be planned
again: a report with a polygon is cut out of what is left; a report with only an area
is credited against the hazard's remaining area. A report already released is skipped
(its land has left the polygon). Geometries in metres.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from sapper.model.enums import ActivityType
from sapper.model.geometry import as_multipolygon
from sapper.model.records import Hazard, Release, Report

# Reports whose area counts as searched (NTS only looks; it releases by cancellation).
SEARCHING = {
    ActivityType.TS,
    ActivityType.CLEARANCE,
    ActivityType.BAC,
    ActivityType.ROUTE_CLEARANCE,
    ActivityType.EOD_SPOT,
}


@dataclass(frozen=True)
class Remaining:
    hazard_id: int
    geometry: BaseGeometry  # still to work
    credit_m2: float  # area reported worked without a polygon, not yet released
    cut_m2: float  # area reported worked with a polygon, cut out here

    @property
    def area_m2(self) -> float:
        return max(0.0, float(self.geometry.area) - self.credit_m2)

    @property
    def factor(self) -> float:
        """Share of the polygon's area still to work (the credit spread evenly)."""
        area = float(self.geometry.area)
        return self.area_m2 / area if area > 0 else 0.0


def remaining_work(hazard: Hazard, reports: Sequence[Report], releases: Sequence[Release]) -> Remaining:
    released = {r.report_id for r in releases if r.report_id is not None}
    geometry = hazard.geometry
    before = float(geometry.area)
    credit = 0.0
    polygons = []
    for report in reports:
        if report.id in released or report.activity_type not in SEARCHING:
            continue
        if report.geometry is not None and not report.geometry.is_empty:
            polygons.append(report.geometry)
        else:
            credit += report.area_m2
    if polygons:
        geometry = as_multipolygon(shapely.make_valid(geometry.difference(shapely.union_all(polygons))))
    cut = before - float(geometry.area)
    return Remaining(int(hazard.id), geometry, credit, cut)  # type: ignore[arg-type]


def remaining_by_hazard(
    hazards: Sequence[Hazard], reports: Sequence[Report], releases: Sequence[Release]
) -> dict[int, Remaining]:
    reports_of: dict[int, list[Report]] = defaultdict(list)
    for report in reports:
        if report.hazard_id is not None:
            reports_of[report.hazard_id].append(report)
    releases_of: dict[int, list[Release]] = defaultdict(list)
    for rel in releases:
        releases_of[rel.hazard_id].append(rel)
    return {
        int(h.id): remaining_work(h, reports_of[int(h.id)], releases_of[int(h.id)])  # type: ignore[arg-type]
        for h in hazards
    }
