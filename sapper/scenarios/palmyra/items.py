"""Explosive items: the published totals, spread over their hazards and placed at random (seeded).

Each category's total is shared among the hazards of its region in proportion to area
times an assumed density per land use (largest remainders, so totals are exact). Items lie
in the part of their hazard that was not cancelled or reduced (land released for lack of
evidence holds none); the published number found on the first day lies in the land
cleared that day (shared by its area among the hazards worked; the teams began where
the evidence was), the rest anywhere else in the hazard. The snapshot's states: an item in
land already cleared was found that day and disposed of, destroyed in place unless a protected site forbids it, else
rendered safe and removed (rendered safe only, if found on the snapshot day); every other
item is "found": located and marked, waiting for its sector to be cleared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from sapper.model import ItemCategory, ItemState, Method, ProtectedSite, ReleaseRoute
from sapper.scenarios.palmyra import shapes
from sapper.scenarios.palmyra.areas import Area
from sapper.scenarios.palmyra.work import WorkPlan

# The register measures the same distance in the same CRS; the margin keeps rounding on the safe side.
SITE_MARGIN_M = 2.0
NO_EVIDENCE = (ReleaseRoute.CANCELLED, ReleaseRoute.REDUCED)


@dataclass
class PlacedItem:
    key: str
    hazard: str  # Area key
    category: ItemCategory
    point: Point  # WGS 84
    state: ItemState = ItemState.FOUND
    team: str | None = None
    disposed_by: str | None = None  # the EOD team that destroyed or removed it
    report: int | None = None  # index of the day report that cleared it
    found_on: date | None = None
    model: str = ""
    condition: str = ""
    depth_cm: float | None = None
    weight_kg: float | None = None
    notes: str = ""


def allocate(
    counts: dict[str, int], areas: Sequence[Area], room: dict[str, float], density: dict[str, dict[str, float]]
) -> dict[str, dict[str, int]]:
    """{area key: {category: n}}: each category's count shared by area x density, largest remainders."""
    out: dict[str, dict[str, int]] = {a.key: {} for a in areas}
    for category, total in counts.items():
        weights = [room[a.key] * density.get(a.land_use.value, {}).get(category, 1.0) for a in areas]
        whole = sum(weights)
        exact = [total * w / whole for w in weights]
        shares = [math.floor(x) for x in exact]
        order = sorted(range(len(areas)), key=lambda i: (-(exact[i] - shares[i]), i))
        for i in order[: total - sum(shares)]:
            shares[i] += 1
        for area, n in zip(areas, shares):
            if n:
                out[area.key][category] = n
    return out


def place_items(
    fig: dict[str, Any],
    areas: Sequence[Area],
    work: WorkPlan,
    sites: Sequence[ProtectedSite],
    eod_teams: Sequence[str],
) -> list[PlacedItem]:
    rng = np.random.default_rng(fig["scenario"]["seed"])
    it = fig["items"]
    rooms = {a.key: _room(a, work) for a in areas}
    room_m2 = {key: room.area for key, room in rooms.items()}
    plan: dict[str, dict[str, int]] = {}
    for region in ("historic", "early"):
        members = [a for a in areas if a.region == region]
        plan.update(allocate(it[region], members, room_m2, it["density"]))
    no_blast = [s for s in sites if Method.DESTRUCTION_IN_PLACE in s.forbidden_methods]
    first = _first_day(fig, work, rooms, {a.key: sum(plan.get(a.key, {}).values()) for a in areas})
    items: list[PlacedItem] = []
    for area in areas:
        wanted = plan.get(area.key, {})
        n = sum(wanted.values())
        if not n:
            continue
        room = shapes.wgs84(rooms[area.key])
        k, day_one = first.get(area.key, (0, None))
        if k:
            points = _points_in(shapes.wgs84(day_one), k, rng)
            points += _points_in(shapes.wgs84(rooms[area.key].difference(day_one)), n - k, rng)
        else:
            points = _points_in(room, n, rng)
        categories = [c for c, k in sorted(wanted.items()) for _ in range(k)]
        rng.shuffle(categories)
        for k, (point, category) in enumerate(zip(points, categories), start=1):
            items.append(_describe(f"{area.key}-{k:04d}", area.key, category, point, fig, rng))
    _set_states(items, work, no_blast, eod_teams, fig, rng)
    return items


