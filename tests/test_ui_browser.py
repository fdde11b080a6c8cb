"""The web UI in a real browser: Debian's Chromium driven by Playwright, against a real uvicorn
server on 127.0.0.1 serving the Palmyra scenario (and the small demo register for planning).

The whole flow (log in, the map's layers, a hazard opened, a daily report sent, the sitrep
counting it) runs on both backends, GeoPackage and PostGIS; the rest on GeoPackage only.
What is drawn is checked against what the API answers for the same request. Screenshots go to
a folder named after the backend in the test's temporary folder, or, for GeoPackage, to
``$SAPPER_SCREENSHOTS`` when set (how the README's pictures are made).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from shapely.geometry import shape

from sapper.model.accounts import Role, User
from sapper.server import create_app
from sapper.store import init_register
from sapper.store.accounts import Accounts
from sapper.testing.server import LAT, LON, PASSWORD, served_demo, serving
from scenarios.palmyra.build import build
from scenarios.palmyra.plan import make_plan

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DAY = "2016-04-10"  # the Palmyra scenario's snapshot: its latest daily reports
ANCIENT_CITY = (34.5535, 38.2495)  # lat, lon of the western ancient city, thick with items


ONE_BACKEND = pytest.mark.parametrize("palmyra", ["gpkg"], indirect=True)  # what the backend cannot change


@dataclass
class Site:
    url: str
    app: Any
    tokens: dict[str, str]
    backend: str

    def api(self, user: str = "chief") -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.tokens[user]}"}, timeout=30)


@pytest.fixture(scope="module", params=["gpkg", "postgis"])
def palmyra(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if request.param == "gpkg":
        target = str(tmp_path_factory.mktemp("ui") / "palmyra.gpkg")
    else:
        target = request.getfixturevalue("pg_cluster").new_database()
    reg = init_register(target, user="palmyra-scenario")
    with reg:
        build(reg, make_plan())
        org = reg.list("hazard", limit=1)[0].organisation
        accounts = Accounts(reg.backend).ensure()
        tokens = {}
        for user in (
            User(name="chief", role=Role.SUPERVISOR, organisation=org),
            User(name="leader", role=Role.FIELD_TEAM, organisation=org, team_id=1),
            User(name="viewer", role=Role.VIEWER, organisation=org),
        ):
            accounts.add(user, PASSWORD)
            tokens[user.name] = accounts.issue_token(user.name, "test")
    app = create_app(target)
    with serving(app) as server:
        yield Site(server.url, app, tokens, request.param)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "the browser tests need Debian's chromium: ./install.sh --test"
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser tab (no cookies, no storage) that must raise no script error and must ask
    nothing of any server but ours: the UI works with no internet."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    fetched: list[str] = []
    tab.on("request", lambda r: fetched.append(r.url))
    yield tab
    context.close()
    assert not errors, f"script errors in the page: {errors}"
    outside = [u for u in fetched if not u.startswith(("http://127.0.0.1:", "data:"))]
    assert not outside, f"the page reached outside the server: {outside}"


@pytest.fixture
def shots(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Where a test's screenshots go; the README's come from the GeoPackage runs."""
    callspec = getattr(request.node, "callspec", None)
    backend = callspec.params.get("palmyra", "gpkg") if callspec else "gpkg"
    readme = os.environ.get("SAPPER_SCREENSHOTS")
    folder = Path(readme) if readme and backend == "gpkg" else tmp_path / backend
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page: Page, folder: Path, name: str, full_page: bool = False) -> Path:
    """A PNG of the page, written small: quantised to 256 colours (the UI uses few)."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(page.screenshot(full_page=full_page))).convert("RGB")
    path = folder / f"{name}.png"
    image.quantize(colors=256).save(path, optimize=True)
    return path


def login(page: Page, url: str, name: str, path: str = "/ui/") -> None:
    page.goto(f"{url}{path}")
    page.wait_for_url(re.compile(r".*/ui/login\?next=.*"))
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}{path}")


def map_settled(page: Page, after: str | None = None) -> str:
    """Wait until the map has loaded the view (a round after ``after``); the new round's number."""
    not_old = f":not([data-rounds='{after}'])" if after else ""
    page.wait_for_selector(f"body[data-rounds]{not_old}[data-loading='0']", state="attached")
    return page.get_attribute("body", "data-rounds") or ""


