"""The situation report: what was done today and in total, and when the work will end.

A pure function of the register (and of what the reader may see): land released by route
(IMAS 07.11) today and in total, area worked in daily reports, km of road released,
buildings checked, items found and disposed of by category, the share of each priority
class done, and a forecast.

Measures that the register does not hold directly are derived, and say how:
- Road length: a released piece of a road hazard is a strip, so its length is taken as
  half its perimeter (exact for a rectangle, less its width). An assumption, not a survey.
- Buildings checked: protected sites that are buildings (hospital, school, bakery, water,
  power, religious, monument, other) whose land has been released and that no hazard still
  touches.
- Forecast: the finish dates (percentiles) of the latest plan made, and, always, the area
  still hazardous divided by the mean area released per day over the last ``RATE_DAYS``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sapper.i18n import N_
from sapper.model.enums import ItemState, ReleaseRoute, SiteKind
from sapper.model.geometry import to_metric
from sapper.store import query
from sapper.store.query import Filter
from sapper.store.register import Register
from sapper.store.schema import layer

RATE_DAYS = 14
# Shown in the reader's language by the pages and documents (the API keeps the English sentence).
RATE_BASIS = N_("mean area released per day over the {days} days to {day}")
BUILDING_KINDS = {
    SiteKind.MONUMENT,
    SiteKind.HOSPITAL,
    SiteKind.SCHOOL,
    SiteKind.WATER,
    SiteKind.POWER,
    SiteKind.BAKERY,
    SiteKind.RELIGIOUS,
    SiteKind.OTHER,
}
DISPOSED = {ItemState.RENDERED_SAFE.value, ItemState.REMOVED.value, ItemState.DESTROYED_IN_PLACE.value}


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def sitrep(
    reg: Register, on: date, organisation: str | None = None, plan: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The situation report on day ``on`` as JSON-ready values (areas in m² and ha).

    ``plan`` names the latest plan and its forecast finish dates, which the report repeats.
    """
    flt = Filter(organisation=organisation)
    land = _land(reg, on, flt)
    return {
        "date": on.isoformat(),
        "land": land,
        "reports": _reports(reg, on, flt),
        "roads": _roads(reg, on, flt),
        "buildings_checked": _buildings(reg, flt),
        "items": _items(reg, on, flt),
        "priorities": _priorities(reg, flt),
        "forecast": _forecast(on, land, plan),
    }


def _area(m2: float) -> dict[str, float]:
    return {"m2": round(m2, 1), "ha": round(m2 / 10_000, 3)}


def _land(reg: Register, on: date, flt: Filter) -> dict[str, Any]:
    backend = reg.backend
    today: dict[str, float] = defaultdict(float)
    total: dict[str, float] = defaultdict(float)
    daily: dict[date, float] = defaultdict(float)
    for route, day, _n, area in query.sums(backend, layer("release"), flt, ["route", "released_on"], ["area_m2"]):
        day = _day(day)
        if day is None or day > on:
            continue
        total[route] += float(area or 0)
        daily[day] += float(area or 0)
        if day == on:
            today[route] += float(area or 0)
    original = sum(float(r[1] or 0) for r in query.sums(backend, layer("hazard"), flt, [], ["original_area_m2"]))
    released = sum(total.values())
    return {
        "released_today": {r.value: _area(today[r.value]) for r in ReleaseRoute} | {"all": _area(sum(today.values()))},
        "released_total": {r.value: _area(total[r.value]) for r in ReleaseRoute} | {"all": _area(released)},
        "original": _area(original),
        "still_hazardous": _area(max(original - released, 0.0)),
        "_daily": daily,
    }


def _reports(reg: Register, on: date, flt: Filter) -> dict[str, Any]:
    rows = query.sums(reg.backend, layer("report"), flt, ["report_date", "activity_type"], ["area_m2", "items_found"])
    today: dict[str, float] = defaultdict(float)
    total: dict[str, float] = defaultdict(float)
    count_today = 0
    for day, activity, n, area, _found in rows:
        day = _day(day)
        if day is None or day > on:
            continue
        total[activity] += float(area or 0)
        if day == on:
            today[activity] += float(area or 0)
            count_today += int(n)
    return {
        "reports_today": count_today,
        "worked_today": {k: _area(v) for k, v in sorted(today.items())},
        "worked_total": {k: _area(v) for k, v in sorted(total.items())},
    }


def _roads(reg: Register, on: date, flt: Filter) -> dict[str, Any]:
    road_ids = [rid for rid, _v, _g in _select(reg, "hazard", flt, {"land_use": "road"}, geometry=False)]
    today = total = 0.0
    if road_ids:
        for _rid, values, geom in _select(reg, "release", flt, {"hazard_id": road_ids}):
            day = _day(values["released_on"])
            if geom is None or day is None or day > on:
                continue
            length = to_metric(geom).length / 2.0
            total += length
            if day == on:
                today += length
    return {
        "released_today_km": round(today / 1000, 3),
        "released_total_km": round(total / 1000, 3),
        "method": N_("half the perimeter of each released piece of a road hazard (assumption: road strips)"),
    }


