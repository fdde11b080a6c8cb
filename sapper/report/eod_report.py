"""The EOD task report: what an explosive ordnance disposal spot task found and how it disposed of it.

IMAS 09.30 ("Explosive ordnance disposal") asks that every EOD task be recorded: where and
when it was done and by which team, each item found (category, type, fuze state, condition,
depth, position) and how it was disposed of (destroyed in place, moved, rendered safe), the
danger area kept while a demolition was fired, and who signs for the task. The register holds
an EOD task in one of two ways: an activity of type ``eod_spot`` (its items: those its team
found on its hazard between its first and last day, as items carry no activity link; its
daily reports: those naming it), or, where EOD teams only report (the Palmyra scenario), a
daily report of type ``eod_spot`` (its items: those found on its hazard on its day).

The register records no fuze field: the item's ``condition`` carries it (the field form asks
"intact, corroded, fuzed, damaged"). Nor does it record the danger radius used: it is
computed from the item's category with the UN SaferGuard formulae of the planner's data
(``sapper/plan/rules/data/safety.toml``, whose all-up weights are labelled assumptions there).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sapper.model.enums import ActivityType, ItemCategory
from sapper.model.errors import SapperError
from sapper.model.records import Activity, Report
from sapper.plan.rules.safety import Safety, load_safety
from sapper.report.documents import rows, team_name, team_names
from sapper.report.maps import MapLayers, draw_map
from sapper.report.pdf import png_uri
from sapper.report.sitrep import DISPOSED
from sapper.store.query import Filter
from sapper.store.register import Register

# How an item's state says it was disposed of (IMAS 09.30 disposal options).
DISPOSAL = {
    "destroyed_in_place": "destroyed in place (demolition)",
    "removed": "moved (removed for disposal elsewhere)",
    "rendered_safe": "rendered safe",
    "found": "not yet disposed of",
}


@dataclass(frozen=True)
class EodTask:
    """An EOD spot task as the register holds it: an ``eod_spot`` activity or an ``eod_spot`` daily report."""

    kind: str  # "activity" or "report"
    id: int
    hazard_id: int | None
    team_id: int | None
    start_on: date | None
    end_on: date | None
    status: str
    notes: str
    items: dict[str, Any]  # which items are the task's (equality filters), found between start_on and end_on
    reports: Filter  # the daily reports of the task (less the reader's organisation)


def eod_task(reg: Register, kind: str, record_id: int) -> EodTask:
    """The task of an EOD activity (its team's items on its hazard in its days, the reports naming it)
    or of an EOD daily report (every item found on its hazard on its day: items name the team that
    found them, not the EOD team that disposed of them)."""
    if kind == "activity":
        task: Activity = reg.get("activity", record_id)
        _check(task.activity_type, f"activity {record_id}")
        where = {k: v for k, v in (("hazard_id", task.hazard_id), ("team_id", task.team_id)) if v is not None}
        reports = Filter(where={"activity_id": record_id})
        return EodTask(kind, record_id, task.hazard_id, task.team_id, task.start_on, task.end_on,
                       task.status.value, task.notes, where or {"id": -1}, reports)  # fmt: skip
    report: Report = reg.get("report", record_id)
    _check(report.activity_type, f"report {record_id}")
    where = {"hazard_id": report.hazard_id} if report.hazard_id is not None else {"id": -1}
    return EodTask(kind, record_id, report.hazard_id, report.team_id, report.report_date, report.report_date,
                   "reported", report.notes, where, Filter(ids=[record_id]))  # fmt: skip


def _check(activity: ActivityType, what: str) -> None:
    if activity != ActivityType.EOD_SPOT:
        raise SapperError(f"{what} is a {activity.value} task, not an EOD spot task (eod_spot)")


def eod_document(reg: Register, kind: str, record_id: int, organisation: str | None = None) -> dict[str, Any]:
    """The EOD task report's values; the caller has checked the reader may see the activity or report."""
    task = eod_task(reg, kind, record_id)
    names = team_names(reg, organisation)
    items_filter = Filter(where=task.items, date_column="found_on", date_from=task.start_on, date_to=task.end_on,
                          organisation=organisation)  # fmt: skip
    found = rows(reg, "item", items_filter)
    reports = rows(reg, "report", replace(task.reports, organisation=organisation), False)
    hazard = _hazard(reg, task, organisation)
    safety = load_safety()
    items = [_item(rid, values, geom, safety) for rid, values, geom in found]
    demolitions = [i for i in items if i["state"] == "destroyed_in_place"]
    days = sorted({str(v["report_date"]) for _, v, _ in reports} | {str(i["found_on"]) for i in items if i["found_on"]})
    return {
        "title": "EOD task report",
        "task": task,
        "team": _team(reg, task, names, organisation),
        "hazard": hazard,
        "dates": {
            "start": task.start_on or (days[0] if days else None),
            "end": task.end_on or (days[-1] if days else None),
            "worked": len({str(v["report_date"]) for _, v, _ in reports}),
        },
        "items": items,
        "by_disposal": _by_disposal(items),
        "still_found": sum(1 for i in items if i["state"] not in DISPOSED),
        "danger": {
            "radius_m": max((i["danger_m"] for i in demolitions), default=0.0),
            "demolitions": len(demolitions),
        },
        "reports": [
            {"id": rid, "on": v["report_date"], "by": v["reported_by"] or "–", "found": v["items_found"]}
            for rid, v, _ in sorted(reports, key=lambda r: (str(r[1]["report_date"]), r[0]))
        ],
        "map": png_uri(draw_map(_map(hazard, found, items), height_in=4.6)),
    }


def _hazard(reg: Register, task: EodTask, organisation: str | None) -> dict[str, Any] | None:
    if task.hazard_id is None:
        return None
    found = rows(reg, "hazard", Filter(ids=[task.hazard_id], organisation=organisation))
    if not found:
        return None  # the reader may not see it: the report names no hidden hazard
    rid, values, geom = found[0]
    return {"id": rid, "name": values["name"], "class": values["hazard_class"], "geometry": geom}


def _team(reg: Register, task: EodTask, names: dict[int, str], organisation: str | None) -> dict[str, Any]:
    found = rows(reg, "team", Filter(ids=[task.team_id], organisation=organisation), False) if task.team_id else []
    values = found[0][1] if found else {}
    return {
        "name": team_name(names, task.team_id),
        "kind": values.get("kind") or "–",
        "personnel": values.get("personnel"),
        "organisation": values.get("organisation") or "–",
    }


def _item(rid: int, values: dict[str, Any], geom: Any, safety: Safety) -> dict[str, Any]:
    point = geom.representative_point() if geom is not None and not geom.is_empty else None
    state = values["state"]
    danger = safety.danger_radius(ItemCategory.parse(values["category"])) if state == "destroyed_in_place" else 0
    return {
        "id": rid,
        "category": values["category"],
        "model": values["model"] or "–",
        "condition": values["condition"] or "–",
        "depth": values["depth_cm"],
        "found_on": values["found_on"],
        "state": state,
        "disposal": DISPOSAL.get(state, state),
        "danger_m": danger,
        "lon": point.x if point is not None else None,
        "lat": point.y if point is not None else None,
        "weight": values["weight_kg"],
    }


def _by_disposal(items: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(words, n) for state, words in DISPOSAL.items() if (n := sum(1 for i in items if i["state"] == state))]


def _map(hazard: dict[str, Any] | None, found: list[Any], items: list[dict[str, Any]]) -> MapLayers:
    layers = MapLayers()
    if hazard is not None and hazard["geometry"] is not None and not hazard["geometry"].is_empty:
        layers.hazards.append((hazard["geometry"], hazard["class"]))
    layers.items = [(g, v["state"] in DISPOSED) for _, v, g in found if g is not None]
    layers.danger = [(g, i["danger_m"]) for (_, _, g), i in zip(found, items) if g is not None and i["danger_m"] > 0]
    return layers