def move_map(page: Page, lat: float, lon: float, zoom: float) -> None:
    before = map_settled(page)
    page.evaluate(f"void window.sapperMap.map.setView([{lat}, {lon}], {zoom}, {{animate: false}})")
    map_settled(page, before)


def requested(urls: list[str], collection: str) -> str:
    """The last page-one request the map made for a collection."""
    mine = [u for u in urls if f"/ogc/collections/{collection}/items?" in u and "offset=" not in u]
    assert mine, f"the map never asked for {collection}"
    return mine[-1]


def matched(site: Site, url: str) -> int:
    with site.api() as client:
        answer = client.get(url)
    assert answer.status_code == 200, answer.text
    return answer.json()["numberMatched"]


def drawn(page: Page, pane: str) -> int:
    return page.locator(f".leaflet-{pane}-pane path.leaflet-interactive").count()


def test_log_in_and_the_map_shows_the_palmyra_layers(palmyra: Site, page: Page, shots: Path) -> None:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.goto(f"{palmyra.url}/ui/")
    page.wait_for_url(re.compile(r".*/ui/login\?next=.*"))
    page.fill("#username", "viewer")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert "user name or password is wrong" in page.locator("#message .error").inner_text()
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{palmyra.url}/ui/")
    map_settled(page)
    assert "viewer (viewer)" in page.inner_text("#nav")
    assert page.input_value("#day") == DAY, "the day shown is the latest day with reports"

    for collection, pane, layer in (
        ("hazards", "hazards", "hazards"),
        ("releases", "released", "releases"),
        ("protected_sites", "base", "base"),
        ("reports", "progress", "progress"),
    ):
        url = requested(urls, collection)
        expected = matched(palmyra, url)
        assert expected > 0, collection
        assert drawn(page, pane) == expected, f"{collection}: drawn against the API for {url}"
        assert page.get_attribute(f"[data-layer='{layer}']", "data-count") == str(expected)
    day_reports = parse_qs(urlparse(requested(urls, "reports")).query)
    assert day_reports["report_date"] == [DAY], "the day's progress layer shows the day's reports"
    with palmyra.api() as client:
        sites = client.get("/ogc/collections/protected_sites/items", params={"limit": 1000}).json()["features"]
    assert drawn(page, "buffers") == sum(1 for s in sites if s["properties"]["buffer_m"] > 0)
    with page.expect_request(lambda r: "report_date=2016-04-09" in r.url) as asked:
        page.fill("#day", "2016-04-09")  # another day: the day's progress layer follows
    expected = matched(palmyra, asked.value.url)
    page.wait_for_selector(f"[data-layer='progress'][data-count='{expected}']", state="attached")
    page.wait_for_selector("body[data-loading='0']", state="attached")
    assert drawn(page, "progress") == expected
    # a whole city of items would hide the hazards: they wait until one zooms in
    assert drawn(page, "items") == 0
    assert "zoom in" in page.locator("[data-layer='items'] + .note").inner_text()
    screenshot(page, shots, "map")

    move_map(page, *ANCIENT_CITY, 16)
    url = requested(urls, "items")
    expected = matched(palmyra, url)
    assert 100 < expected <= 10_000
    assert drawn(page, "items") == expected
    shapes = page.eval_on_selector_all(".leaflet-items-pane path", "paths => paths.map(p => p.getAttribute('d'))")
    assert any("a" in d for d in shapes) and any(d.count("L") == 2 for d in shapes), "circles and triangles"
    screenshot(page, shots, "map-items")


