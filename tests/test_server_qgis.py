"""QGIS loads every collection of the OGC API - Features server, on both backends.

Debian's QGIS (3.22, its WFS provider in OGC API mode, "OAPIF") runs under Debian's own
``/usr/bin/python3``, not the project's Python, so a small PyQGIS script is written to a file and
run there in a subprocess with no screen. It reads a real server on 127.0.0.1 serving the Palmyra
scenario with a stored plan (so sectors and lanes exist) and answers in JSON, which is checked here
against what the API itself answers for the same data.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import shapely
from shapely.geometry import box, shape

from sapper.model.accounts import Role, User
from sapper.model.records import Hazard
from sapper.plan.build import Inputs, Settings, make_plan
from sapper.plan.records import bundle
from sapper.server import create_app
from sapper.server.collections import served_layers
from sapper.store import open_register
from sapper.store.accounts import Accounts
from sapper.store.plans import save_plan
from sapper.store.qc import make_plan as qc_plan
from sapper.testing.palmyra import palmyra
from sapper.testing.server import PASSWORD, served_demo, serving

QGIS_PYTHON = "/usr/bin/python3"  # PyQGIS is built for Debian's Python only
BBOX = (38.2450, 34.5500, 38.2550, 34.5570)  # the western ancient city: some hazards, items and sectors
BBOX_COLLECTIONS = ("hazards", "items", "plan_sectors")
GEOMETRY_TYPES = {"POINT": "Point", "MULTIPOLYGON": "MultiPolygon", "MULTILINESTRING": "MultiLineString"}
SAMPLE = 10  # QGIS 3.22 guesses a collection's fields and geometry type from its first 10 features


@cache
def qgis_missing() -> str | None:
    """Why QGIS cannot run here, or None."""
    try:
        found = subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        return f"{QGIS_PYTHON} cannot run: {exc}"
    if found.returncode != 0:
        return "QGIS's Python bindings are not installed (apt-get install python3-qgis, or ./install.sh --test)"
    return None


needs_qgis = pytest.mark.skipif(qgis_missing() is not None, reason=str(qgis_missing()))

# Run by Debian's python3: python3 script.py job.json answer.json
QGIS_SCRIPT = r"""
import json, sys
from qgis.core import (QgsApplication, QgsAuthMethodConfig, QgsDataSourceUri, QgsErrorMessage,
                       QgsFeatureRequest, QgsRectangle, QgsVectorLayer, QgsWkbTypes)
from qgis.PyQt.QtCore import QDate, QDateTime, Qt

job = json.load(open(sys.argv[1]))
app = QgsApplication([], False)
app.initQgis()


def layer(name, user=None, password=None, authcfg=None, **params):
    uri = QgsDataSourceUri()
    uri.setParam("url", job["url"] + "/ogc")
    uri.setParam("typename", name)
    for key, value in params.items():
        uri.setParam(key, value)
    if authcfg:
        uri.setAuthConfigId(authcfg)
    elif user:
        uri.setUsername(user)
        uri.setPassword(password)
    return QgsVectorLayer(uri.uri(False), name, "OAPIF")


def value(v):
    if v is None or (hasattr(v, "isNull") and v.isNull()):
        return None
    if isinstance(v, (QDate, QDateTime)):
        return v.toString(Qt.ISODate)
    return v


def geometry(g):
    if g.isNull():
        return None
    b = g.boundingBox()
    kind = QgsWkbTypes.displayString(g.wkbType())
    return [kind, [b.xMinimum(), b.yMinimum(), b.xMaximum(), b.yMaximum()], g.constGet().nCoordinates()]


def features(lay, request=None):
    found = lay.getFeatures(request) if request is not None else lay.getFeatures()
    return [[[value(v) for v in f.attributes()], geometry(f.geometry())] for f in found]


def describe(lay, with_features=True):
    out = {"valid": lay.isValid(), "count": lay.featureCount(), "type": QgsWkbTypes.displayString(lay.wkbType()),
           "fields": [[f.name(), f.typeName()] for f in lay.fields()],
           "error": lay.error().message(QgsErrorMessage.Text)}  # error().summary() crashes QGIS 3.22 when empty
    out["features"] = features(lay) if with_features and lay.isValid() else []
    return out


user, password = job["user"], job["password"]
answer = {"collections": {}, "bbox": {}, "access": {}}
for name in job["collections"]:
    answer["collections"][name] = describe(layer(name, user, password))
