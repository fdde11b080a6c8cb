"""The EOD task report (IMAS 09.30), read back as a person would: every item of the task with its
type, fuze and condition, depth, position and disposal, the danger area of its demolitions, the
team and dates; made on GeoPackage and PostGIS, from the command line and over HTTP, where a
restricted task or item of another organisation stays out of the reader's PDF."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from shapely.geometry import Point
from test_documents import MISSING, check_page_numbers, pdf_text, row, sapper

from sapper.model.enums import ItemCategory
from sapper.model.errors import SapperError
from sapper.model.records import Activity, Item, Report
from sapper.plan.rules.safety import load_safety
from sapper.report.eod_report import eod_document
from sapper.report.pdf import Letterhead, environment, render_pdf
from sapper.server import create_app
from sapper.store import open_register
from sapper.testing.server import Demo, Served, seeded, serving

HEAD = Letterhead(organisation="Palmyra Mine Action Centre", author="EOD officer")
START, END = date(2016, 4, 1), date(2016, 4, 30)


def label(code: str) -> str:
    return environment().filters["label"](code)


@dataclass
class Eod:
    target: str
    demo: Demo
    task: int  # mac's EOD task on hazard 1, by team Manual 1
    clearance: int  # a clearance task: no EOD report
    secret_task: int  # ngo's restricted EOD task on its restricted depot
    secret_item: int  # ngo's restricted item on mac's hazard, found by mac's team in the task's days
    outside: list[int]  # items on the hazard that are not the task's (another team, another month)
    report: int  # the EOD daily report of 2016-04-02 on the task's hazard


@pytest.fixture(scope="module")
def eod(module_target: str) -> Eod:
    demo = seeded(module_target)
    hazard = demo.hazards[1]
    manual, dogs, ngo_team = demo.teams
    with open_register(module_target, user="seed") as reg:
        inside = reg.get("hazard", hazard).geometry
        mine = [i for i in reg.list("item") if i.geometry.within(inside)]
        for n, item in enumerate(mine):
            state = ("destroyed_in_place", "removed", "rendered_safe")[n % 3]
            reg.change("item", item.id, state=state, hazard_id=hazard, depth_cm=10 + n, model=f"model {n}",
                       condition="fuzed" if n % 2 else "unfuzed")  # fmt: skip
        centre = inside.centroid
        outside = reg.add_many(
            [
                Item(
                    category="uxo",
                    geometry=Point(centre.x, centre.y),
                    hazard_id=hazard,
                    team_id=dogs,
                    found_on=date(2016, 4, 5),
                    organisation="mac",
                ),
                Item(
                    category="uxo",
                    geometry=Point(centre.x, centre.y),
                    hazard_id=hazard,
                    team_id=manual,
                    found_on=date(2016, 5, 2),
                    organisation="mac",
                ),
            ]
        )
        secret_item = reg.add(
            Item(category="booby_trap", geometry=Point(centre.x, centre.y), hazard_id=hazard, team_id=manual,
                 found_on=date(2016, 4, 3), organisation="ngo", restricted=True, condition="tampered")
        )  # fmt: skip
        task = reg.add(Activity(activity_type="eod_spot", hazard_id=hazard, team_id=manual, start_on=START,
                                end_on=END, status="completed", organisation="mac"))  # fmt: skip
        report = reg.add(Report(activity_type="eod_spot", report_date=date(2016, 4, 2), hazard_id=hazard,
                                team_id=manual, activity_id=task.id, reported_by="Sgt. Haddad", items_found=3,
                                organisation="mac"))  # fmt: skip
        clearance = reg.add(Activity(activity_type="clearance", hazard_id=hazard, team_id=dogs, organisation="mac"))
        secret_task = reg.add(Activity(activity_type="eod_spot", hazard_id=demo.secret_hazard, team_id=ngo_team,
                                       organisation="ngo", restricted=True))  # fmt: skip
    outside_ids = [i.id for i in outside]
    return Eod(module_target, demo, task.id, clearance.id, secret_task.id, secret_item.id, outside_ids, report.id)


def test_the_eod_report_lists_each_item_its_disposal_and_the_danger_area(eod: Eod, tmp_path: Path) -> None:
    safety = load_safety()
    with open_register(eod.target, read_only=True) as reg:
        context = eod_document(reg, "activity", eod.task)
        expected = [
            i
            for i in reg.list("item", where={"hazard_id": eod.demo.hazards[1], "team_id": eod.demo.teams[0]})
            if START <= i.found_on <= END
        ]
    text = pdf_text(render_pdf("eod.html", context, HEAD), tmp_path)
    assert check_page_numbers(text) >= 2
    assert "EOD task report: task" in text and "Palmyra Mine Action Centre" in text and "EOD officer" in text
    assert "Manual 1" in text and "From 2016-04-01 to 2016-04-30" in text and "Hazard 1" in text
    assert len(expected) == 6  # five of the demo's and the restricted one: the command line sees everything
    listed = {i["id"] for i in context["items"]}
    assert listed == {i.id for i in expected} and not listed & set(eod.outside)
    words = {"destroyed_in_place": "destroyed in place", "removed": "moved", "rendered_safe": "rendered safe"}
    for item in expected:
        if item.id == eod.secret_item:
            continue
        depth = f"{item.depth_cm:.0f}"
        cells = [str(item.id), label(item.category.value), item.model, item.condition, depth]
        assert row(text, *cells, item.found_on.isoformat(), words[item.state.value]), item
        assert f"{item.geometry.y:.6f}" in text and f"{item.geometry.x:.6f}" in text
    demolished = [i for i in expected if i.state.value == "destroyed_in_place"]
    radius = max(safety.danger_radius(ItemCategory(i.category.value)) for i in demolished)
    assert f"{len(demolished)} items were destroyed in place" in text
    assert f"a radius of {radius:,.0f} m" in text  # UN SaferGuard, from the planner's data
    assert row(text, "destroyed in place (demolition)", str(len(demolished)))
    assert row(text, "2016-04-02", "Sgt. Haddad", "3")  # the daily report naming the task
    assert "EOD team leader" in text and "Signature" in text


def test_only_an_eod_spot_task_has_an_eod_report(eod: Eod) -> None:
    with open_register(eod.target, read_only=True) as reg, pytest.raises(SapperError, match="not an EOD spot task"):
        eod_document(reg, "activity", eod.clearance)


def test_the_command_writes_the_pdf_and_refuses_what_is_not_an_eod_task(eod: Eod, tmp_path: Path) -> None:
    out = tmp_path / "eod.pdf"
    done = sapper("report", "eod", eod.target, "--task", str(eod.task), "--out", str(out), "--author", "Capt. Nasser")
    assert done.returncode == 0, done.stderr
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "Capt. Nasser" in text and f"EOD task report: task {eod.task}" in text
    wrong = sapper("report", "eod", eod.target, "--task", str(eod.clearance), "--out", str(tmp_path / "x.pdf"))
    assert wrong.returncode == 1 and f"activity {eod.clearance} is a clearance task" in wrong.stderr
    missing = sapper("report", "eod", eod.target, "--task", str(MISSING), "--out", str(tmp_path / "y.pdf"))
    assert missing.returncode == 1 and f"activity {MISSING} does not exist" in missing.stderr
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "y.pdf").exists()


@pytest.fixture(scope="module")
def served(eod: Eod) -> Iterator[Served]:
    with serving(create_app(eod.target)) as server:
        yield Served(server.url, eod.target, eod.demo)


def test_over_http_a_reader_gets_only_what_it_may_see(served: Served, eod: Eod, tmp_path: Path) -> None:
    with served.client("super") as mac, served.client("ngo") as ngo:
        mine = mac.get(f"/api/activities/{eod.task}/eod.pdf")
        assert mine.status_code == 200 and mine.headers["content-type"] == "application/pdf"
        assert f'filename="eod-{eod.task}.pdf"' in mine.headers["content-disposition"]
        hidden = mac.get(f"/api/activities/{eod.secret_task}/eod.pdf")
        missing = mac.get(f"/api/activities/{MISSING}/eod.pdf")
        assert hidden.status_code == missing.status_code == 404
        assert ngo.get(f"/api/activities/{eod.secret_task}/eod.pdf").status_code == 200
        theirs = ngo.get(f"/api/activities/{eod.task}/eod.pdf")  # mac's task is not restricted
        assert mac.get(f"/api/activities/{eod.clearance}/eod.pdf").status_code == 400
        by_report = mac.get(f"/api/reports/{eod.report}/eod.pdf")
        listed = {t["pdf"] for t in mac.get("/api/reports/eod-tasks").json()["tasks"]}
        listed_ngo = {t["pdf"] for t in ngo.get("/api/reports/eod-tasks").json()["tasks"]}
    mine_links = {f"/api/activities/{eod.task}/eod.pdf", f"/api/reports/{eod.report}/eod.pdf"}
    assert listed == mine_links and listed_ngo == mine_links | {f"/api/activities/{eod.secret_task}/eod.pdf"}
    assert by_report.status_code == 200 and f"daily report {eod.report}" in pdf_text(by_report.content, tmp_path)
    seen, owner = pdf_text(mine.content, tmp_path), pdf_text(theirs.content, tmp_path)
    assert "tampered" not in seen and not row(seen, str(eod.secret_item), label("booby_trap"))
    assert "tampered" in owner and row(owner, str(eod.secret_item), label("booby_trap"))
    assert "by super" in seen  # the reader signs as author


def test_an_eod_daily_report_is_a_task_of_the_items_found_on_its_hazard_that_day(eod: Eod, tmp_path: Path) -> None:
    with open_register(eod.target, read_only=True) as reg:
        context = eod_document(reg, "report", eod.report)
        that_day = [
            i.id
            for i in reg.list("item", where={"hazard_id": eod.demo.hazards[1]})
            if i.found_on == START.replace(day=2)
        ]
    assert that_day and sorted(i["id"] for i in context["items"]) == sorted(that_day)
    out = tmp_path / "r.pdf"
    done = sapper("report", "eod", eod.target, "--report", str(eod.report), "--out", str(out))
    assert done.returncode == 0, done.stderr
    text = pdf_text(out.read_bytes(), tmp_path)
    assert f"EOD task report: daily report {eod.report}" in text and "From 2016-04-02 to 2016-04-02" in text
    both = sapper("report", "eod", eod.target, "--report", str(eod.report), "--task", str(eod.task))
    assert both.returncode == 1 and "--task ACTIVITY or --report REPORT" in both.stderr