def _select(reg: Register, kind: str, flt: Filter, where: dict[str, Any], geometry: bool = True) -> list[Any]:
    lay = layer(kind)
    rows = query.select(reg.backend, lay, Filter(where=where, organisation=flt.organisation, bbox=flt.bbox))
    if not geometry or not rows:
        return rows
    geoms = reg.backend.decode_geometries([raw for _, _, raw in rows])
    return [(rid, values, geom) for (rid, values, _), geom in zip(rows, geoms)]


def _buildings(reg: Register, flt: Filter) -> dict[str, Any]:
    kinds = sorted(k.value for k in BUILDING_KINDS)
    by_kind: dict[str, int] = defaultdict(int)
    for _sid, values, geom in _select(reg, "site", flt, {"kind": kinds}):
        if geom is None or geom.is_empty:
            continue
        box = Filter(bbox=geom.bounds, organisation=flt.organisation)
        released = [g for _, _, g in _select(reg, "release", box, {}) if g is not None and g.intersects(geom)]
        if not released:
            continue
        hazards = [g for _, _, g in _select(reg, "hazard", box, {}) if g is not None and g.intersects(geom)]
        if not hazards:
            by_kind[values["kind"]] += 1
    return {
        "total": sum(by_kind.values()),
        "by_kind": dict(sorted(by_kind.items())),
        "method": N_("protected sites that are buildings, on released land that no hazard still touches"),
    }


def _items(reg: Register, on: date, flt: Filter) -> dict[str, Any]:
    lay = layer("item")
    found: dict[str, int] = defaultdict(int)
    disposed: dict[str, int] = defaultdict(int)
    destroyed: dict[str, int] = defaultdict(int)
    for category, state, n in query.sums(reg.backend, lay, flt, ["category", "state"]):
        found[category] += int(n)
        if state in DISPOSED:
            disposed[category] += int(n)
        if state == ItemState.DESTROYED_IN_PLACE.value:
            destroyed[category] += int(n)
    today_flt = Filter(where={"found_on": on}, organisation=flt.organisation)
    today = {cat: int(n) for cat, n in query.sums(reg.backend, lay, today_flt, ["category"])}
    return {
        "found_today": dict(sorted(today.items())),
        "found_total": dict(sorted(found.items())),
        "disposed_total": dict(sorted(disposed.items())),
        "destroyed_in_place_total": dict(sorted(destroyed.items())),
        "total_found": sum(found.values()),
        "total_disposed": sum(disposed.values()),
    }


def _priorities(reg: Register, flt: Filter) -> list[dict[str, Any]]:
    backend = reg.backend
    priority_of: dict[int, int] = {}
    original: dict[int, float] = defaultdict(float)
    for hazard_id, priority, _n, area in query.sums(
        backend, layer("hazard"), flt, ["id", "priority"], ["original_area_m2"]
    ):
        priority_of[int(hazard_id)] = int(priority)
        original[int(priority)] += float(area or 0)
    released: dict[int, float] = defaultdict(float)
    for hazard_id, _n, area in query.sums(backend, layer("release"), flt, ["hazard_id"], ["area_m2"]):
        if hazard_id is not None and int(hazard_id) in priority_of:
            released[priority_of[int(hazard_id)]] += float(area or 0)
    out = []
    for priority in sorted(original):
        total = original[priority]
        done = min(released[priority], total)
        out.append(
            {
                "priority": priority,
                "original": _area(total),
                "released": _area(done),
                "percent_done": round(100.0 * done / total, 1) if total > 0 else 100.0,
            }
        )
    return out


def _forecast(on: date, land: dict[str, Any], plan: dict[str, Any] | None) -> dict[str, Any]:
    daily: dict[date, float] = land.pop("_daily")
    remaining = land["still_hazardous"]["m2"]
    since = on - timedelta(days=RATE_DAYS - 1)
    rate = sum(area for day, area in daily.items() if since <= day <= on) / RATE_DAYS
    out: dict[str, Any] = {
        "plan": plan if plan is not None else "no plan yet",
        "rate_m2_per_day": round(rate, 1),
        "rate_basis": RATE_BASIS.format(days=RATE_DAYS, day=on.isoformat()),
        "rate_days": RATE_DAYS,
    }
    if remaining <= 0:
        out["at_recent_rate"] = on.isoformat()
    elif rate > 0:
        out["at_recent_rate"] = (on + timedelta(days=math.ceil(remaining / rate))).isoformat()
    else:
        out["at_recent_rate"] = None
    return out
