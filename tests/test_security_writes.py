"""Organisation boundaries of every write route, over real HTTP on GeoPackage and PostGIS.

The routes come from the server's own OpenAPI document, so a write route added later without a
case here fails the test. Each is tried by users of another organisation (a supervisor and that
organisation's admin) against records of organisation "mac": each attempt is refused (403, or
404 where the record is hidden from them) and no record of "mac" changes.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from PIL import Image
from shapely.geometry import MultiLineString

from sapper.jobs.table import JobTable
from sapper.model.accounts import Role, User
from sapper.model.plan import Plan, PlanLane, PlanSector
from sapper.model.qc import QcPlan, QcSample
from sapper.model.records import Activity, Hazard, Report
from sapper.server import create_app
from sapper.store import open_register
from sapper.store.accounts import Accounts
from sapper.store.attachments import Attachments
from sapper.store.schema import LAYERS
from sapper.store.submissions import Submissions
from sapper.testing.server import LAT, LON, PASSWORD, Served, seeded, serving, square

ATTACKERS = ("ngo", "ngo_admin")  # a supervisor and the admin of organisation "ngo"
# Accounts are not register records: who manages which account is tested with the accounts.
ACCOUNT_ROUTES = re.compile(r"^/api/(login|logout|users)(/.*)?$")


@dataclass
class Site:
    served: Served
    ids: dict[str, int]  # a record of organisation "mac" in each layer, by layer name
    hidden_hazard: int  # a restricted hazard of "mac"

    def client(self, user: str) -> Any:
        return self.served.client(user)


@pytest.fixture(scope="module")
def site(module_target: str) -> Iterator[Site]:
    demo = seeded(module_target)
    reg = open_register(module_target, user="seed")
    try:
        mac_team, hazard = demo.teams[0], demo.hazards[1]
        bare = reg.add(Hazard(name="Mac field", geometry=square(LON, LAT - 0.01), organisation="mac"))  # no items
        hidden = reg.add(
            Hazard(name="Mac store", geometry=square(LON, LAT + 0.01), organisation="mac", restricted=True)
        )
        task = reg.add(Activity(activity_type="clearance", hazard_id=hazard, team_id=mac_team, organisation="mac"))
        report = reg.add(
            Report(activity_type="clearance", report_date=date(2016, 4, 5), hazard_id=hazard, team_id=mac_team,
                   geometry=square(LON + 0.002, LAT, 0.0003), organisation="mac")
        )  # fmt: skip
        piece = reg.release(demo.hazards[3], "cleared", geometry=square(LON + 0.006, LAT, 0.0004), team_id=mac_team)
        plan = reg.add(Plan(number=1, organisation="mac"))
        sector = reg.add(
            PlanSector(plan_id=plan.id, hazard_id=hazard, label="S1", geometry=square(LON + 0.002, LAT, 0.0005),
                       team_id=mac_team, organisation="mac")
        )  # fmt: skip
        lane = reg.add(
            PlanLane(plan_id=plan.id, sector_id=sector.id, team_id=mac_team, organisation="mac",
                     geometry=MultiLineString([[(LON + 0.002, LAT), (LON + 0.0025, LAT)]]))
        )  # fmt: skip
        qc_plan = reg.add(QcPlan(hazard_id=hazard, organisation="mac"))
        qc_sample = reg.add(
            QcSample(plan_id=qc_plan.id, hazard_id=hazard, label="P1-S1", geometry=square(LON + 0.002, LAT, 0.0002),
                     organisation="mac")
        )  # fmt: skip
        accounts = Accounts(reg.backend)
        accounts.add(User(name="ngo_admin", role=Role.ADMIN, organisation="ngo"), PASSWORD)
        demo.tokens["ngo_admin"] = accounts.issue_token("ngo_admin", "test")
        accounts.add(User(name="root", role=Role.REGISTER_ADMIN, organisation="mac"), PASSWORD)
        demo.tokens["root"] = accounts.issue_token("root", "test")
        field_xml = b'<sapper_item_found id="sapper_item_found"><meta><instanceID>uuid:mac-1</instanceID></meta>'
        field_xml += b"</sapper_item_found>"  # a field submission of "mac" waiting for approval
        photos = Attachments(reg).ensure()
        photo = photos.add("hazard", demo.hazards[0], "mac.png", png())
        hidden_photo = photos.add("hazard", hidden.id, "store.png", png())
        field = Submissions(reg.backend).ensure()
        submission, _ = field.receive("uuid:mac-1", "sapper_item_found", "", "leader", "mac", field_xml, [])
        jobs = JobTable(reg.backend).ensure()
        job = jobs.add("plan", "super", "mac", {"request": {}})
        jobs.finish(job.id, "done", result={})  # ended: no worker of the test's server makes it
        ids = {
            "hazards": demo.hazards[0], "items": demo.items[0], "protected_sites": demo.sites[0],
            "teams": mac_team, "reports": report.id, "releases": piece.id, "plan_sectors": sector.id,
            "plan_lanes": lane.id, "activities": task.id, "bare_hazard": bare.id, "submission": submission.id,
            "qc_samples": qc_sample.id, "photo": photo.id, "hidden_photo": hidden_photo.id, "job": job.id,
        }  # fmt: skip
    finally:
        reg.close()
    with serving(create_app(module_target)) as server:
        yield Site(Served(server.url, module_target, demo), ids, hidden.id)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


def records_of(target: str, organisation: str) -> dict[tuple[str, int], int]:
    """Every record of one organisation, layer by layer: its version (changes and deletions show)."""
    reg = open_register(target)
    try:
        return {
            (lay.name, r.id): r.version for lay in LAYERS for r in reg.list(lay.kind) if r.organisation == organisation
        }
    finally:
        reg.close()


def write_routes(site: Site) -> list[tuple[str, str]]:
    with site.client("super") as c:
        paths = c.get("/openapi.json").json()["paths"]
    return [
        (method.upper(), path)
        for path, ops in paths.items()
        for method in ops
        if method in ("post", "put", "patch", "delete") and not ACCOUNT_ROUTES.match(path)
    ]


Attempt = tuple[str, str, Any, dict[str, str], int]  # method, url, JSON body, headers, status expected


def new_feature(feature: dict[str, Any], **props: Any) -> dict[str, Any]:
    kept = {k: v for k, v in feature["properties"].items() if k not in ("id", "version", "source_key")}
    return {"type": "Feature", "geometry": feature["geometry"], "properties": {**kept, **props}}


def ogc_attempts(site: Site, user: Any, method: str, layer_name: str, one: bool) -> list[Attempt]:
    """Creating a record of "mac", or one of the user's own linked to "mac"'s; changing or deleting "mac"'s."""
    items = f"/ogc/collections/{layer_name}/items"
    assert layer_name in site.ids, f"no record of organisation mac in {layer_name} to try the route on"
    targets = [(site.ids[layer_name], 403)]
    if layer_name == "hazards":
        targets.append((site.hidden_hazard, 404))
    out: list[Attempt] = []
    for record_id, status in targets:
        read = user.get(f"{items}/{record_id}")
        assert read.status_code == (404 if status == 404 else 200), f"{layer_name} {record_id}: {read.text}"
        if read.status_code == 404:
            feature = user.get(f"{items}/{site.ids[layer_name]}").json()
            tag = '"x"'
        else:
            feature, tag = read.json(), read.headers["etag"]
        if not one and method == "POST":
            out.append(("POST", items, new_feature(feature, organisation="mac"), {}, 403))
            links = {k: v for k, v in feature["properties"].items() if k.endswith("_id") and v is not None}
            if links:  # the user's own record, naming "mac"'s records
                out.append(("POST", items, new_feature(feature, organisation="ngo", **links), {}, 403))
            break
        url = f"{items}/{record_id}"
        if method == "PUT":
            body = {**feature, "properties": {**feature["properties"], "organisation": "ngo"}}
            body.pop("links", None)
            out.append(("PUT", url, body, {"If-Match": tag}, status))
        elif method == "PATCH":
            out.append(("PATCH", url, {"properties": {"organisation": "ngo"}}, {"If-Match": tag}, status))
        elif method == "DELETE":
            out.append(("DELETE", url, None, {"If-Match": tag}, status))
    return out


