"""sapper's field forms filled in a real XForm engine: ODK's enketo-core in Chromium.

The forms are built by ``sapper forms build`` with the team's lists, converted by pyxform, turned into
Enketo's HTML form and model by enketo-transformer and run by enketo-core, which reads the attached
CSV lists as XML instances. A person's answers go in through the engine's widgets (autocomplete,
radio buttons, the geo widgets' coordinate entry, a repeat, a photo on the file input); the record the
engine makes and its files are sent as ODK Collect sends them (OpenRosa headers, Basic once
challenged, multipart with ``xml_submission_file``), and a supervisor's approval writes the records.
Needs the npm packages of tests/xform_engine: ``./install.sh --test`` installs them.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from lxml import etree
from PIL import Image
from playwright.sync_api import Page
from pyproj import Geod
from pyxform.xls2xform import convert
from shapely.geometry import Polygon, box

from sapper.field.forms import all_forms
from sapper.model.records import Activity, Hazard
from sapper.store import open_register
from sapper.store.qc import make_plan
from sapper.testing.browser import ONE_BACKEND
from sapper.testing.server import LAT, LON, PASSWORD, Served, served_demo
from sapper.testing.xform_engine import Record, build_engine, engine_server, load_form, record

pytestmark = ONE_BACKEND  # the engine's records are the same whatever stores them; test_openrosa runs both
OPENROSA = {"X-OpenRosa-Version": "1.0"}
# a 0.001 degree square near Palmyra, traced as a team would trace the area worked
AREA = [(LAT, LON), (LAT, LON + 0.001), (LAT + 0.001, LON + 0.001), (LAT + 0.001, LON), (LAT, LON)]


@pytest.fixture(scope="module")
def site(module_target: str) -> Iterator[Served]:
    """The demo register with a task for the leader's team and a released hazard with a QC plan."""
    with served_demo(module_target) as served:
        reg = open_register(served.target, user="seed")
        try:
            task = reg.add(
                Activity(activity_type="clearance", hazard_id=served.demo.hazards[0], team_id=served.demo.teams[0],
                         organisation="mac")
            )  # fmt: skip
            released = reg.add(
                Hazard(name="Grain store", geometry=box(LON, LAT + 0.01, LON + 0.002, LAT + 0.011), organisation="mac")
            )
            reg.release(released.id, "cleared", on=date(2016, 4, 2))
            _plan, samples = make_plan(reg, released.id, seed=11)
        finally:
            reg.close()
        served.task, served.sample = task.id, samples[0].id  # type: ignore[attr-defined]
        yield served


