"""What the PDF documents say, as plain values for their templates, read from the register.

Every read goes through ``sapper.store.query`` with the reader's organisation, so a document
made for a user counts only what that user may see (None: everything, as on the command line).
The sitrep document repeats the figures of ``sapper.report.sitrep`` (the web sitrep's) and adds
what a page needs besides: the figures by team, items by category and state, a map and charts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sapper.i18n import N_, _, vocabulary
from sapper.model.enums import ItemState, ReleaseRoute
from sapper.report.document_charts import stacked_bars
from sapper.report.maps import RELEASE_FILL, MapLayers, draw_map
from sapper.report.pdf import png_uri
from sapper.report.sitrep import DISPOSED, sitrep
from sapper.store import query
from sapper.store.query import Filter
from sapper.store.register import Register
from sapper.store.schema import layer

# The days a situation report can be made for: the forecast counts weeks back and months ahead.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
ROUTES = [r.value for r in ReleaseRoute]
STATES = [s.value for s in ItemState]
STATE_COLOURS = {"found": "#b2182b", "rendered_safe": "#fdae61", "removed": "#4393c3", "destroyed_in_place": "#4d4d4d"}
NO_TEAM = N_("no team recorded")


def rows(reg: Register, kind: str, flt: Filter, geometry: bool = True) -> list[tuple[int, dict[str, Any], Any]]:
    """(id, values, shapely geometry or None) of the rows the filter lets through, in id order."""
    found = query.select(reg.backend, layer(kind), flt)
    if not geometry or not found:
        return [(rid, values, None) for rid, values, _ in found]
    geoms = reg.backend.decode_geometries([raw for _, _, raw in found])
    return [(rid, values, geom) for (rid, values, _), geom in zip(found, geoms)]


def team_names(reg: Register, organisation: str | None) -> dict[int, str]:
    return {rid: values["name"] for rid, values, _ in rows(reg, "team", Filter(organisation=organisation), False)}


def team_name(names: dict[int, str], team_id: Any) -> str:
    """The team's name, or words in the reader's language when the register names none."""
    if team_id is None:
        return _(NO_TEAM)
    return names.get(int(team_id)) or _("team {id}", id=team_id)


def _day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value)[:10])


def latest_stored_plan(reg: Register) -> dict[str, Any] | None:
    """The newest plan written into the register, as the sitrep repeats it (its finish dates)."""
    from sapper.store.plans import latest_plan

    plan = latest_plan(reg)
    if plan is None:
        return None
    finish = {p: getattr(plan, f"finish_{p}") for p in ("p50", "p80", "p90", "p95")}
    finish = {p: d.isoformat() for p, d in finish.items() if d is not None}
    return {"id": plan.id, "number": plan.number, "source": "stored", "finish": finish}


def sitrep_document(
    reg: Register, on: date, organisation: str | None = None, plan: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The daily situation report's values: the web sitrep's figures, by team, items, map, charts."""
    if not FIRST_DAY <= on <= LAST_DAY:
        raise ValueError(f"day {on.isoformat()}: give a day between {FIRST_DAY} and {LAST_DAY}")
    figures = sitrep(reg, on, organisation, plan)
    names = team_names(reg, organisation)
    teams = _by_team(reg, on, organisation, names)
    items = items_by_state(reg, Filter(organisation=organisation))
    team_chart = [(t["team"], {r: t["released_total"][r] / 10_000 for r in ROUTES}) for t in teams]
    item_chart = [(vocabulary.label(row["category"]), row["states"]) for row in items["rows"]]
    charts = {
        "by_team": png_uri(stacked_bars(team_chart, RELEASE_FILL, N_("land released in total (ha)")))
        if teams
        else None,
        "by_item": png_uri(stacked_bars(item_chart, STATE_COLOURS, N_("items"))) if items["rows"] else None,
    }
    return {
        "title": "Daily situation report",
        "on": on.isoformat(),
        "sitrep": figures,
        "routes": ROUTES,
        "teams": teams,
        "items": items,
        "map": png_uri(draw_map(_sitrep_map(reg, on, organisation))),
        "charts": charts,
    }


