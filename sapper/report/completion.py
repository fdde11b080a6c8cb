"""The completion report of a hazard: the post-clearance documentation of IMAS 08.30.

IMAS 08.30 ("Post-clearance documentation") asks that the land handed back be described so
that it can be found and trusted: its boundary with the coordinates of its turning points,
how each part was released (IMAS 07.11: cancelled, reduced, cleared), by whom, when and by
which methods, to what depth, the explosive ordnance found and what became of each item, the
quality control done, the residual risk, and the signatures of those handing over and
receiving. The values here come from the register: the hazard, its land-release balance, its
daily reports, releases and items, and its quality control plans (IMAS 09.20): the report is a
draft while an inspection is pending or the last plan failed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from sapper.model.enums import HazardStatus
from sapper.model.geometry import metric_epsg_for, search_box, to_metric
from sapper.model.records import Hazard
from sapper.report.document_charts import stacked_bars
from sapper.report.documents import ROUTES, STATE_COLOURS, STATES, rows, team_name, team_names
from sapper.report.maps import RELEASE_FILL, MapLayers, draw_map
from sapper.report.pdf import png_uri
from sapper.report.sitrep import DISPOSED
from sapper.store import query
from sapper.store.query import Filter
from sapper.store.register import Register
from sapper.store.schema import layer

ACTIVITY_NAMES = {
    "nts": "non-technical survey",
    "ts": "technical survey",
    "clearance": "clearance",
    "bac": "battle area clearance",
    "eod_spot": "EOD spot task",
    "route_clearance": "route clearance",
    "inspection": "post-clearance inspection",
}
SITES_AROUND_M = 300.0  # protected sites this close to the boundary are shown on its map


def completion_document(reg: Register, hazard_id: int, organisation: str | None = None) -> dict[str, Any]:
    """The completion report's values; the caller has checked the reader may see the hazard."""
    hazard: Hazard = reg.get("hazard", hazard_id)
    children = Filter(where={"hazard_id": hazard_id}, organisation=organisation)
    releases = rows(reg, "release", children)
    reports = rows(reg, "report", children)
    items = rows(reg, "item", children)
    names = team_names(reg, organisation)
    boundary = original_boundary(reg, hazard, [g for _, _, g in releases])
    bal = reg.balance(hazard_id)
    areas = {"original": bal.original, **{r: getattr(bal, r) for r in ROUTES}, "hazardous": bal.hazardous}
    still_found = sum(1 for _, v, _ in items if v["state"] not in DISPOSED)
    qc = qc_summary(reg, hazard_id, organisation)
    complete = hazard.status == HazardStatus.RELEASED and still_found == 0 and qc["state"] in ("none", "passed")
    points = turning_points(boundary) if boundary is not None else []
    chart = [("this hazard", {**{r: areas[r] for r in ROUTES}, "still hazardous": areas["hazardous"]})]
    colours = {**RELEASE_FILL, "still hazardous": "#FF0000"}
    return {
        "title": "Completion report",
        "hazard": hazard,
        "complete": complete,
        "still_found": still_found,
        "areas": areas,
        "routes": ROUTES,
        "turning_points": points,
        "crs": points[0]["crs"] if points else "",
        "releases": _releases(releases, names),
        "work": _work(reports, releases, names),
        "methods": sorted({ACTIVITY_NAMES.get(v["activity_type"], v["activity_type"]) for _, v, _ in reports}),
        "dates": _dates(reports, releases),
        "depth": _depth(hazard, releases, items),
        "items": _items(items, names),
        "item_states": _item_states(items),
        "qc": qc["rows"],
        "qc_state": qc["state"],
        "qc_samples": qc["samples"],
        "map": png_uri(draw_map(_map(reg, hazard, boundary, releases, items, points, organisation), height_in=4.2)),
        "chart": png_uri(stacked_bars(chart, colours, "m²", width_in=7.0)),
    }


