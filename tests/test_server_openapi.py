"""The API's descriptions as the clients read them, over real HTTP on both backends: GDAL finds the
OGC API's filter parameters in its OpenAPI document and filters on the server, OWSLib finds the
document from the landing page, and every operation documents the 4xx answers it gives, with
the error body the server really sends."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from owslib.ogcapi.features import Features
from owslib.util import Authentication
from shapely.geometry import mapping

from sapper.server import create_app
from sapper.testing.server import LAT, LON, PASSWORD, Served, seeded, serving, square

HAZARDS = "/ogc/collections/hazards/items"
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"


class Recorder:
    """The requests the server was sent: path and query."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []

    def wrap(self, app: Any) -> Callable[..., Any]:
        async def recording(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                self.requests.append((scope["path"], scope["query_string"].decode()))
            await app(scope, receive, send)

        return recording


@pytest.fixture(scope="module")
def api(module_target: str) -> Iterator[tuple[Served, Recorder]]:
    demo = seeded(module_target)
    recorder = Recorder()
    with serving(recorder.wrap(create_app(module_target))) as server:
        yield Served(server.url, module_target, demo), recorder


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo is not installed")
def test_gdal_sends_an_attribute_filter_to_the_server(api: tuple[Served, Recorder]) -> None:
    served, recorder = api
    auth = ["--config", "GDAL_HTTP_HEADERS", f"Authorization: Bearer {served.demo.tokens['viewer']}"]
    cmd = ["ogrinfo", "-ro", *auth, "--config", "CPL_DEBUG", "ON", f"OAPIF:{served.url}/ogc", "hazards"]
    read = subprocess.run([*cmd, "-where", "land_use = 'road'"], capture_output=True, text=True, timeout=60)
    assert read.returncode == 0, read.stderr
    assert "Full filter will be evaluated on client side" not in read.stderr
    assert f"Fetch({served.url}/ogc/api?f=json)" in read.stderr, "GDAL reads the document the landing page names"
    asked = [query for path, query in recorder.requests if path == HAZARDS and "land_use=road" in query]
    assert asked, f"the filter went to the server: {recorder.requests}"
    assert read.stdout.count("OGRFeature(hazards):") == 1 and "name (String) = Hazard 0" in read.stdout


def test_owslib_finds_the_ogc_api_document(api: tuple[Served, Recorder]) -> None:
    served, _ = api
    features = Features(f"{served.url}/ogc", auth=Authentication(username="viewer", password=PASSWORD))
    described = [lk for lk in features.links if lk["rel"] == "service-desc"]
    assert [lk["type"] for lk in described] == [OPENAPI_30]
    doc = features.api()
    assert doc["openapi"].startswith("3.0.")
    assert doc["servers"][0]["url"] == f"{served.url}/ogc"
    assert "/ogc/collections/hazards/items" not in doc["paths"], "paths are relative to the server entry"
    items = doc["paths"]["/collections/hazards/items"]
    params = {p["name"] for p in items["get"]["parameters"]}
    assert {"bbox", "limit", "offset", "datetime", "status", "land_use", "priority"} <= params
    assert {"/", "/conformance", "/collections", "/collections/hazards/items/{featureId}"} <= set(doc["paths"])
    assert not [p for p in doc["paths"] if p.startswith("/api/")], "the OGC API's document holds the OGC API only"
    body = items["post"]["requestBody"]["content"]["application/geo+json"]["schema"]
    geometry = {"nullable": True, "allOf": [{"$ref": "#/components/schemas/GeoJSONGeometry"}]}
    assert body["properties"]["geometry"] == geometry, "GeoJSON's null geometry in OpenAPI 3.0's words"
    assert "null" not in str(doc).replace("nullable", ""), "no OpenAPI 3.1 null types in a 3.0 document"
    assert {"GeoJSONGeometry", "Error"} <= set(doc["components"]["schemas"])


def _resolve(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_every_operation_documents_its_refusals(api: tuple[Served, Recorder]) -> None:
    served, _ = api
    with served.client("super") as c:
        whole = c.get("/openapi.json").json()
        ogc = c.get("/ogc/api").json()
    for doc in (whole, ogc):
        error = doc["components"]["schemas"]["Error"]
        assert error["required"] == ["code", "description", "detail"]
        for path, operations in doc["paths"].items():
            for method, operation in operations.items():
                responses = operation["responses"]
                assert {"400", "401"} <= set(responses), f"{method} {path}"
                for status, response in responses.items():
                    if status.startswith("4"):
                        content = _resolve(doc, response["$ref"])["content"]["application/json"]
                        assert content["schema"] == {"$ref": "#/components/schemas/Error"}, f"{method} {path} {status}"
    assert "HTTPValidationError" not in str(whole), "a request that fails validation gets 400 and the Error body"
    paths = whole["paths"]
    assert {"400", "401", "403", "409", "413", "422"} <= set(paths[HAZARDS]["post"]["responses"])
    assert {"404", "409", "412", "413", "422", "428"} <= set(paths[f"{HAZARDS}/{{featureId}}"]["patch"]["responses"])
    assert "412" not in paths["/api/users/{name}"]["patch"]["responses"], "accounts are not written with If-Match"
    assert "404" in paths[f"{HAZARDS}/{{featureId}}"]["get"]["responses"]
    assert "413" not in paths[HAZARDS]["get"]["responses"] and "403" not in paths[HAZARDS]["get"]["responses"]
    assert "429" in paths["/api/login"]["post"]["responses"]
    assert ogc["paths"]["/collections/hazards/items"]["post"]["responses"]["413"] == {
        "$ref": "#/components/responses/413"
    }
    # and the answers have the body documented
    feature = {"type": "Feature", "geometry": mapping(square(LON + 0.07, LAT)), "properties": {"name": "x"}}
    with served.client("viewer") as viewer, served.client("super") as sup, served.client() as anonymous:
        answers = {
            400: sup.get(HAZARDS, params={"limit": "many"}),
            401: anonymous.get(HAZARDS),
            403: viewer.post(HAZARDS, json=feature),
            404: sup.get(f"{HAZARDS}/999999"),
            413: sup.post(HAZARDS, content=b" " * 21_000_000, headers={"Content-Type": "application/json"}),
            422: sup.post(HAZARDS, json={**feature, "properties": {"name": "x", "priority": 9}}),
        }
    for status, answer in answers.items():
        assert answer.status_code == status, (status, answer.text)
        body = answer.json()
        assert set(body) == {"code", "description", "detail"} and body["description"] == body["detail"], status
        assert all(isinstance(v, str) and v for v in body.values()), status