def _team_figures() -> dict[str, Any]:
    return {
        "released_today": dict.fromkeys(ROUTES, 0.0),
        "released_total": dict.fromkeys(ROUTES, 0.0),
        "worked_today": 0.0,
        "worked_total": 0.0,
        "reports_today": 0,
        "items_total": 0,
    }


def _by_team(reg: Register, on: date, organisation: str | None, names: dict[int, str]) -> list[dict[str, Any]]:
    """Per team: land released today and in total by route, area worked and items found (daily reports)."""
    flt = Filter(organisation=organisation)
    teams: dict[Any, dict[str, Any]] = defaultdict(_team_figures)
    sums = query.sums(reg.backend, layer("release"), flt, ["team_id", "route", "released_on"], ["area_m2"])
    for team_id, route, day, _n, area in sums:
        day = _day(day)
        if day is None or day > on:
            continue
        teams[team_id]["released_total"][route] += float(area or 0)
        if day == on:
            teams[team_id]["released_today"][route] += float(area or 0)
    sums = query.sums(reg.backend, layer("report"), flt, ["team_id", "report_date"], ["area_m2"])
    for team_id, day, n, area in sums:
        day = _day(day)
        if day is None or day > on:
            continue
        teams[team_id]["worked_total"] += float(area or 0)
        if day == on:
            teams[team_id]["worked_today"] += float(area or 0)
            teams[team_id]["reports_today"] += int(n)
    for team_id, n in query.sums(reg.backend, layer("item"), flt, ["team_id"]):
        teams[team_id]["items_total"] += int(n)
    out = []
    for team_id, values in teams.items():
        values["released_today_all"] = sum(values["released_today"].values())
        values["released_total_all"] = sum(values["released_total"].values())
        if values["released_total_all"] or values["worked_total"] or values["items_total"]:
            out.append({"team_id": team_id, "team": team_name(names, team_id), **values})
    return sorted(out, key=lambda t: (t["team_id"] is None, t["team"]))


def items_by_state(reg: Register, flt: Filter) -> dict[str, Any]:
    """Items by category and state (the sitrep's totals, the month's items), split by what became of them."""
    table: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATES, 0))
    for category, state, n in query.sums(reg.backend, layer("item"), flt, ["category", "state"]):
        table[category][state] += int(n)
    out = [
        {
            "category": category,
            "states": states,
            "total": sum(states.values()),
            "disposed": sum(n for s, n in states.items() if s in DISPOSED),
        }
        for category, states in sorted(table.items())
    ]
    totals = {s: sum(row["states"][s] for row in out) for s in STATES}
    disposed = sum(row["disposed"] for row in out)
    return {"states": STATES, "rows": out, "totals": totals, "total": sum(totals.values()), "disposed": disposed}


def _sitrep_map(reg: Register, on: date, organisation: str | None) -> MapLayers:
    flt = Filter(organisation=organisation)
    layers = MapLayers()
    for _rid, values, geom in rows(reg, "hazard", flt):
        if geom is not None and not geom.is_empty:
            layers.hazards.append((geom, values["hazard_class"]))
    for _rid, values, geom in rows(reg, "release", flt):
        day = _day(values["released_on"])
        if geom is not None and day is not None and day <= on:
            layers.released.append((geom, values["route"]))
    layers.sites = [(geom, float(v["buffer_m"] or 0)) for _r, v, geom in rows(reg, "site", flt) if geom is not None]
    for _rid, values, geom in rows(reg, "item", flt):
        day = _day(values["found_on"])
        if geom is not None and (day is None or day <= on):
            layers.items.append((geom, values["state"] in DISPOSED))
    for _rid, values, geom in rows(reg, "qc_sample", flt):  # as inspected by the day; pending until then
        inspected = _day(values["inspected_on"])
        result = values["result"] if inspected is not None and inspected <= on else "pending"
        if geom is not None:
            layers.qc_samples.append((geom, result))
    return layers
