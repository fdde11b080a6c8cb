"""The monthly report: a month's land release, explosive ordnance, team-days and quality control.

What a national mine action authority asks of its operators each month (IMAS 05.10,
"Information management"): land released by route (IMAS 07.11: cancelled, reduced, cleared),
items found by category and what became of them, the effort spent (team-days), accidents and
quality management (IMAS 09.20). Grouped by organisation (the ``organisation`` field of each
record) and team, and by organisation and donor: a donor funds a task, and work is attributed to
a donor through its task (sapper.report.donors). The register records no accidents: the
report says so instead of printing a zero.

Items carry the day they were found but not the day they were disposed of, so "disposed of"
counts the items found in the month that are disposed of now. A team-day is one team
reporting work on one day (distinct team and day of the month's daily reports).
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from datetime import date
from typing import Any

from sapper.i18n import N_, vocabulary
from sapper.model.errors import SapperError
from sapper.report.document_charts import stacked_bars
from sapper.report.documents import ROUTES, STATE_COLOURS, items_by_state, rows, team_name, team_names
from sapper.report.donors import NO_ORGANISATION, by_donor, shown
from sapper.report.maps import RELEASE_FILL, MapLayers, draw_map
from sapper.report.pdf import png_uri
from sapper.report.sitrep import DISPOSED
from sapper.store import query
from sapper.store.query import Filter
from sapper.store.register import Register
from sapper.store.schema import layer

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> tuple[date, date]:
    """The first and last day of a month given as YYYY-MM."""
    found = MONTH.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or not 1900 <= int(found.group(1)) <= 2999:
        raise SapperError(f"month {text!r}: give it as YYYY-MM, e.g. 2016-04 (years 1900 to 2999)")
    year, month = int(found.group(1)), int(found.group(2))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def file_name(month: str, owner: str | None) -> str:
    """monthly-YYYY-MM[-organisation].pdf, with only letters, digits, - and _ from the organisation's name."""
    suffix = "-" + re.sub(r"[^A-Za-z0-9_-]+", "_", owner).strip("_") if owner else ""
    return f"monthly-{month}{suffix}.pdf"


def monthly_document(
    reg: Register, month: str, owner: str | None = None, organisation: str | None = None
) -> dict[str, Any]:
    """The monthly report's values: ``owner`` keeps one organisation's records, ``organisation``
    is what the reader may see (None: everything)."""
    first, last = parse_month(month)
    where = {"organisation": owner} if owner else {}

    def within(column: str) -> Filter:
        return Filter(where=dict(where), date_column=column, date_from=first, date_to=last, organisation=organisation)

    names = team_names(reg, organisation)
    groups = _groups(reg, within, names)
    released = {r: sum(g["released"][r] for g in groups) for r in ROUTES}
    items = items_by_state(reg, within("found_on"))
    chart_rows = [(f"{g['organisation']}: {g['team']}", {r: g["released"][r] / 10_000 for r in ROUTES}) for g in groups]
    item_rows = [(vocabulary.label(row["category"]), row["states"]) for row in items["rows"]]
    return {
        "title": "Monthly report",
        "month": month.strip(),
        "first": first.isoformat(),
        "last": last.isoformat(),
        "owner": owner,
        "routes": ROUTES,
        "groups": groups,
        "organisations": _by_organisation(groups),
        "donors": by_donor(reg, within, organisation),
        "released": released,
        "released_all": sum(released.values()),
        "team_days": sum(g["team_days"] for g in groups),
        "worked": sum(g["worked"] for g in groups),
        "items": items,
        "qc": _qc(reg, within),
        "charts": {
            "released": png_uri(stacked_bars(chart_rows, RELEASE_FILL, N_("land released in the month (ha)")))
            if any(sum(v.values()) for _, v in chart_rows)
            else None,
            "items": png_uri(stacked_bars(item_rows, STATE_COLOURS, N_("items found in the month")))
            if item_rows
            else None,
        },
        "map": png_uri(draw_map(_map(reg, within, Filter(where=dict(where), organisation=organisation)))),
    }