def qc_summary(reg: Register, hazard_id: int, organisation: str | None = None) -> dict[str, Any]:
    """The hazard's QC plans and failed samples as table rows, every sample unit, and the state of
    the latest plan: none, pending (samples not yet inspected), failed or passed."""
    flt = Filter(where={"hazard_id": hazard_id}, organisation=organisation)
    seen = query.ids(reg.backend, layer("qc_plan"), flt) | query.ids(reg.backend, layer("qc_sample"), flt)
    plans = [p for p in reg.list("qc_plan", where={"hazard_id": hazard_id}) if p.id in seen]
    samples = [s for s in reg.list("qc_sample", where={"hazard_id": hazard_id}) if s.id in seen]
    out: list[dict[str, Any]] = []
    for plan in plans:
        mine = [s for s in samples if s.plan_id == plan.id]
        counts = {r: sum(1 for s in mine if s.result.value == r) for r in ("passed", "failed", "pending")}
        days = sorted(str(s.inspected_on) for s in mine if s.inspected_on is not None)
        out.append(
            {
                "on": days[-1] if days else plan.made_on,
                "what": f"plan {plan.id}: {plan.sample_size} of {plan.lot_cells} cells of {plan.cell_m:g} m, "
                f"{plan.confidence:.0%} confidence at a {plan.defect_rate:.1%} defect limit (seed {plan.seed})",
                "sample": ", ".join(f"{n} {r}" for r, n in counts.items() if n),
                "result": plan.status.value
                + (f": {plan.reason}, {plan.reopened_m2:,.1f} m² reopened" if plan.reason else ""),
            }
        )
        for s in mine:
            if s.result.value == "failed":
                out.append(
                    {"on": s.inspected_on, "what": f"sample {s.label}", "sample": s.inspector, "result": s.notes}
                )
    units = [
        {
            "label": s.label,
            "plan": s.plan_id,
            "area": s.area_m2,
            "result": s.result.value,
            "on": s.inspected_on,
            "inspector": s.inspector,
            "items": s.items_found,
            "geometry": s.geometry,
        }
        for s in samples
    ]
    return {"rows": out, "samples": units, "state": plans[-1].status.value if plans else "none"}


def original_boundary(reg: Register, hazard: Hazard, released: list[BaseGeometry | None]) -> BaseGeometry | None:
    """The hazard's polygon as first recorded (its audit log); else what is left plus what was released."""
    for entry in reg.history("hazard", int(hazard.id or 0)):
        wkt = (entry.after or {}).get("geometry")
        if wkt:
            return shapely.from_wkt(wkt)
    parts = [g for g in [hazard.geometry, *released] if g is not None and not g.is_empty]
    return shapely.union_all(parts) if parts else None


def turning_points(boundary: BaseGeometry) -> list[dict[str, Any]]:
    """Every vertex of every ring (the closing one not repeated), in lon/lat and UTM."""
    epsg = metric_epsg_for(boundary)
    zone = f"UTM {epsg % 100}{'N' if epsg < 32700 else 'S'} (EPSG:{epsg})"
    out: list[dict[str, Any]] = []
    polygons = list(getattr(boundary, "geoms", [boundary]))
    for part, polygon in enumerate(polygons, start=1):
        rings = [("outer", polygon.exterior)] + [(f"hole {i}", r) for i, r in enumerate(polygon.interiors, start=1)]
        for ring_name, ring in rings:
            coords = list(ring.coords)[:-1]
            metric = list(to_metric(shapely.MultiPoint(coords), epsg).geoms) if coords else []
            for (lon, lat), xy in zip(coords, metric):
                ring_label = ring_name if len(polygons) == 1 else f"part {part}, {ring_name}"
                out.append(
                    {
                        "n": len(out) + 1,
                        "ring": ring_label,
                        "lon": lon,
                        "lat": lat,
                        "easting": xy.x,
                        "northing": xy.y,
                        "crs": zone,
                    }
                )
    return out


def _releases(found: list[tuple[int, dict[str, Any], Any]], names: dict[int, str]) -> list[dict[str, Any]]:
    return [
        {
            "id": rid,
            "on": v["released_on"],
            "route": v["route"],
            "area": float(v["area_m2"] or 0),
            "team": team_name(names, v["team_id"]),
            "depth": v["depth_cm"],
        }
        for rid, v, _ in sorted(found, key=lambda r: (str(r[1]["released_on"]), r[0]))
    ]


