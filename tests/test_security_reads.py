"""Organisation boundaries of every read route, over real HTTP on GeoPackage and PostGIS.

The routes come from the app itself (its OpenAPI document and every GET route it serves, the
web UI's and OpenRosa's included), so a read route added later without a case here fails the
test. Organisation "ngo" has a restricted hazard; we hang marked records off it (an item, report,
release, tasks, attachments, plan rows, a restricted stored plan, a QC sample, a field submission,
jobs) and add restricted teams and sites. The users of "mac" and an anonymous visitor of a public
server then read every route twice, before and after those records are added:

- no answer carries a marker (JSON, HTML, CSV, XML; PDF text; decoded vector tiles), nor the
  secret place's latitude;
- an answer that names no hidden record is the same before and after (lists, counts, totals,
  extents, tiles, documents, field lists): what "mac" sees does not move when "ngo" adds them;
- naming a hidden record answers exactly as naming a missing one (status and words, ids aside).
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import mapbox_vector_tile
import pytest
from PIL import Image
from read_routes import BOX, FOUND_ON, HISTORY_KINDS, MARK, SECRET_LAT, SECRET_LON, Ask, Known, get_routes, route_asks
from shapely.geometry import MultiLineString, Point

from sapper.jobs.table import JobTable
from sapper.model.accounts import Role, User
from sapper.model.plan import Plan, PlanAssignment, PlanDay, PlanLane, PlanPriority, PlanSector
from sapper.model.qc import QaVisit, QcPlan, QcSample
from sapper.model.records import Activity, Hazard, Item, ProtectedSite, Report, Team
from sapper.server import create_app
from sapper.store import open_register
from sapper.store.accounts import Accounts
from sapper.store.attachments import Attachments
from sapper.store.schema import LAYERS
from sapper.store.submissions import Attachment, Submissions
from sapper.testing.server import PASSWORD, Served, seeded, serving, square

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")

SECRET_PLACE = re.compile(r"34\.57\d*")  # its latitude, in any text
READERS = ("super", "viewer", "leader", "admin", None)  # the users of "mac", an anonymous visitor
STAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?(\.\d+)?(Z|[+-]\d\d:?\d\d)?")  # times of an answer


@dataclass
class Site:
    served: Served
    paths: set[str]  # every GET route of the app
    hidden: dict[str, int]  # what hangs off the restricted hazard (or is restricted), by name
    ordinary: dict[str, int]  # records every reader sees
    before: dict[tuple[str | None, str, str], tuple[int, str]]  # (reader, url, query) -> answer before

    def known(self) -> Known:
        return Known(self.hidden, self.ordinary, self.served.demo.secret_hazard)


# --- the register: ordinary records, then the hidden ones ------------------------------------


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


def add_hidden(target: str, secret: int, team: int) -> dict[str, int]:
    """Restricted records of "ngo" and what hangs off its restricted hazard, each with a marker."""
    own = {"organisation": "ngo", "restricted": False}
    closed = {"organisation": "ngo", "restricted": True}
    at = Point(SECRET_LON + 0.0005, SECRET_LAT + 0.0005)
    reg = open_register(target, user="ngo")
    try:
        hazard = reg.get("hazard", secret)
        reg.update(dataclasses.replace(hazard, name=f"{MARK} depot", notes=MARK))
        hidden_team = reg.add(Team(name=f"{MARK} team", kind="eod", geometry=at, personnel=3, **closed))
        site_point = reg.add(ProtectedSite(name=f"{MARK} well", kind="water", geometry=at, buffer_m=50, **closed))
        site_area = reg.add(ProtectedSite(name=f"{MARK} school", kind="school", buffer_m=50,
                                          geometry=square(SECRET_LON, SECRET_LAT, 0.0004), **closed))  # fmt: skip
        # what hangs off the restricted team alone (on no hazard)
        reg.add(Item(category="ap_mine", geometry=at, team_id=hidden_team.id, notes=MARK, found_on=FOUND_ON, **own))
        reg.add(Activity(activity_type="eod_spot", team_id=hidden_team.id, notes=MARK, start_on=FOUND_ON, **own))
        reg.add(QaVisit(visited_on=FOUND_ON, team_id=hidden_team.id, findings=MARK, **own))
        item = reg.add(Item(category="uxo", geometry=at, hazard_id=secret, team_id=team, found_on=FOUND_ON,
                            model=MARK, notes=MARK, **own))  # fmt: skip
        task = reg.add(Activity(activity_type="clearance", hazard_id=secret, team_id=team, start_on=FOUND_ON,
                                donor=f"{MARK} donor", notes=MARK, **own))  # fmt: skip
        eod_task = reg.add(Activity(activity_type="eod_spot", hazard_id=secret, team_id=team, start_on=FOUND_ON,
                                    end_on=FOUND_ON, donor=f"{MARK} donor", notes=MARK, **own))  # fmt: skip
        report = reg.add(
            Report(activity_type="clearance", report_date=FOUND_ON, hazard_id=secret, team_id=team,
                   activity_id=task.id, geometry=square(SECRET_LON, SECRET_LAT, 0.0003), notes=MARK, **own)
        )  # fmt: skip
        piece = reg.release(secret, "cleared", geometry=square(SECRET_LON, SECRET_LAT, 0.0002), on=FOUND_ON)
        piece = reg.update(dataclasses.replace(piece, notes=MARK, **own))
        plan = reg.list("plan", where={"number": 1})[0]  # "ngo"'s plan, not restricted: its rows hang off the hazard
        sector = reg.add(PlanSector(plan_id=plan.id, hazard_id=secret, label=f"{MARK}-S1", team_id=team,
                                    geometry=square(SECRET_LON, SECRET_LAT, 0.0005), **own))  # fmt: skip
        strip = MultiLineString([[(SECRET_LON, SECRET_LAT), (SECRET_LON + 0.0004, SECRET_LAT)]])
        lane = reg.add(PlanLane(plan_id=plan.id, sector_id=sector.id, team_id=team, geometry=strip, **own))
        assignment = reg.add(PlanAssignment(plan_id=plan.id, team_id=team, sector_id=sector.id, hazard_id=secret,
                                            day=FOUND_ON, hours=6, **own))  # fmt: skip
        priority = reg.add(PlanPriority(plan_id=plan.id, hazard_id=secret, rank=1, score=1.0, **own))
        # a plan stored by `sapper plan` from the restricted hazard: restricted itself (sapper.store.plan_inputs)
        secret_plan = reg.add(Plan(number=2, notes=MARK, hazards=1, area_m2=4321.0, start_on=FOUND_ON, **closed))
        plan_day = reg.add(PlanDay(plan_id=secret_plan.id, day=FOUND_ON, working_day=0, planned_m2=4321.0, **closed))
        qc_plan = reg.add(QcPlan(hazard_id=secret, notes=MARK, **own))
        visit = reg.add(QaVisit(visited_on=FOUND_ON, hazard_id=secret, team_id=team, findings=MARK, **own))
        sample = reg.add(QcSample(plan_id=qc_plan.id, hazard_id=secret, label=f"{MARK}-P1", notes=MARK,
                                  geometry=square(SECRET_LON, SECRET_LAT, 0.0001), **own))  # fmt: skip
        photos = Attachments(reg).ensure()
        hazard_photo = photos.add("hazard", secret, f"{MARK}.png", png())
        item_photo = photos.add("item", item.id, f"{MARK}-item.png", png())
        xml = '<sapper_item_found id="sapper_item_found"><meta><instanceID>uuid:ngo-1</instanceID></meta>'
        xml += f"<notes>{MARK}</notes></sapper_item_found>"
        photo = Attachment("photo.png", "image/png", png())
        submission, _ = (
            Submissions(reg.backend)
            .ensure()
            .receive("uuid:ngo-1", "sapper_item_found", "", "ngo", "ngo", xml.encode(), [photo])
        )
        jobs = JobTable(reg.backend).ensure()
        report_job = jobs.add("report", "ngo", "ngo", {"document": "monthly", "notes": MARK})
        result = {"filename": f"{MARK}.pdf", "media_type": "application/pdf", "bytes": 20}
        jobs.finish(report_job.id, "done", result=result, output=f"%PDF {MARK}".encode())
        plan_job = jobs.add("plan", "ngo", "ngo", {"request": {}})
        jobs.finish(plan_job.id, "done", result={})
    finally:
        reg.close()
    return {
        "hazard": secret, "team": hidden_team.id, "site_point": site_point.id, "site_area": site_area.id,
        "item": item.id, "task": task.id, "eod_task": eod_task.id, "report": report.id, "release": piece.id,
        "plan_sector": sector.id, "plan_lane": lane.id, "secret_plan": secret_plan.id, "qc_sample": sample.id,
        "hazard_photo": hazard_photo.id, "item_photo": item_photo.id, "submission": submission.id,
        "report_job": report_job.id, "plan_job": plan_job.id, "assignment": assignment.id, "priority": priority.id,
        "plan_day": plan_day.id, "qc_plan": qc_plan.id, "qa_visit": visit.id,
    }  # fmt: skip


# --- reading answers -------------------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "answer.pdf"
        path.write_bytes(pdf)
        done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else f"unreadable PDF {pdf[:40]!r}"


def read(client: Any, request: Ask) -> tuple[int, str]:
    """The answer's status and its text: a PDF's text, a vector tile decoded, times left out."""
    answer = client.get(request.url, params=dict(request.params))
    kind = answer.headers.get("content-type", "")
    if kind.startswith("application/pdf") and answer.content.startswith(b"%PDF-"):
        text = pdf_text(answer.content)
    elif kind.startswith("application/vnd.mapbox-vector-tile") and answer.content:
        text = json.dumps(mapbox_vector_tile.decode(answer.content), sort_keys=True, default=str)
    elif kind.startswith("image/"):
        text = f"{len(answer.content)} bytes of {kind}"
    else:
        text = answer.text
    return answer.status_code, STAMP.sub("TIME", text)


def without_id(text: str, name: str) -> str:
    return re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w.])", "ID", text)


def plain_asks(site: Site) -> list[Ask]:
    return [a for path in sorted(site.paths) for a in route_asks(site.known(), path) if a.missing is None]


def add_later(target: str) -> int:
    """A restricted hazard of "ngo" with an item on it, there from the start; its id."""
    reg = open_register(target, user="ngo")
    try:
        place = square(SECRET_LON + 0.004, SECRET_LAT, 0.0005)
        later = reg.add(Hazard(name=f"{MARK} store", geometry=place, organisation="ngo", restricted=True))
        at = Point(SECRET_LON + 0.0042, SECRET_LAT + 0.0002)
        reg.add(Item(category="ap_mine", geometry=at, hazard_id=later.id, notes=MARK, organisation="ngo"))
    finally:
        reg.close()
    return later.id


def restrict(target: str, hazard_id: int, restricted: bool) -> None:
    reg = open_register(target, user="ngo")
    try:
        reg.update(dataclasses.replace(reg.get("hazard", hazard_id), restricted=restricted))
    finally:
        reg.close()


def shown_for_a_while(site: Site, hazard_id: int) -> None:
    """The hazard made visible to everyone and every reader's tiles and pages read while it is; then
    restricted again: the tiles kept meanwhile must not be served any more."""
    restrict(site.served.target, hazard_id, False)
    shown = 0
    for reader in READERS:
        with site.served.client(reader) as client:
            for request in plain_asks(site):
                if "/tiles/" in request.url or "/items" in request.url:
                    shown += MARK in read(client, request)[1]
    assert shown > 0, "the hazard was shown to no one"
    restrict(site.served.target, hazard_id, True)


def whole_register_plan(served: Served) -> int:
    """A plan run over the API by a user who sees every organisation (of "mac"): made from the restricted
    hazard too. Its job id."""
    with served.client("root") as root:
        run = root.post("/api/plans", json={"start": "2016-05-03", "time_limit_s": 1, "runs": 50})
        assert run.status_code == 202, run.text
        deadline = time.monotonic() + 120
        while (status := root.get(run.headers["location"]).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, "the plan did not finish"
            time.sleep(0.2)
        assert status["status"] == "done", status
        assert str(served.demo.secret_hazard) in status["summary"]["hazard_finish_p50"]  # made from it
    return int(status["id"])


@pytest.fixture(scope="module")
def site(module_target: str) -> Iterator[Site]:
    demo = seeded(module_target)
    reg = open_register(module_target, user="ngo")
    try:
        reg.add(Plan(number=1, organisation="ngo"))  # seen by all; what hangs off the hazard comes later
        accounts = Accounts(reg.backend)
        accounts.add(User(name="root", role=Role.REGISTER_ADMIN, organisation="mac"), PASSWORD)
        demo.tokens["root"] = accounts.issue_token("root", "test")
    finally:
        reg.close()
    later = add_later(module_target)
    ordinary = {"hazard": demo.hazards[0], "item": demo.items[0], "team": demo.teams[0], "site": demo.sites[0]}
    app = create_app(module_target, public=True)
    with serving(app) as server:
        served = Served(server.url, module_target, demo)
        site = Site(served, get_routes(app), {}, ordinary, {})
        site.hidden = dict.fromkeys(HIDDEN_NAMES, 0)  # no hidden record yet: only plain asks are read now
        for reader in READERS:
            with served.client(reader) as client:
                for request in plain_asks(site):
                    site.before[(reader, request.url, str(request.params))] = read(client, request)
        shown_for_a_while(site, later)
        site.hidden = add_hidden(module_target, demo.secret_hazard, demo.teams[2])
        site.hidden["root_plan_job"] = whole_register_plan(served)
        yield site


HIDDEN_NAMES = (
    "hazard", "team", "site_point", "site_area", "item", "task", "eod_task", "report", "release", "plan_sector",
    "plan_lane", "secret_plan", "qc_sample", "hazard_photo", "item_photo", "submission", "report_job", "plan_job",
    "assignment", "priority", "plan_day", "qc_plan", "qa_visit", "root_plan_job",
)  # fmt: skip


def leaks(text: str) -> list[str]:
    """The markers in an answer, and the secret place's latitude (but for the box a request sent)."""
    text = text.replace(BOX, "").replace(quote(BOX), "")
    return [m for m in (MARK, *SECRET_PLACE.findall(text)) if m in text]