@pytest.fixture(scope="module")
def forms(site: Served, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, dict[str, bytes]]]:
    """Each form's XForm (pyxform of the .xlsx ``sapper forms build`` wrote) and the CSV lists it attaches."""
    folder = tmp_path_factory.mktemp("forms")
    command = [sys.executable, "-m", "sapper", "-r", site.target, "forms", "build", str(folder), "--team"]
    done = subprocess.run([*command, str(site.demo.teams[0])], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = {}
    for form in all_forms():
        warnings: list[str] = []
        xform = convert(xlsform=str(folder / f"{form.form_id}.xlsx"), warnings=warnings).xform
        assert warnings == [], warnings
        out[form.form_id] = (xform, {name: (folder / name).read_bytes() for name in form.media})
    return out


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The engine's page on 127.0.0.1 (bundled once per module, offline, from node_modules)."""
    with engine_server(build_engine(tmp_path_factory.mktemp("engine"))) as server:
        yield server.url + "/"


# --- what a person does in the form ------------------------------------------------------------


def field(name: str) -> str:
    return f'[name$="/{name}"]'


def choose(page: Page, name: str, value: str) -> None:
    page.check(f'input[type=radio]{field(name)}[value="{value}"]')


def type_in(page: Page, name: str, value: str, nth: int = 0) -> None:
    box_ = page.locator(f"input{field(name)}:not([type=radio]), textarea{field(name)}").nth(nth)
    box_.fill(value)
    box_.dispatch_event("change")


def autocomplete(page: Page, name: str, label: str) -> None:
    """An ``autocomplete`` list: the person types the label of a row of the attached CSV."""
    widget = page.locator(f"label:has(input{field(name)}) input.autocomplete")
    options = page.locator(f"label:has(input{field(name)}) datalist option:not(.itemset-template)")
    assert label in options.evaluate_all("all => all.map(o => o.value)")
    widget.fill(label)
    widget.dispatch_event("change")


def date_in(page: Page, name: str, day: str, time: str | None = None) -> None:
    """A date (and time) typed into the engine's date picker, as a person types it."""
    question = page.locator(f".question:has(input{field(name)})")
    for selector, value in ((".date input.ignore", day), (".timepicker input.ignore", time)):
        if value is not None:
            entry = question.locator(selector)
            entry.fill(value)
            entry.press("Tab")  # the time picker reads what was typed when the field loses focus


def trace(page: Page, name: str, points: list[tuple[float, float]]) -> None:
    """A geoshape or geotrace: the coordinates pasted into the geo widget's KML box (lon,lat pairs)."""
    question = page.locator(f".question:has(input{field(name)})")
    question.locator(".toggle-input-type-btn").click()
    kml = question.locator("textarea[name=kml]")
    kml.fill(" ".join(f"{lon},{lat}" for lat, lon in points))
    kml.dispatch_event("change")
    page.wait_for_function(
        "([name, n]) => document.querySelector(`input[name$='/${name}']`).value.split(';').length >= n",
        arg=[name, len(points)],
    )


def locate(page: Page, name: str, lat: float, lon: float) -> None:
    """A geopoint: latitude, longitude, altitude and accuracy typed into the geo widget."""
    question = page.locator(f".question:has(input{field(name)})")
    for part, value in (("lat", lat), ("long", lon), ("alt", 400), ("acc", 4.5)):
        entry = question.locator(f"input[name={part}]")
        entry.fill(str(value))
        entry.dispatch_event("change")


def photograph(page: Page, name: str, tmp_path: Path) -> bytes:
    path = tmp_path / "item.jpg"
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "JPEG")
    path.write_bytes(out.getvalue())
    page.set_input_files(f"input[type=file]{field(name)}", str(path))
    page.wait_for_function(
        "name => document.querySelector(`input[type=file][name$='/${name}']`).files.length", arg=name
    )
    return out.getvalue()


# --- what ODK Collect does with the record -----------------------------------------------------


def submit(site: Served, made: Record, user: str = "leader") -> str:
    """Send the engine's record as ODK Collect does; the instance id."""
    instance_id = etree.fromstring(made.xml.encode()).findtext(".//{*}instanceID") or ""
    assert instance_id.startswith("uuid:")
    headers = {**OPENROSA, "Date": formatdate(usegmt=True)}
    with httpx.Client(base_url=site.url, headers=headers, timeout=30) as device:
        challenge = device.head("/openrosa/submission")
        assert challenge.status_code == 401 and challenge.headers["WWW-Authenticate"].startswith("Basic")
        device.auth = httpx.BasicAuth(user, PASSWORD)
        head = device.head("/openrosa/submission")
        assert head.status_code == 204 and head.headers["X-OpenRosa-Version"] == "1.0"
        parts = {"xml_submission_file": ("submission.xml", made.xml.encode(), "text/xml")}
        parts |= {name: (name, data, kind) for name, (data, kind) in made.files.items()}
        sent = device.post("/openrosa/submission", files=parts)
    assert sent.status_code == 201, sent.text
    return instance_id


def approved(site: Served, instance_id: str) -> dict:
    with site.client("super") as sup:
        sub = next(s for s in sup.get("/api/submissions").json() if s["instance_id"] == instance_id)
        done = sup.post(f"/api/submissions/{sub['id']}/approve").json()
    assert done["status"] in ("applied", "approved"), done
    return done


def fill_in(page: Page, engine: str, forms: dict, form_id: str) -> None:
    xform, lists = forms[form_id]
    load_form(page, engine, xform, lists)


# --- the forms -------------------------------------------------------------------------------