rect = QgsRectangle(*job["bbox"])
for name in job["bbox_collections"]:
    for mode, params in (("cached", {}), ("server", {"restrictToRequestBBOX": "1"})):
        lay = layer(name, user, password, **params)
        answer["bbox"][name + " " + mode] = features(lay, QgsFeatureRequest().setFilterRect(rect))
access = answer["access"]
access["anonymous"] = describe(layer("hazards"))
access["wrong password"] = describe(layer("hazards", user, "not " + password))
for other in job["others"]:
    access[other] = describe(layer("hazards", other, password))
manager = QgsApplication.authManager()  # its database is in QGIS_AUTH_DB_DIR_PATH, a temporary folder
manager.setMasterPassword("sapper test", True)
config = QgsAuthMethodConfig("Basic")
config.setName("sapper")
config.setConfig("username", user)
config.setConfig("password", password)
stored, config = manager.storeAuthenticationConfig(config)
# after the other user's read of the same URL: a cached answer would show their hazards
access["authcfg"] = describe(layer("hazards", authcfg=config.id()), with_features=False)
json.dump(answer, open(sys.argv[2], "w"), default=str)
"""


@dataclass
class Recorded:
    """The requests QGIS sent: path, query and the kind of credentials."""

    requests: list[tuple[str, str, str]] = field(default_factory=list)

    def wrap(self, app: Any) -> Callable[..., Any]:
        async def recording(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                headers = dict(scope["headers"])
                if b"QGIS" in headers.get(b"user-agent", b""):
                    scheme = headers.get(b"authorization", b"none").split(b" ")[0].decode().lower()
                    self.requests.append((scope["path"], scope["query_string"].decode(), scheme))
            await app(scope, receive, send)

        return recording


@dataclass
class Site:
    url: str
    token: str
    recorded: Recorded
    qgis: dict[str, Any]

    def get(self, path: str, **params: Any) -> Any:
        answer = httpx.get(
            f"{self.url}{path}", params=params, headers={"Authorization": f"Bearer {self.token}"}, timeout=60
        )
        assert answer.status_code == 200, answer.text
        return answer.json()


def prepare(target: str) -> str:
    """The Palmyra scenario, a stored plan, another organisation's restricted hazard; the viewer's token."""
    reg = open_register(palmyra(target), user="palmyra-scenario")
    with reg:
        hazards = reg.list("hazard")
        inputs = Inputs(
            hazards=sorted(hazards, key=lambda h: (h.original_area_m2, h.id))[:10],  # a small plan keeps this quick
            items=reg.list("item"),
            sites=reg.list("site"),
            teams=reg.list("team"),
            reports=reg.list("report"),
            releases=reg.list("release"),
        )
        save_plan(reg, bundle(make_plan(inputs, Settings(start=date(2016, 4, 11), time_limit_s=1, runs=10))))
        cleared = reg.list("release", where={"route": "cleared"}, limit=1)[0]
        qc_plan(reg, cleared.hazard_id, seed=1, cell_m=50.0)  # its samples are a collection too
        depot = box(38.300, 34.560, 38.301, 34.561)
        reg.add(Hazard(name="Depot (restricted)", geometry=depot, organisation="ngo", restricted=True))
        accounts = Accounts(reg.backend).ensure()
        accounts.add(User(name="viewer", role=Role.VIEWER, organisation=hazards[0].organisation), PASSWORD)
        accounts.add(User(name="ngo", role=Role.SUPERVISOR, organisation="ngo"), PASSWORD)
        return accounts.issue_token("viewer", "test")


def run_qgis(url: str, folder: Path) -> dict[str, Any]:
    job = {
        "url": url,
        "user": "viewer",
        "password": PASSWORD,
        "collections": [lay.name for lay in served_layers()],
        "bbox": BBOX,
        "bbox_collections": BBOX_COLLECTIONS,
        "others": ["ngo"],
    }
    (folder / "job.json").write_text(json.dumps(job))
    (folder / "read.py").write_text(QGIS_SCRIPT)
    home = folder / "home"
    home.mkdir(mode=0o700)
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")  # the project's Python is not QGIS's
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(home), XDG_RUNTIME_DIR=str(home), QGIS_AUTH_DB_DIR_PATH=str(home))
    done = subprocess.run(
        [QGIS_PYTHON, str(folder / "read.py"), str(folder / "job.json"), str(folder / "answer.json")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=folder,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((folder / "answer.json").read_text())


@pytest.fixture(scope="module")
def site(module_target: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("qgis")
    token = prepare(module_target)
    recorded = Recorded()
    with serving(recorded.wrap(create_app(module_target))) as server:
        yield Site(server.url, token, recorded, run_qgis(server.url, folder))


def expected_types(schema: dict[str, Any] | None) -> set[str]:
    """The QGIS field types that a queryable's JSON schema stands for."""
    if schema is None:
        return {"String"}  # list fields are not queryable; they are served as comma-separated text
    by_type = {"integer": {"Integer", "Integer64"}, "number": {"Real"}, "boolean": {"Boolean"}}
    by_format = {"date": {"Date"}, "date-time": {"DateTime"}}
    return by_type.get(schema.get("type", "")) or by_format.get(schema.get("format", "")) or {"String"}