def _groups(reg: Register, within: Any, names: dict[int, str]) -> list[dict[str, Any]]:
    """Per organisation and team: team-days, area worked, land released by route, items found."""
    table: dict[tuple[str, Any], dict[str, Any]] = defaultdict(
        lambda: {"team_days": 0, "worked": 0.0, "released": dict.fromkeys(ROUTES, 0.0), "found": 0}
    )
    group = ["organisation", "team_id"]
    for org, team, _day, _n, area in query.sums(
        reg.backend, layer("report"), within("report_date"), [*group, "report_date"], ["area_m2"]
    ):
        table[(org or NO_ORGANISATION, team)]["worked"] += float(area or 0)
        if team is not None:
            table[(org or NO_ORGANISATION, team)]["team_days"] += 1
    sums = query.sums(reg.backend, layer("release"), within("released_on"), [*group, "route"], ["area_m2"])
    for org, team, route, _n, area in sums:
        table[(org or NO_ORGANISATION, team)]["released"][route] += float(area or 0)
    for org, team, n in query.sums(reg.backend, layer("item"), within("found_on"), group):
        table[(org or NO_ORGANISATION, team)]["found"] += int(n)
    out = [
        {
            "organisation": shown(org),
            "team": team_name(names, team),
            **values,
            "released_all": sum(values["released"].values()),
        }
        for (org, team), values in table.items()
    ]
    return sorted(out, key=lambda g: (g["organisation"], g["team"]))


def _by_organisation(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for g in groups:
        org = table.setdefault(
            g["organisation"],
            {"organisation": g["organisation"], "team_days": 0, "worked": 0.0, "found": 0, "released": {}},
        )
        org["team_days"] += g["team_days"]
        org["worked"] += g["worked"]
        org["found"] += g["found"]
        for route in ROUTES:
            org["released"][route] = org["released"].get(route, 0.0) + g["released"][route]
    for org in table.values():
        org["released_all"] = sum(org["released"].values())
    return sorted(table.values(), key=lambda o: o["organisation"])


def _qc(reg: Register, within: Any) -> dict[str, Any]:
    """QC samples inspected, QC plans made and QA visits of the month, by result (IMAS 09.20)."""
    samples = dict.fromkeys(("passed", "failed", "pending"), 0)
    for result, n in query.sums(reg.backend, layer("qc_sample"), within("inspected_on"), ["result"]):
        samples[result] = samples.get(result, 0) + int(n)
    plans: dict[str, int] = {}
    for status, n in query.sums(reg.backend, layer("qc_plan"), within("made_on"), ["status"]):
        plans[status] = int(n)
    visits: dict[str, int] = {}
    for result, n in query.sums(reg.backend, layer("qa_visit"), within("visited_on"), ["result"]):
        visits[result] = int(n)
    failed = [
        {"label": v["label"], "hazard": v["hazard_id"], "on": v["inspected_on"], "notes": v["notes"] or "–"}
        for _rid, v, _g in rows(reg, "qc_sample", within("inspected_on"), False)
        if v["result"] == "failed"
    ]
    return {"samples": samples, "plans": plans, "visits": visits, "failed": failed}


def _map(reg: Register, within: Any, owned: Filter) -> MapLayers:
    """Hazards as they are now, the month's releases, items found and QC samples inspected."""
    layers = MapLayers()
    layers.hazards = [(g, v["hazard_class"]) for _, v, g in rows(reg, "hazard", owned) if g is not None]
    layers.released = [(g, v["route"]) for _, v, g in rows(reg, "release", within("released_on")) if g is not None]
    layers.items = [(g, v["state"] in DISPOSED) for _, v, g in rows(reg, "item", within("found_on")) if g is not None]
    samples = rows(reg, "qc_sample", within("inspected_on"))
    layers.qc_samples = [(g, v["result"]) for _, v, g in samples if g is not None]
    return layers