def test_daily_report_traced_area_lands_as_a_report_of_that_area(
    site: Served, forms: dict, engine: str, page: Page
) -> None:
    fill_in(page, engine, forms, "sapper_daily_report")
    autocomplete(page, "hazard", f"Hazard 0 (#{site.demo.hazards[0]})")
    choose(page, "task", str(site.task))  # type: ignore[attr-defined]  # offered once the hazard is chosen
    choose(page, "activity_type", "clearance")
    trace(page, "area", AREA)
    type_in(page, "items_found", "2")
    type_in(page, "hours", "6.5")
    type_in(page, "notes", "lane 3 finished")
    done = approved(site, submit(site, record(page)))
    reg = open_register(site.target, read_only=True)
    try:
        report = reg.get("report", done["records"]["report"][0])
    finally:
        reg.close()
    expected = abs(Geod(ellps="WGS84").geometry_area_perimeter(Polygon([(lon, lat) for lat, lon in AREA]))[0])
    assert report.area_m2 == pytest.approx(expected, rel=0.01)  # about 10 150 m² at Palmyra's latitude
    assert (report.hazard_id, report.activity_id, report.activity_type.value, report.items_found) == (
        site.demo.hazards[0], site.task, "clearance", 2,  # type: ignore[attr-defined]
    )  # fmt: skip
    assert report.team_id == site.demo.teams[0] and "hours worked: 6.5" in report.notes


def test_daily_report_walked_track_lands_as_the_strip_the_team_cleared(
    site: Served, forms: dict, engine: str, page: Page
) -> None:
    fill_in(page, engine, forms, "sapper_daily_report")
    autocomplete(page, "hazard", f"Hazard 0 (#{site.demo.hazards[0]})")
    choose(page, "activity_type", "clearance")
    choose(page, "area_kind", "track")  # the traced area is no longer asked for; the track is
    trace(page, "track", [(LAT + 0.0001, LON + 0.0001 * i) for i in range(4)])
    type_in(page, "hours", "4")
    made = record(page)
    assert etree.fromstring(made.xml.encode()).findtext("{*}track").count(";") == 3
    done = approved(site, submit(site, made))
    reg = open_register(site.target, read_only=True)
    try:
        report = reg.get("report", done["records"]["report"][0])
    finally:
        reg.close()
    assert 20 < report.area_m2 < 40  # a 27 m track walked by a team with 1 m lanes


def test_item_found_with_its_photo_lands_as_an_item_with_the_photo_attached(
    site: Served, forms: dict, engine: str, page: Page, tmp_path: Path
) -> None:
    fill_in(page, engine, forms, "sapper_item_found")
    autocomplete(page, "hazard", f"Hazard 0 (#{site.demo.hazards[0]})")
    locate(page, "position", LAT + 0.0004, LON + 0.0004)
    shown = page.locator(f"label:has(input{field('category')}) .option-label").all_inner_texts()
    assert {"AP mine", "AT mine", "IED victim operated", "UXO"} <= set(shown)  # IMAS abbreviations in capitals
    choose(page, "category", "ap_mine")
    type_in(page, "model", "PMN-2")
    jpeg = photograph(page, "photo", tmp_path)
    type_in(page, "depth_cm", "5")
    type_in(page, "condition", "intact")
    date_in(page, "found_on", "2016-04-20")
    made = record(page)
    assert [data for data, _kind in made.files.values()] == [jpeg]  # the engine sends the photo as taken
    done = approved(site, submit(site, made))
    item_id = done["records"]["item"][0]
    with site.client("super") as sup:
        item = sup.get(f"/ogc/collections/items/items/{item_id}").json()
        attached = sup.get(f"/api/items/{item_id}/attachments").json()["attachments"]
        assert len(attached) == 1 and sup.get(f"/api/attachments/{attached[0]['id']}").content == jpeg
    props = item["properties"]
    assert (props["category"], props["model"], props["depth_cm"], props["hazard_id"], props["found_on"]) == (
        "ap_mine", "PMN-2", 5, site.demo.hazards[0], "2016-04-20",
    )  # fmt: skip
    assert item["geometry"]["coordinates"] == pytest.approx([LON + 0.0004, LAT + 0.0004])
    assert props["team_id"] == site.demo.teams[0] and props["organisation"] == "mac"


