"""The monthly report, read back as a person would, against figures counted here from the register's
records: land released by route, team-days, items by category, QC results of the month, by
organisation and team; one organisation's report; what a reader may not see stays out of its PDF.
And the QC sample units (IMAS 09.20) on the maps: the completion report's, the sitrep's and the
web map's, passed, failed and pending drawn apart."""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page
from shapely.geometry import Point
from test_documents import check_page_numbers, m2, pdf_text, row, sapper

from sapper.model.enums import ItemState
from sapper.model.records import Activity, Item, Report
from sapper.report.completion import completion_document
from sapper.report.documents import sitrep_document
from sapper.report.maps import QC_STYLE
from sapper.report.monthly import monthly_document
from sapper.report.pdf import Letterhead, environment, render_pdf
from sapper.server import create_app
from sapper.store import open_register
from sapper.store.qc import make_plan, record_result
from sapper.testing.browser import ONE_BACKEND, login, map_settled, move_map
from sapper.testing.server import LAT, LON, Demo, Served, seeded, serving, square

HEAD = Letterhead(organisation="Palmyra Mine Action Centre", author="Ops officer")
APRIL = (date(2016, 4, 1), date(2016, 4, 30))
ROUTES = ("cancelled", "reduced", "cleared")


def label(code: str) -> str:
    return environment().filters["label"](code)


def in_april(day: date | None) -> bool:
    return day is not None and APRIL[0] <= day <= APRIL[1]


@dataclass
class Month:
    target: str
    demo: Demo
    passed_hazard: int  # cleared; two QC samples passed, the rest pending
    second_hazard: int  # reduced by the manual team for the donor "Japan"
    failed_hazard: int  # cleared; a QC sample failed and the lot reopened
    eod_task: int


@pytest.fixture(scope="module")
def month(module_target: str) -> Month:
    demo = seeded(module_target)
    manual, dogs, ngo_team = demo.teams
    first, second, third = demo.hazards[1], demo.hazards[2], demo.hazards[3]
    with open_register(module_target, user="seed") as reg:
        for hazard in (first, third):
            inside = reg.get("hazard", hazard).geometry
            for item in reg.list("item"):
                if item.geometry.within(inside):
                    reg.change("item", item.id, state="destroyed_in_place", hazard_id=hazard)
        reg.release(first, "cancelled", geometry=square(LON + 0.002, LAT, 0.0005), on=date(2016, 4, 6), team_id=manual)
        reg.release(first, "cleared", on=date(2016, 4, 7), team_id=dogs)
        reg.release(second, "reduced", geometry=square(LON + 0.004, LAT, 0.0004), on=date(2016, 4, 8), team_id=manual)
        reg.release(third, "cleared", on=date(2016, 4, 9), team_id=dogs)
        reg.release(second, "cancelled", geometry=square(LON + 0.0045, LAT, 0.0002), on=date(2016, 5, 2))  # May
        # two donors' tasks: manual's on the first hazard over April, and on the second, named by its report
        norway = reg.add(
            Activity(
                activity_type="clearance",
                hazard_id=first,
                team_id=manual,
                organisation="mac",
                donor="Norway",
                start_on=date(2016, 4, 1),
                end_on=date(2016, 4, 30),
            )
        )
        japan = reg.add(
            Activity(activity_type="clearance", hazard_id=second, team_id=manual, organisation="mac", donor="Japan")
        )
        reports = [
            (manual, first, date(2016, 4, 4), None),
            (manual, first, date(2016, 4, 5), None),
            (manual, second, date(2016, 4, 5), japan.id),  # a second report the same day: still one team-day
            (dogs, first, date(2016, 4, 7), None),
            (dogs, third, date(2016, 3, 31), None),  # March
        ]
        reg.add_many(
            [
                Report(activity_type="clearance", report_date=day, hazard_id=hazard, team_id=team, activity_id=task,
                       geometry=square(LON + 0.002, LAT, 0.0002), organisation="mac")
                for team, hazard, day, task in reports
            ]
        )  # fmt: skip
        # what only "ngo" may see: its team's day and a booby trap on its restricted depot
        reg.add(Report(activity_type="eod_spot", report_date=date(2016, 4, 10), hazard_id=demo.secret_hazard,
                       team_id=ngo_team, organisation="ngo", restricted=True))  # fmt: skip
        reg.add(Item(category="booby_trap", geometry=Point(LON + 0.0205, LAT + 0.0205), hazard_id=demo.secret_hazard,
                     found_on=date(2016, 4, 10), organisation="ngo", restricted=True))  # fmt: skip
        _, samples = make_plan(reg, first, seed=5, on=date(2016, 4, 8))
        for sample in samples[:2]:
            record_result(reg, sample.id, "passed", on=date(2016, 4, 12), inspector="QA Ivanov")
        _, samples = make_plan(reg, third, seed=6, on=date(2016, 4, 10))
        record_result(reg, samples[0].id, "passed", on=date(2016, 4, 13), inspector="QA Ivanov")
        record_result(reg, samples[1].id, "failed", on=date(2016, 4, 13), items_found=1, notes="AP mine at 5 cm")
        task = reg.add(Activity(activity_type="eod_spot", hazard_id=first, team_id=manual, organisation="mac"))
    assert norway.donor == "Norway"
    return Month(module_target, demo, first, second, third, task.id)


