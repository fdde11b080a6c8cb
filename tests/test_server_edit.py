"""OGC API - Features Part 4 over real HTTP on both backends: roles, no lost updates, audit, 4xx messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sapper.testing.server import LAT, LON, Served, served_demo

HAZARDS = "/ogc/collections/hazards/items"
ITEMS = "/ogc/collections/items/items"


@pytest.fixture(scope="module")
def api(module_target: str) -> Iterator[Served]:
    with served_demo(module_target) as served:
        yield served


def square(lon: float, lat: float, size: float = 0.0005) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def hazard(name: str, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": square(LON + 0.05, LAT), "properties": {"name": name, **props}}


def test_roles_decide_who_creates(api: Served) -> None:
    with api.client() as anonymous:
        assert anonymous.post(HAZARDS, json=hazard("Nobody")).status_code == 401
    with api.client("viewer") as viewer:
        r = viewer.post(HAZARDS, json=hazard("Viewer"))
        assert r.status_code == 403 and "viewer" in r.json()["description"]
    with api.client("leader") as leader:
        r = leader.post(HAZARDS, json=hazard("Leader"))
        assert r.status_code == 403 and "supervisor" in r.json()["description"]
    with api.client("super") as sup:
        r = sup.post(HAZARDS, json=hazard("Market square", priority=1))
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["properties"]["organisation"] == "mac"  # the writer's organisation
        assert r.headers["etag"] == f'"hazards-{created["id"]}-v0"'
        fetched = sup.get(r.headers["location"])
        assert fetched.status_code == 200 and fetched.json()["properties"]["name"] == "Market square"


def test_no_lost_updates_with_if_match(api: Served) -> None:
    with api.client("super") as alice, api.client("admin") as bob:
        url = alice.post(HAZARDS, json=hazard("Bakery")).headers["location"]
        read_a = alice.get(url)
        read_b = bob.get(url)
        assert read_a.headers["etag"] == read_b.headers["etag"]
        changed = read_a.json()
        changed["properties"]["notes"] = "Alice was here"
        first = alice.put(url, json=changed, headers={"If-Match": read_a.headers["etag"]})
        assert first.status_code == 200, first.text
        assert first.headers["etag"] != read_a.headers["etag"]
        theirs = read_b.json()
        theirs["properties"]["notes"] = "Bob overwrites"
        theirs["properties"].pop("version")
        late = bob.put(url, json=theirs, headers={"If-Match": read_b.headers["etag"]})
        assert late.status_code == 412
        assert "changed" in late.json()["description"]
        assert alice.get(url).json()["properties"]["notes"] == "Alice was here"
        # With the version in the body instead of If-Match: 409.
        stale = bob.patch(url, json={"properties": {"notes": "again", "version": 0}})
        assert stale.status_code == 409
        # Saying nothing about the version is refused too.
        blind = bob.patch(url, json={"properties": {"notes": "blind"}})
        assert blind.status_code == 428
        fresh = bob.get(url)
        ok = bob.patch(
            url, json={"properties": {"notes": "Bob, after reading"}}, headers={"If-Match": fresh.headers["etag"]}
        )
        assert ok.status_code == 200 and ok.json()["properties"]["notes"] == "Bob, after reading"
        assert ok.json()["properties"]["name"] == "Bakery"  # a patch keeps what it does not send


def test_delete_needs_a_supervisor_and_a_current_etag(api: Served) -> None:
    with api.client("super") as sup, api.client("leader") as leader:
        created = sup.post(HAZARDS, json=hazard("Short lived"))
        url, tag = created.headers["location"], created.headers["etag"]
        assert leader.delete(url).status_code == 403
        sup.patch(url, json={"properties": {"notes": "changed"}}, headers={"If-Match": tag})
        assert sup.delete(url, headers={"If-Match": tag}).status_code == 412
        assert sup.delete(url).status_code == 204
        assert sup.get(url).status_code == 404
        history = sup.get(f"/api/history/hazard/{created.json()['id']}").json()["entries"]
    assert [(e["action"], e["user"]) for e in history] == [
        ("insert", "super"),
        ("update", "super"),
        ("delete", "super"),
    ]


def test_a_team_leader_writes_items_of_their_own_team_only(api: Served) -> None:
    own, other = api.demo.teams[0], api.demo.teams[1]
    item = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [LON + 0.001, LAT + 0.0002]}}
    with api.client("leader") as leader:
        r = leader.post(
            ITEMS, json={**item, "properties": {"category": "ied_victim_operated", "model": "pressure plate"}}
        )
        assert r.status_code == 201, r.text
        assert r.json()["properties"]["team_id"] == own  # defaults to the leader's team
        r2 = leader.post(ITEMS, json={**item, "properties": {"category": "uxo", "team_id": other}})
        assert r2.status_code == 403 and f"team {own}" in r2.json()["description"]
        url = r.headers["location"]
        moved = leader.patch(url, json={"properties": {"team_id": other}}, headers={"If-Match": r.headers["etag"]})
        assert moved.status_code == 403
        safe = leader.patch(
            url, json={"properties": {"state": "rendered_safe"}}, headers={"If-Match": r.headers["etag"]}
        )
        assert safe.status_code == 200, safe.text
        hid = api.demo.hazards[0]
        hz = leader.get(f"{HAZARDS}/{hid}")
        assert (
            leader.patch(
                f"{HAZARDS}/{hid}", json={"properties": {"notes": "x"}}, headers={"If-Match": hz.headers["etag"]}
            ).status_code
            == 403
        )


def test_other_organisations_records_are_read_only_and_restricted_ones_unknown(api: Served) -> None:
    hid = api.demo.hazards[0]
    with api.client("ngo") as ngo:
        current = ngo.get(f"{HAZARDS}/{hid}")
        r = ngo.patch(
            f"{HAZARDS}/{hid}", json={"properties": {"notes": "ngo"}}, headers={"If-Match": current.headers["etag"]}
        )
        assert r.status_code == 403 and "'mac'" in r.json()["description"]
    with api.client("super") as sup:
        secret = f"{HAZARDS}/{api.demo.secret_hazard}"
        assert sup.patch(secret, json={"properties": {"notes": "x"}}, headers={"If-Match": "*"}).status_code == 404
        assert sup.delete(secret).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ("not json", 400, "not JSON"),
        ([1, 2], 400, "GeoJSON Feature"),
        ({"type": "FeatureCollection"}, 400, "Feature"),
        ({"type": "Feature", "geometry": None, "properties": {"name": "x"}}, 422, "has no geometry"),
        (
            {"type": "Feature", "geometry": square(LON, LAT), "properties": {"name": "x", "colour": 1}},
            400,
            "no field 'colour'",
        ),
        (
            {"type": "Feature", "geometry": square(LON, LAT), "properties": {"name": "x", "priority": 9}},
            422,
            "priority 9",
        ),
        (
            {"type": "Feature", "geometry": square(LON, LAT), "properties": {"name": "x", "priority": "high"}},
            400,
            "priority",
        ),
        (
            {"type": "Feature", "geometry": square(LON, LAT), "properties": {"name": "x", "status": "gone"}},
            400,
            "allowed:",
        ),
        (
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": "x"}, "properties": {"name": "x"}},
            400,
            "geometry",
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
                "properties": {"name": "bow tie"},
            },
            422,
            "invalid geometry",
        ),
        (
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [LON, LAT]}, "properties": {"name": "x"}},
            422,
            "Point geometry",
        ),
        ({"type": "Feature", "geometry": square(LON, LAT), "properties": {"name": "x\u0000y"}}, 400, "NUL"),
        (
            {"type": "Feature", "geometry": square(LON, LAT), "properties": {"name": "x", "estimated_items": 10**30}},
            400,
            "too large",
        ),
    ],
)
def test_bad_features_get_4xx_naming_the_problem(api: Served, body: Any, status: int, says: str) -> None:
    with api.client("super") as sup:
        r = sup.post(HAZARDS, content=body) if isinstance(body, str) else sup.post(HAZARDS, json=body)
    assert r.status_code == status, r.text
    assert says in r.json()["description"]
