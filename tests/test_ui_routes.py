"""The web UI's pages and JSON views over real HTTP, on GeoPackage and PostGIS: what the pages
are built from (extent, buffers, day-by-day progress, the stored plan as Gantt and burn-down,
imagery tiles), and a 4xx with a sentence for every bad request."""

from __future__ import annotations

import dataclasses
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from shapely.geometry import shape

from sapper.model.errors import SapperError
from sapper.model.geometry import area_m2, as_multipolygon, to_metric
from sapper.model.plan import Plan, PlanAssignment, PlanBundle, PlanDay, PlanSector
from sapper.server import create_app
from sapper.store import open_register
from sapper.store.plans import save_plan
from sapper.testing.server import LAT, LON, Served, seeded, serving, square

STATIC = Path(__file__).parents[1] / "sapper" / "server" / "static"


@dataclass
class Demo(Served):
    app: Any = None  # the app being served: its state holds the imagery path


@pytest.fixture(scope="module")
def api(module_target: str) -> Iterator[Demo]:
    demo = seeded(module_target)
    app = create_app(module_target)
    with serving(app) as server:
        yield Demo(server.url, module_target, demo, app)


def polygon(lon: float, lat: float, size: float) -> dict[str, Any]:
    return square(lon, lat, size).__geo_interface__


def test_pages_are_served_with_local_assets_only(api: Demo) -> None:
    with api.client() as anonymous:
        assert anonymous.get("/ui", follow_redirects=False).headers["location"] == "/ui/"
        for path in ("/ui/", "/ui/login", "/ui/sitrep", "/ui/report", "/ui/plan"):
            page = anonymous.get(path)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), path
            assert "script-src 'self'" in page.headers["content-security-policy"]
            for ref in re.findall(r'(?:src|href)="([^"]+)"', page.text):
                assert ref.startswith(("/static/", "/ui/", "/api/", "data:")), f"{path} loads {ref}"
                if ref.startswith("/static/"):
                    assert anonymous.get(ref).status_code == 200, ref
        missing = anonymous.get("/ui/nope")
        assert missing.status_code == 404 and "/ui/sitrep" in missing.json()["description"]
        assert anonymous.get("/ui/api/config").status_code == 401
    # nothing in the UI's own files reaches for the internet (the SVG namespace is a name, not a fetch)
    for path in (STATIC / "ui").iterdir():
        text = path.read_text().replace("http://www.w3.org/2000/svg", "")
        assert not re.search(r"https?://", text), f"{path.name} names an internet address"
    for vendored in ("leaflet.js", "leaflet.css", "LICENSE"):
        assert (STATIC / "vendor" / "leaflet" / vendored).is_file()


def test_config_gives_the_extent_the_latest_report_day_and_vocabularies(api: Demo) -> None:
    with api.client("viewer") as client:
        config = client.get("/ui/api/config").json()
    minx, miny, maxx, maxy = config["extent"]
    assert minx <= LON and miny <= LAT and maxx >= LON + 0.03 and maxy >= LAT + 0.001
    assert "clearance" in config["vocabularies"]["activity_type"]
    assert config["imagery"] is None and config["today"] == date.today().isoformat()


def test_choices_hide_other_organisations_restricted_hazards(api: Demo) -> None:
    with api.client("super") as mac, api.client("ngo") as ngo:
        seen_by_mac = {h["id"] for h in mac.get("/ui/api/choices").json()["hazards"]}
        seen_by_ngo = {h["id"] for h in ngo.get("/ui/api/choices").json()["hazards"]}
    assert api.demo.secret_hazard not in seen_by_mac and api.demo.secret_hazard in seen_by_ngo
    assert set(api.demo.hazards) <= seen_by_mac