def as_read(value: Any, kind: str) -> Any:
    """An API value as QGIS holds it in a field of this type."""
    if value is None:
        return None
    if kind == "String" and not isinstance(value, str):
        return str(value)
    if kind == "Real":
        return float(value)
    return value


def summary(geometry: dict[str, Any] | None) -> Any:
    if geometry is None:
        return None
    geom = shape(geometry)
    return (geom.geom_type, tuple(round(v, 9) for v in geom.bounds), int(shapely.get_num_coordinates(geom)))


def read_summary(geometry: list[Any] | None) -> Any:
    if geometry is None:
        return None
    kind, bounds, coordinates = geometry
    return (kind, tuple(round(v, 9) for v in bounds), coordinates)


def api_rows(features: list[dict[str, Any]], fields: list[list[str]]) -> Counter[Any]:
    return Counter(
        (tuple(as_read(f["properties"][name], kind) for name, kind in fields), summary(f["geometry"])) for f in features
    )


def qgis_rows(features: list[list[Any]]) -> Counter[Any]:
    return Counter((tuple(attrs), read_summary(geometry)) for attrs, geometry in features)


def differences(want: Counter[Any], got: Counter[Any]) -> str:
    return f"missing in QGIS: {list((want - got).elements())[:2]}; extra in QGIS: {list((got - want).elements())[:2]}"


@needs_qgis
@pytest.mark.slow  # the register, its plan and QGIS's reading take 10-20 s per backend
def test_qgis_loads_every_collection_with_its_features_fields_and_geometry_type(site: Site) -> None:
    collections = [c["id"] for c in site.get("/ogc/collections")["collections"]]
    assert set(collections) == set(site.qgis["collections"]), "QGIS was asked for every collection"
    for name in collections:
        read = site.qgis["collections"][name]
        assert read["valid"], f"{name}: {read['error']}"
        page = site.get(f"/ogc/collections/{name}/items", limit=10_000)
        features = page["features"]
        assert page["numberMatched"] == len(features) > 0, name
        assert read["count"] == len(features), f"{name}: QGIS counts {read['count']}"

        queryables = site.get(f"/ogc/collections/{name}/queryables")["properties"]
        sample = site.get(f"/ogc/collections/{name}/items", limit=SAMPLE)["features"]
        names = list(features[0]["properties"])
        assert [n for n, _ in read["fields"]] == names, name
        for field_name, kind in read["fields"]:
            want = expected_types(queryables.get(field_name))
            if all(f["properties"][field_name] is None for f in sample):
                want = want | {"String"}  # QGIS saw no value to tell the type by
            assert kind in want, f"{name}.{field_name}: QGIS reads {kind}, the server declares {want}"

        declared = next(lay.geometry_type for lay in served_layers() if lay.name == name)
        first = shape(sample[0]["geometry"]).geom_type  # a mixed collection takes its first feature's type
        assert read["type"] == (first if declared == "GEOMETRY" else GEOMETRY_TYPES[declared]), name
        want = api_rows(features, read["fields"])
        got = qgis_rows(read["features"])
        assert got == want, f"{name}: {differences(want, got)}"

    assert any(
        path == "/ogc/collections/items/items" and "cursor=" in query for path, query, _ in site.recorded.requests
    ), "QGIS paged through the 4,000 items with the next links"