def rest_attempts(site: Site, method: str, path: str) -> list[Attempt]:
    demo = site.served.demo
    mine, theirs = demo.teams[2], demo.teams[0]  # "ngo"'s team, "mac"'s team
    hazard, task = demo.hazards[2], site.ids["activities"]
    day = {"report_date": "2016-04-09", "activity_type": "clearance"}
    cases: dict[tuple[str, str], list[Attempt]] = {
        ("POST", "/api/reports"): [
            ("POST", "/api/reports", {**day, "hazard_id": hazard, "team_id": mine}, {}, 403),
            ("POST", "/api/reports", {**day, "team_id": theirs}, {}, 403),
        ],
        ("POST", "/api/hazards/{hazard_id}/release"): [
            ("POST", f"/api/hazards/{site.ids['bare_hazard']}/release", {"route": "cancelled"}, {}, 403),
            ("POST", f"/api/hazards/{site.hidden_hazard}/release", {"route": "cancelled"}, {}, 404),
        ],
        ("POST", "/api/activities"): [
            ("POST", "/api/activities", {"activity_type": "clearance", "organisation": "mac"}, {}, 403),
            ("POST", "/api/activities", {"activity_type": "clearance", "hazard_id": hazard, "team_id": mine}, {}, 403),
        ],
        ("PATCH", "/api/activities/{task_id}"): [
            ("PATCH", f"/api/activities/{task}", {"notes": "taken over", "version": 0}, {}, 403),
        ],
        ("DELETE", "/api/activities/{task_id}"): [("DELETE", f"/api/activities/{task}", None, {}, 403)],
        ("POST", "/api/submissions/{sub_id}/approve"): [
            ("POST", f"/api/submissions/{site.ids['submission']}/approve", None, {}, 404),
        ],
        ("POST", "/api/submissions/{sub_id}/reject"): [
            ("POST", f"/api/submissions/{site.ids['submission']}/reject", {"reason": "not yours"}, {}, 404),
        ],
        ("POST", "/api/submissions/{sub_id}/correct"): [
            ("POST", f"/api/submissions/{site.ids['submission']}/correct", {"values": {"depth": "1"}}, {}, 404),
        ],
        ("POST", "/api/{collection}/{record_id}/attachments"): [
            ("POST", f"/api/hazards/{site.ids['hazards']}/attachments", None, {}, 403),
            ("POST", f"/api/reports/{site.ids['reports']}/attachments", None, {}, 403),
            ("POST", f"/api/hazards/{site.hidden_hazard}/attachments", None, {}, 404),
        ],
        ("POST", "/api/jobs/{job_id}/cancel"): [
            ("POST", f"/api/jobs/{site.ids['job']}/cancel", None, {}, 404),
        ],
        ("DELETE", "/api/attachments/{attachment_id}"): [
            ("DELETE", f"/api/attachments/{site.ids['photo']}", None, {}, 403),
            ("DELETE", f"/api/attachments/{site.ids['hidden_photo']}", None, {}, 404),
        ],
    }
    assert (method, path) in cases, f"{method} {path}: a write route with no case in this test"
    return cases[(method, path)]


