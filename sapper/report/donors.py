"""The month's work by organisation and donor, for the monthly report to donors.

A donor funds a task (an activity: its ``donor`` field). Daily reports, releases and items do not
name a donor, so each is attributed through a task: a daily report through the task it names
(``activity_id``), a release through its daily report's task, and otherwise through the task of
the same team on the same hazard with a donor whose dates (when given) include the day. Work with
no such task, or with tasks of several donors, counts under "no donor recorded". A team that worked for two
donors on one day counts one team-day for each.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sapper.i18n import N_, translate
from sapper.report.documents import ROUTES, rows
from sapper.store import query
from sapper.store.query import Filter
from sapper.store.register import Register
from sapper.store.schema import layer

# Groups of work the register names no donor or organisation for: grouped and sorted under these
# words, shown in the reader's language (``shown``).
NO_DONOR = N_("no donor recorded")
NO_ORGANISATION = N_("no organisation recorded")


def shown(name: str) -> str:
    """A donor's or organisation's name as a page shows it: the words for none in the reader's language."""
    return translate(name) if name in (NO_DONOR, NO_ORGANISATION) else name


class Tasks:
    """The tasks a reader may see, to find the donor of a piece of work."""

    def __init__(self, reg: Register, organisation: str | None) -> None:
        self.donor: dict[int, str | None] = {}
        self.of_team: dict[tuple[Any, Any], list[tuple[date | None, date | None, str | None]]] = defaultdict(list)
        for rid, v, _ in rows(reg, "activity", Filter(organisation=organisation), False):
            donor = (v["donor"] or "").strip() or None
            self.donor[rid] = donor
            if v["team_id"] is not None and v["hazard_id"] is not None:
                self.of_team[(v["team_id"], v["hazard_id"])].append((_day(v["start_on"]), _day(v["end_on"]), donor))

    def donor_of(self, task: Any, team: Any, hazard: Any, day: date | None) -> str:
        """The donor of the named task, else of the team's task on the hazard that day."""
        if task is not None and task in self.donor:
            return self.donor[task] or NO_DONOR
        donors = {
            donor
            for start, end, donor in self.of_team.get((team, hazard), [])
            if donor and (day is None or ((start is None or start <= day) and (end is None or day <= end)))
        }
        return donors.pop() if len(donors) == 1 else NO_DONOR


def by_donor(reg: Register, within: Any, organisation: str | None) -> list[dict[str, Any]]:
    """Per organisation and donor: team-days, area worked, land released by route, items found."""
    tasks = Tasks(reg, organisation)
    table: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"days": set(), "worked": 0.0, "released": dict.fromkeys(ROUTES, 0.0), "found": 0}
    )
    group = ["organisation", "team_id", "hazard_id"]
    worked = query.sums(
        reg.backend, layer("report"), within("report_date"), [*group, "activity_id", "report_date"], ["area_m2"]
    )
    for org, team, hazard, task, day, _n, area in worked:
        values = table[(org or NO_ORGANISATION, tasks.donor_of(task, team, hazard, _day(day)))]
        values["worked"] += float(area or 0)
        if team is not None:
            values["days"].add((team, day))
    releases = query.sums(
        reg.backend, layer("release"), within("released_on"), [*group, "report_id", "released_on", "route"], ["area_m2"]
    )
    task_of_report = _tasks_of_reports(reg, {r[3] for r in releases if r[3] is not None}, organisation)
    for org, team, hazard, report, day, route, _n, area in releases:
        donor = tasks.donor_of(task_of_report.get(report), team, hazard, _day(day))
        table[(org or NO_ORGANISATION, donor)]["released"][route] += float(area or 0)
    for org, team, hazard, day, n in query.sums(reg.backend, layer("item"), within("found_on"), [*group, "found_on"]):
        table[(org or NO_ORGANISATION, tasks.donor_of(None, team, hazard, _day(day)))]["found"] += int(n)
    out = [
        {
            "organisation": org,
            "donor": donor,
            "team_days": len(values["days"]),
            "worked": values["worked"],
            "released": values["released"],
            "released_all": sum(values["released"].values()),
            "found": values["found"],
        }
        for (org, donor), values in table.items()
    ]
    out.sort(key=lambda d: (d["organisation"], d["donor"] == NO_DONOR, d["donor"]))
    return [{**d, "organisation": shown(d["organisation"]), "donor": shown(d["donor"])} for d in out]


def _tasks_of_reports(reg: Register, ids: set[int], organisation: str | None) -> dict[int, Any]:
    if not ids:
        return {}
    found = rows(reg, "report", Filter(ids=sorted(ids), organisation=organisation), False)
    return {rid: v["activity_id"] for rid, v, _ in found}


def _day(value: Any) -> date | None:
    """A date as the backend returns it (a date on PostGIS, ISO text in a GeoPackage)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