def test_buffers_are_drawn_in_metres_and_found_from_a_box_that_only_meets_the_buffer(api: Demo) -> None:
    site = square(LON + 0.03, LAT, 0.002)  # the demo's Temple of Bel, buffer 100 m
    _west, south, east, north = site.bounds
    near = f"{east + 0.0005},{south},{east + 0.0006},{north}"  # ~50 m east of the site: inside its buffer only
    with api.client("viewer") as client:
        answer = client.get("/ui/api/buffers", params={"bbox": near})
        far = client.get("/ui/api/buffers", params={"bbox": f"{east + 0.01},{south},{east + 0.02},{north}"})
        bad = client.get("/ui/api/buffers", params={"bbox": "1,2,three,4"})
    assert answer.status_code == 200 and far.json()["features"] == []
    (zone,) = answer.json()["features"]
    assert zone["id"] == api.demo.sites[0] and zone["properties"]["buffer_m"] == 100
    metric = to_metric(site)
    expected = metric.area + metric.length * 100 + 3.14159 * 100**2
    assert area_m2(shape(zone["geometry"])) == pytest.approx(expected, rel=0.01)
    assert bad.status_code == 400 and "bbox" in bad.json()["description"]


def test_progress_counts_each_day_reports_releases_and_items(api: Demo) -> None:
    day = "2016-04-03"
    hazard = api.demo.hazards[2]
    piece = polygon(LON + 0.004, LAT, 0.0005)
    with api.client("leader") as leader, api.client("super") as chief:
        before = chief.get("/ui/api/progress", params={"on": day, "days": 3}).json()
        report = leader.post(
            "/api/reports",
            json={"report_date": day, "activity_type": "clearance", "hazard_id": hazard, "geometry": piece},
        )
        assert report.status_code == 201, report.text
        released = chief.post(
            f"/api/hazards/{hazard}/release",
            json={"route": "cleared", "geometry": piece, "on": day, "force": True},  # demo items still found
        )
        assert released.status_code == 201, released.text
        after = chief.get("/ui/api/progress", params={"on": day, "days": 3}).json()
        bad = chief.get("/ui/api/progress", params={"on": day, "days": 0})
    area = released.json()["release"]["properties"]["area_m2"]
    assert [d["day"] for d in after["days"]] == ["2016-04-01", "2016-04-02", day]
    first, last = before["days"][-1], after["days"][-1]
    assert last["reports"] == first["reports"] + 1
    assert last["worked_m2"] == pytest.approx(first["worked_m2"] + report.json()["properties"]["area_m2"], abs=0.2)
    assert last["released_m2"]["cleared"] == pytest.approx(first["released_m2"]["cleared"] + area, abs=0.2)
    assert last["still_hazardous_m2"] == pytest.approx(first["still_hazardous_m2"] - area, abs=0.2)
    assert last["items_found"] == 3  # demo items are found on 1 + i % 10 of April, i < 25
    assert bad.status_code == 400 and "days" in bad.json()["description"]


def test_a_new_plan_starts_the_day_after_the_last_report_or_release(api: Demo) -> None:
    """The plan page offers the day the CLI and the API would plan from, not today's date."""
    hazard = api.demo.hazards[3]
    with api.client("leader") as leader, api.client("super") as chief:
        report = leader.post(
            "/api/reports",
            json={"report_date": "2016-04-20", "activity_type": "clearance", "hazard_id": hazard,
                  "geometry": polygon(LON + 0.006, LAT, 0.0004)},
        )  # fmt: skip
        assert report.status_code == 201, report.text
        assert chief.get("/ui/api/config").json()["plan_start"] == "2016-04-21"
        piece = polygon(LON + 0.006, LAT, 0.0002)
        released = chief.post(f"/api/hazards/{hazard}/release", json={"route": "cleared", "geometry": piece,
                                                                     "on": "2016-04-23"})  # fmt: skip
        assert released.status_code == 201, released.text
        assert chief.get("/ui/api/config").json()["plan_start"] == "2016-04-24"