def expected_figures(target: str, organisation: str | None = None) -> dict:
    """The month's figures counted from the records, without the report's queries."""
    with open_register(target, read_only=True) as reg:

        def mine(kind: str) -> list:
            return [r for r in reg.list(kind) if organisation is None or r.organisation == organisation]

        released = Counter()
        for r in mine("release"):
            if in_april(r.released_on):
                released[r.route.value] += r.area_m2
        team_days = {(r.team_id, r.report_date) for r in mine("report") if in_april(r.report_date) and r.team_id}
        items = Counter(i.category.value for i in mine("item") if in_april(i.found_on))
        disposed = Counter(i.category.value for i in mine("item") if in_april(i.found_on) and i.state.value != "found")
        states = Counter((i.category.value, i.state.value) for i in mine("item") if in_april(i.found_on))
        qc = Counter(s.result.value for s in mine("qc_sample") if in_april(s.inspected_on))
    return {
        "released": released,
        "team_days": len(team_days),
        "items": items,
        "states": states,
        "disposed": disposed,
        "qc": qc,
    }


def test_the_monthly_report_carries_the_months_figures(month: Month, tmp_path: Path) -> None:
    want = expected_figures(month.target)
    with open_register(month.target, read_only=True) as reg:
        context = monthly_document(reg, "2016-04")
    text = pdf_text(render_pdf("monthly.html", context, HEAD), tmp_path)
    assert check_page_numbers(text) >= 2
    assert "Monthly report 2016-04" in text and "From 2016-04-01 to 2016-04-30" in text and "Ops officer" in text
    assert want["released"]["cancelled"] > 0 and want["released"]["reduced"] > 0 and want["released"]["cleared"] > 0
    for route in ROUTES:
        area = want["released"][route]
        assert row(text, label(route), m2(area), f"{area / 10_000:.3f}"), route
    total = sum(want["released"].values())
    assert row(text, "All routes", m2(total))
    assert want["team_days"] == 4  # manual 4/4 and 4/5 (two reports, one team-day), dogs 4/7, ngo 4/10
    assert row(text, "All teams", str(want["team_days"]))
    assert row(text, "mac", "Manual 1", "2") and row(text, "mac", "Dogs 2", "1") and row(text, "ngo", "Other 3", "1")
    for category, n in want["items"].items():
        by_state = [str(want["states"][(category, state.value)]) for state in ItemState]
        assert row(text, label(category), *by_state, str(n), str(want["disposed"][category])), category
    assert row(text, "All categories") and row(text, "QC samples inspected", "3", "1", "0")
    assert want["qc"] == {"passed": 3, "failed": 1}
    assert row(text, "QC plans made", "0", "1", "1")  # the failed plan and the one still pending
    assert "AP mine at 5 cm" in text  # the failed sample, with its note
    assert "does not record demining accidents" in text


def test_one_organisations_monthly_report_counts_only_its_records(month: Month, tmp_path: Path) -> None:
    out = tmp_path / "ngo.pdf"
    done = sapper("report", "monthly", month.target, "--month", "2016-04", "--organisation", "ngo", "--out", str(out))
    assert done.returncode == 0, done.stderr
    text = pdf_text(out.read_bytes(), tmp_path)
    want = expected_figures(month.target, "ngo")
    assert "Monthly report 2016-04: ngo" in text and want["items"] == {"booby_trap": 1}
    assert row(text, label("booby_trap"), "1") and label("uxo") not in text
    assert row(text, "All teams", "1") and "Manual 1" not in text
    bad = sapper("report", "monthly", month.target, "--month", "2016-13", "--out", str(tmp_path / "x.pdf"))
    assert bad.returncode == 1 and "month '2016-13': give it as YYYY-MM" in bad.stderr
    assert not (tmp_path / "x.pdf").exists()


@pytest.fixture(scope="module")
def served(month: Month) -> Iterator[Served]:
    with serving(create_app(month.target)) as server:
        yield Served(server.url, month.target, month.demo)


