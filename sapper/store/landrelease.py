"""Releasing land from a hazard: cut the polygon, record the piece, close when done."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import TYPE_CHECKING

from shapely.geometry.base import BaseGeometry

from sapper.model.enums import ROUTE_OF_ACTIVITY, HazardStatus, ReleaseRoute
from sapper.model.errors import InvalidRecord
from sapper.model.geometry import geometry_problem
from sapper.model.records import Hazard, Release
from sapper.model.release import Balance, balance, split_hazard

if TYPE_CHECKING:
    from sapper.store.register import Register


def release(
    reg: Register,
    hazard_id: int,
    route: ReleaseRoute | str | None = None,
    *,
    geometry: BaseGeometry | None = None,
    on: date | None = None,
    team_id: int | None = None,
    report_id: int | None = None,
    depth_cm: int | None = None,
    notes: str = "",
) -> Release:
    """Release ``geometry`` (or all that is left) of a hazard by one route (IMAS 07.11).

    With ``report_id`` and no geometry, the report's polygon is released by the route
    its activity leads to (NTS cancels, TS reduces, clearance clears).
    """
    where = f"hazard {hazard_id}"
    with reg.transaction():
        hazard: Hazard = reg.get("hazard", hazard_id)
        if hazard.status == HazardStatus.RELEASED:
            raise InvalidRecord(where, "is already released entirely")
        if report_id is not None:
            report = reg.get("report", report_id)
            if report.hazard_id not in (None, hazard_id):
                raise InvalidRecord(f"report {report_id}", f"is about hazard {report.hazard_id}, not {hazard_id}")
            geometry = geometry if geometry is not None else report.geometry
            route = route or ROUTE_OF_ACTIVITY.get(report.activity_type)
            team_id = team_id if team_id is not None else report.team_id
            on = on or report.report_date
            if geometry is None:
                raise InvalidRecord(f"report {report_id}", "has no polygon to release")
        if route is None:
            raise InvalidRecord(where, "say which route releases the land: cancelled, reduced or cleared")
        route = ReleaseRoute.parse(route)
        if geometry is None:
            geometry = hazard.geometry
        problem = geometry_problem(geometry, ("Polygon", "MultiPolygon"))
        if problem:
            raise InvalidRecord(f"release of {where}", problem)
        split = split_hazard(hazard.geometry, geometry)
        if split.released_m2 <= 0:
            raise InvalidRecord(f"release of {where}", "does not overlap the area still hazardous")
        if route == ReleaseRoute.CLEARED and depth_cm is None:
            depth_cm = hazard.clearance_depth_cm
        area = split.released_m2
        if split.closes_hazard:
            # The last piece takes exactly what the books still hold, so the four sums close.
            area = hazard_balance(reg, hazard_id).hazardous
        piece = reg.add(
            Release(
                hazard_id=hazard_id,
                route=route,
                released_on=on or date.today(),
                geometry=split.released,
                area_m2=area,
                team_id=team_id,
                report_id=report_id,
                depth_cm=depth_cm,
                notes=notes,
            )
        )
        # A closed hazard keeps no polygon: its land is all in the releases layer.
        if split.closes_hazard:
            closed = dataclasses.replace(hazard, geometry=None, status=HazardStatus.RELEASED)
        else:
            closed = dataclasses.replace(hazard, geometry=split.remaining)
        reg.update(closed, by_release=True)
    return piece


def hazard_balance(reg: Register, hazard_id: int) -> Balance:
    hazard = reg.get("hazard", hazard_id)
    return balance(hazard.original_area_m2, reg.list("release", where={"hazard_id": hazard_id}))
