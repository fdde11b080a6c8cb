"""OGC API - Features read side, over real HTTP on both backends: paging, bbox, datetime, filters, HTML."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from shapely.geometry import box, shape

from sapper.server import create_app
from sapper.store.schema import LAYERS
from sapper.testing.server import LAT, LON, Served, served_demo, serving


@pytest.fixture(scope="module", params=["gpkg", "postgis"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if request.param == "gpkg":
        target = str(tmp_path_factory.mktemp("ogc") / "register.gpkg")
    else:
        target = request.getfixturevalue("pg_cluster").new_database()
    with served_demo(target) as served:
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
    assert ids == {lay.name for lay in LAYERS if lay.geometry_type}  # every geometry layer, none other
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