def test_over_http_a_monthly_report_holds_only_what_the_reader_may_see(served: Served, tmp_path: Path) -> None:
    with served.client("super") as mac, served.client("ngo") as ngo:
        mine = mac.get("/api/reports/monthly.pdf", params={"month": "2016-04"})
        asked_for_ngo = mac.get("/api/reports/monthly.pdf", params={"month": "2016-04", "organisation": "ngo"})
        theirs = ngo.get("/api/reports/monthly.pdf", params={"month": "2016-04"})
        for bad in ("April", "2016-13"):
            answer = mac.get("/api/reports/monthly.pdf", params={"month": bad})
            assert answer.status_code == 400 and "month" in answer.json()["description"], answer.text  # not a 500
    assert mine.status_code == 200 and mine.headers["content-type"] == "application/pdf"
    assert 'filename="monthly-2016-04-ngo.pdf"' in asked_for_ngo.headers["content-disposition"]
    seen, other, owner = (pdf_text(r.content, tmp_path) for r in (mine, asked_for_ngo, theirs))
    assert label("booby_trap") not in seen and not row(seen, "ngo", "Other 3")  # restricted: ngo's alone
    assert label("booby_trap") not in other and "Nothing was recorded in this month" in other
    assert row(owner, label("booby_trap"), "1") and row(owner, "ngo", "Other 3", "1")


def test_a_tasks_donor_is_sent_and_read_over_the_rest_api(served: Served) -> None:
    with served.client("super") as mac:
        sent = mac.post("/api/activities", json={"activity_type": "clearance", "donor": "Switzerland"})
        assert sent.status_code == 201, sent.text
        task = sent.json()["id"]
        changed = mac.patch(f"/api/activities/{task}", json={"donor": "Canada", "version": sent.json()["version"]})
        assert changed.status_code == 200, changed.text
        read = mac.get(f"/api/activities/{task}").json()
        assert mac.delete(f"/api/activities/{task}", headers={"If-Match": changed.headers["ETag"]}).status_code == 204
    assert sent.json()["donor"] == "Switzerland" and changed.json()["donor"] == read["donor"] == "Canada"