def attempts(site: Site, user: Any, method: str, path: str) -> list[Attempt]:
    ogc = re.fullmatch(r"/ogc/collections/(\w+)/items(/\{featureId\})?", path)
    if ogc:
        return ogc_attempts(site, user, method, ogc.group(1), ogc.group(2) is not None)
    return rest_attempts(site, method, path)


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_no_write_route_lets_another_organisation_touch_a_record(site: Site, attacker: str) -> None:
    before = records_of(site.served.target, "mac")
    tried = set()
    with site.client(attacker) as user:
        for method, path in write_routes(site):
            if (method, path) == ("POST", "/api/plans"):
                continue  # names no record: test_a_plan_is_made_from_the_planner_s_own_records
            for verb, url, body, headers, status in attempts(site, user, method, path):
                answer = user.request(verb, url, json=body, headers=headers)
                assert answer.status_code == status, f"{attacker}: {verb} {url} -> {answer.status_code} {answer.text}"
                assert answer.json()["description"], f"{verb} {url}: a refusal says why"
                tried.add((method, path))
    assert records_of(site.served.target, "mac") == before, "a record of organisation mac changed"
    assert ("POST", "/api/hazards/{hazard_id}/release") in tried and len(tried) >= 30


def test_a_plan_is_made_from_the_planner_s_own_records(site: Site) -> None:
    before = records_of(site.served.target, "mac")
    demo = site.served.demo
    with site.client("ngo") as ngo:
        run = ngo.post("/api/plans", json={"start": "2016-04-10", "time_limit_s": 1, "runs": 50})
        assert run.status_code == 202
        deadline = time.monotonic() + 120
        while (status := ngo.get(run.headers["location"]).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, "the plan did not finish"
            time.sleep(0.2)
    assert records_of(site.served.target, "mac") == before
    reg = open_register(site.served.target)
    try:
        if status["plan_number"] is not None:
            plan = reg.list("plan", where={"number": status["plan_number"]})[0]
            rows = [r for kind in ("plan_sector", "assignment", "priority") for r in reg.list(kind)]
            rows = [r for r in rows if r.plan_id == plan.id]
            assert plan.organisation == "ngo" and rows
            assert {r.hazard_id for r in rows} <= {demo.secret_hazard}, "the plan names another organisation's hazards"
            assert {getattr(r, "team_id", None) for r in rows} <= {None, demo.teams[2]}
    finally:
        reg.close()


def test_only_a_register_admin_writes_across_organisations(site: Site) -> None:
    demo = site.served.demo
    with site.client("ngo_admin") as admin, site.client("root") as root:
        refused = admin.post(f"/api/hazards/{demo.hazards[4]}/release", json={})
        assert refused.status_code == 403
        assert refused.json()["description"].endswith(f"hazard {demo.hazards[4]} belongs to 'mac'")
        secret = f"/ogc/collections/hazards/items/{site.hidden_hazard}"
        assert root.get(secret).status_code == 200  # sees every organisation's restricted records
        released = root.post(f"/api/hazards/{site.hidden_hazard}/release", json={"route": "cancelled"})
        assert released.status_code == 201, released.text
        assert released.json()["release"]["properties"]["organisation"] == "mac"
        hazard = root.get(secret).json()
        assert hazard["properties"]["status"] == "released"


def test_a_team_leader_writes_only_for_their_own_team_and_organisation(site: Site) -> None:
    demo = site.served.demo
    with site.client("leader") as leader:
        other_team = leader.post("/api/reports", json={"report_date": "2016-04-09", "activity_type": "clearance",
                                                       "team_id": demo.teams[1]})  # fmt: skip
        assert other_team.status_code == 403
        other_org = leader.post(
            "/ogc/collections/items/items",
            json={"type": "Feature", "geometry": {"type": "Point", "coordinates": [LON, LAT]},
                  "properties": {"category": "uxo", "hazard_id": demo.secret_hazard}},
        )  # fmt: skip
        assert other_org.status_code == 422
