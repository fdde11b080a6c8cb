"""The web UI: the map, the sitrep dashboard, the daily report form and the plan view.

The pages are static HTML and plain ES modules under ``/static/ui`` (Leaflet vendored under
``/static/vendor``; nothing comes from the internet). They read the OGC API for map layers
and the REST API for details, history, reports and the sitrep. The few views a page needs
that neither API gives are here, under ``/ui/api``: the default extent and vocabularies, the
buffers of protected sites, day-by-day progress, the stored plan as a Gantt and its burn-down,
and what the map needs to know of the user's own imagery (its tiles are served by ``imagery.py``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import fields
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from sapper.i18n import N_
from sapper.model.enums import ActivityType, HazardStatus, ItemCategory, ItemState, ReleaseRoute
from sapper.model.geometry import metric_epsg_for, search_box, to_metric, to_wgs84
from sapper.model.plan import PlanDay, first_plan_day
from sapper.model.records import Record
from sapper.server import imagery, offline, ui_messages
from sapper.server.auth import reader
from sapper.server.collections import parse_bbox
from sapper.server.context import registers
from sapper.server.errors import ApiError
from sapper.server.features import dumps
from sapper.server.permissions import seen_by
from sapper.server.web import json_response
from sapper.store import query
from sapper.store.query import Filter
from sapper.store.schema import Layer, layer

PAGES = Path(__file__).parent / "static" / "ui"
PAGE_FILES = {
    "": "map.html",
    "login": "login.html",
    "sitrep": "sitrep.html",
    "report": "report.html",
    "plan": "plan.html",
}
MAX_BUFFERS = 5000

router = APIRouter(prefix="/ui", tags=["Web UI"])


def install(app: FastAPI) -> None:
    """Called by the app factory: add the pages and their JSON views; check the imagery file now."""
    imagery.install(app)  # a wrong file stops the server at start, with the reason
    app.include_router(ui_messages.router)  # the pages' words in the reader's language
    app.include_router(router)


@router.get("", include_in_schema=False)
def ui_root() -> Response:
    return RedirectResponse("/ui/", status_code=308)


@router.get("/", include_in_schema=False)
def ui_map() -> Response:
    return ui_page("")


@router.get("/sw.js", include_in_schema=False)
def ui_service_worker(request: Request) -> Response:
    """The service worker that keeps the pages and the team's data for offline use (offline.py)."""
    return offline.service_worker(request.app, PAGE_FILES)


@router.get("/{page}", include_in_schema=False)
def ui_page(page: str) -> Response:
    name = PAGE_FILES.get(page.strip("/"))
    if name is None:
        message = N_("no page /ui/{page}; the pages are /ui/ (map), /ui/sitrep, /ui/report and /ui/plan")
        raise ApiError(404, message, params={"page": page})
    return FileResponse(PAGES / name, media_type="text/html")  # headers.py adds the CSP


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _has(kind: str) -> Layer | None:
    try:
        return layer(kind)
    except KeyError:
        return None


@router.get(
    "/api/config", summary="What the pages start from: extent, latest report day, first day of a new plan, vocabularies"
)
def config(request: Request) -> Response:
    user = reader(request)
    reg = registers(request).get()
    flt = Filter(organisation=seen_by(user))
    boxes = [b for b in (query.extent(reg.backend, layer(k), flt) for k in ("hazard", "site")) if b is not None]
    extent = None
    if boxes:
        corners = list(zip(*boxes))
        extent = [min(corners[0]), min(corners[1]), max(corners[2]), max(corners[3])]
    days = [_day(row[0]) for row in query.sums(reg.backend, layer("report"), flt, ["report_date"])]
    days = [d for d in days if d is not None]
    released = [_day(row[0]) for row in query.sums(reg.backend, layer("release"), flt, ["released_on"])]
    picture = imagery.server_imagery(request.app)
    body = {
        "extent": extent,
        "today": date.today().isoformat(),
        "latest_report_date": max(days).isoformat() if days else None,
        "plan_start": first_plan_day([*days, *released]).isoformat(),
        "latest_plan": _latest_plan(reg, flt),
        "imagery": picture.metadata() if picture is not None else None,
        "vocabularies": {
            "activity_type": [m.value for m in ActivityType],
            "hazard_status": [m.value for m in HazardStatus],
            "item_category": [m.value for m in ItemCategory],
            "item_state": [m.value for m in ItemState],
            "release_route": [m.value for m in ReleaseRoute],
        },
    }
    return json_response(dumps(body))


