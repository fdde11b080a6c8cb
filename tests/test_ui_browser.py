"""The web UI in a real browser: Debian's Chromium driven by Playwright, against a real uvicorn
server on 127.0.0.1 serving the Palmyra scenario (fixtures: sapper.testing.browser).

The whole flow (log in, the map's layers, a hazard opened, a daily report sent, the sitrep
counting it) runs on both backends, GeoPackage and PostGIS; the rest on GeoPackage only.
What is drawn is checked against what the API answers for the same request. Screenshots go to
a folder named after the backend in the test's temporary folder, or, for GeoPackage, to
``$SAPPER_SCREENSHOTS`` when set (how the README's pictures are made). The plan page has its
own module, test_ui_plan_browser.py.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page
from shapely.geometry import shape

from sapper.testing.browser import (
    ONE_BACKEND,
    Site,
    drawn,
    login,
    map_settled,
    matched,
    move_map,
    requested,
    screenshot,
)
from sapper.testing.server import PASSWORD

DAY = "2016-04-10"  # the Palmyra scenario's snapshot: its latest daily reports
ANCIENT_CITY = (34.5535, 38.2495)  # lat, lon of the western ancient city, thick with items


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

    for collection in ("hazards", "releases"):  # drawn from vector tiles: tests/test_tiles_browser.py
        assert any(f"/ogc/collections/{collection}/tiles/WebMercatorQuad/" in u for u in urls), collection
        in_view = matched(palmyra, requested(urls, collection))  # the legend counts what the view holds
        assert in_view > 0 and page.get_attribute(f"[data-layer='{collection}']", "data-count") == str(in_view)
    for collection, pane, layer in (
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
    box = page.evaluate("window.sapperMap.map.getBounds().toBBoxString()")  # items come from vector tiles
    with palmyra.api() as client:
        in_view = client.get("/ogc/collections/items/items", params={"bbox": box, "limit": 10_000}).json()["features"]
    assert 100 < len(in_view) <= 10_000
    shown = page.eval_on_selector_all(".leaflet-items-pane path[data-id]", "ps => ps.map(p => Number(p.dataset.id))")
    assert {f["id"] for f in in_view} <= set(shown)
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