def test_open_a_hazard_shows_its_fields_balance_and_history(palmyra: Site, page: Page, shots: Path) -> None:
    hazard_id = 4  # Agora, in clearance: changed day after day by land released
    with palmyra.api() as client:
        hazard = client.get(f"/ogc/collections/hazards/items/{hazard_id}").json()
        history = client.get(f"/api/history/hazard/{hazard_id}").json()["entries"]
    inside = shape(hazard["geometry"]).representative_point()
    login(page, palmyra.url, "viewer")
    map_settled(page)
    for layer in ("items", "progress"):  # an officer looking at hazards turns these off
        page.uncheck(f"[data-layer='{layer}'] input")
    move_map(page, inside.y, inside.x, 17)
    point = page.evaluate(
        f"(() => {{ const p = window.sapperMap.map.latLngToContainerPoint([{inside.y}, {inside.x}]);"
        " const r = document.getElementById('map').getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; })()"
    )
    page.mouse.click(*point)
    assert page.inner_text("#details-title") == f"Hazard {hazard_id}: {hazard['properties']['name']}"
    fields = dict(
        zip(
            page.locator("#details table.fields").first.locator("th").all_inner_texts(),
            page.locator("#details table.fields").first.locator("td").all_inner_texts(),
        )
    )
    assert fields["status"] == "in clearance"
    assert fields["priority"] == str(hazard["properties"]["priority"])
    page.wait_for_selector("#balance th")
    assert "cleared" in page.inner_text("#balance")
    page.wait_for_selector("#history li")
    entries = page.locator("#history li")
    assert entries.count() == len(history) >= 2
    newest = history[-1]
    assert entries.first.get_attribute("data-action") == newest["action"]
    assert f"v{newest['version']} {newest['action']}" in entries.first.inner_text()
    assert "created" in entries.last.inner_text()
    screenshot(page, shots, "hazard-details")


def test_a_team_leader_sends_a_daily_report_and_the_sitrep_counts_it(palmyra: Site, page: Page, shots: Path) -> None:
    hazard_id = 4
    with palmyra.api() as client:
        before = client.get("/api/sitrep", params={"on": DAY}).json()
    login(page, palmyra.url, "leader", "/ui/report")
    page.wait_for_selector("body[data-loading='0']")
    assert page.is_disabled("#team_id") and page.input_value("#team_id") == "1", "a team leader reports for their team"
    page.fill("#report_date", DAY)
    page.select_option("#activity_type", "clearance")
    page.select_option("#hazard_id", str(hazard_id))
    page.fill("#items_found", "-1")
    box = page.locator("#draw-map").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-40, -30), (40, -30), (40, 30), (-40, 30)):
        page.mouse.click(cx + dx, cy + dy)
    assert "4 corners" in page.inner_text("#area")
    page.click("#send")
    assert "items_found" in page.locator("#message .error").inner_text(), "the server's 4xx sentence is shown"

    page.fill("#items_found", "2")
    page.fill("#notes", "sector H4-07 done; two mortar bombs marked")
    page.click("#send")
    saved = page.wait_for_selector("#saved")
    report_id = saved.get_attribute("data-id")
    screenshot(page, shots, "daily-report")
    with palmyra.api() as client:
        report = client.get(f"/ogc/collections/reports/items/{report_id}").json()
        after = client.get("/api/sitrep", params={"on": DAY}).json()
    props = report["properties"]
    assert (props["reported_by"], props["team_id"], props["hazard_id"]) == ("leader", 1, hazard_id)
    assert (props["report_date"], props["activity_type"], props["items_found"]) == (DAY, "clearance", 2)
    assert report["geometry"]["type"] in ("Polygon", "MultiPolygon") and props["area_m2"] > 100
    assert after["reports"]["reports_today"] == before["reports"]["reports_today"] + 1
    worked = after["reports"]["worked_today"]["clearance"]["m2"] - before["reports"]["worked_today"]["clearance"]["m2"]
    assert worked == pytest.approx(props["area_m2"], rel=1e-3)

    page.click("#saved a[href='/ui/sitrep']")
    page.wait_for_selector(f"body[data-loaded='{DAY}'][data-loading='0']")
    assert page.get_attribute("#reports-today", "data-value") == str(after["reports"]["reports_today"])
    assert page.locator("#chart-released rect").count() > 0
    assert page.locator("#chart-items rect").count() == 2 * len(after["items"]["found_total"])
    screenshot(page, shots, "sitrep", full_page=True)