def _work(reports: list[Any], releases: list[Any], names: dict[int, str]) -> list[dict[str, Any]]:
    """Per team: what it did (activity types), its first and last day, days reported, area worked."""
    teams: dict[Any, dict[str, Any]] = defaultdict(lambda: {"activities": set(), "days": set(), "area": 0.0})
    for _rid, v, _g in reports:
        team = teams[v["team_id"]]
        team["activities"].add(ACTIVITY_NAMES.get(v["activity_type"], v["activity_type"]))
        team["days"].add(str(v["report_date"]))
        team["area"] += float(v["area_m2"] or 0)
    for _rid, v, _g in releases:
        teams[v["team_id"]]["days"].add(str(v["released_on"]))
    return [
        {
            "team": team_name(names, team_id),
            "activities": ", ".join(sorted(t["activities"])) or "release recorded without daily reports",
            "first": min(t["days"]),
            "last": max(t["days"]),
            "days_reported": len(t["days"]),
            "area": t["area"],
        }
        for team_id, t in sorted(teams.items(), key=lambda kv: team_name(names, kv[0]))
        if t["days"]
    ]


def _dates(reports: list[Any], releases: list[Any]) -> dict[str, str | None]:
    worked = [str(v["report_date"]) for _, v, _ in reports]
    released = [str(v["released_on"]) for _, v, _ in releases]
    days = worked + released
    return {
        "started": min(days) if days else None,
        "last_release": max(released) if released else None,
        "reports": str(len(reports)),
    }


def _depth(hazard: Hazard, releases: list[Any], items: list[Any]) -> dict[str, Any]:
    release_depths = sorted({int(v["depth_cm"]) for _, v, _ in releases if v["depth_cm"] is not None})
    item_depths = [float(v["depth_cm"]) for _, v, _ in items if v["depth_cm"] is not None]
    return {
        "required": hazard.clearance_depth_cm,
        "released_at": release_depths,
        "items_min": min(item_depths) if item_depths else None,
        "items_max": max(item_depths) if item_depths else None,
        "items_measured": len(item_depths),
    }


def _items(found: list[Any], names: dict[int, str]) -> list[dict[str, Any]]:
    out = []
    for rid, v, geom in found:
        point = geom.representative_point() if geom is not None and not geom.is_empty else None
        out.append(
            {
                "id": rid,
                "category": v["category"],
                "model": v["model"] or "",
                "state": v["state"],
                "depth": v["depth_cm"],
                "found_on": v["found_on"],
                "team": team_name(names, v["team_id"]),
                "lon": point.x if point is not None else None,
                "lat": point.y if point is not None else None,
            }
        )
    return out


def _item_states(found: list[Any]) -> dict[str, Any]:
    table: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATES, 0))
    for _rid, v, _g in found:
        table[v["category"]][v["state"]] += 1
    return {"states": STATES, "colours": STATE_COLOURS, "rows": sorted(table.items())}


def _map(
    reg: Register,
    hazard: Hazard,
    boundary: BaseGeometry | None,
    releases: list[Any],
    items: list[Any],
    points: list[dict[str, Any]],
    organisation: str | None,
) -> MapLayers:
    layers = MapLayers(outline=boundary, turning_points=[(p["lon"], p["lat"]) for p in points])
    if hazard.geometry is not None and not hazard.geometry.is_empty:
        layers.hazards.append((hazard.geometry, hazard.hazard_class.value))
    layers.released = [(g, v["route"]) for _, v, g in releases if g is not None]
    layers.items = [(g, v["state"] in DISPOSED) for _, v, g in items if g is not None]
    samples = rows(reg, "qc_sample", Filter(where={"hazard_id": hazard.id}, organisation=organisation))
    layers.qc_samples = [(g, v["result"]) for _, v, g in samples if g is not None]
    if boundary is not None:
        around = Filter(bbox=search_box(boundary.bounds, SITES_AROUND_M), organisation=organisation)
        layers.sites = [(g, float(v["buffer_m"] or 0)) for _, v, g in rows(reg, "site", around) if g is not None]
    return layers