@router.get("/api/choices", summary="Hazards and teams to pick from in the daily report form (no geometry)")
def choices(request: Request) -> Response:
    user = reader(request)
    backend = registers(request).get().backend
    flt = Filter(organisation=seen_by(user))
    hazards = [
        {"id": rid, "name": v["name"], "status": v["status"], "priority": v["priority"]}
        for rid, v, _ in query.select(backend, layer("hazard"), flt)
    ]
    teams = [
        {"id": rid, "name": v["name"], "kind": v["kind"]} for rid, v, _ in query.select(backend, layer("team"), flt)
    ]
    return json_response(dumps({"hazards": hazards, "teams": teams}))


@router.get("/api/buffers", summary="Buffers of the protected sites near a box, as GeoJSON polygons")
def buffers(request: Request, bbox: Annotated[str, Query(max_length=400)]) -> Response:
    """A site's buffer (``buffer_m``) drawn exactly, polygons included, measured in metres (UTM)."""
    user = reader(request)
    box = parse_bbox(bbox)
    backend = registers(request).get().backend
    lay = layer("site")
    widest = float(backend.maximum(lay, "buffer_m") or 0.0)
    flt = Filter(bbox=search_box(box, widest), organisation=seen_by(user))
    rows = [r for r in query.select(backend, lay, flt, limit=MAX_BUFFERS) if (r[1]["buffer_m"] or 0) > 0]
    geoms = backend.decode_geometries([raw for _, _, raw in rows])
    features = []
    for (rid, values, _), geom in zip(rows, geoms):
        if geom is None or geom.is_empty:
            continue
        epsg = metric_epsg_for(geom)
        zone = to_wgs84(to_metric(geom, epsg).buffer(float(values["buffer_m"]), quad_segs=12), epsg)
        props = {"name": values["name"], "kind": values["kind"], "buffer_m": values["buffer_m"]}
        features.append({"type": "Feature", "id": rid, "geometry": zone.__geo_interface__, "properties": props})
    return json_response(dumps({"type": "FeatureCollection", "features": features}), "application/geo+json")


@router.get("/api/progress", summary="Day by day: land released by route, area worked, items found, still hazardous")
def progress(
    request: Request,
    on: date | None = None,
    days: Annotated[int, Query(ge=1, le=3660)] = 60,
) -> Response:
    user = reader(request)
    backend = registers(request).get().backend
    flt = Filter(organisation=seen_by(user))
    end = on or date.today()
    start = end - timedelta(days=days - 1)
    released: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    before = 0.0
    for day, route, _n, area in query.sums(backend, layer("release"), flt, ["released_on", "route"], ["area_m2"]):
        day = _day(day)
        if day is None or day > end:
            continue
        if day < start:
            before += float(area or 0)
        else:
            released[day][route] += float(area or 0)
    worked: dict[date, tuple[int, float]] = {}
    for day, n, area in query.sums(backend, layer("report"), flt, ["report_date"], ["area_m2"]):
        if (d := _day(day)) is not None and start <= d <= end:
            worked[d] = (int(n), float(area or 0))
    item_days = Filter(organisation=flt.organisation, date_column="found_on", date_from=start, date_to=end)
    found = {_day(day): int(n) for day, n in query.sums(backend, layer("item"), item_days, ["found_on"])}
    original = sum(float(r[1] or 0) for r in query.sums(backend, layer("hazard"), flt, [], ["original_area_m2"]))
    series, done = [], before
    for i in range(days):
        day = start + timedelta(days=i)
        routes = released.get(day, {})
        done += sum(routes.values())
        n, area = worked.get(day, (0, 0.0))
        series.append(
            {
                "day": day.isoformat(),
                "released_m2": {r.value: round(routes.get(r.value, 0.0), 1) for r in ReleaseRoute},
                "reports": n,
                "worked_m2": round(area, 1),
                "items_found": found.get(day, 0),
                "still_hazardous_m2": round(max(original - done, 0.0), 1),
            }
        )
    body = {"from": start.isoformat(), "to": end.isoformat(), "original_m2": round(original, 1), "days": series}
    return json_response(dumps(body))