def test_the_plan_view_merges_team_days_into_bars_and_gives_the_stored_burn_down(api: Demo) -> None:
    with api.client("viewer") as client:
        none = client.get("/ui/api/plan")
        assert none.status_code in (200, 404)
    h1, h2 = api.demo.hazards[0], api.demo.hazards[1]
    t1, t2 = api.demo.teams[0], api.demo.teams[1]
    day1, day2 = date(2016, 5, 2), date(2016, 5, 3)

    def sector(hazard: int, label: str, area: float) -> PlanSector:
        return PlanSector(
            plan_id=0,
            hazard_id=hazard,
            label=label,
            area_m2=area,
            organisation="mac",
            geometry=as_multipolygon(square(LON, LAT, 0.0002)),
        )

    def work(team: int, sector_at: int, hazard: int, day: date, start: str, hours: float) -> tuple[int, Any]:
        return sector_at, PlanAssignment(
            plan_id=0,
            team_id=team,
            sector_id=0,
            hazard_id=hazard,
            day=day,
            start=start,
            hours=hours,
            organisation="mac",
        )

    def burned(day: date, elapsed: int, team_days: float, m2: float) -> PlanDay:
        return PlanDay(
            plan_id=0,
            day=day,
            working_day=elapsed,
            planned_team_days=team_days,
            team_days_p10=team_days * 0.8,
            team_days_p50=team_days,
            team_days_p90=team_days * 1.5,
            planned_m2=m2,
            m2_p10=m2 * 0.8,
            m2_p50=m2,
            m2_p90=m2 * 1.2,
            organisation="mac",
        )

    bundle = PlanBundle(
        plan=Plan(start_on=day1, area_m2=4000.0, finish_p50=day2, organisation="mac"),
        sectors=[sector(h1, "A", 1000.0), sector(h1, "B", 3000.0), sector(h2, "C", 0.0)],
        lanes=[],
        assignments=[
            work(t1, 0, h1, day1, "08:00", 4.0),
            work(t1, 0, h1, day2, "08:00", 4.0),
            work(t1, 1, h1, day2, "12:00", 2.0),
            work(t1, 2, h2, day2, "14:00", 1.0),
            work(t2, 1, h1, day1, "08:00", 6.0),
        ],
        priorities=[],
        # stored out of order: the view sorts them by day
        days=[burned(day2, 2, 0, 0), burned(day1 - timedelta(days=1), 0, 4, 4000), burned(day1, 1, 1.5, 1250)],
    )
    reg = open_register(api.target, user="planner")
    with reg:
        stored = save_plan(reg, bundle)
        older = save_plan(reg, dataclasses.replace(bundle, days=[]))  # as plans made before burn-downs were kept
    with api.client("viewer") as client:
        assert client.get("/ui/api/plan", params={"number": older.number}).json()["days"] == []
        view = client.get("/ui/api/plan", params={"number": stored.number}).json()
        missing = client.get("/ui/api/plan", params={"number": 999})
        zero = client.get("/ui/api/plan", params={"number": 0})
    assert view["plan"]["number"] == stored.number and stored.number in view["numbers"]
    rows = {row["team_id"]: row for row in view["teams"]}
    first = [(b["hazard_id"], b["start"], b["end"], b["sectors"], b["hours"]) for b in rows[t1]["bars"]]
    assert first == [(h1, "2016-05-02", "2016-05-03", 2, 10.0), (h2, "2016-05-03", "2016-05-03", 1, 1.0)]
    assert [(b["hazard_id"], b["hours"]) for b in rows[t2]["bars"]] == [(h1, 6.0)]
    assert [(d["day"], d["working_day"], d["team_days_p50"], d["m2_p90"]) for d in view["days"]] == [
        ("2016-05-01", 0, 4.0, 4800.0),
        ("2016-05-02", 1, 1.5, 1500.0),
        ("2016-05-03", 2, 0.0, 0.0),
    ]
    assert set(view["days"][0]) == {"day", "working_day", "planned_team_days", "planned_m2"} | {
        f"{what}_p{q}" for what in ("team_days", "m2") for q in (10, 50, 90)
    }
    assert view["hazards"][str(h1)]["name"] == "Hazard 0"
    assert missing.status_code == 404 and str(stored.number) in missing.json()["description"]
    assert zero.status_code == 400 and "number" in zero.json()["description"]


