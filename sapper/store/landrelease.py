"""Releasing land from a hazard: cut the polygon, record the piece, close when done."""

from __future__ import annotations

import dataclasses
from datetime import date

from shapely.geometry.base import BaseGeometry

from sapper.i18n import N_
from sapper.model.enums import ROUTE_OF_ACTIVITY, HazardStatus, ItemState, ReleaseRoute
from sapper.model.errors import ForbiddenTransition, InvalidRecord, Problem
from sapper.model.geometry import geometry_problem
from sapper.model.records import Hazard, Item, Release
from sapper.model.release import Balance, balance, split_hazard
from sapper.store.access import RegisterAccess


class ItemsStillFound(ForbiddenTransition):
    """Land is about to be released while explosive items recorded on it are still ``found``."""

    def __init__(self, hazard_id: int, item_ids: list[int]) -> None:
        verb = "is" if len(item_ids) == 1 else "are"
        super().__init__(
            f"release of hazard {hazard_id}",
            f"{_items(item_ids)} {verb} still `found` on that land (not yet rendered safe, removed or destroyed); "
            "record what became of them first, or confirm the release anyway "
            '(`sapper release --force`; "force": true in the API)',
        )
        self.hazard_id = hazard_id
        self.item_ids = item_ids


def release(
    reg: RegisterAccess,
    hazard_id: int,
    route: ReleaseRoute | str | None = None,
    *,
    geometry: BaseGeometry | None = None,
    on: date | None = None,
    team_id: int | None = None,
    report_id: int | None = None,
    depth_cm: int | None = None,
    notes: str = "",
    force: bool = False,
) -> Release:
    """Release ``geometry`` (or all that is left) of a hazard by one route (IMAS 07.11).

    With ``report_id`` and no geometry, the report's polygon is released by the route
    its activity leads to (NTS cancels, TS reduces, clearance clears). Land where items are
    still ``found`` is refused (``ItemsStillFound``) unless ``force``; a forced release says
    so in its notes.
    """
    where = f"hazard {hazard_id}"
    with reg.transaction():
        hazard: Hazard = reg.get("hazard", hazard_id)
        if hazard.status == HazardStatus.RELEASED:
            raise InvalidRecord(where, N_("is already released entirely"))
        if report_id is not None:
            report = reg.get("report", report_id)
            if report.hazard_id not in (None, hazard_id):
                problem = Problem(N_("is about hazard {other}, not {id}"), other=report.hazard_id, id=hazard_id)
                raise InvalidRecord(f"report {report_id}", problem)
            geometry = geometry if geometry is not None else report.geometry
            route = route or ROUTE_OF_ACTIVITY.get(report.activity_type)
            team_id = team_id if team_id is not None else report.team_id
            on = on or report.report_date
            if geometry is None:
                raise InvalidRecord(f"report {report_id}", N_("has no polygon to release"))
        if route is None:
            raise InvalidRecord(where, N_("say which route releases the land: cancelled, reduced or cleared"))
        route = ReleaseRoute.parse(route)
        if geometry is None:
            geometry = hazard.geometry
        problem = geometry_problem(geometry, ("Polygon", "MultiPolygon"))
        if problem:
            raise InvalidRecord(f"release of {where}", problem)
        split = split_hazard(hazard.geometry, geometry)
        if split.released_m2 <= 0:
            raise InvalidRecord(f"release of {where}", N_("does not overlap the area still hazardous"))
        still_found = [item.id for item in found_items(reg, hazard_id, split.released, split.closes_hazard)]
        if still_found and not force:
            raise ItemsStillFound(hazard_id, still_found)
        if still_found:
            notes = " ".join(filter(None, [notes, f"(released with {_items(still_found)} still found)"]))
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
                # The released land belongs to whoever owns the hazard, restricted as it is.
                organisation=hazard.organisation,
                restricted=hazard.restricted,
            )
        )
        # A closed hazard keeps no polygon: its land is all in the releases layer.
        if split.closes_hazard:
            closed = dataclasses.replace(hazard, geometry=None, status=HazardStatus.RELEASED)
        else:
            closed = dataclasses.replace(hazard, geometry=split.remaining)
        reg.update(closed, by_release=True)
    return piece


def found_items(reg: RegisterAccess, hazard_id: int, released: BaseGeometry, closes_hazard: bool) -> list[Item]:
    """Items still ``found`` on the land to release: any lying inside it, and those linked to
    the hazard unless they lie on the part that stays hazardous."""
    state = ItemState.FOUND
    linked = reg.list("item", where={"hazard_id": hazard_id, "state": state})
    nearby = reg.list("item", bbox=released.bounds, where={"state": state})
    hits: dict[int, Item] = {}
    for item in [*linked, *nearby]:
        placed = item.geometry is not None and not item.geometry.is_empty
        on_released = placed and released.intersects(item.geometry)
        linked_here = item.hazard_id == hazard_id and (closes_hazard or not placed)
        if on_released or linked_here:
            hits[item.id] = item
    return sorted(hits.values(), key=lambda item: item.id)


def _items(ids: list[int]) -> str:
    return f"item {ids[0]}" if len(ids) == 1 else f"items {', '.join(map(str, ids))}"


def hazard_balance(reg: RegisterAccess, hazard_id: int) -> Balance:
    hazard = reg.get("hazard", hazard_id)
    return balance(hazard.original_area_m2, reg.list("release", where={"hazard_id": hazard_id}))