def _latest_plan(reg: Any, flt: Filter) -> dict[str, Any] | None:
    """The newest stored plan the user may see: its record id (sectors and lanes name it) and number."""
    lay = _has("plan")
    if lay is None:
        return None
    found = query.sums(reg.backend, lay, flt, ["id", "number"])
    if not found:
        return None
    plan_id, number, _count = max(found, key=lambda row: int(row[1]))
    return {"id": int(plan_id), "number": int(number)}


@router.get("/api/plan", summary="A stored plan as a Gantt (team rows) and its burn-down (work and area left per day)")
def plan_view(request: Request, number: Annotated[int | None, Query(ge=1, le=2**31)] = None) -> Response:
    user = reader(request)
    backend = registers(request).get().backend
    flt = Filter(organisation=seen_by(user))
    plan_lay, work_lay, day_lay = _has("plan"), _has("assignment"), _has("plan_day")
    if plan_lay is None or work_lay is None or day_lay is None:
        raise ApiError(404, N_("this register has no plan layers"))
    plans = {int(v["number"]): (rid, v) for rid, v, _ in query.select(backend, plan_lay, flt)}
    if not plans:
        raise ApiError(404, N_("no plan is stored yet: make one with `sapper plan` or on this page"))
    if number is not None and number not in plans:
        stored = ", ".join(map(str, sorted(plans)))
        raise ApiError(404, N_("no plan {number}; the plans are {plans}"), params={"number": number, "plans": stored})
    plan_id, plan = plans[max(plans) if number is None else number]
    of_plan = Filter(where={"plan_id": plan_id}, **_org(flt))
    work = [v for _, v, _ in query.select(backend, work_lay, of_plan)]
    work.sort(key=lambda v: (v["team_id"], v["day"], v["start"]))
    names = {rid: v["name"] for rid, v, _ in query.select(backend, layer("team"), flt)}
    hazards = {
        rid: {"name": v["name"], "priority": v["priority"]} for rid, v, _ in query.select(backend, layer("hazard"), flt)
    }
    body = {
        "plan": plan | {"id": plan_id},
        "numbers": sorted(plans),
        "teams": _gantt(work, names),
        "hazards": {str(h): hazards.get(h, {"name": f"hazard {h}"}) for h in sorted({w["hazard_id"] for w in work})},
        "days": sorted((_day_row(v) for _, v, _ in query.select(backend, day_lay, of_plan)), key=lambda d: d["day"]),
    }
    return json_response(dumps(body))


def _org(flt: Filter) -> dict[str, Any]:
    return {"organisation": flt.organisation}


def _gantt(work: list[dict[str, Any]], names: dict[int, str]) -> list[dict[str, Any]]:
    """One row per team; a bar per run of consecutive team-days on the same hazard."""
    rows: dict[int, dict[str, Any]] = {}
    for w in work:
        team = int(w["team_id"])
        row = rows.setdefault(team, {"team_id": team, "name": names.get(team, f"team {team}"), "bars": []})
        bars = row["bars"]
        if bars and bars[-1]["hazard_id"] == w["hazard_id"]:
            bar = bars[-1]
            bar["end"] = w["day"]
        else:
            bar = {"hazard_id": w["hazard_id"], "start": w["day"], "end": w["day"], "hours": 0.0, "sectors": []}
            bars.append(bar)
        bar["hours"] = round(bar["hours"] + float(w["hours"] or 0), 2)
        if w["sector_id"] not in bar["sectors"]:
            bar["sectors"].append(w["sector_id"])
    for row in rows.values():
        for bar in row["bars"]:
            bar["sectors"] = len(bar["sectors"])
    return [rows[t] for t in sorted(rows)]


# a burn-down row's own fields, without the bookkeeping every record has
_DAY_FIELDS = [f.name for f in fields(PlanDay) if f.name not in {g.name for g in fields(Record)} | {"plan_id"}]


def _day_row(values: dict[str, Any]) -> dict[str, Any]:
    return {name: values[name] for name in _DAY_FIELDS}