def test_survey_with_two_informants_lands_as_a_confirmed_hazard(
    site: Served, forms: dict, engine: str, page: Page
) -> None:
    fill_in(page, engine, forms, "sapper_nts")
    date_in(page, "survey_date", "2016-04-23")
    choose(page, "evidence_kind", "direct")
    type_in(page, "evidence", "a PMN-2 seen by the road")
    type_in(page, "informant_name", "Khaled")
    type_in(page, "informant_role", "shepherd")
    page.click(".add-repeat-btn")  # a second informant: the repeat's next instance
    type_in(page, "informant_name", "Mona", nth=1)
    type_in(page, "informant_role", "farmer", nth=1)
    ring = [(LAT + 0.01, LON), (LAT + 0.01, LON + 0.001), (LAT + 0.011, LON + 0.001), (LAT + 0.01, LON)]
    trace(page, "area", ring)
    choose(page, "contamination", "ap_mines")
    choose(page, "land_use", "agriculture")
    choose(page, "outcome", "confirm")
    made = record(page)
    names = etree.fromstring(made.xml.encode()).xpath("//*[local-name()='informant']/*[local-name()='informant_name']")
    assert [n.text for n in names] == ["Khaled", "Mona"]
    done = approved(site, submit(site, made, user="super"))
    reg = open_register(site.target, read_only=True)
    try:
        hazard = reg.get("hazard", done["records"]["hazard"][0])
    finally:
        reg.close()
    # IMAS 07.11: direct evidence makes a confirmed hazard area
    assert (hazard.hazard_class.value, hazard.status.value, hazard.contamination.value, hazard.land_use.value) == (
        "cha", "confirmed", "ap_mines", "agriculture",
    )  # fmt: skip
    assert "Khaled - shepherd" in hazard.notes and "Mona - farmer" in hazard.notes
    assert hazard.geometry.bounds == pytest.approx((LON, LAT + 0.01, LON + 0.001, LAT + 0.011))


def test_eod_task_lands_as_items_disposed_of_and_a_report(site: Served, forms: dict, engine: str, page: Page) -> None:
    fill_in(page, engine, forms, "sapper_eod_task")
    autocomplete(page, "hazard", f"Hazard 0 (#{site.demo.hazards[0]})")
    date_in(page, "done_on", "2016-04-23")
    locate(page, "position", LAT + 0.0003, LON + 0.0003)
    choose(page, "category", "uxo")
    type_in(page, "quantity", "2")
    choose(page, "disposal", "destroyed_in_place")
    type_in(page, "danger_area_m", "300")
    done = approved(site, submit(site, record(page)))
    reg = open_register(site.target, read_only=True)
    try:
        items = [reg.get("item", i) for i in done["records"]["item"]]
        report = reg.get("report", done["records"]["report"][0])
    finally:
        reg.close()
    assert [(i.category.value, i.state.value) for i in items] == [("uxo", "destroyed_in_place")] * 2
    assert (report.activity_type.value, report.items_found, report.team_id) == ("eod_spot", 2, site.demo.teams[0])


def test_incident_is_received_and_approved(site: Served, forms: dict, engine: str, page: Page) -> None:
    fill_in(page, engine, forms, "sapper_accident")
    choose(page, "event_kind", "incident")
    date_in(page, "happened_at", "2016-04-23", "10:00")
    locate(page, "position", LAT, LON)
    type_in(page, "description", "a vehicle drove into the marked lane")
    made = record(page)
    assert etree.fromstring(made.xml.encode()).findtext("{*}happened_at").startswith("2016-04-23T10:00")
    done = approved(site, submit(site, made))
    assert (done["status"], done["records"]) == ("approved", {})


def test_qc_inspection_of_a_listed_sample_records_its_result(
    site: Served, forms: dict, engine: str, page: Page
) -> None:
    fill_in(page, engine, forms, "sapper_qc_inspection")
    sample = site.sample  # type: ignore[attr-defined]
    label = next(
        o for o in page.locator("datalist option").evaluate_all("all => all.map(o => o.value)") if f"(#{sample})" in o
    )
    autocomplete(page, "sample", label)
    date_in(page, "inspected_on", "2016-05-02")
    choose(page, "result", "failed")
    made_too_early = page.evaluate("window.form.validate()")
    assert made_too_early is False  # notes are required when the sample failed
    type_in(page, "items_found", "1")
    type_in(page, "notes", "a fuze found at 10 cm")
    done = approved(site, submit(site, record(page)))
    reg = open_register(site.target, read_only=True)
    try:
        found = reg.get("qc_sample", sample)
    finally:
        reg.close()
    assert (found.result.value, found.items_found) == ("failed", 1), done