def qc_pixels(uri: str) -> dict[str, int]:
    """How many pixels of the map have each QC result's colour."""
    image = np.asarray(Image.open(BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB")).astype(int)
    out = {}
    for result, (colour, _) in QC_STYLE.items():
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        out[result] = int((np.abs(image - rgb).sum(axis=2) < 40).sum())
    return out


def test_the_completion_report_maps_and_lists_its_qc_samples(month: Month, tmp_path: Path) -> None:
    with open_register(month.target, read_only=True) as reg:
        passed = completion_document(reg, month.passed_hazard)
        failed = completion_document(reg, month.failed_hazard)
        samples = reg.list("qc_sample", where={"hazard_id": month.passed_hazard})
    on_map = qc_pixels(passed["map"])
    assert on_map["passed"] > 50 and on_map["pending"] > 50 and on_map["failed"] == 0
    assert qc_pixels(failed["map"])["failed"] > 50
    text = pdf_text(render_pdf("completion.html", passed, HEAD), tmp_path)
    assert f"Sample units ({len(samples)})" in text
    for s in samples:
        result = label(s.result.value)
        assert row(text, s.label, str(s.plan_id), m2(s.area_m2), result), s.label
    assert row(text, samples[0].label, str(samples[0].plan_id), m2(samples[0].area_m2), label("passed"), "2016-04-12")


def test_the_sitrep_map_shows_qc_samples_as_inspected_by_its_day(month: Month) -> None:
    with open_register(month.target, read_only=True) as reg:
        before = qc_pixels(sitrep_document(reg, date(2016, 4, 11))["map"])
        after = qc_pixels(sitrep_document(reg, date(2016, 4, 14))["map"])
    assert before["pending"] > 0 and before["passed"] == before["failed"] == 0  # not yet inspected on the 11th
    assert after["passed"] > 0 and after["failed"] > 0


def test_the_monthly_map_shows_the_months_qc_samples(month: Month) -> None:
    with open_register(month.target, read_only=True) as reg:
        april, march = monthly_document(reg, "2016-04"), monthly_document(reg, "2016-03")
    assert qc_pixels(april["map"])["failed"] > 0 and qc_pixels(april["map"])["passed"] > 0
    assert qc_pixels(march["map"])["failed"] == 0


@ONE_BACKEND
def test_the_web_map_draws_qc_samples_and_the_sitrep_page_offers_the_new_pdfs(
    served: Served, month: Month, page: Page
) -> None:
    with served.client("super") as mac:
        features = mac.get("/ogc/collections/qc_samples/items", params={"limit": 1000}).json()["features"]
    login(page, served.url, "super", "/ui/")
    map_settled(page)
    move_map(page, LAT + 0.0005, LON + 0.005, 16)
    page.wait_for_selector(f"[data-layer='qc'][data-count='{len(features)}']", state="attached")
    assert page.locator(".leaflet-qc-pane path").count() == len(features)
    colours = {page.locator(".leaflet-qc-pane path").nth(i).get_attribute("stroke") for i in range(len(features))}
    assert colours == {QC_STYLE[r][0] for r in ("passed", "failed", "pending")}
    page.goto(f"{served.url}/ui/sitrep")
    page.wait_for_selector("body[data-loaded][data-loading='0']")
    day = page.get_attribute("body", "data-loaded") or ""
    assert page.get_attribute("#monthly-pdf", "href") == f"/api/reports/monthly.pdf?month={day[:7]}"
    with page.expect_download() as download:
        page.locator("#monthly-pdf").click()
    assert download.value.suggested_filename == f"monthly-{day[:7]}.pdf"
    page.click("#eod-reports summary")
    link = page.locator("#eod-tasks a")
    assert link.count() == 1 and link.get_attribute("href") == f"/api/activities/{month.eod_task}/eod.pdf"
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"eod-{month.eod_task}.pdf"


def donor_figures(target: str, team: int, hazard: int, task: int) -> tuple[int, float, float, int]:
    """A donor's team-days, area worked, area released and items found in April, counted from the
    records: the work of its task's team on its task's hazard, and the daily reports that name its task."""
    with open_register(target, read_only=True) as reg:
        reports = [
            r for r in reg.list("report")
            if in_april(r.report_date) and (r.activity_id == task or (r.activity_id is None and
                                                                     (r.team_id, r.hazard_id) == (team, hazard)))
        ]  # fmt: skip
        releases = [
            r for r in reg.list("release") if in_april(r.released_on) and (r.team_id, r.hazard_id) == (team, hazard)
        ]
        found = [i for i in reg.list("item") if in_april(i.found_on) and (i.team_id, i.hazard_id) == (team, hazard)]
    days = {(r.team_id, r.report_date) for r in reports}
    return len(days), sum(r.area_m2 for r in reports), sum(r.area_m2 for r in releases), len(found)


def test_the_monthly_report_gives_each_donors_figures(month: Month, tmp_path: Path) -> None:
    manual = month.demo.teams[0]
    with open_register(month.target, read_only=True) as reg:
        tasks = {t.donor: t.id for t in reg.list("activity") if t.donor}
        context = monthly_document(reg, "2016-04")
    assert {"Japan", "Norway"} <= set(tasks)
    text = pdf_text(render_pdf("monthly.html", context, HEAD), tmp_path)
    norway = donor_figures(month.target, manual, month.passed_hazard, tasks["Norway"])
    japan = donor_figures(month.target, manual, month.second_hazard, tasks["Japan"])
    assert norway[0] == 2 and japan[0] == 1  # manual on 4/5 worked for both: a team-day for each
    assert norway[2] > 0 and japan[2] > 0
    for donor, (days, worked, released, found) in (("Norway", norway), ("Japan", japan)):
        assert row(text, "mac", donor, str(days), m2(worked), m2(released), str(found)), donor
    assert "no donor recorded" in text  # the dogs' day and release on the first hazard: no task of theirs
    assert "A donor funds a task" in text  # how work was attributed
    by_donor = {(d["organisation"], d["donor"]): d for d in context["donors"]}
    assert by_donor[("mac", "Norway")]["released"]["cancelled"] == pytest.approx(norway[2])
    assert by_donor[("mac", "Japan")]["released"]["reduced"] == pytest.approx(japan[2])


def test_an_older_register_gains_the_donor_column(target: str) -> None:
    seeded(target)
    with open_register(target, user="test") as reg:
        task = reg.add(Activity(activity_type="clearance", organisation="mac"))
        reg.backend.execute("ALTER TABLE activities DROP COLUMN donor")  # as an older sapper wrote it
        assert "donor" not in reg.backend.existing_columns("activities")
    with open_register(target, user="test") as reg:  # a newer sapper opens it
        assert "donor" in reg.backend.existing_columns("activities")
        assert reg.get("activity", task.id).donor is None
        assert reg.change("activity", task.id, donor="Norway").donor == "Norway"
    with open_register(target, read_only=True) as reg:
        assert reg.get("activity", task.id).donor == "Norway"
