""" "Restricted" covers what hangs off a record, over real HTTP on GeoPackage and PostGIS.

Organisation "ngo" has a restricted hazard; its item, report, release, activity and plan rows
are not restricted themselves, yet another organisation's user and an anonymous visitor (the
server is public) must see none of them: not in lists, by id, in counts, extents, the sitrep,
history or the plan view. Naming a hidden record in a new one answers as naming a missing one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from shapely.geometry import MultiLineString, Point

from sapper.model.plan import Plan, PlanAssignment, PlanLane, PlanPriority, PlanSector
from sapper.model.records import Activity, Item, Report
from sapper.server import create_app
from sapper.store import open_register
from sapper.testing.server import LAT, LON, Served, seeded, serving, square

SECRET_LON, SECRET_LAT = LON + 0.02, LAT + 0.02  # where the demo's restricted hazard lies
FOUND_ON = date(2016, 5, 2)  # a day with no other item found
MISSING = 987_654
VIEWERS = ("super", None)  # a supervisor of "mac", an anonymous visitor
# what hangs off the restricted hazard: (kind, OGC collection or REST list)
CHILDREN = {
    "item": "/ogc/collections/items/items",
    "report": "/ogc/collections/reports/items",
    "release": "/ogc/collections/releases/items",
    "activity": "/api/activities",
    "plan_sector": "/ogc/collections/plan_sectors/items",
    "plan_lane": "/ogc/collections/plan_lanes/items",
}


@dataclass
class Site:
    served: Served
    children: dict[str, int]  # kind -> id of the record hanging off the restricted hazard

    def client(self, user: str | None) -> Any:
        return self.served.client(user)


@pytest.fixture(scope="module")
def site(module_target: str) -> Iterator[Site]:
    demo = seeded(module_target)
    secret, team = demo.secret_hazard, demo.teams[2]
    own = {"organisation": "ngo", "restricted": False}
    reg = open_register(module_target, user="seed")
    try:
        item = reg.add(Item(category="uxo", geometry=Point(SECRET_LON + 0.0005, SECRET_LAT + 0.0005), hazard_id=secret,
                            team_id=team, found_on=FOUND_ON, **own))  # fmt: skip
        task = reg.add(Activity(activity_type="clearance", hazard_id=secret, team_id=team, **own))
        report = reg.add(
            Report(activity_type="clearance", report_date=FOUND_ON, hazard_id=secret, team_id=team,
                   activity_id=task.id, geometry=square(SECRET_LON, SECRET_LAT, 0.0003), **own)
        )  # fmt: skip
        piece = reg.release(secret, "cleared", geometry=square(SECRET_LON, SECRET_LAT, 0.0002), on=FOUND_ON)
        piece = reg.update(dataclasses.replace(piece, **own))
        plan = reg.add(Plan(number=1, **own))
        sector = reg.add(PlanSector(plan_id=plan.id, hazard_id=secret, label="S1", team_id=team,
                                    geometry=square(SECRET_LON, SECRET_LAT, 0.0005), **own))  # fmt: skip
        strip = MultiLineString([[(SECRET_LON, SECRET_LAT), (SECRET_LON + 0.0004, SECRET_LAT)]])
        lane = reg.add(PlanLane(plan_id=plan.id, sector_id=sector.id, team_id=team, geometry=strip, **own))
        reg.add(PlanAssignment(plan_id=plan.id, team_id=team, sector_id=sector.id, hazard_id=secret,
                               day=FOUND_ON, hours=6, **own))  # fmt: skip
        reg.add(PlanPriority(plan_id=plan.id, hazard_id=secret, rank=1, score=1.0, **own))
    finally:
        reg.close()
    children = {
        "item": item.id, "report": report.id, "release": piece.id, "activity": task.id,
        "plan_sector": sector.id, "plan_lane": lane.id,
    }  # fmt: skip
    with serving(create_app(module_target, public=True)) as server:
        yield Site(Served(server.url, module_target, demo), children)


def listed(client: Any, url: str, **params: Any) -> tuple[set[int], int]:
    """The ids a list shows, and the count it gives (numberMatched; the length for a REST list)."""
    body = client.get(url, params={"limit": 10_000, **params}).json()
    if isinstance(body, list):
        return {row["id"] for row in body}, len(body)
    return {f["id"] for f in body["features"]}, body["numberMatched"]


def one(url: str, record_id: int) -> str:
    return f"{url}/{record_id}"


def same_answer(hidden: Any, missing: Any, hidden_id: int) -> None:
    """A hidden record answers exactly as a missing one: status and message, apart from the id."""
    assert hidden.status_code == missing.status_code, (hidden.text, missing.text)
    assert hidden.json()["description"].replace(str(hidden_id), "ID") == missing.json()["description"].replace(
        str(MISSING), "ID"
    )


@pytest.mark.parametrize("kind", CHILDREN)
@pytest.mark.parametrize("viewer", VIEWERS)
def test_what_hangs_off_a_restricted_hazard_is_hidden_with_it(site: Site, viewer: str | None, kind: str) -> None:
    url, record_id = CHILDREN[kind], site.children[kind]
    with site.client(viewer) as client, site.client("ngo") as owner:
        mine, _ = listed(owner, url)
        assert record_id in mine  # the owner sees it
        seen, count = listed(client, url)
        assert record_id not in seen and count == len(seen), f"{kind} {record_id} listed for {viewer}"
        _, counted = listed(client, url, hazard_id=site.served.demo.secret_hazard) if kind != "plan_lane" else (0, 0)
        assert counted == 0
        hidden, missing = client.get(one(url, record_id)), client.get(one(url, MISSING))
        assert hidden.status_code == 404
        same_answer(hidden, missing, record_id)
        history = client.get(f"/api/history/{kind}/{record_id}")
        assert history.status_code == 404
        if url.startswith("/ogc/"):
            box = client.get(url.removesuffix("/items")).json()["extent"]["spatial"]["bbox"][0]
            nothing = [-180.0, -90.0, 180.0, 90.0]  # the extent of a collection with nothing to see
            assert box == nothing or box[3] < SECRET_LAT, f"the extent of {url} reaches the restricted hazard"


@pytest.mark.parametrize("viewer", VIEWERS)
def test_totals_extent_and_views_leave_out_what_hangs_off_it(site: Site, viewer: str | None) -> None:
    day = FOUND_ON.isoformat()
    with site.client(viewer) as client, site.client("ngo") as owner:
        assert client.get("/ui/api/config").json()["extent"][3] < SECRET_LAT
        rep, theirs = (c.get("/api/sitrep", params={"on": day}).json() for c in (client, owner))
        assert rep["items"]["found_today"] == {} and theirs["items"]["found_today"] == {"uxo": 1}
        assert rep["reports"]["reports_today"] == 0 and theirs["reports"]["reports_today"] == 1
        assert rep["land"]["released_today"]["all"]["m2"] == 0 < theirs["land"]["released_today"]["all"]["m2"]
        seen_items, _ = listed(client, CHILDREN["item"])
        assert rep["items"]["total_found"] == len(seen_items)
        progress = client.get("/ui/api/progress", params={"on": day, "days": 1}).json()["days"][0]
        assert progress["items_found"] == 0 and progress["reports"] == 0
        plan = client.get("/ui/api/plan")
        secret = str(site.served.demo.secret_hazard)
        assert plan.status_code == 200 and plan.json()["teams"] == [] and secret not in plan.json()["hazards"]
        balance = client.get(f"/api/hazards/{secret}/balance")
        same_answer(balance, client.get(f"/api/hazards/{MISSING}/balance"), int(secret))


def test_naming_a_hidden_record_answers_as_naming_a_missing_one(site: Site) -> None:
    secret, task = site.served.demo.secret_hazard, site.children["activity"]
    point = {"type": "Point", "coordinates": [LON, LAT]}
    with site.client("super") as sup:

        def item(hazard_id: int) -> Any:
            body = {"type": "Feature", "geometry": point, "properties": {"category": "uxo", "hazard_id": hazard_id}}
            return sup.post("/ogc/collections/items/items", json=body)

        def report(**links: int) -> Any:
            return sup.post("/api/reports", json={"report_date": "2016-04-09", "activity_type": "clearance", **links})

        def task_for(hazard_id: int) -> Any:
            return sup.post("/api/activities", json={"activity_type": "clearance", "hazard_id": hazard_id})

        hidden = item(secret)
        assert hidden.status_code == 422, hidden.text
        same_answer(hidden, item(MISSING), secret)
        same_answer(report(hazard_id=secret), report(hazard_id=MISSING), secret)
        same_answer(report(activity_id=task), report(activity_id=MISSING), task)  # hidden through its hazard
        same_answer(task_for(secret), task_for(MISSING), secret)
        assert report(hazard_id=secret).status_code == 422
    reg = open_register(site.served.target)
    try:
        assert reg.count("item", where={"hazard_id": secret}) == 1 and reg.count("report") == 1
    finally:
        reg.close()
