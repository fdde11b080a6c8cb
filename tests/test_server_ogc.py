"""OGC API - Features read side, over real HTTP on both backends: paging, bbox, datetime, filters, HTML."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, box, shape

from sapper.model.records import ProtectedSite
from sapper.server import create_app
from sapper.store import open_register
from sapper.store.schema import LAYERS
from sapper.testing.server import LAT, LON, Served, served_demo, serving

VIEWS = {"protected_site_areas", "protected_site_points"}


@pytest.fixture(scope="module")
def api(module_target: str) -> Iterator[Served]:
    with served_demo(module_target) as served:
        yield served


def test_landing_conformance_and_collections_follow_the_standard(api: Served) -> None:
    with api.client("viewer") as c:
        home = c.get("/", headers={"Accept": "application/json"})
        assert home.status_code == 303 and home.headers["location"] == "/ogc"  # GIS clients start at /ogc
        landing = c.get("/ogc").json()
        rels = {lk["rel"] for lk in landing["links"]}
        assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= rels
        assert all(lk["href"].startswith("http://127.0.0.1") for lk in landing["links"])
        conf = c.get("/ogc/conformance").json()["conformsTo"]
        assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
        assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conf
        assert "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete" in conf
        cols = c.get("/ogc/collections").json()["collections"]
    ids = {col["id"] for col in cols}
    assert ids == {lay.name for lay in LAYERS if lay.geometry_type} | VIEWS  # every geometry layer, and the views
    items = next(col for col in cols if col["id"] == "items")
    assert items["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    expected = [LON + 0.0005, LAT + 0.0005, LON + 0.0085, LAT + 0.0005]  # the items' corners
    assert items["extent"]["spatial"]["bbox"][0] == pytest.approx(expected)
    assert items["extent"]["temporal"]["interval"] == [["2016-04-01T00:00:00Z", "2016-04-10T00:00:00Z"]]
    assert any(lk["rel"] == "items" and lk["type"] == "application/geo+json" for lk in items["links"])


def test_paging_with_next_and_prev_links_visits_every_feature_once(api: Served) -> None:
    seen: list[int] = []
    with api.client("viewer") as c:
        page = c.get("/ogc/collections/items/items", params={"limit": 10}).json()
        assert page["numberMatched"] == 25 and page["numberReturned"] == 10
        assert not any(lk["rel"] == "prev" for lk in page["links"])
        pages = 0
        while True:
            pages += 1
            seen += [f["id"] for f in page["features"]]
            nxt = [lk["href"] for lk in page["links"] if lk["rel"] == "next"]
            if not nxt:
                break
            page = c.get(nxt[0]).json()
            assert any(lk["rel"] == "prev" for lk in page["links"])
    assert pages == 3
    assert sorted(seen) == sorted(api.demo.items)


def test_bbox_returns_exactly_the_features_in_the_box(api: Served) -> None:
    window = (LON, LAT, LON + 0.003, LAT + 0.001)  # the first two columns of items
    with api.client("viewer") as c:
        r = c.get("/ogc/collections/items/items", params={"bbox": ",".join(map(str, window)), "limit": 100})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["numberMatched"] == body["numberReturned"] == 10
    assert all(box(*window).intersects(shape(f["geometry"])) for f in body["features"])


def test_datetime_and_property_filters(api: Served) -> None:
    with api.client("viewer") as c:

        def matched(**params: object) -> int:
            r = c.get("/ogc/collections/items/items", params=params)
            assert r.status_code == 200, r.text
            return r.json()["numberMatched"]

        assert matched(datetime="2016-04-01") == 3  # items found on day 1 + i % 10
        assert matched(datetime="2016-04-01/2016-04-03") == 9
        assert matched(datetime="../2016-04-02") == 6
        assert matched(datetime="2016-04-09T10:00:00Z/..") == 4  # day 9 and 10
        assert matched(category="uxo") == 12
        assert matched(category="uxo,ap_mine") == 25
        assert matched(category="uxo", datetime="2016-04-02") == 3
        hazards = c.get("/ogc/collections/hazards/items", params={"land_use": "road"}).json()
    assert [f["properties"]["name"] for f in hazards["features"]] == ["Hazard 0"]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "0,10,1,5"}, "north"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "0"}, "at least 1"),
        ({"offset": "-1"}, "offset"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"datetime": "2016-05-01/2016-04-01"}, "ends before"),
        ({"category": "mortar"}, "allowed: ap_mine"),
        ({"team_id": "x"}, "team_id"),
        ({"colour": "red"}, "unknown query parameter 'colour'"),
        ({"f": "xml"}, "json or html"),
        ({"crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}, "CRS84"),
        ({"id": "3,x"}, "id='3,x': expected feature ids"),
        ({"id": "0"}, "whole numbers from 1"),
    ],
)
def test_bad_queries_get_400_with_a_message(api: Served, query: dict[str, str], says: str) -> None:
    with api.client("viewer") as c:
        r = c.get("/ogc/collections/items/items", params=query)
    assert r.status_code == 400
    assert says in r.json()["description"]


def test_single_feature_with_etag_and_conditional_get(api: Served) -> None:
    hid = api.demo.hazards[1]
    with api.client("viewer") as c:
        r = c.get(f"/ogc/collections/hazards/items/{hid}")
        assert r.status_code == 200 and r.json()["id"] == hid
        assert r.headers["etag"] == f'"hazards-{hid}-v0"'
        assert {lk["rel"] for lk in r.json()["links"]} >= {"self", "alternate", "collection"}
        square = box(LON + 0.002, LAT, LON + 0.003, LAT + 0.001)
        assert shape(r.json()["geometry"]).symmetric_difference(square).area < 1e-12
        again = c.get(f"/ogc/collections/hazards/items/{hid}", headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304
        assert c.get("/ogc/collections/hazards/items/999999").status_code == 404
        assert c.get("/ogc/collections/hazards/items/abc").status_code == 404
        assert c.get("/ogc/collections/nothing/items").status_code == 404


def test_html_pages_for_people(api: Served) -> None:
    with api.client("viewer") as c:
        r = c.get("/ogc/collections/items/items", params={"f": "html", "limit": 5})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "<table>" in r.text and "Features 1-5 of 25" in r.text and "Next page" in r.text
        browser = c.get("/ogc/collections", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert browser.headers["content-type"].startswith("text/html") and "hazards" in browser.text
        assert c.get("/static/sapper.css").status_code == 200
        assert c.get("/ogc/api", params={"f": "html"}).status_code == 200


def test_restricted_records_are_invisible_to_other_organisations(api: Served) -> None:
    secret = api.demo.secret_hazard
    with api.client("viewer") as mac, api.client("ngo") as ngo:
        mine = {f["id"] for f in mac.get("/ogc/collections/hazards/items").json()["features"]}
        theirs = {f["id"] for f in ngo.get("/ogc/collections/hazards/items").json()["features"]}
        assert secret not in mine and secret in theirs
        assert mac.get(f"/ogc/collections/hazards/items/{secret}").status_code == 404
        assert ngo.get(f"/ogc/collections/hazards/items/{secret}").status_code == 200
        assert mac.get("/ogc/collections/hazards/items", params={"restricted": "true"}).json()["numberMatched"] == 0
        # Not even the extent of the collection gives the restricted hazard away.
        mac_box = mac.get("/ogc/collections/hazards").json()["extent"]["spatial"]["bbox"][0]
        ngo_box = ngo.get("/ogc/collections/hazards").json()["extent"]["spatial"]["bbox"][0]
        assert mac_box[3] < LAT + 0.002 and ngo_box[3] == pytest.approx(LAT + 0.021)


def test_login_is_required_unless_the_server_is_public(api: Served) -> None:
    with api.client() as anonymous:
        r = anonymous.get("/ogc/collections/hazards/items")
        assert r.status_code == 401 and "log in" in r.json()["description"]
        assert r.headers["www-authenticate"].startswith("Bearer")
        bad = anonymous.get("/ogc/collections", headers={"Authorization": "Bearer sap_not-a-token"})
        assert bad.status_code == 401
    with serving(create_app(api.target, public=True)) as public, api.client() as c:
        r = c.get(f"{public.url}/ogc/collections/hazards/items")
        assert r.status_code == 200
        assert api.demo.secret_hazard not in {f["id"] for f in r.json()["features"]}


def test_openapi_document_describes_each_collection(api: Served) -> None:
    with api.client() as c:
        doc = c.get("/openapi.json").json()
    params = {p["name"] for p in doc["paths"]["/ogc/collections/items/items"]["get"]["parameters"]}
    assert {"bbox", "limit", "offset", "datetime", "category", "state"} <= params
    assert "post" in doc["paths"]["/ogc/collections/hazards/items"]
    assert {"put", "patch", "delete", "get"} <= set(doc["paths"]["/ogc/collections/hazards/items/{featureId}"])


def write_with_gdal(target: str, name: str, point: Point) -> None:
    """Append a protected site the way GDAL (and so QGIS) writes one into the GeoPackage."""
    columns = {"version": 0, "organisation": "mac", "restricted": False, "name": name, "kind": "water"}
    columns.update({"buffer_m": 0.0, "forbidden_methods": "", "heritage_value": 0, "source": "", "notes": ""})
    data = [np.array([v], dtype=object if isinstance(v, str) else None) for v in columns.values()]
    wkb = np.array([shapely.to_wkb(point)], dtype=object)
    pyogrio.raw.write(
        target,
        wkb,
        data,
        list(columns),
        layer="protected_sites",
        driver="GPKG",
        append=True,
        geometry_type="Point",
        crs="EPSG:4326",
    )


@pytest.fixture(scope="module")
def sites(api: Served) -> dict[str, list[int]]:
    """Protected sites of every geometry type beside the demo's square: points in a row (one of them
    restricted to the other organisation), a multipolygon and a road; on a GeoPackage also a point
    that GDAL wrote (its binary has no envelope, unlike the register's own)."""
    row = [Point(LON + 0.03 + 0.0005 * i, LAT + 0.001) for i in range(7)]
    twin = MultiPolygon(
        [box(LON + 0.04, LAT, LON + 0.041, LAT + 0.001), box(LON + 0.042, LAT, LON + 0.043, LAT + 0.001)]
    )
    road = LineString([(LON + 0.03, LAT + 0.003), (LON + 0.04, LAT + 0.003)])
    clinic = Point(LON + 0.0302, LAT + 0.001)
    with open_register(api.target, user="test") as reg:
        points = reg.add_many(
            [ProtectedSite(name=f"Monument {i}", kind="monument", geometry=p) for i, p in enumerate(row)]
        )
        secret = reg.add(
            ProtectedSite(name="Clinic", kind="hospital", geometry=clinic, organisation="ngo", restricted=True)
        )
        tombs = reg.add(ProtectedSite(name="Twin tombs", kind="necropolis", geometry=twin))
        line = reg.add(ProtectedSite(name="Old road", kind="road", geometry=road))
    found = {"points": [p.id for p in points], "areas": [*api.demo.sites, tombs.id], "lines": [line.id]}
    found["secret"] = [secret.id]
    if api.target.endswith(".gpkg"):
        write_with_gdal(api.target, "Well (GDAL)", Point(LON + 0.05, LAT + 0.005))
        with open_register(api.target) as reg:
            found["points"] += [s.id for s in reg.list("site", where={"name": "Well (GDAL)"})]
    return found


def test_mixed_sites_are_also_served_as_one_collection_per_geometry_type(
    api: Served, sites: dict[str, list[int]]
) -> None:
    with api.client("viewer") as c:

        def read(collection: str, **params: object) -> list[dict]:
            page = c.get(f"/ogc/collections/{collection}/items", params={"limit": 1000, **params}).json()
            assert page["numberMatched"] == page["numberReturned"] == len(page["features"]), collection
            return page["features"]

        def ids(collection: str, **params: object) -> list[int]:
            return [f["id"] for f in read(collection, **params)]

        points, areas = read("protected_site_points"), read("protected_site_areas")
        assert ids("protected_site_points") == sorted(sites["points"]), "every point this user may see"
        assert ids("protected_site_areas") == sorted(sites["areas"])
        assert {f["geometry"]["type"] for f in points} == {"Point"}
        assert {f["geometry"]["type"] for f in areas} == {"MultiPolygon"}, "polygons go out as multipolygons"
        assert ids("protected_sites") == sorted(sites["points"] + sites["areas"] + sites["lines"]), "the whole layer"

        window = ",".join(map(str, (LON + 0.0299, LAT + 0.0005, LON + 0.0311, LAT + 0.0015)))
        assert ids("protected_site_points", bbox=window) == sites["points"][:3]
        assert ids("protected_site_areas", bbox=window) == api.demo.sites
        assert ids("protected_site_points", name="Monument 4") == [sites["points"][4]]

        seen, url, pages = [], "/ogc/collections/protected_site_points/items?limit=3", 0
        while url:
            page = c.get(url).json()
            assert page.get("numberMatched", len(points)) == len(points), "counted on the first page"
            seen += [f["id"] for f in page["features"]]
            url = next((lk["href"] for lk in page["links"] if lk["rel"] == "next"), None)
            pages += 1
        assert seen == sorted(sites["points"]) and pages == math.ceil(len(points) / 3)

        extent = c.get("/ogc/collections/protected_site_points").json()["extent"]["spatial"]["bbox"][0]
        corners = shapely.MultiPoint([shape(f["geometry"]) for f in points]).bounds
        assert extent == pytest.approx(list(corners), abs=1e-5), "the points' extent, not the layer's"
        assert c.get(f"/ogc/collections/protected_site_points/items/{sites['areas'][-1]}").status_code == 404
        tombs = c.get(f"/ogc/collections/protected_site_areas/items/{sites['areas'][-1]}")
        assert tombs.status_code == 200 and tombs.json()["geometry"]["type"] == "MultiPolygon"
        schema = c.get("/ogc/collections/protected_site_points/queryables").json()["properties"]["geometry"]
        assert schema == {"$ref": "https://geojson.org/schema/Point.json"}
        listing = c.get("/ogc/collections", params={"f": "html"}).text
        assert "protected_site_points" in listing and "protected_site_areas" in listing
        html = c.get("/ogc/collections/protected_site_points/items", params={"f": "html"}).text
        assert f"Features 1-{len(points)} of {len(points)}" in html and "Monument 0" in html
    with api.client("ngo") as ngo:
        theirs = ngo.get("/ogc/collections/protected_site_points/items", params={"bbox": window}).json()
        assert [f["id"] for f in theirs["features"]] == sorted(sites["points"][:3] + sites["secret"])


def test_the_one_type_collections_are_read_only(api: Served) -> None:
    with api.client("admin") as admin:
        feature = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [LON, LAT]},
            "properties": {"name": "New monument", "kind": "monument"},
        }
        assert admin.post("/ogc/collections/protected_site_points/items", json=feature).status_code == 405
        paths = admin.get("/openapi.json").json()["paths"]
    for name in VIEWS:
        assert set(paths[f"/ogc/collections/{name}/items"]) == {"get"}
        assert set(paths[f"/ogc/collections/{name}/items/{{featureId}}"]) == {"get"}
    assert "post" in paths["/ogc/collections/protected_sites/items"]