@pytest.mark.parametrize("reader", READERS)
def test_no_read_route_shows_a_hidden_record(site: Site, reader: str | None) -> None:
    problems, asked = [], 0
    with site.served.client(reader) as client:
        for path in sorted(site.paths):
            for request in route_asks(site.known(), path):
                asked += 1
                where = f"{reader or 'anonymous'}: GET {request.url}?{dict(request.params)}"
                status, text = read(client, request)
                if status >= 500:
                    problems.append(f"{where} -> {status} {text[:200]}")
                if found := leaks(text):
                    problems.append(f"{where} shows {found[:3]}: {text[:300]}")
                if request.missing is not None:
                    other_status, other = read(client, request.missing)
                    if (status, without_id(text, request.names[0])) != (
                        other_status,
                        without_id(other, request.names[1]),
                    ):
                        problems.append(
                            f"{where} -> {status} {text[:200]}; a missing one -> {other_status} {other[:200]}"
                        )
                else:
                    before = site.before[(reader, request.url, str(request.params))]
                    if (status, text) != before:
                        problems.append(
                            f"{where} changed when ngo's hidden records came: {before[1][:300]} -> {text[:300]}"
                        )
    assert not problems, f"{len(problems)} leaks:\n" + "\n".join(problems)
    assert asked > 250


def test_every_get_route_is_covered_and_the_owner_sees_the_markers(site: Site) -> None:
    assert len(site.paths) >= 125, sorted(site.paths)
    assert set(HISTORY_KINDS) == {lay.kind for lay in LAYERS}, "a layer with no hidden record to read the history of"
    item = f"/ogc/collections/items/items/{site.hidden['item']}"
    with site.served.client("ngo") as owner:
        assert MARK in owner.get(item).text
        assert MARK in owner.get("/api/plans/stored").text
        day = owner.get("/api/sitrep", params={"on": FOUND_ON.isoformat()}).json()
        assert day["items"]["found_today"] == {"uxo": 1, "ap_mine": 1}  # on the hazard, by the team