@needs_qgis
def test_qgis_reads_a_bbox_from_its_cache_and_from_the_server(site: Site) -> None:
    bbox = ",".join(str(v) for v in BBOX)
    for name in BBOX_COLLECTIONS:
        fields = site.qgis["collections"][name]["fields"]
        page = site.get(f"/ogc/collections/{name}/items", limit=10_000, bbox=bbox)
        want = api_rows(page["features"], fields)
        assert 0 < page["numberMatched"] < site.qgis["collections"][name]["count"], name
        for mode in ("cached", "server"):
            got = qgis_rows(site.qgis["bbox"][f"{name} {mode}"])
            assert got == want, f"{name}, {mode}: {differences(want, got)}"
        asked = [
            q for path, q, _ in site.recorded.requests if path == f"/ogc/collections/{name}/items" and "bbox=" in q
        ]
        assert asked, f"{name}: restrictToRequestBBOX=1 sends the box to the server"


@needs_qgis
def test_qgis_needs_credentials_and_sees_what_its_user_may_see(site: Site) -> None:
    access = site.qgis["access"]
    assert not access["anonymous"]["valid"] and not access["wrong password"]["valid"]
    assert access["authcfg"]["valid"] and access["authcfg"]["count"] == site.qgis["collections"]["hazards"]["count"]

    def names(read: dict[str, Any]) -> set[str]:
        index = [n for n, _ in read["fields"]].index("name")
        return {attrs[index] for attrs, _ in read["features"]}

    assert "Depot (restricted)" not in names(site.qgis["collections"]["hazards"]), "another organisation's"
    assert "Depot (restricted)" in names(access["ngo"]), "its own organisation reads it"
    assert access["ngo"]["count"] == site.qgis["collections"]["hazards"]["count"] + 1
    assert site.recorded.requests, "the requests are QGIS's own"
    schemes = {scheme for path, _, scheme in site.recorded.requests if path.startswith("/ogc/collections/")}
    assert schemes == {"basic"}, "QGIS 3.22 sends Basic credentials (it cannot send a bearer token)"


@needs_qgis
def test_qgis_draws_every_protected_site_from_the_collection_of_its_geometry_type(site: Site) -> None:
    """The mixed protected_sites layer takes its first feature's type (a polygon) in QGIS 3.22, which
    leaves the point monuments undrawn; each one-type collection holds only geometries of its type."""
    families = {"Point": "point", "MultiPoint": "point", "Polygon": "polygon", "MultiPolygon": "polygon"}

    def drawn(name: str) -> dict[str, str]:
        read = site.qgis["collections"][name]
        index = [n for n, _ in read["fields"]].index("name")
        assert {families[geometry[0]] for _, geometry in read["features"]} == {families[read["type"]]}, name
        return {attrs[index]: families[geometry[0]] for attrs, geometry in read["features"]}

    points, areas = drawn("protected_site_points"), drawn("protected_site_areas")
    assert points["Temple of Bel"] == "point" and areas["Ancient city of Palmyra (site outline)"] == "polygon"
    every = site.get("/ogc/collections/protected_sites/items", limit=10_000)["features"]
    assert {f["properties"]["name"] for f in every} == set(points) | set(areas) and not set(points) & set(areas)


@needs_qgis
def test_qgis_shows_each_features_id_as_a_field(site: Site) -> None:
    for name in ("hazards", "items", "protected_site_points"):
        read = site.qgis["collections"][name]
        names = [n for n, _ in read["fields"]]
        assert names[0] == "id" and dict(read["fields"])["id"] in ("Integer", "Integer64"), name
        page = site.get(f"/ogc/collections/{name}/items", limit=10_000)
        assert sorted(attrs[0] for attrs, _ in read["features"]) == sorted(f["id"] for f in page["features"]), name


def test_answers_must_be_revalidated_so_qgis_shows_no_stale_or_other_users_data(tmp_path: Path) -> None:
    """QGIS keeps answers in a cache keyed by URL alone; without this header a user who logs in
    after another sees the other's answer, and anyone sees the data as it was before an edit."""
    with served_demo(str(tmp_path / "demo.gpkg")) as served, served.client("viewer") as client:
        for path in ("/ogc/collections", "/ogc/collections/hazards/items", "/api/sitrep"):
            answer = client.get(path)
            assert answer.status_code == 200, path
            assert answer.headers["cache-control"] == "private, no-cache", path