@pytest.fixture(scope="module")
def mbtiles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A drone orthophoto stand-in turned into MBTiles by GDAL, as a user would: gdal_translate."""
    if shutil.which("gdal_translate") is None:
        pytest.fail("gdal_translate (Debian gdal-bin) is needed: ./install.sh --test")
    folder = tmp_path_factory.mktemp("imagery")
    picture = folder / "ortho.png"
    Image.new("RGB", (256, 256), (190, 170, 130)).save(picture)
    out = folder / "ortho.mbtiles"
    subprocess.run(
        [
            "gdal_translate",
            "-q",
            "-of",
            "MBTILES",
            "-a_srs",
            "EPSG:4326",
            "-a_ullr",
            str(LON),
            str(LAT + 0.01),
            str(LON + 0.01),
            str(LAT),
            str(picture),
            str(out),
        ],
        check=True,
    )
    return out


def test_imagery_tiles_come_from_the_mbtiles_file(api: Demo, mbtiles: Path) -> None:
    from sapper.server.imagery import open_imagery

    with sqlite3.connect(mbtiles) as db:
        z, x, tms_y, data = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles").fetchone()
    y = (1 << z) - 1 - tms_y
    app = api.app
    with api.client("viewer") as client:
        assert "no imagery" in client.get(f"/ui/imagery/{z}/{x}/{y}").json()["description"]
        app.state.imagery = str(mbtiles)
        try:
            config = client.get("/ui/api/config").json()
            tile = client.get(f"/ui/imagery/{z}/{x}/{y}")
            outside = client.get(f"/ui/imagery/{z}/{x + 5}/{y}")
            too_far = client.get("/ui/imagery/2/4/0")
            too_deep = client.get("/ui/imagery/31/0/0")
        finally:
            app.state.imagery = None
    info = config["imagery"]
    assert info["format"] == "png" and info["minzoom"] <= z <= info["maxzoom"]
    # GDAL keeps the corners given, up to its pixel grid
    assert info["bounds"] == pytest.approx([LON, LAT, LON + 0.01, LAT + 0.01], abs=1e-4)
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/png" and tile.content == bytes(data)
    assert outside.status_code == 404 and "no tile" in outside.json()["description"]
    assert too_far.status_code == 404 and "run from 0 to 3" in too_far.json()["description"]
    assert too_deep.status_code == 404 and "zooms run from 0 to 30" in too_deep.json()["description"]
    not_tiles = mbtiles.parent / "plain.sqlite"
    with sqlite3.connect(not_tiles) as db:
        db.execute("CREATE TABLE IF NOT EXISTS notes (text TEXT)")
    with pytest.raises(SapperError, match="not an MBTiles file"):
        open_imagery(not_tiles)


def test_sapper_serve_shows_the_imagery_it_is_given(tmp_path: Path, mbtiles: Path) -> None:
    """`sapper serve --imagery FILE.mbtiles`, a real process: the map's config names the imagery, tiles come back."""
    import os
    import socket
    import sys
    import time

    import httpx

    register = str(tmp_path / "r.gpkg")
    run = [sys.executable, "-m", "sapper"]
    subprocess.run([*run, "init", register], check=True, capture_output=True)
    subprocess.run(
        [*run, "-r", register, "user", "add", "eye", "--role", "viewer", "--password-stdin"],
        input="s3cret-pass\n",
        text=True,
        check=True,
        capture_output=True,
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [*run, "serve", register, "--port", str(port), "--imagery", str(mbtiles)]
    proc = subprocess.Popen(
        cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 30
        while True:
            try:
                config = httpx.get(f"{base}/ui/api/config", auth=("eye", "s3cret-pass"))
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        info = config.json()["imagery"]
        with sqlite3.connect(mbtiles) as db:
            z, x, tms_y = db.execute("SELECT zoom_level, tile_column, tile_row FROM tiles").fetchone()
        tile = httpx.get(f"{base}/ui/imagery/{z}/{x}/{(1 << z) - 1 - tms_y}", auth=("eye", "s3cret-pass"))
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    assert info is not None and info["format"] == "png"
    assert tile.status_code == 200 and tile.content[:4] == b"\x89PNG"
