"""The REST API over real HTTP on both backends: login, accounts, daily reports, land release, sitrep, history."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from sapper.store import open_register
from sapper.store.schema import layer
from sapper.testing.server import LAT, LON, PASSWORD, Served, served_demo


@pytest.fixture(scope="module")
def api(module_target: str) -> Iterator[Served]:
    with served_demo(module_target) as served:
        yield served


def polygon(lon: float, lat: float, w: float, h: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + w, lat], [lon + w, lat + h], [lon, lat + h], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_login_token_and_logout(api: Served) -> None:
    with api.client() as c:
        wrong = c.post("/api/login", json={"username": "viewer", "password": "guess"})
        assert wrong.status_code == 401
        nobody = c.post("/api/login", json={"username": "ghost", "password": PASSWORD})
        assert nobody.status_code == 401
        r = c.post("/api/login", json={"username": "viewer", "password": PASSWORD})
        assert r.status_code == 200
        token = r.json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert c.get("/api/me", headers=auth).json() == {
            "name": "viewer", "role": "viewer", "organisation": "mac", "team_id": None, "active": True,
        }  # fmt: skip
        assert c.post("/api/logout", headers=auth).status_code == 204
        assert c.get("/api/me", headers=auth).status_code == 401
        assert c.post("/api/login", json={"username": "viewer"}).status_code == 400


def test_basic_authentication_for_gis_clients(api: Served) -> None:
    with api.client() as c:
        assert c.get("/api/me", auth=("super", PASSWORD)).json()["role"] == "supervisor"
        assert c.get("/api/me", auth=("super", "nope")).status_code == 401


def test_admin_manages_accounts(api: Served) -> None:
    with api.client("super") as sup:
        assert sup.get("/api/users").status_code == 403
    with api.client("admin") as admin, api.client() as c:
        names = {u["name"] for u in admin.get("/api/users").json()}
        assert {"admin", "super", "leader", "viewer"} <= names and "ngo" not in names  # mac's accounts only
        new = {"name": "qa1", "password": "inspect-2016", "role": "supervisor", "organisation": "mac"}
        assert admin.post("/api/users", json=new).status_code == 201
        assert admin.post("/api/users", json=new).status_code == 422  # exists already
        assert admin.post("/api/users", json={**new, "name": "qa2", "role": "general"}).status_code == 400
        assert admin.post("/api/users", json={**new, "name": "qa3", "password": "short"}).status_code == 422
        token = c.post("/api/login", json={"username": "qa1", "password": "inspect-2016"}).json()["token"]
        assert c.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert admin.patch("/api/users/qa1", json={"active": False}).json()["active"] is False
        assert c.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        assert c.post("/api/login", json={"username": "qa1", "password": "inspect-2016"}).status_code == 401
        assert admin.delete("/api/users/qa1").status_code == 204
        assert admin.delete("/api/users/admin").status_code == 409


def test_daily_report_from_a_team_leader_for_their_team_only(api: Served) -> None:
    hid = api.demo.hazards[2]
    own, other = api.demo.teams[0], api.demo.teams[1]
    report = {
        "report_date": "2016-04-06",
        "activity_type": "clearance",
        "hazard_id": hid,
        "geometry": polygon(LON + 0.004, LAT, 0.0005, 0.001),
        "items_found": 3,
        "notes": "sector A1",
    }
    with api.client("viewer") as viewer:
        assert viewer.post("/api/reports", json=report).status_code == 403
    with api.client("leader") as leader:
        assert leader.post("/api/reports", json={**report, "team_id": other}).status_code == 403
        r = leader.post("/api/reports", json=report)
        assert r.status_code == 201, r.text
        props = r.json()["properties"]
        assert props["team_id"] == own and props["reported_by"] == "leader"
        assert props["area_m2"] == pytest.approx(45.8 * 110.9, rel=0.01)  # 0.0005 x 0.001 degrees at 34.55 N
        # The first progress report puts the hazard in clearance as a CHA (IMSMA "worked on").
        hazard = leader.get(f"/ogc/collections/hazards/items/{hid}").json()["properties"]
        assert (hazard["status"], hazard["hazard_class"]) == ("in_clearance", "cha")
        bad = leader.post("/api/reports", json={**report, "activity_type": "sweeping", "items_found": -1})
        assert bad.status_code == 400 and "activity_type" in bad.json()["description"]
        missing = leader.post("/api/reports", json={**report, "hazard_id": 999999})
        assert missing.status_code == 422 and "hazard 999999" in missing.json()["description"]


def test_only_a_supervisor_releases_land_and_the_sitrep_counts_it(api: Served) -> None:
    road = api.demo.hazards[0]  # land_use road, priority 1
    piece = polygon(LON, LAT, 0.001, 0.0005)  # the southern half
    with api.client("leader") as leader:
        assert leader.post(f"/api/hazards/{road}/release", json={"route": "cleared"}).status_code == 403
    with api.client("super") as sup:
        stale = sup.post(
            f"/api/hazards/{road}/release",
            json={"route": "cleared", "geometry": piece},
            headers={"If-Match": f'"hazards-{road}-v99"'},
        )
        assert stale.status_code == 412  # the supervisor approved another state of the hazard
        seen = sup.get(f"/ogc/collections/hazards/items/{road}").headers["etag"]
        r = sup.post(
            f"/api/hazards/{road}/release",
            json={"route": "cleared", "geometry": piece, "on": "2016-04-07", "force": True},  # items still found
            headers={"If-Match": seen},
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["release"]["properties"]["organisation"] == "mac"
        bal = body["balance"]
        assert bal["cleared"] + bal["hazardous"] == pytest.approx(bal["original"])
        assert bal["cleared"] == pytest.approx(bal["original"] / 2, rel=1e-3)
        rest = sup.post(f"/api/hazards/{road}/release", json={"route": "cancelled", "on": "2016-04-07", "force": True})
        assert rest.status_code == 201 and rest.json()["hazard"]["status"] == "released"
        again = sup.post(f"/api/hazards/{road}/release", json={"route": "cleared"})
        assert again.status_code == 422 and "already released" in again.json()["description"]
        assert sup.post("/api/hazards/999999/release", json={"route": "cleared"}).status_code == 404
        assert sup.post(f"/api/hazards/{road}/release", json={"route": "blown"}).status_code == 400
        rep = sup.get("/api/sitrep", params={"on": "2016-04-07"}).json()
    land = rep["land"]
    assert land["released_today"]["cleared"]["m2"] == pytest.approx(bal["cleared"], abs=0.1)
    assert land["released_today"]["all"]["m2"] == pytest.approx(bal["original"], abs=0.1)
    assert land["still_hazardous"]["m2"] == pytest.approx(
        land["original"]["m2"] - land["released_total"]["all"]["m2"], abs=0.2
    )
    # Two 91.6 m x 55.4 m pieces, each counted as half its perimeter.
    assert rep["roads"]["released_today_km"] == pytest.approx(2 * (91.6 + 55.4) / 1000, rel=0.02)
    first = next(p for p in rep["priorities"] if p["priority"] == 1)
    assert 0 < first["percent_done"] < 100
    assert rep["items"]["total_found"] >= 25 and rep["items"]["found_total"]["uxo"] >= 12
    assert rep["forecast"]["plan"] == "no plan yet"
    assert rep["forecast"]["at_recent_rate"] is not None


def test_history_of_a_record_and_of_a_restricted_one(api: Served) -> None:
    hid = api.demo.hazards[4]
    with api.client("super") as sup:
        current = sup.get(f"/ogc/collections/hazards/items/{hid}")
        sup.patch(
            f"/ogc/collections/hazards/items/{hid}",
            json={"properties": {"evidence": "witness"}},
            headers={"If-Match": current.headers["etag"]},
        )
        entries = sup.get(f"/api/history/hazard/{hid}").json()["entries"]
        assert [e["user"] for e in entries] == ["seed", "super"]
        assert entries[-1]["after"]["evidence"] == "witness" and entries[-1]["before"]["evidence"] == ""
        assert sup.get(f"/api/history/hazard/{api.demo.secret_hazard}").status_code == 404
        assert sup.get("/api/history/rocket/1").status_code == 404
    with api.client("ngo") as ngo:
        assert ngo.get(f"/api/history/hazard/{api.demo.secret_hazard}").status_code == 200


def _wait_for_plan(client: Any, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        plan = client.get(url).json()
        if plan["status"] in ("done", "failed") or time.monotonic() > deadline:
            return plan
        time.sleep(0.2)


def test_plans_run_in_the_background_list_and_compare(api: Served) -> None:
    quick = {"start": "2016-04-10", "time_limit_s": 1, "runs": 100}
    with api.client("viewer") as viewer:
        assert viewer.post("/api/plans", json=quick).status_code == 403
    with api.client("super") as sup, api.client("ngo") as ngo:
        assert sup.post("/api/plans", json={**quick, "runs": 10}).status_code == 400
        first = sup.post("/api/plans", json=quick)
        assert first.status_code == 202 and first.json()["status"] in ("queued", "running")
        # no start given: the day after the last report or release, as the plan page offers
        worked = {"report_date": "2016-04-09", "activity_type": "clearance", "hazard_id": api.demo.hazards[2],
                  "geometry": polygon(LON + 0.004, LAT + 0.002, 0.0002, 0.0002)}  # fmt: skip
        with api.client("leader") as leader:
            assert leader.post("/api/reports", json=worked).status_code == 201
        unstarted = {"time_limit_s": 1, "runs": 100}
        second = sup.post("/api/plans", json={**unstarted, "sector_width_m": 60, "sector_length_m": 100})
        a = _wait_for_plan(sup, first.headers["location"])
        b = _wait_for_plan(sup, second.headers["location"])
        assert a["status"] == "done", a["error"]
        assert b["status"] == "done", b["error"]
        assert a["summary"]["finish"]["p50"] >= "2016-04-10"
        assert str(api.demo.secret_hazard) not in a["summary"]["hazard_finish_p50"]  # not the supervisor's to see
        assert a["summary"]["sectors"] > b["summary"]["sectors"]  # smaller sectors, more of them
        assert [p["id"] for p in sup.get("/api/plans").json()][-2:] == [a["id"], b["id"]]
        stored = {p["id"]: p for p in sup.get("/api/plans/stored").json()}
        first_plan = stored[a["summary"]["stored"]["id"]]
        assert first_plan["number"] == a["summary"]["stored"]["number"] and first_plan["made_by"] == "super"
        assert first_plan["finish_p50"] == a["summary"]["finish"]["p50"] and first_plan["start_on"] == "2016-04-10"
        second_start = stored[b["summary"]["stored"]["id"]]["start_on"]
        assert second_start == sup.get("/ui/api/config").json()["plan_start"] and second_start >= "2016-04-10"
        sectors = sup.get("/ogc/collections/plan_sectors/items", params={"plan_id": first_plan["id"], "limit": 1000})
        assert sectors.json()["numberMatched"] == a["summary"]["sectors"]
        diff = sup.get("/api/plans/compare", params={"a": a["id"], "b": b["id"]}).json()
        assert diff["sectors_more"] == b["summary"]["sectors"] - a["summary"]["sectors"]
        assert set(diff["finish_days_later"]) == set(a["summary"]["finish"])
        assert ngo.get(f"/api/plans/{a['id']}").status_code == 404  # another organisation's plan
        assert sup.get("/api/plans/compare", params={"a": a["id"], "b": 99999}).status_code == 404
        rep = sup.get("/api/sitrep", params={"on": "2016-04-10"}).json()
        assert rep["forecast"]["plan"] == {"id": b["id"], "source": "run", "finish": b["summary"]["finish"]}


def test_the_sitrep_reads_the_latest_plan_stored_in_the_register(api: Served) -> None:
    plans = layer("plans")
    made = datetime.now(UTC) + timedelta(days=1)  # newer than any plan this server ran
    with open_register(api.target, user="planner") as reg:
        stored = reg.add(plans.record(number=7, made_at=made, finish_p50=date(2016, 6, 1), finish_p90=date(2016, 7, 1)))
    with api.client("viewer") as viewer:
        listed = viewer.get("/api/plans/stored").json()
        assert listed[-1]["id"] == stored.id and listed[-1]["finish_p50"] == "2016-06-01"
        plan = viewer.get("/api/sitrep", params={"on": "2016-04-10"}).json()["forecast"]["plan"]
    assert plan["source"] == "stored"
    assert plan["finish"]["p50"] == "2016-06-01" and plan["finish"]["p90"] == "2016-07-01"


def test_tasks_given_by_a_supervisor_and_moved_along_by_the_team_leader(api: Served) -> None:
    own, other = api.demo.teams[0], api.demo.teams[1]
    task = {"activity_type": "clearance", "hazard_id": api.demo.hazards[3], "team_id": own, "start_on": "2016-04-08"}
    with api.client("leader") as leader, api.client("super") as sup:
        assert leader.post("/api/activities", json=task).status_code == 403
        created = sup.post("/api/activities", json=task)
        assert created.status_code == 201, created.text
        url, tag = created.headers["location"], created.headers["etag"]
        elsewhere = sup.post("/api/activities", json={**task, "team_id": other}).json()
        mine = leader.get("/api/activities", params={"team_id": own, "status": "planned"}).json()
        assert created.json()["id"] in [t["id"] for t in mine] and elsewhere["id"] not in [t["id"] for t in mine]
        started = leader.patch(url, json={"status": "ongoing", "notes": "lanes 1-4"}, headers={"If-Match": tag})
        assert started.status_code == 200 and started.json()["status"] == "ongoing"
        assert leader.patch(url, json={"status": "completed"}, headers={"If-Match": tag}).status_code == 412
        retarget = leader.patch(url, json={"hazard_id": api.demo.hazards[0], "version": 1})
        assert retarget.status_code == 403
        theirs = leader.patch(f"/api/activities/{elsewhere['id']}", json={"status": "ongoing", "version": 0})
        assert theirs.status_code == 403
        back = sup.patch(url, json={"status": "planned", "version": 1})
        assert back.status_code == 409 and "cannot change from ongoing to planned" in back.json()["description"]
        assert sup.get("/api/activities", params={"status": "sleeping"}).status_code == 400
        assert sup.delete(url).status_code == 204
        assert sup.get(url).status_code == 404
        history = sup.get(f"/api/history/activity/{created.json()['id']}").json()["entries"]
    assert [e["user"] for e in history] == ["super", "leader", "super"]


def test_password_guessing_is_cut_short(api: Served) -> None:
    with api.client("admin") as admin, api.client() as c:
        admin.post("/api/users", json={"name": "guessed", "password": "right-password", "role": "viewer"})
        for attempt in range(10):
            assert c.post("/api/login", json={"username": "guessed", "password": f"guess {attempt}"}).status_code == 401
        locked = c.post("/api/login", json={"username": "guessed", "password": "right-password"})
        assert locked.status_code == 429 and "too many wrong passwords" in locked.json()["description"]
        assert int(locked.headers["retry-after"]) > 0
        assert c.get("/api/me", auth=("guessed", "right-password")).status_code == 429
        assert c.post("/api/login", json={"username": "viewer", "password": PASSWORD}).status_code == 200


def test_a_sitrep_day_out_of_range_is_refused_with_a_sentence(api: Served) -> None:
    """A day no operation can have (year 1) used to overflow the forecast's date arithmetic (500)."""
    with api.client("super") as sup:
        for day in ("0001-01-01", "9999-12-31"):
            answer = sup.get("/api/sitrep", params={"on": day})
            assert answer.status_code == 400, (day, answer.text)
            assert "on:" in answer.json()["detail"]