@ONE_BACKEND
def test_a_viewer_cannot_send_a_report_and_logs_out(palmyra: Site, page: Page) -> None:
    login(page, palmyra.url, "viewer", "/ui/report")
    page.wait_for_selector("body[data-loading='0']")
    assert page.is_disabled("#send")
    assert "viewers read" in page.inner_text("#message")
    page.click("#logout")
    page.wait_for_url(f"{palmyra.url}/ui/login")
    page.goto(f"{palmyra.url}/ui/sitrep")
    page.wait_for_url(re.compile(r".*/ui/login\?next=%2Fui%2Fsitrep$"))  # logged out: the cookie is gone
    assert page.evaluate("localStorage.getItem('sapper.token')") is None


@ONE_BACKEND
def test_the_map_shows_the_server_imagery_under_the_layers(
    palmyra: Site, page: Page, shots: Path, tmp_path: Path
) -> None:
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (512, 512), (214, 200, 170))
    pen = ImageDraw.Draw(picture)
    for at in range(0, 512, 32):  # a street grid, so a tile shows
        pen.line([(at, 0), (at, 511)], fill=(150, 135, 110), width=3)
        pen.line([(0, at), (511, at)], fill=(150, 135, 110), width=3)
    picture.save(tmp_path / "ortho.png")
    lat, lon = ANCIENT_CITY
    corners = [str(v) for v in (lon - 0.01, lat + 0.006, lon + 0.01, lat - 0.006)]
    mbtiles = tmp_path / "ortho.mbtiles"
    subprocess.run(
        [
            "gdal_translate",
            "-q",
            "-of",
            "MBTILES",
            "-a_srs",
            "EPSG:4326",
            "-a_ullr",
            *corners,
            str(tmp_path / "ortho.png"),
            str(mbtiles),
        ],
        check=True,
    )
    palmyra.app.state.imagery = str(mbtiles)
    try:
        login(page, palmyra.url, "viewer")
        map_settled(page)
        assert page.inner_text("[data-layer='imagery']") == "Imagery: ortho"
        move_map(page, lat, lon, 16)
        page.wait_for_selector("img.leaflet-tile-loaded")
        tiles = page.eval_on_selector_all("img.leaflet-tile-loaded", "imgs => imgs.map(i => i.src)")
        assert tiles and all(re.search(r"/ui/imagery/\d+/\d+/\d+$", t) for t in tiles)
        page.uncheck("[data-layer='imagery'] input")
        assert page.locator("img.leaflet-tile").count() == 0
    finally:
        palmyra.app.state.imagery = None


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with served_demo(str(tmp_path_factory.mktemp("demo") / "demo.gpkg")) as served:
        yield served


def test_a_supervisor_makes_a_plan_and_sees_its_gantt_and_burn_down(demo: Any, page: Page, shots: Path) -> None:
    login(page, demo.url, "super", "/ui/plan")
    page.wait_for_selector("body[data-loading='0']")
    assert "no plan is stored yet" in page.inner_text("#no-plan")
    page.fill("#start", "2016-04-11")
    page.fill("#time_limit", "2")
    page.click("#make button[type=submit]")
    page.wait_for_selector("body[data-plan='1'][data-loading='0']", timeout=120_000)
    with demo.client("super") as client:
        view = client.get("/ui/api/plan").json()
        sectors = client.get(
            "/ogc/collections/plan_sectors/items", params={"plan_id": view["plan"]["id"], "limit": 1}
        ).json()
    rows = page.locator("#gantt g.row")
    assert rows.count() == len(view["teams"]) > 0
    assert page.locator("#gantt rect.bar").count() == sum(len(t["bars"]) for t in view["teams"])
    assert page.get_attribute("#plan-finish", "data-value") == view["plan"]["finish_p50"]
    assert page.locator("#burndown path[data-series='planned']").count() == 1
    screenshot(page, shots, "plan-demo", full_page=True)

    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.click("#nav a[href='/ui/']")
    map_settled(page)
    move_map(page, LAT + 0.0005, LON + 0.005, 16)
    url = requested(urls, "plan_sectors")
    assert parse_qs(urlparse(url).query)["plan_id"] == [str(view["plan"]["id"])], "the map shows the latest plan"
    with demo.client("super") as client:
        expected = client.get(url).json()["numberMatched"]
    assert 0 < expected <= sectors["numberMatched"]
    assert drawn(page, "plan") == expected