def _first_day(
    fig: dict[str, Any], work: WorkPlan, rooms: dict[str, BaseGeometry], counts: dict[str, int]
) -> dict[str, tuple[int, BaseGeometry]]:
    """{hazard: (items found on the first day, the land cleared that day)}: the published count
    shared by area among the historic hazards cleared that day (largest remainders)."""
    day = fig["scenario"]["work_starts"]
    land: dict[str, list[BaseGeometry]] = {}
    for r in work.reports:
        if r.day == day and r.releases and r.route == ReleaseRoute.CLEARED and r.hazard.startswith("H-"):
            land.setdefault(r.hazard, []).append(r.shape)
    shapes_by = {k: shapely.union_all(v).intersection(rooms[k]) for k, v in sorted(land.items())}
    whole = sum(g.area for g in shapes_by.values())
    total = fig["published"]["first_day_items"]
    if not whole:
        return {}
    exact = {k: total * g.area / whole for k, g in shapes_by.items()}
    shares = {k: math.floor(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (shares[k] - exact[k], k))[: total - sum(shares.values())]:
        shares[k] += 1
    return {k: (min(n, counts.get(k, 0)), shapes_by[k]) for k, n in shares.items()}


def _room(area: Area, work: WorkPlan) -> BaseGeometry:
    """Where items may lie: the hazard less land cancelled or reduced (no evidence there)."""
    freed = [r.shape for r in work.released(area.key, NO_EVIDENCE)]
    return area.shape.difference(shapely.union_all(freed)) if freed else area.shape


def _points_in(area: BaseGeometry, n: int, rng: np.random.Generator) -> list[Point]:
    """``n`` random points inside ``area`` (lon/lat rounded to 1e-7°, about 1 cm)."""
    minx, miny, maxx, maxy = area.bounds
    shapely.prepare(area)
    found: list[Point] = []
    while len(found) < n:
        xs = np.round(rng.uniform(minx, maxx, 4 * n), 7)
        ys = np.round(rng.uniform(miny, maxy, 4 * n), 7)
        inside = shapely.contains_xy(area, xs, ys)
        found.extend(Point(x, y) for x, y in zip(xs[inside], ys[inside]))
    return found[:n]


def _describe(key: str, hazard: str, category: str, point: Point, fig: dict[str, Any], rng: np.random.Generator):
    kind = fig["items"]["kinds"][category]
    low, high = kind["depth_cm"]
    wlow, whigh = kind["weight_kg"]
    return PlacedItem(
        key=key,
        hazard=hazard,
        category=ItemCategory.parse(category),
        point=point,
        model=str(rng.choice(kind["models"])),
        condition=str(rng.choice(fig["items"]["conditions"]["values"])),
        depth_cm=float(round(rng.uniform(low, high))),
        weight_kg=round(float(rng.uniform(wlow, whigh)), 1),
    )


def _set_states(
    items: list[PlacedItem],
    work: WorkPlan,
    no_blast: Sequence[ProtectedSite],
    eod_teams: Sequence[str],
    fig: dict[str, Any],
    rng: np.random.Generator,
) -> None:
    snapshot = fig["scenario"]["snapshot"]
    first = fig["scenario"]["survey_date"]
    span = (snapshot - first).days
    metric_points = [shapes.metric(item.point) for item in items]
    near = np.zeros(len(items), dtype=bool)
    for site in no_blast:
        zone = shapes.metric(site.geometry)
        near |= shapely.distance(np.array(metric_points, dtype=object), zone) <= site.buffer_m + SITE_MARGIN_M
    cleared = _cleared_by_hazard(work)
    for i, item in enumerate(items):
        index = next((k for k, g in cleared.get(item.hazard, []) if g.contains(item.point)), None)
        if index is None:
            item.found_on = first + timedelta(days=int(rng.integers(0, span + 1)))
            item.notes = "located and marked; waits for its sector to be cleared"
            continue
        eod = eod_teams[i % len(eod_teams)]
        report = work.reports[index]
        item.team, item.found_on, item.report, item.disposed_by = report.team, report.day, index, eod
        if not near[i]:
            item.state, item.notes = ItemState.DESTROYED_IN_PLACE, f"destroyed in place by {eod}"
        elif report.day == snapshot:
            item.state, item.notes = ItemState.RENDERED_SAFE, f"rendered safe by {eod}; removal next day"
        else:
            item.state, item.notes = ItemState.REMOVED, f"rendered safe and removed by {eod} (protected site near)"


def _cleared_by_hazard(work: WorkPlan) -> dict[str, list[tuple[int, BaseGeometry]]]:
    """{hazard: [(report index, cleared polygon in WGS 84)]}."""
    out: dict[str, list[tuple[int, BaseGeometry]]] = {}
    for index, report in enumerate(work.reports):
        if report.route == ReleaseRoute.CLEARED:
            geom = shapes.wgs84(report.shape)
            shapely.prepare(geom)
            out.setdefault(report.hazard, []).append((index, geom))
    return out