def test_every_feature_carries_its_id_as_a_property_and_can_be_asked_for_by_id(api: Served) -> None:
    wanted = sorted([api.demo.items[3], api.demo.items[7]])
    with api.client("viewer") as c:
        page = c.get("/ogc/collections/items/items", params={"limit": 100}).json()
        assert all(next(iter(f["properties"])) == "id" and f["properties"]["id"] == f["id"] for f in page["features"])
        asked = c.get("/ogc/collections/items/items", params={"id": ",".join(map(str, wanted))}).json()
        assert asked["numberMatched"] == 2 and [f["id"] for f in asked["features"]] == wanted
        repeated = c.get("/ogc/collections/items/items", params=[("id", wanted[0]), ("id", wanted[1])]).json()
        assert [f["properties"]["id"] for f in repeated["features"]] == wanted
        hidden = c.get("/ogc/collections/hazards/items", params={"id": api.demo.secret_hazard}).json()
        assert hidden["numberMatched"] == 0, "an id does not reveal another organisation's restricted hazard"
        assert c.get("/ogc/collections/items/queryables").json()["properties"]["id"]["type"] == "integer"
    with api.client("super") as sup:
        url = f"/ogc/collections/items/items/{wanted[0]}"
        read = sup.get(url)
        assert read.json()["properties"]["id"] == wanted[0]
        sent = read.json()
        sent["properties"].update(id=wanted[1], notes="marked with a red stake")  # a stray id is not a move
        saved = sup.put(url, json=sent, headers={"If-Match": read.headers["etag"]})
        assert saved.status_code == 200, saved.text
        assert saved.json()["id"] == saved.json()["properties"]["id"] == wanted[0]
        assert (
            sup.get(f"/ogc/collections/items/items/{wanted[1]}").json()["properties"]["notes"]
            != sent["properties"]["notes"]
        )
